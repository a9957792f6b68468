# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_batch against the in-process emulator: one listing, the single-key rules, per-key results."""

import json

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_batch import main


@pytest.fixture
def run(run_module, hsc):
    def go(crypto_keys, check_mode=False, diff=False, **params):
        args = hsc.args(crypto_keys=crypto_keys, **params)
        if diff:
            args["_ansible_diff"] = True
        return run_module(main, args, check_mode=check_mode)
    return go


def declared(n, **extra):
    return [dict({"name": "key-%03d" % i, "aliases": ["alias-%03d" % i]}, **extra) for i in range(n)]


def test_first_run_creates_rerun_is_one_listing(run, hsc):
    keys = declared(30, rotation={"interval_month": 3})
    failed, first = run(keys)
    assert not failed, first.get("msg")
    assert first["summary"] == {"total": 30, "changed": 30, "unchanged": 0, "failed": 0, "created": 30, "deleted": 0}
    assert [r["item"] for r in first["results"]] == ["alias-%03d" % i for i in range(30)]
    mark = hsc.mark()
    failed, again = run(keys)
    assert not failed and not again["changed"] and again["summary"]["unchanged"] == 30
    assert [e["route"] for e in hsc.requests_since(mark)] == ["GET /api/v2/keys"]


def test_check_mode_writes_nothing_and_predicts(run, hsc):
    run(declared(3))
    mark = hsc.mark()
    desired = declared(3)
    desired[1]["enabled"] = False
    desired.append({"name": "brand-new", "aliases": ["brand-new"]})
    failed, result = run(desired, check_mode=True, diff=True)
    assert not failed and result["changed"]
    assert [r["actions"] for r in result["results"]] == [[], ["disable"], [], ["create"]]
    assert [d["before_header"] for d in result["diff"]] == ["alias-001", "brand-new"]
    assert [e for e in hsc.requests_since(mark) if e["write"]] == []


def test_one_failing_key_does_not_hide_the_others(run, hsc):
    run([{"name": "fixed", "aliases": ["fixed"], "description": "original"}])
    failed, result = run([{"name": "fixed", "aliases": ["fixed"], "description": "changed"},
                          {"name": "fine", "aliases": ["fine"]}])
    assert failed and "1 of 2 keys failed: fixed: Key" in result["msg"]
    assert result["results"][0]["failed"] and "cannot be changed: description" in result["results"][0]["msg"]
    assert not result["results"][1]["failed"] and result["results"][1]["actions"] == ["create"]
    assert result["summary"]["failed"] == 1 and result["summary"]["created"] == 1


def test_names_and_ids_and_deletion(run, hsc):
    failed, first = run([{"name": "by-name"}, {"name": "to-delete", "aliases": ["to-delete"]}])
    key_id = first["results"][0]["key"]["id"]
    failed, second = run([{"key_id": key_id, "aliases": ["added"]}, {"aliases": ["to-delete"], "state": "absent"},
                          {"name": "never-was", "state": "absent"}])
    assert not failed, second.get("msg")
    assert [r["actions"] for r in second["results"]] == [["add_alias:added"], ["delete"], []]
    assert second["summary"]["deleted"] == 1
    failed, third = run([{"aliases": ["to-delete"], "state": "absent"}])
    assert not failed and not third["changed"]


def test_ambiguous_name_in_the_instance(run, hsc):
    for dummy in range(2):
        hsc.kms("POST", "keys", json={"metadata": {"collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 1},
                                      "resources": [{"type": "application/vnd.ibm.kms.key+json", "name": "twin"}]})
    failed, result = run([{"name": "twin"}])
    assert failed and "2 keys are named 'twin'" in result["results"][0]["msg"]


@pytest.mark.parametrize("entries,message", [
    ([{"name": "aa", "aliases": ["same"]}, {"name": "bb", "aliases": ["same"]}], "crypto_keys[0] and crypto_keys[1] both designate the alias 'same'"),
    ([{"name": "shared", "aliases": ["s-a"]}, {"name": "shared", "aliases": ["s-b"]}], "both designate the name 'shared'"),
    ([{"name": "dup"}, {"name": "dup"}], "both designate the name 'dup'"),
    ([{"name": "ok"}, {"name": "x"}], "crypto_keys[1].name must be 2 to 90 characters"),
    ([{"name": "ok", "rotation": {"interval_month": 13}}], "crypto_keys[0].rotation.interval_month must be"),
])
def test_bad_entries_fail_before_any_request(run, hsc, entries, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = run(entries)
    assert failed and message in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_secrets_stay_out_of_results(run):
    import base64
    material = base64.b64encode(b"standard secret material").decode()
    failed, result = run([{"name": "secret-holder", "type": "standard", "payload": material}])
    assert not failed and material not in json.dumps(result)


def test_keys_sharing_a_name_are_listed_by_key_id(run, hsc):
    ids = []
    for dummy in range(2):
        response = hsc.kms("POST", "keys", json={"metadata": {"collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 1},
                                                 "resources": [{"type": "application/vnd.ibm.kms.key+json", "name": "shared"}]})
        ids.append(response.json()["resources"][0]["id"])
    failed, result = run([{"key_id": ids[0], "name": "shared", "aliases": ["shared-a"]},
                          {"key_id": ids[1], "name": "shared", "aliases": ["shared-b"]}])
    assert not failed, result.get("msg")
    assert [r["key"]["aliases"] for r in result["results"]] == [["shared-a"], ["shared-b"]]


def test_validate_only_checks_and_sends_nothing(run, hsc):
    hsc.token()
    mark = hsc.mark()
    failed, good = run([{"name": "fine", "aliases": ["fine"]}], validate_only=True)
    assert not failed and good["validated"] == 1 and not good["changed"]
    failed, bad = run([{"name": "fine", "aliases": ["keys"]}], validate_only=True)
    assert failed and "crypto_keys[0].aliases: 'keys' is a reserved word" in bad["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_expected_key_rings_count_in_check_mode_only(run, hsc):
    """A ring an earlier task creates (the role's ring task, which check mode skips) does not fail the prediction of the
    keys going into it; a real run still checks it (found by the migration's apply --check on an empty target)."""
    keys = [{"name": "ringed", "aliases": ["ringed"], "key_ring": "payments"}]
    failed, result = run(keys, check_mode=True)
    assert failed and "Key ring payments does not exist" in result["msg"]
    mark = hsc.mark()
    failed, result = run(keys, check_mode=True, expected_key_rings=["payments"])
    assert not failed, result.get("msg")
    assert result["changed"] and result["results"][0]["actions"] == ["create"]
    assert not [e for e in hsc.requests_since(mark) if e["write"]]
    failed, result = run(keys, expected_key_rings=["payments"])
    assert failed and "Key ring payments does not exist" in result["msg"]
