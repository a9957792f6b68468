# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key: the branches that need a fault, a clock move or an odd service answer."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key import main

KEY_LIST = "^/api/v2/keys$"


@pytest.fixture
def run(run_module, hsc):
    def go(check_mode=False, **params):
        args = hsc.args()
        args.update(params)
        return run_module(main, args, check_mode=check_mode)
    return go


def fault(hsc, **rule):
    hsc.control("POST", "faults", json={"rules": [dict({"service": "kms", "times": 1}, **rule)]})


def names(hsc):
    return [k["name"] for k in hsc.kms("GET", "keys").json()["resources"]]


def test_create_answered_with_503_after_it_was_made_is_adopted(run, hsc):
    fault(hsc, method="POST", path=KEY_LIST, status=503, after=True)
    failed, result = run(name="made-anyway", aliases=["made-anyway"])
    assert not failed, result.get("msg")
    assert names(hsc) == ["made-anyway"] and result["key"]["name"] == "made-anyway"


def test_create_refused_with_503_is_sent_again_after_a_lookup(run, hsc):
    fault(hsc, method="POST", path=KEY_LIST, status=503)
    mark = hsc.mark()
    failed, result = run(name="second-try")
    assert not failed, result.get("msg")
    routes = [e["route"] for e in hsc.requests_since(mark)]
    # lookup, create (refused), lookup again (nothing made), create, then the check for a concurrent twin
    assert routes == ["GET /api/v2/keys", "POST /api/v2/keys", "GET /api/v2/keys", "POST /api/v2/keys", "GET /api/v2/keys"]
    assert names(hsc) == ["second-try"]


def test_create_rejected_with_4xx_is_not_retried(run, hsc):
    # A create the service refuses (4xx) is not sent again: the refusal is the answer.
    fault(hsc, method="POST", path="^/api/v2/keys$", status=400, times=3)
    mark = hsc.mark()
    failed, result = run(name="refused-create")
    assert failed and result["error"]["status"] == 400
    assert "Creating key named 'refused-create'" in result["msg"]
    assert len([e for e in hsc.requests_since(mark) if e["method"] == "POST"]) == 1


def test_search_too_broad_falls_back_to_a_full_listing(run, hsc):
    run(name="needle")
    body = {"metadata": {"collectionType": "application/vnd.ibm.kms.error+json", "collectionTotal": 1},
            "resources": [{"errorMsg": "Bad Request: Keys could not be listed (KEY_SEARCH_TOO_BROAD)",
                           "reasons": [{"code": "KEY_SEARCH_TOO_BROAD", "message": "too many keys", "status": 400}]}]}
    fault(hsc, method="GET", path=KEY_LIST, status=400, body=body)
    failed, result = run(name="needle")
    assert not failed and not result["changed"] and result["key"]["name"] == "needle"


def test_more_than_five_aliases_without_purge_fails_before_writes(run, hsc):
    run(name="full", aliases=["a1", "a2", "a3", "a4", "a5"])
    mark = hsc.mark()
    failed, result = run(name="full", aliases=["a6"])
    assert failed and "would exceed 5 aliases" in result["msg"] and "purge_aliases" in result["msg"]
    assert [e for e in hsc.requests_since(mark) if e["write"]] == []
    failed, replaced = run(name="full", aliases=["a6"], purge_aliases=True)
    assert not failed and replaced["key"]["aliases"] == ["a6"]


def test_rotation_on_an_existing_standard_key_fails(run):
    run(name="std", type="standard")
    failed, result = run(name="std", rotation={"interval_month": 1})
    assert failed and "standard key; rotation policies apply to root keys only" in result["msg"]


def test_expired_key_cannot_be_enabled(run, hsc):
    run(name="short-lived", expiration_date="2030-01-01T00:00:00Z")
    hsc.control("POST", "clock", json={"set": "2031-01-01T00:00:00Z"})
    failed, result = run(name="short-lived", enabled=True)
    assert failed and "deactivated" in result["msg"]


def test_restore_branches(run):
    run(name="alive", aliases=["alive"])
    failed, unchanged = run(aliases=["alive"], state="restored")
    assert not failed and not unchanged["changed"]
    failed, missing = run(aliases=["never-was"], state="restored")
    assert failed and "was not found" in missing["msg"]


def test_purge_of_a_live_key_fails(run):
    run(name="alive2", aliases=["alive2"])
    failed, result = run(aliases=["alive2"], state="purged")
    assert failed and "is not deleted; delete it first" in result["msg"]


def test_prevent_key_deletion_is_explained(run, hsc):
    failed, created = run(name="guarded", aliases=["guarded"])
    crn = "crn:v1:bluemix:public:databases-for-postgresql:us-south:a/acct:db1::"
    hsc.control("POST", "registrations", json={"instance_id": "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b", "key_id": created["key"]["id"],
                                               "resource_crn": crn, "prevent_key_deletion": True})
    failed, result = run(aliases=["guarded"], state="absent", force=True)
    assert failed and crn in result["msg"] and "preventKeyDeletion" in result["msg"] and "even with force=true" in result["msg"]


def test_check_mode_on_dual_auth_delete_predicts_the_approval(run, hsc):
    run(name="two-person", aliases=["two-person"], dual_auth_delete=True)
    mark = hsc.mark()
    failed, result = run(check_mode=True, aliases=["two-person"], state="absent")
    assert not failed and result["actions"] == ["approve_deletion"]
    assert result["key"]["dual_auth_delete"]["key_set_for_deletion"] is True
    assert [e for e in hsc.requests_since(mark) if e["write"]] == []


def test_key_id_that_does_not_exist(run):
    failed, result = run(key_id="02fd6835-6001-4482-a892-13bd2085f75d", name="x1")
    assert failed and "does not exist" in result["msg"]


def test_enabled_false_at_creation(run):
    failed, result = run(name="born-suspended", enabled=False)
    assert not failed and result["actions"] == ["create", "disable"] and result["key"]["state"] == "suspended"


def test_a_twin_made_by_a_concurrent_run_is_settled(run, hsc):
    """Keys known only by name: the service does not guard names, so the module settles twins itself."""
    twin = hsc.kms("POST", "keys", json={"metadata": {"collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 1},
                                         "resources": [{"type": "application/vnd.ibm.kms.key+json", "name": "racy",
                                                        "description": "made concurrently"}]}).json()
    twin_id = twin["resources"][0]["id"]
    hsc.control("POST", "clock", json={"advance": 5})  # the twin is older
    # The module's lookup does not see the twin yet, as when a concurrent run creates it meanwhile.
    empty = {"metadata": {"collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 0}, "resources": []}
    fault(hsc, method="GET", path=KEY_LIST, status=200, body=empty)
    failed, result = run(name="racy", description="made concurrently")
    assert not failed, result.get("msg")
    assert result["key"]["id"] == twin_id
    own = result["actions"][1].split(":", 1)[1]
    assert result["actions"][:3] == ["create", f"delete_concurrent_twin:{own}", f"adopt:{twin_id}"]
    assert "A concurrent run created key" in result["msg"]
    live = [k for k in hsc.kms("GET", "keys").json()["resources"] if k["name"] == "racy"]
    assert [k["id"] for k in live] == [twin_id]
