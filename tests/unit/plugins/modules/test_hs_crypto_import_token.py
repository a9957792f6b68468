# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_import_token, and the secure import end to end: token -> encrypt here -> hs_crypto_key -> wrap/unwrap."""

import base64
import json
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_import_token, hs_crypto_key, hs_crypto_key_rotate, hs_crypto_key_wrap

INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
HASHES = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}


@pytest.fixture
def run(run_module, hsc):
    def go(module, check_mode=False, **params):
        return run_module(module.main, hsc.args(**params), check_mode=check_mode)
    return go


def b64(data):
    return base64.b64encode(data).decode()


def encrypt_for_import(public_key_pem, nonce_b64, material, algorithm):
    """What a key owner does with a retrieved import token: RSA-OAEP the material, AES-GCM the nonce (tag appended)."""
    public_key = serialization.load_pem_public_key(public_key_pem.encode())
    digest = HASHES[algorithm]
    payload = public_key.encrypt(material, padding.OAEP(mgf=padding.MGF1(algorithm=digest()), algorithm=digest(), label=None))
    iv = os.urandom(12)
    encrypted_nonce = AESGCM(material).encrypt(iv, base64.b64decode(nonce_b64), None)
    return {"payload": b64(payload), "encrypted_nonce": b64(encrypted_nonce), "iv": b64(iv), "encryption_algorithm": algorithm}


def emulator_material(hsc, key_id):
    """The key material the emulator holds (test-only peek at its in-process state)."""
    state = hsc.server.state
    with state.lock:
        return state.instance(INSTANCE_A).keys[key_id].material


def test_create_check_mode_sends_nothing(run, hsc):
    hsc.token()
    mark = hsc.mark()
    failed, result = run(hs_crypto_import_token, check_mode=True, state="present", expiration=900, max_allowed_retrievals=3,
                         retrieve=True)
    assert not failed and result["changed"] and result["created"] and result["retrieved"]
    assert result["import_token"] == {"creation_date": None, "expiration_date": None, "expiration": 900, "max_allowed_retrievals": 3,
                                      "remaining_retrievals": 2}
    assert result["public_key"] is None and result["nonce"] is None
    assert hsc.requests_since(mark, service=None) == []
    failed, only_retrieve = run(hs_crypto_import_token, check_mode=True, retrieve=True)
    assert not failed and only_retrieve["changed"] and only_retrieve["import_token"] is None


def test_create_then_retrieve_until_used_up(run, hsc):
    mark = hsc.mark()
    failed, created = run(hs_crypto_import_token, state="present", expiration=300, max_allowed_retrievals=2)
    assert not failed and created["changed"] and created["created"] and not created["retrieved"]
    token = created["import_token"]
    assert token["expiration"] == 300 and token["max_allowed_retrievals"] == 2 and token["remaining_retrievals"] == 2
    assert token["creation_date"] and token["expiration_date"] and created["public_key"] is None
    assert [e["method"] for e in hsc.requests_since(mark)] == ["POST"]

    failed, first = run(hs_crypto_import_token, retrieve=True)
    assert not failed and first["changed"] and first["retrieved"] and not first["created"]
    assert first["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert len(base64.b64decode(first["nonce"])) == 12
    assert first["import_token"]["remaining_retrievals"] == 1
    failed, second = run(hs_crypto_import_token, retrieve=True)
    assert not failed and second["import_token"]["remaining_retrievals"] == 0 and second["nonce"] == first["nonce"]
    failed, third = run(hs_crypto_import_token, retrieve=True)
    assert failed and "IMPORT_TOKEN_EXPIRED_ERR" in third["msg"] and "create a new one with state=present" in third["msg"]


def test_defaults_and_replacement(run):
    failed, one = run(hs_crypto_import_token, state="present", retrieve=True)
    assert not failed and one["import_token"]["expiration"] == 600 and one["import_token"]["remaining_retrievals"] == 0
    failed, two = run(hs_crypto_import_token, state="present", retrieve=True)
    assert not failed and two["public_key"] != one["public_key"]  # a new token replaces the old one


def test_expired_token(run, hsc):
    run(hs_crypto_import_token, state="present", expiration=300, max_allowed_retrievals=5)
    hsc.control("POST", "clock", json={"advance": 301})
    failed, result = run(hs_crypto_import_token, retrieve=True)
    assert failed and result["error"]["codes"] == ["IMPORT_TOKEN_EXPIRED_ERR"]


@pytest.mark.parametrize("params, message", [
    ({}, "nothing to do: set state=present to create an import token, retrieve=true to retrieve it, or both"),
    ({"state": "present", "expiration": 299}, "expiration must be a whole number from 300 to 86400 seconds (got 299)"),
    ({"state": "present", "expiration": 86401}, "expiration must be a whole number from 300 to 86400 seconds"),
    ({"state": "present", "max_allowed_retrievals": 0}, "max_allowed_retrievals must be a whole number from 1 to 500 (got 0)"),
    ({"state": "present", "max_allowed_retrievals": 501}, "max_allowed_retrievals must be a whole number from 1 to 500"),
    ({"retrieve": True, "expiration": 600}, "expiration and max_allowed_retrievals are only used with state=present"),
    ({"state": "absent"}, "value of state must be one of: present"),
])
def test_bad_input_fails_before_any_request(run, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = run(hs_crypto_import_token, **params)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
def test_secure_import_end_to_end(run, hsc, algorithm):
    failed, token = run(hs_crypto_import_token, state="present", expiration=600, max_allowed_retrievals=2, retrieve=True)
    assert not failed, token.get("msg")
    material = os.urandom(32)
    secure = encrypt_for_import(token["public_key"], token["nonce"], material, algorithm)

    failed, imported = run(hs_crypto_key, name="byok-root", aliases=["byok-root"], **secure)
    assert not failed, imported.get("msg")
    key = imported["key"]
    assert imported["changed"] and key["imported"] is True and key["type"] == "root" and key["algorithm_bit_size"] == 256
    for value in secure.values():
        if value != algorithm:
            assert value not in json.dumps(imported)
    assert emulator_material(hsc, key["id"]) == material  # the service holds exactly the material encrypted here

    failed, same = run(hs_crypto_key, name="byok-root", aliases=["byok-root"], **secure)
    assert not failed and not same["changed"]

    dek = b64(os.urandom(32))
    failed, wrapped = run(hs_crypto_key_wrap, alias="byok-root", plaintext=dek)
    assert not failed, wrapped.get("msg")
    failed, unwrapped = run(hs_crypto_key_wrap, operation="unwrap", key_id=key["id"], ciphertext=wrapped["ciphertext"])
    assert not failed and unwrapped["plaintext"] == dek

    # Rotate the imported key with new material, through the same token (it has one retrieval left).
    failed, again = run(hs_crypto_import_token, retrieve=True)
    assert not failed and again["import_token"]["remaining_retrievals"] == 0
    new_material = os.urandom(32)
    failed, rotated = run(hs_crypto_key_rotate, alias="byok-root", **encrypt_for_import(again["public_key"], again["nonce"],
                                                                                        new_material, algorithm))
    assert not failed, rotated.get("msg")
    assert rotated["rotated"] and emulator_material(hsc, key["id"]) == new_material
    failed, old_unwrapped = run(hs_crypto_key_wrap, operation="unwrap", alias="byok-root", ciphertext=wrapped["ciphertext"])
    assert not failed and old_unwrapped["plaintext"] == dek
    assert old_unwrapped["rewrapped_key_version"] == {"id": rotated["key_version"]["id"]}


def test_secure_import_with_the_wrong_nonce_is_refused(run):
    failed, token = run(hs_crypto_import_token, state="present", retrieve=True)
    assert not failed
    secure = encrypt_for_import(token["public_key"], b64(os.urandom(12)), os.urandom(32), "RSAES_OAEP_SHA_256")
    failed, result = run(hs_crypto_key, name="byok-bad", **secure)
    assert failed and result["error"]["codes"] == ["INCORRECT_NONCE_ERR"]
    assert secure["payload"] not in json.dumps(result) and secure["encrypted_nonce"] not in json.dumps(result)
