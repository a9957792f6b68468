# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key end to end against the in-process emulator: behaviour, request counts, check mode write-freedom."""

import base64
import json

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key import main

BOB = "hsc-emulator-bob-api-key-0002"


@pytest.fixture
def run(run_module, hsc):
    def go(check_mode=False, diff=False, identity=None, **params):
        args = hsc.args(**({"identity": identity} if identity else {}))
        args.update(params)
        if diff:
            args["_ansible_diff"] = True
        return run_module(main, args, check_mode=check_mode)
    return go


def writes(hsc, mark):
    return [e for e in hsc.requests_since(mark) if e["write"]]


def test_create_with_aliases_ring_and_policies_is_one_write(run, hsc):
    hsc.kms("POST", "key_rings/payments")
    mark = hsc.mark()
    failed, result = run(name="payments-root", aliases=["payments-root", "payments-kek"], key_ring="payments",
                         description="Wraps the payments data keys", rotation={"interval_month": 3}, dual_auth_delete=True)
    assert not failed, result.get("msg")
    assert result["changed"] and result["actions"] == ["create"]
    key = result["key"]
    assert key["id"] and key["name"] == "payments-root" and key["type"] == "root" and key["state"] == "active"
    assert sorted(key["aliases"]) == ["payments-kek", "payments-root"] and key["key_ring"] == "payments"
    assert key["rotation"] == {"enabled": True, "interval_month": 3}
    assert key["dual_auth_delete"]["enabled"] is True
    sent = hsc.requests_since(mark)
    assert [(e["method"], e["route"]) for e in sent if e["write"]] == [("POST", "POST /api/v2/keys_with_policy_overrides")]
    # the lookup proves the key is new and its aliases free (one read per alias, the name search), the ring is checked
    # (as check mode checks it); then the one create
    assert [e["route"] for e in sent] == ["GET /api/v2/keys/<key_id>", "GET /api/v2/keys/<key_id>", "GET /api/v2/keys",
                                          "GET /api/v2/key_rings", "POST /api/v2/keys_with_policy_overrides"]


@pytest.mark.parametrize("identity_args", [lambda key: {"key_id": key["id"]}, lambda key: {"aliases": ["k1-alias"]},
                                           lambda key: {"name": "k1"}], ids=["by id", "by alias", "by name"])
def test_idempotent_run_is_one_request(run, hsc, identity_args):
    failed, created = run(name="k1", aliases=["k1-alias"], rotation={"interval_month": 2})
    assert not failed, created.get("msg")
    mark = hsc.mark()
    failed, result = run(**dict(identity_args(created["key"]), rotation={"interval_month": 2}))
    assert not failed and not result["changed"] and result["actions"] == []
    assert result["key"]["id"] == created["key"]["id"]
    assert len(hsc.requests_since(mark)) == 1
    assert result["correlation_id"]


def test_check_mode_create_predicts_and_writes_nothing(run, hsc):
    mark = hsc.mark()
    failed, result = run(check_mode=True, diff=True, name="planned", aliases=["planned"], type="standard")
    assert not failed and result["changed"] and result["actions"] == ["create"]
    assert result["key"]["id"] is None and result["key"]["type"] == "standard" and result["key"]["aliases"] == ["planned"]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["name"] == "planned"
    assert writes(hsc, mark) == []


def test_update_every_reconciled_attribute_then_unchanged(run, hsc):
    hsc.kms("POST", "key_rings/ring-b")
    failed, created = run(name="k2", aliases=["k2-a", "k2-b"])
    assert not failed
    desired = dict(aliases=["k2-a", "k2-c"], purge_aliases=True, key_ring="ring-b", enabled=False,
                   rotation={"enabled": True, "interval_month": 6}, dual_auth_delete=True)
    mark = hsc.mark()
    failed, predicted = run(check_mode=True, diff=True, key_id=created["key"]["id"], **desired)
    assert not failed and predicted["changed"]
    assert writes(hsc, mark) == []
    failed, updated = run(diff=True, key_id=created["key"]["id"], **desired)
    assert not failed, updated.get("msg")
    assert updated["actions"] == predicted["actions"] == [
        "remove_alias:k2-b", "add_alias:k2-c", "move_key_ring", "set_rotation_policy", "enable_dual_auth_delete", "disable"]
    key = updated["key"]
    assert sorted(key["aliases"]) == ["k2-a", "k2-c"] and key["key_ring"] == "ring-b" and key["state"] == "suspended"
    assert key["rotation"] == {"enabled": True, "interval_month": 6} and key["dual_auth_delete"]["enabled"]
    assert predicted["diff"]["after"] == updated["diff"]["after"]
    failed, again = run(key_id=created["key"]["id"], **desired)
    assert not failed and not again["changed"]


def test_immutable_attribute_fails_with_diff(run, hsc):
    run(name="k3", aliases=["k3"], description="first description")
    mark = hsc.mark()
    failed, result = run(aliases=["k3"], description="another description", type="standard")
    assert failed
    assert "cannot be changed: description" in result["msg"] and "type" in result["msg"]
    assert result["diff"]["before"]["description"] == "first description"
    assert result["diff"]["after"]["description"] == "another description"
    assert writes(hsc, mark) == []


def test_dual_auth_delete_cannot_be_disabled(run):
    run(name="k4", aliases=["k4"], dual_auth_delete=True)
    failed, result = run(aliases=["k4"], dual_auth_delete=False)
    assert failed and "cannot be disabled" in result["msg"]


def test_name_ambiguity_fails_and_lists_ids(run, hsc):
    ids = []
    for dummy in range(2):
        response = hsc.kms("POST", "keys", json={"metadata": {"collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 1},
                                                 "resources": [{"type": "application/vnd.ibm.kms.key+json", "name": "twin"}]})
        ids.append(response.json()["resources"][0]["id"])
    failed, result = run(name="twin")
    assert failed and "2 keys are named 'twin'" in result["msg"]
    assert all(key_id in result["msg"] for key_id in ids)


def test_import_standard_key_never_returns_material(run):
    material = base64.b64encode(b"secret-material-0123456789").decode()
    failed, result = run(name="imported", type="standard", payload=material)
    assert not failed and result["key"]["imported"] is True
    assert material not in json.dumps(result)
    failed, same = run(name="imported", payload=material, type="standard")
    assert not failed and not same["changed"]
    other = base64.b64encode(b"other-material").decode()
    failed, conflict = run(name="imported", payload=other, type="standard")
    assert failed and "payload (the key holds other key material)" in conflict["msg"]
    assert other not in json.dumps(conflict) and material not in json.dumps(conflict)


def test_absent_then_absent_again(run, hsc):
    run(name="k5", aliases=["k5"])
    failed, check = run(check_mode=True, aliases=["k5"], state="absent")
    assert not failed and check["changed"] and check["key"]["state"] == "destroyed"
    failed, deleted = run(aliases=["k5"], state="absent")
    assert not failed and deleted["actions"] == ["delete"] and deleted["key"]["deleted"] is True
    failed, again = run(aliases=["k5"], state="absent")
    assert not failed and not again["changed"]
    failed, missing = run(name="never-existed", state="absent")
    assert not failed and not missing["changed"] and missing["key"] is None


def test_dual_authorization_delete_needs_two_identities(run, hsc):
    failed, created = run(name="k6", aliases=["k6"], dual_auth_delete=True)
    failed, first = run(aliases=["k6"], state="absent")
    assert not failed and first["actions"] == ["approve_deletion"] and "second identity" in first["msg"]
    assert first["key"]["dual_auth_delete"]["key_set_for_deletion"] is True
    failed, same_person = run(aliases=["k6"], state="absent")
    assert not failed and not same_person["changed"] and "waits for a second approval" in same_person["msg"]
    failed, second = run(identity=BOB, aliases=["k6"], state="absent")
    assert not failed and second["actions"] == ["delete"] and second["key"]["state"] == "destroyed"


def test_cancel_deletion_approval(run):
    run(name="k7", aliases=["k7"], dual_auth_delete=True)
    run(aliases=["k7"], state="absent")
    failed, cancelled = run(aliases=["k7"], cancel_deletion=True)
    assert not failed and cancelled["actions"] == ["cancel_deletion_approval"]
    assert cancelled["key"]["dual_auth_delete"]["key_set_for_deletion"] is False


def test_restore_and_purge_follow_the_clock(run, hsc):
    failed, created = run(name="k8", aliases=["k8"])
    run(aliases=["k8"], state="absent")
    failed, early = run(aliases=["k8"], state="purged")
    assert failed and "cannot be purged yet" in early["msg"]
    hsc.control("POST", "clock", json={"advance": 60})
    failed, restored = run(aliases=["k8"], state="restored")
    assert not failed and restored["actions"] == ["restore"] and restored["key"]["state"] == "active"
    failed, again = run(aliases=["k8"], state="restored")
    assert not failed and not again["changed"]
    run(aliases=["k8"], state="absent")
    hsc.control("POST", "clock", json={"advance": 4 * 3600 + 1})
    failed, purged = run(key_id=created["key"]["id"], state="purged")
    assert not failed and purged["actions"] == ["purge"] and purged["key"] is None
    failed, gone = run(key_id=created["key"]["id"], state="purged")
    assert not failed and not gone["changed"]


def test_deleted_key_holding_the_alias_is_reported(run):
    failed, made = run(name="k9", aliases=["k9"])
    run(aliases=["k9"], state="absent")
    # issue 11: the message names the alias the deleted key holds, not the task's first alias
    failed, result = run(name="k9-new", aliases=["k9-other", "k9"])
    assert failed and "The alias k9 of this task belongs to key " + made["key"]["id"] in result["msg"]
    assert "which is deleted: restore it (state=restored)" in result["msg"] and "k9-other" not in result["msg"]


def test_lost_create_answer_does_not_duplicate(run, hsc):
    rule = {"service": "kms", "method": "POST", "path": "^/api/v2/keys$", "drop": True, "after": True, "times": 1}
    hsc.control("POST", "faults", json={"rules": [rule]})
    failed, result = run(name="lost-answer", aliases=["lost-answer"])
    assert not failed, result.get("msg")
    listing = hsc.kms("GET", "keys").json()["resources"]
    assert [k["name"] for k in listing].count("lost-answer") == 1
    assert result["key"]["id"] == listing[0]["id"]


def test_bad_input_fails_before_any_request(run, hsc):
    hsc.token()  # the test's own token request happens before the mark
    mark = hsc.mark()
    failed, result = run(name="ok-name", aliases=["keys"])
    assert failed and "'keys' is a reserved word" in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_registrations_block_delete_and_are_named(run, hsc):
    failed, created = run(name="k10", aliases=["k10"])
    crn = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:bucket:my-bucket"
    hsc.control("POST", "registrations", json={"instance_id": "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b",
                                               "key_id": created["key"]["id"], "resource_crn": crn})
    mark = hsc.mark()
    failed, result = run(aliases=["k10"], state="absent")
    assert failed and crn in result["msg"] and "force=true" in result["msg"]
    # refused after reading the registrations, before any write (check mode makes the same reads and fails alike)
    assert writes(hsc, mark) == []
    failed, forced = run(aliases=["k10"], state="absent", force=True)
    assert not failed and forced["actions"] == ["delete"]


def test_alias_held_by_another_key_makes_that_key_the_one(run, hsc):
    failed, first = run(name="holder", aliases=["held-alias"])
    assert not failed
    # a1 is new, the name is new, but held-alias belongs to "holder": the task means that key
    failed, result = run(name="holder", aliases=["new-alias", "held-alias"])
    assert not failed, result.get("msg")
    assert result["key"]["id"] == first["key"]["id"]
    assert result["actions"] == ["add_alias:new-alias"]
    listing = hsc.kms("GET", "keys").json()["resources"]
    assert len(listing) == 1


def test_alias_held_by_a_differently_named_key_is_a_conflict(run):
    run(name="owner", aliases=["taken"])
    failed, result = run(name="newcomer", aliases=["fresh", "taken"])
    assert failed and "cannot be changed: name" in result["msg"]


def test_check_mode_looks_up_every_alias(run, hsc):
    failed, first = run(name="holder2", aliases=["held2"])
    failed, result = run(check_mode=True, name="holder2", aliases=["new2", "held2"])
    assert not failed and result["actions"] == ["add_alias:new2"] and result["key"]["id"] == first["key"]["id"]


def test_immutable_message_says_no_description_not_none(run):
    """Issue 11: messages print "no description", never Python's None."""
    run(name="k-plain", aliases=["k-plain"])
    failed, result = run(aliases=["k-plain"], description="added later", expiration_date="2099-01-01T00:00:00Z")
    assert failed
    assert "description (the key has no description, the task wants 'added later')" in result["msg"]
    assert "the key has no expiration date" in result["msg"] and "None" not in result["msg"]
