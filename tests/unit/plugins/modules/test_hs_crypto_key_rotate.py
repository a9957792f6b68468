# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_rotate against the in-process emulator: rotation now, the age condition, the hourly limit, imported keys."""

import base64
import json
import os

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_rotate import main

KEY_TYPE = "application/vnd.ibm.kms.key+json"
DAY = 86400


@pytest.fixture
def rotate(run_module, hsc):
    def go(check_mode=False, diff=False, **params):
        args = hsc.args(**params)
        if diff:
            args["_ansible_diff"] = True
        return run_module(main, args, check_mode=check_mode)
    return go


def writes(hsc, mark):
    return [e for e in hsc.requests_since(mark) if e["write"]]


def new_key(hsc, name, days_ago=0, **fields):
    """Create a key directly on the emulator; ``days_ago`` back-dates it by moving the emulator's clock around the create."""
    if days_ago:
        hsc.control("POST", "clock", json={"advance": -days_ago * DAY})
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [dict({"type": KEY_TYPE, "name": name, "extractable": False, "aliases": [name]}, **fields)]}
    response = hsc.kms("POST", "keys", json=body)
    if days_ago:
        hsc.control("POST", "clock", json={"advance": days_ago * DAY})
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


def material(size=32):
    return base64.b64encode(os.urandom(size)).decode()


def test_rotate_now_then_the_hourly_limit(rotate, hsc):
    key = new_key(hsc, "rot-now")
    mark = hsc.mark()
    failed, check = rotate(check_mode=True, diff=True, alias="rot-now")
    assert not failed and check["changed"] and check["rotated"]
    assert check["key_version"] == {"id": None, "creation_date": None}
    assert check["previous_version"]["id"] == key["id"]
    assert check["diff"] == {"before": {"key_version": key["id"]}, "after": {"key_version": "(new version)"}}  # issue 11: a placeholder, not null
    assert writes(hsc, mark) == []

    mark = hsc.mark()
    failed, done = rotate(diff=True, alias="rot-now")
    assert not failed and done["changed"] and done["rotated"]
    assert done["previous_version"] == {"id": key["id"], "creation_date": key["keyVersion"]["creationDate"]}
    assert done["key_version"]["id"] not in (None, key["id"]) and done["key"]["key_version"] == done["key_version"]
    assert done["key"]["last_rotate_date"] == done["key_version"]["creation_date"]
    assert done["diff"]["after"] == {"key_version": done["key_version"]["id"]}
    sent = hsc.requests_since(mark)
    assert [(e["method"], e["route"]) for e in sent] == [
        ("GET", "GET /api/v2/keys/<key_id>"), ("POST", "POST /api/v2/keys/<key_id>/actions/rotate")]

    failed, check_again = rotate(check_mode=True, key_id=key["id"])
    assert failed and "allows one rotation per hour" in check_again["msg"] and "rotated again from" in check_again["msg"]
    failed, again = rotate(key_id=key["id"])
    assert failed and "allows one rotation per hour" in again["msg"] and "KEY_ROTATION_NOT_PERMITTED" in again["msg"]
    assert again["error"]["codes"] == ["KEY_ROTATION_NOT_PERMITTED"] and again["error"]["status"] == 409


def test_age_condition_makes_it_idempotent(rotate, hsc):
    key = new_key(hsc, "rot-old", days_ago=100)
    mark = hsc.mark()
    failed, check = rotate(check_mode=True, alias="rot-old", older_than_days=90)
    assert not failed and check["changed"] and check["rotated"]
    assert writes(hsc, mark) == []
    failed, done = rotate(alias="rot-old", older_than_days=90)
    assert not failed and done["rotated"] and done["previous_version"]["id"] == key["id"]
    mark = hsc.mark()
    failed, again = rotate(alias="rot-old", older_than_days=90)
    assert not failed and not again["changed"] and not again["rotated"]
    assert again["previous_version"] is None and again["key_version"] == done["key_version"]
    assert "is due from" in again["msg"] and "0 day(s) old" in again["msg"]
    assert len(hsc.requests_since(mark)) == 1


def test_young_key_is_left_alone(rotate, hsc):
    new_key(hsc, "rot-young", days_ago=10)
    failed, result = rotate(check_mode=True, alias="rot-young", older_than_days=30)
    assert not failed and not result["changed"] and "10 day(s) old" in result["msg"]
    failed, result = rotate(alias="rot-young", older_than_days=10)
    assert not failed and result["rotated"]


def test_imported_key_needs_new_material(rotate, hsc):
    key = new_key(hsc, "rot-imported", payload=material(16))
    mark = hsc.mark()
    failed, missing = rotate(alias="rot-imported")
    assert failed and "was imported: rotating it needs new key material in payload" in missing["msg"]
    assert writes(hsc, mark) == []
    new_material = material(32)
    failed, done = rotate(alias="rot-imported", payload=new_material)
    assert not failed and done["rotated"] and done["key"]["algorithm_bit_size"] == 256
    assert new_material not in json.dumps(done)
    assert done["key"]["id"] == key["id"]


def test_generated_key_refuses_payload_and_standard_key_refuses_rotation(rotate, hsc):
    new_key(hsc, "rot-generated")
    new_key(hsc, "rot-standard", extractable=True)
    mark = hsc.mark()
    failed, result = rotate(alias="rot-generated", payload=material())
    assert failed and "generated by the service" in result["msg"]
    failed, result = rotate(alias="rot-standard")
    assert failed and "is a standard key; only root keys can be rotated" in result["msg"]
    assert writes(hsc, mark) == []


def test_suspended_deleted_and_missing_keys(rotate, hsc):
    suspended = new_key(hsc, "rot-suspended")
    hsc.kms("POST", f"keys/{suspended['id']}/actions/disable")
    deleted = new_key(hsc, "rot-deleted")
    hsc.kms("DELETE", f"keys/{deleted['id']}")
    failed, result = rotate(key_id=suspended["id"])
    assert failed and "is suspended" in result["msg"]
    failed, result = rotate(alias="rot-deleted")
    assert failed and "is deleted" in result["msg"]
    failed, result = rotate(alias="never-there")
    assert failed and "No key with alias never-there exists" in result["msg"]


def test_lost_answer_is_recognised_by_the_new_version(rotate, hsc):
    key = new_key(hsc, "rot-lost")
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "/actions/rotate$", "after": True,
                                                   "drop": True, "times": 1}]})
    failed, result = rotate(key_id=key["id"])
    assert not failed, result["msg"]
    assert result["rotated"] and result["key_version"]["id"] != key["id"]
    versions = hsc.kms("GET", f"keys/{key['id']}/versions").json()["resources"]
    assert len(versions) == 2  # rotated once, never re-sent


def test_server_failure_without_rotation_is_reported(rotate, hsc):
    key = new_key(hsc, "rot-500")
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "/actions/rotate$", "status": 500}]})
    failed, result = rotate(key_id=key["id"], retries=0)
    assert failed and result["error"]["status"] == 500 and result["msg"].startswith(f"Rotating key {key['id']}")


@pytest.mark.parametrize("params, message", [
    ({}, "one of the following is required: key_id, alias"),
    ({"key_id": "not-a-uuid"}, "key_id must be a key UUID or a key CRN"),
    ({"key_id": "02fd6835-6001-4482-a892-13bd2085f75d", "alias": "both"}, "mutually exclusive"),
    ({"alias": "keys"}, "'keys' is a reserved word"),
    ({"alias": "k1", "older_than_days": -1}, "older_than_days must be a whole number of days from 0 to 36500"),
    ({"alias": "k1", "payload": "not base64!"}, "payload must be base64-encoded"),
    ({"alias": "k1", "payload": base64.b64encode(b"short").decode()}, "must be 16, 24 or 32 bytes"),
    ({"alias": "k1", "payload": material(), "encrypted_nonce": material(16)}, "encrypted_nonce and iv go together"),
    ({"alias": "k1", "encrypted_nonce": material(16), "iv": material(12)}, "encrypted_nonce and iv need payload"),
    ({"alias": "k1", "payload": material(), "encryption_algorithm": "RSAES_OAEP_SHA_1"}, "encryption_algorithm is only used with"),
    ({"alias": "k1", "payload": material(), "encrypted_nonce": "%%%", "iv": material(12)}, "encrypted_nonce must be base64"),
])
def test_bad_input_fails_before_any_request(rotate, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = rotate(**params)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []
    for value in params.values():
        if isinstance(value, str) and len(value) > 8 and value not in ("02fd6835-6001-4482-a892-13bd2085f75d", "not-a-uuid"):
            assert value not in result["msg"]
