# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_ring and hs_crypto_key_ring_info against the in-process emulator."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key_ring, hs_crypto_key_ring_info

KEY_TYPE = "application/vnd.ibm.kms.key+json"


@pytest.fixture
def ring(run_module, hsc):
    def go(check_mode=False, diff=False, **params):
        args = hsc.args(**params)
        if diff:
            args["_ansible_diff"] = True
        return run_module(hs_crypto_key_ring.main, args, check_mode=check_mode)
    return go


@pytest.fixture
def info(run_module, hsc):
    def go(**params):
        return run_module(hs_crypto_key_ring_info.main, hsc.args(**params))
    return go


def writes(hsc, mark):
    return [e for e in hsc.requests_since(mark) if e["write"]]


def new_key(hsc, name, ring):
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": name, "extractable": False}]}
    response = hsc.kms("POST", "keys", json=body, headers={"X-Kms-Key-Ring": ring})
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]["id"]


def test_create_check_mode_then_create_then_unchanged(ring, hsc):
    mark = hsc.mark()
    failed, check = ring(check_mode=True, diff=True, key_ring_id="team-a")
    assert not failed and check["changed"]
    assert check["key_ring"] == {"id": "team-a", "creation_date": None, "created_by": None}
    assert check["diff"] == {"before": {}, "after": {"id": "team-a"}}
    assert writes(hsc, mark) == []

    mark = hsc.mark()
    failed, created = ring(key_ring_id="team-a")
    assert not failed and created["changed"]
    assert created["key_ring"]["id"] == "team-a" and created["key_ring"]["created_by"] == "IBMid-alice"
    assert created["key_ring"]["creation_date"] and created["correlation_id"]
    assert [(e["method"], e["route"]) for e in writes(hsc, mark)] == [("POST", "POST /api/v2/key_rings/<ring_id>")]
    assert len(hsc.requests_since(mark)) == 3  # list, create, list (read back)

    mark = hsc.mark()
    failed, again = ring(key_ring_id="team-a")
    assert not failed and not again["changed"] and again["key_ring"] == created["key_ring"]
    assert len(hsc.requests_since(mark)) == 1


def test_delete_then_delete_again(ring, hsc):
    ring(key_ring_id="team-b")
    mark = hsc.mark()
    failed, check = ring(check_mode=True, diff=True, key_ring_id="team-b", state="absent")
    assert not failed and check["changed"] and check["key_ring"] is None
    assert check["diff"] == {"before": {"id": "team-b"}, "after": {}}
    assert writes(hsc, mark) == []
    failed, deleted = ring(key_ring_id="team-b", state="absent")
    assert not failed and deleted["changed"] and deleted["key_ring"] is None
    failed, again = ring(key_ring_id="team-b", state="absent")
    assert not failed and not again["changed"]


def test_ring_with_live_keys_is_refused_with_their_ids(ring, hsc):
    ring(key_ring_id="busy")
    key_id = new_key(hsc, "in-busy", "busy")
    mark = hsc.mark()
    failed, check = ring(check_mode=True, key_ring_id="busy", state="absent")
    assert failed and "would not be deleted" in check["msg"] and key_id in check["msg"]
    assert writes(hsc, mark) == []
    failed, result = ring(key_ring_id="busy", state="absent", force=True)
    assert failed and key_id in result["msg"] and "not deleted" in result["msg"]
    assert result["error"]["status"] == 409


def test_ring_with_deleted_keys_needs_force(ring, hsc):
    ring(key_ring_id="old")
    key_id = new_key(hsc, "in-old", "old")
    assert hsc.kms("DELETE", f"keys/{key_id}").status_code == 204
    failed, check = ring(check_mode=True, key_ring_id="old", state="absent")
    assert failed and "force=true" in check["msg"]
    failed, result = ring(key_ring_id="old", state="absent")
    assert failed and "force=true" in result["msg"]
    failed, check = ring(check_mode=True, key_ring_id="old", state="absent", force=True)
    assert not failed and check["changed"]
    failed, forced = ring(key_ring_id="old", state="absent", force=True)
    assert not failed and forced["changed"]
    moved = hsc.kms("GET", f"keys/{key_id}").json()["resources"][0]
    assert moved["keyRingID"] == "default"


@pytest.mark.parametrize("params, message", [
    ({"key_ring_id": "default"}, "key_ring_id: 'default' is the key ring every instance has"),
    ({"key_ring_id": "x"}, "key_ring_id: 'x' is not a valid key ring id: 2 to 100 characters"),
    ({"key_ring_id": "with space"}, "letters, digits and '-' only"),
    ({"key_ring_id": "a" * 101}, "2 to 100 characters"),
    ({"key_ring_id": "ok-ring", "force": True}, "force is only used with state=absent"),
    ({}, "missing required arguments: key_ring_id"),
])
def test_bad_input_fails_before_any_request(ring, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = ring(**params)
    assert failed and message in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_create_race_is_adopted(ring, hsc):
    # The ring appears between the lookup and the create: the service answers 409 and the module reads it back.
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "^/api/v2/key_rings/raced$",
                                                   "after": True, "status": 409, "times": 1}]})
    failed, result = ring(key_ring_id="raced")
    assert not failed and result["changed"] and result["key_ring"]["id"] == "raced"


def test_service_error_is_reported(ring, hsc):
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "key_rings", "status": 403}]})
    failed, result = ring(key_ring_id="denied")
    assert failed and result["msg"].startswith("Creating key ring denied")
    assert result["error"]["status"] == 403 and "HTTP 403" in result["msg"]


def test_info_lists_every_ring_and_one_by_id(ring, info, hsc):
    for name in ("r1", "r2"):
        ring(key_ring_id=name)
    failed, everything = info()
    assert not failed and not everything["changed"]
    assert [r["id"] for r in everything["key_rings"]] == ["default", "r1", "r2"] and everything["count"] == 3
    assert everything["key_rings"][0] == {"id": "default", "creation_date": None, "created_by": None}
    failed, one = info(key_ring_id="r2")
    assert not failed and one["count"] == 1 and one["key_rings"][0]["created_by"] == "IBMid-alice"
    failed, none = info(key_ring_id="Default")  # ring ids are case-sensitive
    assert not failed and none["key_rings"] == [] and none["count"] == 0
    failed, bad = info(key_ring_id="no/slash")
    assert failed and "not a valid key ring id" in bad["msg"]
