# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The KMIP modules against the in-process emulator (Key Protect Standard): what they do, and what the emulator saw."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules import (
    hs_crypto_kmip_adapter, hs_crypto_kmip_adapter_info, hs_crypto_kmip_certificate, hs_crypto_kmip_object)

from ansible_collections.ibm.hs_crypto.tests.unit.plugins.modules.test_kmip_bad_input import PEM, PEM_2, make_certificate

KP = "5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d"  # the emulator's Key Protect Standard instance
MEDIA = "application/vnd.ibm.kms.key+json"


@pytest.fixture
def kp(run_module, hsc):
    def run(module, check_mode=False, diff=False, **params):
        args = hsc.args(instance_id=KP, **params)
        if diff:
            args["_ansible_diff"] = True
        return run_module(module.main, args, check_mode=check_mode)
    return run


def root_key(hsc, alias):
    body = {"metadata": {"collectionType": MEDIA, "collectionTotal": 1},
            "resources": [{"type": MEDIA, "name": alias, "aliases": [alias], "extractable": False}]}
    response = hsc.kms("POST", "keys", json=body, headers={"Bluemix-Instance": KP})
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


def writes(hsc, mark):
    return [e for e in hsc.requests_since(mark) if e["write"]]


def seed_objects(hsc, adapter, certificate, count, state=2):
    hsc.control("POST", "clock", json={"advance": 301})  # the certificate's registration delay
    return hsc.control("POST", "kmip_objects", json={"instance_id": KP, "adapter": adapter, "certificate": certificate,
                                                     "count": count, "state": state})["objects"]


def test_an_adapter_for_a_cluster_converges_and_reruns_unchanged(kp, hsc):
    key = root_key(hsc, "cluster-a")
    declared = dict(name="cluster-a", root_key="cluster-a", description="vCenter vc01 and vc02",
                    certificates=[{"name": "vc01", "certificate": PEM}, {"name": "vc02", "certificate": PEM_2}], purge_certificates=True)
    mark = hsc.mark()
    failed, check = kp(hs_crypto_kmip_adapter, check_mode=True, diff=True, **declared)
    assert not failed, check.get("msg")
    assert check["changed"] and check["actions"] == ["create", "add_certificate:vc01", "add_certificate:vc02"]
    assert check["diff"]["after"]["certificates"] == ["vc01", "vc02"] and "BEGIN" not in str(check["diff"])
    assert writes(hsc, mark) == []

    failed, first = kp(hs_crypto_kmip_adapter, **declared)
    assert not failed, first.get("msg")
    assert first["actions"] == check["actions"]
    assert first["adapter"]["root_key_id"] == key["id"] and first["adapter"]["id"]
    assert sorted(c["name"] for c in first["adapter"]["certificates"]) == ["vc01", "vc02"]

    mark = hsc.mark()
    failed, again = kp(hs_crypto_kmip_adapter, **declared)
    assert not failed and not again["changed"] and again["actions"] == []
    assert writes(hsc, mark) == []


def test_a_renewed_certificate_replaces_the_old_one_and_purge_removes_the_rest(kp, hsc):
    root_key(hsc, "cluster-b")
    kp(hs_crypto_kmip_adapter, name="cluster-b", root_key="cluster-b",
       certificates=[{"name": "vc01", "certificate": PEM}, {"name": "vc02", "certificate": PEM_2}])
    renewed, _private = make_certificate("vc01.example.com")
    failed, result = kp(hs_crypto_kmip_adapter, name="cluster-b", certificates=[{"name": "vc01", "certificate": renewed}],
                        purge_certificates=True)
    assert not failed, result.get("msg")
    assert result["actions"] == ["remove_certificate:vc02", "replace_certificate:vc01"]
    failed, info = kp(hs_crypto_kmip_adapter_info, name="cluster-b", include=["certificate_content"])
    assert [c["name"] for c in info["adapters"][0]["certificates"]] == ["vc01"]
    failed, same = kp(hs_crypto_kmip_certificate, adapter="cluster-b", name="vc01", certificate=renewed)
    assert not failed and not same["changed"]


def test_immutable_attributes_fail_with_a_diff(kp, hsc):
    root_key(hsc, "cluster-c")
    root_key(hsc, "cluster-c-other")
    kp(hs_crypto_kmip_adapter, name="cluster-c", root_key="cluster-c", description="first")
    mark = hsc.mark()
    failed, result = kp(hs_crypto_kmip_adapter, name="cluster-c", root_key="cluster-c-other", description="second", diff=True)
    assert failed and "cannot be changed: description" in result["msg"] and "root_key_id" in result["msg"]
    assert result["diff"]["after"]["description"] == "second"
    assert writes(hsc, mark) == []


def test_deleting_an_adapter_with_objects_needs_delete_objects_and_force_over_every_page(kp, hsc):
    root_key(hsc, "cluster-d")
    failed, made = kp(hs_crypto_kmip_adapter, name="cluster-d", root_key="cluster-d", certificates=[{"name": "vc01", "certificate": PEM}])
    assert not failed, made.get("msg")
    active = seed_objects(hsc, "cluster-d", "vc01", 5001)  # more than one page of 5,000
    seed_objects(hsc, "cluster-d", "vc01", 3, state=3)

    mark = hsc.mark()
    failed, refused = kp(hs_crypto_kmip_adapter, name="cluster-d", state="absent")
    assert failed and "still holds 5004 KMIP object(s) (5001 active)" in refused["msg"] and "delete_objects=true" in refused["msg"]
    failed, refused = kp(hs_crypto_kmip_adapter, name="cluster-d", state="absent", delete_objects=True)
    assert failed and "5001 active KMIP object(s)" in refused["msg"] and "force=true" in refused["msg"]
    failed, check = kp(hs_crypto_kmip_adapter, name="cluster-d", state="absent", delete_objects=True, force=True, check_mode=True)
    assert not failed and check["actions"] == ["delete_objects:5004", "delete"]
    assert writes(hsc, mark) == []

    failed, done = kp(hs_crypto_kmip_adapter, name="cluster-d", state="absent", delete_objects=True, force=True)
    assert not failed, done.get("msg")
    assert done["actions"] == ["delete_objects:5004", "delete"] and done["adapter"] is None
    deletes = [e for e in writes(hsc, mark) if e["method"] == "DELETE"]
    assert len(deletes) == 5004 + 1
    assert active[0] not in str(done)  # the result does not list 5,000 ids
    failed, again = kp(hs_crypto_kmip_adapter, name="cluster-d", state="absent")
    assert not failed and not again["changed"]


def test_objects_are_read_and_deleted_by_id_or_all(kp, hsc):
    root_key(hsc, "cluster-e")
    kp(hs_crypto_kmip_adapter, name="cluster-e", root_key="cluster-e", certificates=[{"name": "vc01", "certificate": PEM}])
    ids = seed_objects(hsc, "cluster-e", "vc01", 4)
    failed, info = kp(hs_crypto_kmip_adapter_info, name="cluster-e", include=["objects", "certificates"])
    assert not failed, info.get("msg")
    objects = info["adapters"][0]["objects"]
    assert sorted(o["id"] for o in objects) == sorted(ids)
    assert {o["state"] for o in objects} == {"active"} and {o["type"] for o in objects} == {"symmetric_key"}
    assert {o["created_by_certificate_id"] for o in objects} == {info["adapters"][0]["certificates"][0]["id"]}

    failed, refused = kp(hs_crypto_kmip_object, adapter="cluster-e", object_ids=ids[:1])
    assert failed and "force=true" in refused["msg"]
    failed, one = kp(hs_crypto_kmip_object, adapter="cluster-e", object_ids=ids[:1], force=True)
    assert not failed and [o["id"] for o in one["deleted"]] == ids[:1]
    failed, again = kp(hs_crypto_kmip_object, adapter="cluster-e", object_ids=ids[:1], force=True)
    assert not failed and not again["changed"]  # destroyed already: nothing to do
    failed, rest = kp(hs_crypto_kmip_object, adapter="cluster-e", all_objects=True, force=True)
    assert not failed and len(rest["deleted"]) == 3
    failed, destroyed = kp(hs_crypto_kmip_adapter_info, name="cluster-e", include=["objects"], object_states=["destroyed"])
    assert len(destroyed["adapters"][0]["objects"]) == 4


def test_the_root_key_of_an_adapter_cannot_be_deleted(kp, hsc):
    from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_key  # pylint: disable=import-outside-toplevel
    root_key(hsc, "cluster-f")
    kp(hs_crypto_kmip_adapter, name="cluster-f", root_key="cluster-f")
    failed, result = kp(hs_crypto_key, aliases=["cluster-f"], state="absent")
    assert failed and "cluster-f" in result["msg"]


def test_an_hpcs_instance_is_told_kmip_is_a_key_protect_feature(run_module, hsc):
    failed, result = run_module(hs_crypto_kmip_adapter_info.main, hsc.args())
    assert failed and "KMIP adapters are a Key Protect feature" in result["msg"]
    mark = hsc.mark()
    failed, result = run_module(hs_crypto_kmip_adapter.main, hsc.args(name="cluster-a", root_key="x1", service="hs_crypto"))
    assert failed and "KMIP adapters are a Key Protect feature" in result["msg"]
    assert [e for e in hsc.requests_since(mark) if "kmip" in e["path"]] == []
