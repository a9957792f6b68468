# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_wrap against the in-process emulator: wrap, unwrap, rewrap, aad, secrets never damaged or echoed."""

import base64
import json
import os
import string

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_wrap import main

KEY_TYPE = "application/vnd.ibm.kms.key+json"


@pytest.fixture
def wrap(run_module, hsc):
    def go(check_mode=False, **params):
        return run_module(main, hsc.args(**params), check_mode=check_mode)
    return go


@pytest.fixture
def root(hsc):
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": "wrapper", "extractable": False, "aliases": ["wrapper"]}]}
    response = hsc.kms("POST", "keys", json=body)
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


def b64(data):
    return base64.b64encode(data).decode()


def test_generated_data_key_round_trip(wrap, hsc, root):
    mark = hsc.mark()
    failed, wrapped = wrap(alias="wrapper")
    assert not failed and wrapped["changed"] is False
    assert len(base64.b64decode(wrapped["plaintext"])) == 32
    assert wrapped["ciphertext"] and wrapped["key_version"] == {"id": root["id"]} and wrapped["rewrapped_key_version"] is None
    failed, unwrapped = wrap(operation="unwrap", key_id=root["id"], ciphertext=wrapped["ciphertext"])
    assert not failed and unwrapped["changed"] is False
    assert unwrapped["plaintext"] == wrapped["plaintext"]
    assert unwrapped["ciphertext"] is None and unwrapped["rewrapped_key_version"] is None
    sent = hsc.requests_since(mark)
    assert len(sent) == 2 and not any(e["write"] for e in sent)


def test_given_plaintext_and_aad(wrap, root):
    dek = b64(os.urandom(32))
    failed, wrapped = wrap(alias="wrapper", plaintext=dek, aad=["tenant-42", "eu-de"])
    assert not failed and wrapped["plaintext"] is None  # the given key is not echoed
    failed, wrong = wrap(operation="unwrap", alias="wrapper", ciphertext=wrapped["ciphertext"], aad=["tenant-43", "eu-de"])
    assert failed and "UNPROCESSABLE_CIPHERTEXT_ERR" in wrong["msg"] and "exactly the aad given to wrap" in wrong["msg"]
    assert wrong["error"]["status"] == 422
    assert dek not in json.dumps(wrong) and wrapped["ciphertext"] not in wrong["msg"]
    failed, right = wrap(operation="unwrap", alias="wrapper", ciphertext=wrapped["ciphertext"], aad=["tenant-42", "eu-de"])
    assert not failed and right["plaintext"] == dek


def test_check_mode_runs_normally(wrap, hsc, root):
    mark = hsc.mark()
    failed, wrapped = wrap(check_mode=True, alias="wrapper")
    assert not failed and not wrapped["changed"] and wrapped["ciphertext"] and wrapped["plaintext"]
    failed, unwrapped = wrap(check_mode=True, operation="unwrap", alias="wrapper", ciphertext=wrapped["ciphertext"])
    assert not failed and unwrapped["plaintext"] == wrapped["plaintext"]
    assert not any(e["write"] for e in hsc.requests_since(mark))


def test_rotation_then_unwrap_and_rewrap(wrap, hsc, root):
    failed, old = wrap(alias="wrapper")
    assert hsc.kms("POST", f"keys/{root['id']}/actions/rotate").status_code == 204
    latest = hsc.kms("GET", f"keys/{root['id']}").json()["resources"][0]["keyVersion"]["id"]
    failed, unwrapped = wrap(operation="unwrap", alias="wrapper", ciphertext=old["ciphertext"])
    assert not failed and unwrapped["plaintext"] == old["plaintext"]
    assert unwrapped["key_version"] == {"id": root["id"]} and unwrapped["rewrapped_key_version"] == {"id": latest}
    assert unwrapped["ciphertext"] and unwrapped["ciphertext"] != old["ciphertext"]
    failed, rewrapped = wrap(operation="rewrap", alias="wrapper", ciphertext=old["ciphertext"])
    assert not failed and rewrapped["plaintext"] is None
    assert rewrapped["key_version"] == {"id": root["id"]} and rewrapped["rewrapped_key_version"] == {"id": latest}
    failed, again = wrap(operation="unwrap", alias="wrapper", ciphertext=rewrapped["ciphertext"])
    assert not failed and again["plaintext"] == old["plaintext"] and again["ciphertext"] is None


def hsc_api_key(module_args):
    """The API key if it is echoed in the clear (None when masked)."""
    return module_args["api_key"] if module_args["api_key"].startswith("hsc-emulator") else None


def test_short_aad_never_damages_the_outputs(wrap, root):
    # Ansible masks no_log input values wherever they occur in a result. These one-character aad values occur in any
    # base64 ciphertext, which would come back with '********' in it: the module keeps its outputs intact.
    aad = list(string.ascii_letters + string.digits)
    failed, wrapped = wrap(alias="wrapper", aad=aad)
    assert not failed
    for value in (wrapped["ciphertext"], wrapped["plaintext"]):
        assert "*" not in value
        base64.b64decode(value, validate=True)
    # The echoed arguments hold a placeholder instead (itself partly masked by the aad values that did not collide).
    echoed = wrapped["invocation"]["module_args"]
    assert isinstance(echoed["aad"], str) and hsc_api_key(echoed) is None
    failed, unwrapped = wrap(operation="unwrap", alias="wrapper", ciphertext=wrapped["ciphertext"], aad=aad)
    assert not failed and unwrapped["plaintext"] == wrapped["plaintext"]
    assert wrapped["ciphertext"] not in json.dumps(unwrapped["invocation"])


def test_inputs_are_masked_in_the_echoed_arguments(wrap, root):
    dek = b64(os.urandom(32))
    failed, wrapped = wrap(alias="wrapper", plaintext=dek, aad=["context-label"])
    assert not failed
    echoed = json.dumps(wrapped["invocation"])
    assert dek not in echoed and "context-label" not in echoed


def test_standard_key_and_missing_key(wrap, hsc):
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": "std", "extractable": True, "aliases": ["std-key"]}]}
    assert hsc.kms("POST", "keys", json=body).status_code == 201
    failed, result = wrap(alias="std-key")
    assert failed and "only root keys wrap data keys" in result["msg"] and result["error"]["codes"] == ["KEY_ROOT_REQ_ERR"]
    failed, result = wrap(alias="no-such-key")
    assert failed and result["error"]["status"] == 404 and "no key with alias no-such-key exists" in result["msg"]


def test_deleted_key(wrap, hsc, root):
    hsc.kms("DELETE", f"keys/{root['id']}")
    failed, result = wrap(key_id=root["id"])
    assert failed and result["error"]["status"] == 410


@pytest.mark.parametrize("params, message", [
    ({}, "one of the following is required: key_id, alias"),
    ({"alias": "wrapper", "plaintext": "not base64!"}, "plaintext must be base64-encoded"),
    ({"alias": "wrapper", "plaintext": ""}, "plaintext must not be empty"),
    ({"alias": "wrapper", "plaintext": "A" * 4100}, "plaintext must be at most 4096 base64 characters (got 4100)"),
    ({"alias": "wrapper", "ciphertext": "AAAA"}, "ciphertext is an input of operation=unwrap and operation=rewrap"),
    ({"alias": "wrapper", "operation": "unwrap"}, "operation=unwrap needs ciphertext"),
    ({"alias": "wrapper", "operation": "rewrap", "ciphertext": "%%%"}, "ciphertext must be base64-encoded"),
    ({"alias": "wrapper", "operation": "unwrap", "ciphertext": "AAAA", "plaintext": "AAAA"}, "plaintext is an input of operation=wrap"),
    ({"alias": "wrapper", "aad": ["label"] * 127}, "aad holds at most 126 strings (got 127)"),
    ({"alias": "wrapper", "aad": ["ok", "x" * 256]}, "aad[1] must be a string of at most 255 characters"),
    ({"alias": "wrapper", "operation": "encrypt"}, "value of operation must be one of: wrap, unwrap, rewrap"),
])
def test_bad_input_fails_before_any_request(wrap, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = wrap(**params)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []
