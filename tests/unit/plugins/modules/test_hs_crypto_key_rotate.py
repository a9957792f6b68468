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
        hsc.forget_tokens()  # tokens are dated by the emulator's clock
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [dict({"type": KEY_TYPE, "name": name, "extractable": False, "aliases": [name]}, **fields)]}
    response = hsc.kms("POST", "keys", json=body)
    if days_ago:
        hsc.control("POST", "clock", json={"advance": days_ago * DAY})
        hsc.forget_tokens()
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


# -- several keys in one run: crypto_keys and select (issue 15) ----------------------------------------------------------
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
HOUR = 3600


def move_clock(hsc, seconds):
    """Move the emulator's clock; tokens are dated by it, so cached ones are dropped."""
    hsc.control("POST", "clock", json={"advance": seconds})
    hsc.forget_tokens()


def rotated_ago(hsc, key, seconds):
    """Rotate ``key`` directly, ``seconds`` before the emulator's present (its clock moved back and forth around it)."""
    move_clock(hsc, -seconds)
    response = hsc.kms("POST", f"keys/{key['id']}/actions/rotate")
    move_clock(hsc, seconds)
    assert response.status_code == 204, response.text


def make_ring(hsc, ring):
    response = hsc.kms("POST", f"key_rings/{ring}")
    assert response.status_code in (201, 409), response.text


def in_ring(hsc, ring, name, days_ago=0):
    make_ring(hsc, ring)
    if days_ago:
        move_clock(hsc, -days_ago * DAY)
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": name, "extractable": False, "aliases": [name]}]}
    response = hsc.kms("POST", "keys", headers={"X-Kms-Key-Ring": ring}, json=body)
    if days_ago:
        move_clock(hsc, days_ago * DAY)
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


def by_item(result):
    return dict((entry["item"], entry) for entry in result["results"])


def outcome(entry):
    return ("rotated" if entry["changed"] else "skipped" if entry["skipped"] else "failed", entry["reason"])


def comparable(result):
    """What check mode must predict exactly: per entry, the item, key, outcome and reason (versions are null in check mode)."""
    return [(e["item"], e["key_id"], e["changed"], e["skipped"], e["failed"], e["reason"]) for e in result["results"]], result["summary"]


def test_crypto_keys_rotate_in_order_and_one_failure_does_not_stop_the_others(rotate, hsc):
    first = new_key(hsc, "bulk-one")
    recent = new_key(hsc, "bulk-recent", days_ago=30)
    rotated_ago(hsc, recent, 20 * 60)  # 20 minutes ago: the service would refuse another rotation
    imported = new_key(hsc, "bulk-imported", payload=material(32))
    standard = new_key(hsc, "bulk-standard", extractable=True)
    last = new_key(hsc, "bulk-last")
    items = ["bulk-one", recent["id"], "bulk-imported", "bulk-missing", standard["crn"], last["id"], "bulk-one"]

    mark = hsc.mark()
    failed, check = rotate(check_mode=True, crypto_keys=items)
    assert failed and "3 of 7 key(s) could not be rotated (2 rotated, 2 skipped)" in check["msg"]
    assert writes(hsc, mark) == []
    expected = {
        "bulk-one": ("rotated", None), recent["id"]: ("rotated", None), "bulk-imported": ("failed", "imported"),
        "bulk-missing": ("failed", "not_found"), standard["crn"]: ("failed", "standard_key"), last["id"]: ("rotated", None)}
    assert [e["item"] for e in check["results"]] == items
    assert [outcome(e) for e in check["results"]] == [
        ("rotated", None), ("skipped", "rotated_within_hour"), ("failed", "imported"), ("failed", "not_found"),
        ("failed", "standard_key"), ("rotated", None), ("skipped", "already_rotated")]
    assert expected  # the table above names the keys; the order is asserted on the list
    assert check["summary"] == {"total": 7, "rotated": 2, "skipped": 2, "failed": 3}
    entries = check["results"]
    assert "allows one rotation per hour" in entries[1]["msg"] and "rotated again from" in entries[1]["msg"]
    assert "was imported" in entries[2]["msg"] and "payload" in entries[2]["msg"] and entries[2]["key"]["id"] == imported["id"]
    assert entries[3]["key"] is None and entries[3]["key_id"] is None and "No key with alias bulk-missing exists" in entries[3]["msg"]
    assert entries[0]["key"]["key_version"] == {"id": None, "creation_date": None} and entries[0]["key_version"] == entries[0]["key"]["key_version"]
    assert entries[0]["previous_version"]["id"] == first["id"]
    assert "already rotated by this run (item bulk-one)" in entries[6]["msg"]
    assert [e["route"] for e in hsc.requests_since(mark)] == ["GET /api/v2/keys/<key_id>"] * 7

    mark = hsc.mark()
    failed, done = rotate(crypto_keys=items)
    assert failed and done["changed"] and comparable(done) == comparable(check)
    sent = hsc.requests_since(mark)
    assert [(e["method"], e["route"]) for e in sent if e["write"]] == [("POST", "POST /api/v2/keys/<key_id>/actions/rotate")] * 2
    # every key is read first (side by side), the rotations are decided in the order given, then sent
    assert [e["write"] for e in sent] == [False] * 7 + [True] * 2
    assert sorted(e["path"].rsplit("/", 3)[-3] for e in sent[7:]) == sorted([first["id"], last["id"]])
    rotated = [e for e in done["results"] if e["changed"]]
    assert [e["key_id"] for e in rotated] == [first["id"], last["id"]]
    for entry in rotated:
        assert entry["key_version"]["id"] not in (None, entry["key_id"]) and entry["key"]["last_rotate_date"]
    assert set(done["diff"]["after"]["key_versions"]) == {first["id"], last["id"]} if "diff" in done else True


def test_crypto_keys_with_older_than_days_and_an_hour_later(rotate, hsc):
    old = new_key(hsc, "age-old", days_ago=100)
    young = new_key(hsc, "age-young", days_ago=10)
    failed, first = rotate(crypto_keys=["age-old", "age-young"], older_than_days=90)
    assert not failed and [outcome(e) for e in first["results"]] == [("rotated", None), ("skipped", "not_due")]
    assert "10 day(s) old" in first["results"][1]["msg"] and first["summary"] == {"total": 2, "rotated": 1, "skipped": 1, "failed": 0}
    failed, now = rotate(crypto_keys=[old["id"], young["id"]])
    assert not failed and [outcome(e) for e in now["results"]] == [("skipped", "rotated_within_hour"), ("rotated", None)]
    assert not now["results"][0]["changed"] and now["changed"]


def test_the_hourly_rule_is_judged_at_the_service_time(rotate, hsc):
    key = new_key(hsc, "clock-hour")
    failed, done = rotate(crypto_keys=["clock-hour"])
    assert not failed and done["summary"]["rotated"] == 1
    failed, again = rotate(check_mode=True, crypto_keys=["clock-hour"])
    assert not failed and outcome(again["results"][0]) == ("skipped", "rotated_within_hour")
    move_clock(hsc, 2 * HOUR)  # the emulator's time moves on; the controller's does not
    probe = hsc.kms("HEAD", "keys")
    if abs(parse_http_date(probe.headers.get("Date")) - clock_now(hsc)) > 60:
        pytest.skip("the emulator's Date header does not follow its movable clock yet (tests/hpcs_emulator/middleware.py)")
    failed, later = rotate(crypto_keys=[key["id"]])
    assert not failed and outcome(later["results"][0]) == ("rotated", None)


def parse_http_date(value):
    import email.utils  # pylint: disable=import-outside-toplevel
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return 0


def clock_now(hsc):
    import datetime  # pylint: disable=import-outside-toplevel
    now = hsc.control("GET", "clock")["now"]
    return datetime.datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def test_select_by_age_with_one_listing(rotate, hsc):
    a = in_ring(hsc, "sel-ring", "sel-old-a", days_ago=120)
    b = in_ring(hsc, "sel-ring", "sel-old-b", days_ago=95)
    rotated_ago(hsc, b, 30 * DAY)  # its current version is 30 days old: not selected
    c = in_ring(hsc, "sel-ring", "sel-recent", days_ago=200)
    rotated_ago(hsc, c, 30 * 60)  # old creation, rotated 30 minutes ago
    young = in_ring(hsc, "sel-ring", "sel-young", days_ago=5)
    imported = in_ring_imported(hsc, "sel-ring", "sel-imported", 300)
    new_key(hsc, "sel-other-ring", days_ago=300)  # default ring: outside the selection
    new_key(hsc, "sel-standard", days_ago=300, extractable=True)
    select = {"key_ring": "sel-ring", "older_than_days": 90}

    mark = hsc.mark()
    failed, check = rotate(check_mode=True, select=select)
    sent = hsc.requests_since(mark)
    assert [(e["method"], e["route"]) for e in sent] == [("GET", "GET /api/v2/keys")]  # one listing, nothing else
    assert "state=1" in sent[0]["query"] and "extractable=false" in sent[0]["query"]
    ids = sorted([a["id"], imported["id"]])  # b and c have versions younger than 90 days, sel-young too; others are outside
    assert [e["key_id"] for e in check["results"]] == ids and [e["item"] for e in check["results"]] == ids
    outcomes = dict((e["key_id"], outcome(e)) for e in check["results"])
    assert outcomes == {a["id"]: ("rotated", None), imported["id"]: ("failed", "imported")}
    assert failed and check["summary"] == {"total": 2, "rotated": 1, "skipped": 0, "failed": 1}
    assert "1 of 2 key(s) could not be rotated" in check["msg"] and "was imported" in check["msg"]

    mark = hsc.mark()
    failed, done = rotate(select=select)
    assert failed and comparable(done) == comparable(check)
    sent = hsc.requests_since(mark)
    assert [(e["method"], e["route"]) for e in sent] == [
        ("GET", "GET /api/v2/keys"), ("POST", "POST /api/v2/keys/<key_id>/actions/rotate")]
    rotated = [e for e in done["results"] if e["changed"]][0]
    assert rotated["key_id"] == a["id"] and rotated["key"]["key_version"]["id"] not in (None, a["id"])

    failed, again = rotate(check_mode=True, select=select)
    assert failed and [e["key_id"] for e in again["results"]] == [imported["id"]]  # a is young now

    # the whole ring: keys rotated less than an hour ago (c, and a just now) are skipped, not failed
    mark = hsc.mark()
    failed, ring = rotate(check_mode=True, select={"key_ring": "sel-ring"})
    assert [(e["method"], e["route"]) for e in hsc.requests_since(mark)] == [("GET", "GET /api/v2/keys")]
    assert dict((e["key_id"], outcome(e)) for e in ring["results"]) == {
        a["id"]: ("skipped", "rotated_within_hour"), b["id"]: ("rotated", None), c["id"]: ("skipped", "rotated_within_hour"),
        imported["id"]: ("failed", "imported"), young["id"]: ("rotated", None)}
    assert failed and ring["summary"] == {"total": 5, "rotated": 2, "skipped": 2, "failed": 1}


def in_ring_imported(hsc, ring, name, days_ago):
    move_clock(hsc, -days_ago * DAY)
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": name, "extractable": False, "aliases": [name], "payload": material(16)}]}
    response = hsc.kms("POST", "keys", headers={"X-Kms-Key-Ring": ring}, json=body)
    move_clock(hsc, days_ago * DAY)
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


def test_select_aliases_and_without_rotation_policy(rotate, hsc):
    with_policy = new_key(hsc, "pol-with")
    body = {"metadata": {"collectionType": POLICY_TYPE, "collectionTotal": 1},
            "resources": [{"type": POLICY_TYPE, "rotation": {"enabled": True, "interval_month": 3}}]}
    assert hsc.kms("PUT", f"keys/{with_policy['id']}/policies", params={"policy": "rotation"}, json=body).status_code == 200
    without = new_key(hsc, "pol-without")
    new_key(hsc, "pol-unnamed")
    new_key(hsc, "pol-std", extractable=True)

    mark = hsc.mark()
    select = {"aliases": ["pol-with", "pol-without", "pol-std", "pol-nowhere"], "without_rotation_policy": True}
    failed, check = rotate(check_mode=True, select=select)
    sent = hsc.requests_since(mark)
    assert [e["route"] for e in sent] == ["GET /api/v2/keys"] + ["GET /api/v2/keys/<key_id>/policies"] * 2
    assert failed and [(e["item"], outcome(e)) for e in check["results"]] == [
        ("pol-std", ("failed", "not_found")), ("pol-nowhere", ("failed", "not_found")), (without["id"], ("rotated", None))]
    assert "No active root key has alias pol-nowhere" in check["results"][1]["msg"]
    assert writes(hsc, mark) == []

    failed, every = rotate(check_mode=True, select={"all_root_keys": True})
    assert not failed and every["summary"] == {"total": 3, "rotated": 3, "skipped": 0, "failed": 0}
    failed, done = rotate(select={"all_root_keys": True, "without_rotation_policy": True})
    assert not failed and done["summary"] == {"total": 2, "rotated": 2, "skipped": 0, "failed": 0}
    assert with_policy["id"] not in [e["key_id"] for e in done["results"]]


def test_a_refused_rotation_is_a_skip_and_a_server_error_a_failure(rotate, hsc):
    raced = new_key(hsc, "race-key")
    broken = new_key(hsc, "broken-key")
    hsc.control("POST", "faults", json={"rules": [
        {"service": "kms", "method": "POST", "path": f"/keys/{broken['id']}/actions/rotate$", "status": 500}]})
    # rotated by someone else between the read and the rotation: the service's 409 is the once-per-hour rule, a skip
    hsc.control("POST", "faults", json={"rules": [
        {"service": "kms", "method": "POST", "path": f"/keys/{raced['id']}/actions/rotate$", "status": 409,
         "body": {"metadata": {"collectionType": "application/vnd.ibm.kms.error+json", "collectionTotal": 1},
                  "resources": [{"errorMsg": "Conflict", "reasons": [{"code": "KEY_ROTATION_NOT_PERMITTED", "message": "once per hour"}]}]}}]})
    failed, result = rotate(crypto_keys=["race-key", "broken-key"], retries=0)
    assert failed and [outcome(e) for e in result["results"]] == [("skipped", "rotated_within_hour"), ("failed", "rotation_failed")]
    assert "HTTP 500" in result["results"][1]["msg"] and result["summary"]["failed"] == 1


@pytest.mark.parametrize("params, message", [
    ({"crypto_keys": []}, "crypto_keys must be a non-empty list"),
    ({"crypto_keys": ["ok-alias", "no spaces"]}, "crypto_keys[1]"),
    ({"crypto_keys": ["keys"]}, "crypto_keys[0]: 'keys' is a reserved word"),
    ({"crypto_keys": ["crn:v1:bluemix:public:hs-crypto:us-south:a/x:y:key"]}, "crypto_keys[0]: a key CRN must end in"),
    ({"crypto_keys": ["crn:v1:bluemix:public:hs-crypto:us-south:a/x:3f9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c:key:"
                      "02fd6835-6001-4482-a892-13bd2085f75d"]}, "crypto_keys[0] is the CRN of a key of instance"),
    ({"crypto_keys": ["k1"], "alias": "k2"}, "mutually exclusive"),
    ({"crypto_keys": ["k1"], "select": {"all_root_keys": True}}, "mutually exclusive"),
    ({"select": {"all_root_keys": True}, "key_id": "02fd6835-6001-4482-a892-13bd2085f75d"}, "mutually exclusive"),
    ({"crypto_keys": ["k1"], "payload": material()}, "payload rotate one imported key"),
    ({"select": {"all_root_keys": True}, "encryption_algorithm": "RSAES_OAEP_SHA_1"}, "not allowed with select"),
    ({"select": {}}, "select names no criterion"),
    ({"select": {"all_root_keys": False}}, "select names no criterion"),
    ({"select": {"older_than_days": -1}}, "select.older_than_days must be a whole number of days"),
    ({"select": {"older_than_days": 36501}}, "select.older_than_days must be a whole number of days"),
    ({"select": {"all_root_keys": True}, "older_than_days": 30}, "with select, use select.older_than_days"),
    ({"select": {"key_ring": "bad ring"}}, "select.key_ring"),
    ({"select": {"aliases": []}}, "select.aliases must be a non-empty list"),
    ({"select": {"aliases": ["fine", "not fine"]}}, "select.aliases[1]"),
    ({"select": {"everything": True}}, "everything"),
    ({"crypto_keys": ["k1"], "older_than_days": -3}, "older_than_days must be a whole number of days"),
])
def test_bulk_bad_input_fails_before_any_request(rotate, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = rotate(**params)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []
