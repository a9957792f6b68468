# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 11, check mode: a check-mode run makes the reads the real run makes and fails (or reports a pending approval)
exactly where the real run would; it never writes."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key


def writes(hsc, mark):
    return [e for e in hsc.requests_since(mark) if e["method"] != "GET"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_expiration_date_in_the_past_is_refused_before_any_request(run_module, hsc, check_mode):
    args = hsc.args(name="expired-key", expiration_date="2020-01-01T00:00:00Z")
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_key.main, args, check_mode=check_mode)
    assert failed and "expiration_date" in result["msg"] and "in the past" in result["msg"]
    assert hsc.requests_since(mark, service=None) == []


INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"


def both_modes(run_module, hsc, args):
    """Run the task in check mode, then for real: return both results and the writes of each."""
    outcomes = []
    for check_mode in (True, False):
        mark = hsc.mark()
        failed, result = run_module(hs_crypto_key.main, args, check_mode=check_mode)
        outcomes.append((failed, result, writes(hsc, mark)))
    return outcomes


def test_delete_of_a_registered_key_without_force_fails_in_both_modes(run_module, hsc):
    key = hsc.make_key(name="registered", aliases=["registered"])
    crn = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:bucket:kept"
    hsc.control("POST", "registrations", json={"instance_id": INSTANCE_A, "key_id": key["id"], "resource_crn": crn})
    (check_failed, check, check_writes), (real_failed, real, real_writes) = both_modes(run_module, hsc, hsc.args(aliases=["registered"], state="absent"))
    assert check_failed and real_failed and check_writes == [] and real_writes == []
    assert crn in check["msg"] and "force=true" in check["msg"] and check["msg"] == real["msg"]


def test_prevent_key_deletion_fails_even_with_force_in_both_modes(run_module, hsc):
    key = hsc.make_key(name="retained", aliases=["retained"])
    crn = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:bucket:worm"
    hsc.control("POST", "registrations", json={"instance_id": INSTANCE_A, "key_id": key["id"], "resource_crn": crn,
                                               "prevent_key_deletion": True})
    (check_failed, check, check_writes), (real_failed, real, real_writes) = both_modes(
        run_module, hsc, hsc.args(aliases=["retained"], state="absent", force=True))
    assert check_failed and real_failed and check_writes == [] and real_writes == []
    assert "even with force=true" in check["msg"] and check["msg"] == real["msg"]


def test_create_into_a_missing_key_ring_fails_in_both_modes(run_module, hsc):
    (check_failed, check, check_writes), (real_failed, real, real_writes) = both_modes(
        run_module, hsc, hsc.args(name="ringless", key_ring="no-such-ring"))
    assert check_failed and real_failed and check_writes == [] and real_writes == []
    assert "Key ring no-such-ring does not exist" in check["msg"] and check["msg"] == real["msg"]


def test_move_into_a_missing_key_ring_fails_in_both_modes(run_module, hsc):
    hsc.make_key(name="mover", aliases=["mover"])
    (check_failed, check, check_writes), (real_failed, real, real_writes) = both_modes(
        run_module, hsc, hsc.args(aliases=["mover"], key_ring="no-such-ring"))
    assert check_failed and real_failed and check_writes == [] and real_writes == []
    assert "Key ring no-such-ring does not exist" in check["msg"]


def test_check_mode_predicts_what_the_real_run_does(run_module, hsc):
    """Create with every attribute, then a change of each: the check-mode prediction equals the real result."""
    hsc.kms("POST", "key_rings/ring-b")
    tasks = [
        dict(name="predicted", aliases=["p1"], rotation={"interval_month": 2}),
        dict(name="predicted", aliases=["p1", "p2"], key_ring="ring-b", rotation={"interval_month": 5}, dual_auth_delete=True,
             enabled=False),
        dict(name="predicted", aliases=["p2"], purge_aliases=True, enabled=True),
    ]
    fields = ("name", "aliases", "key_ring", "rotation", "state", "type")
    for task in tasks:
        (check_failed, check, check_writes), (real_failed, real, dummy) = both_modes(run_module, hsc, hsc.args(**task))
        assert not check_failed and not real_failed, (check.get("msg"), real.get("msg"))
        assert check_writes == []
        assert check["actions"] == real["actions"] and check["changed"] == real["changed"]
        assert {f: check["key"][f] for f in fields} == {f: real["key"][f] for f in fields}
        assert check["key"]["dual_auth_delete"]["enabled"] == real["key"]["dual_auth_delete"]["enabled"]


def test_check_mode_on_an_approved_dual_auth_key_says_it_depends_on_the_approver(run_module, hsc):
    """Who gave the first approval is not in the key's record (docs/design-choices.md): check mode says so, and the real
    run by the approver changes nothing and says a second identity is needed."""
    hsc.make_key(name="two-person", aliases=["two-person"])
    run_module(hs_crypto_key.main, hsc.args(aliases=["two-person"], dual_auth_delete=True))
    failed, approved = run_module(hs_crypto_key.main, hsc.args(aliases=["two-person"], state="absent"))
    assert not failed and approved["actions"] == ["approve_deletion"]
    (check_failed, check, check_writes), (real_failed, real, dummy) = both_modes(run_module, hsc, hsc.args(aliases=["two-person"], state="absent"))
    assert not check_failed and check_writes == [] and "this identity is not the one that approved it" in check["msg"]
    assert not real_failed and real["changed"] is False and "waits for a second approval" in real["msg"]


def test_delete_of_a_root_key_bound_to_a_kmip_adapter_fails_in_both_modes(run_module, hsc):
    """Key Protect refuses to delete a KMIP adapter's root key, even with force. Check mode predicts it from one listing
    of the adapters (the real run meets the service's answer); a root key no adapter uses is still predicted deleted."""
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_kmip_adapter  # pylint: disable=import-outside-toplevel
    from ansible_collections.ibm.hs_crypto.tests.unit.plugins.modules.test_hs_crypto_kmip import KP, root_key  # pylint: disable=import-outside-toplevel

    bound = root_key(hsc, "vsan-root")
    root_key(hsc, "spare-root")
    failed, made = run_module(hs_crypto_kmip_adapter.main, hsc.args(instance_id=KP, name="vsan-cluster", root_key="vsan-root"))
    assert not failed, made.get("msg")
    (check_failed, check, check_writes), (real_failed, real, real_writes) = both_modes(
        run_module, hsc, hsc.args(instance_id=KP, aliases=["vsan-root"], state="absent", force=True))
    assert check_failed and real_failed and check_writes == []
    assert "vsan-cluster" in check["msg"] and made["adapter"]["id"] in check["msg"] and "even with force=true" in check["msg"]
    assert made["adapter"]["id"] in real["msg"]  # the service's refusal names the adapter too
    assert hsc.kms("GET", f"keys/{bound['id']}", headers={"Bluemix-Instance": KP}).json()["resources"][0]["state"] == 1
    failed, spare = run_module(hs_crypto_key.main, hsc.args(instance_id=KP, aliases=["spare-root"], state="absent"), check_mode=True)
    assert not failed and spare["changed"] and spare["actions"] == ["delete"]
