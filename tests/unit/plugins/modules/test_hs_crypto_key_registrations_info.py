# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_registrations_info against the in-process emulator (registrations seeded as an IBM service would)."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_registrations_info import main

INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
COS = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:cos-1::bucket:%s"
DB = "crn:v1:bluemix:public:databases-for-postgresql:us-south:a/acct:pg-1::"


@pytest.fixture
def info(run_module, hsc):
    def go(**params):
        return run_module(main, hsc.args(**params))
    return go


@pytest.fixture
def keys(hsc):
    assert hsc.kms("POST", "key_rings/ring-r").status_code == 201
    made = {}
    for alias, ring in (("reg-a", "default"), ("reg-b", "ring-r")):
        body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
                "resources": [{"type": KEY_TYPE, "name": alias, "extractable": False, "aliases": [alias]}]}
        response = hsc.kms("POST", "keys", json=body, headers={"X-Kms-Key-Ring": ring})
        assert response.status_code == 201, response.text
        made[alias] = response.json()["resources"][0]["id"]
    for alias, crn, prevent in (("reg-a", COS % "b1", False), ("reg-a", COS % "b2", True), ("reg-b", DB, False)):
        hsc.control("POST", "registrations", json={"instance_id": INSTANCE_A, "key_id": alias, "resource_crn": crn,
                                                   "prevent_key_deletion": prevent, "description": "seeded"})
    return made


def test_all_registrations(info, hsc, keys):
    mark = hsc.mark()
    failed, result = info()
    assert not failed and not result["changed"] and result["count"] == 3
    first = result["registrations"][0]
    assert first["key_id"] == keys["reg-a"] and first["key_name"] == "reg-a" and first["resource_crn"] == COS % "b1"
    assert first["prevent_key_deletion"] is False and first["description"] == "seeded"
    assert first["key_version"]["id"] == keys["reg-a"] and first["created_by"] and first["creation_date"]
    assert sorted(first) == sorted(["key_id", "key_name", "resource_crn", "description", "prevent_key_deletion", "key_version",
                                    "created_by", "creation_date", "updated_by", "last_updated"])
    assert len(hsc.requests_since(mark)) == 1


def test_filters(info, keys):
    failed, by_alias = info(alias="reg-b")
    assert not failed and [r["resource_crn"] for r in by_alias["registrations"]] == [DB]
    failed, by_id = info(key_id=keys["reg-a"], resource_crn=COS % "*")
    assert not failed and by_id["count"] == 2
    failed, buckets = info(resource_crn=COS % "b*")
    assert not failed and [r["resource_crn"] for r in buckets["registrations"]] == [COS % "b1", COS % "b2"]
    failed, blocking = info(prevent_key_deletion=True)
    assert not failed and [r["resource_crn"] for r in blocking["registrations"]] == [COS % "b2"]
    failed, in_ring = info(key_ring="ring-r")
    assert not failed and [r["key_id"] for r in in_ring["registrations"]] == [keys["reg-b"]]
    failed, none = info(resource_crn=COS % "other")
    assert not failed and none["registrations"] == [] and none["count"] == 0


def test_missing_key_fails(info, keys):
    failed, result = info(alias="reg-missing")
    assert failed and result["error"]["status"] == 404 and "no key with alias reg-missing exists" in result["msg"]


@pytest.mark.parametrize("params, message", [
    ({"resource_crn": "bucket-1"}, "resource_crn must be a CRN"),
    ({"resource_crn": "crn:v1:bluemix:public:*"}, "the first 8 segments of the CRN (up to the service instance) cannot hold"),
    ({"alias": "reg-a", "key_ring": "ring-r"}, "mutually exclusive"),
    ({"key_ring": "bad ring"}, "not a valid key ring id"),
    ({"key_id": "nope"}, "key_id must be a key UUID or a key CRN"),
])
def test_bad_input_fails_before_any_request(info, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = info(**params)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_a_wildcard_early_in_the_crn_is_fine_for_one_key(info, keys):
    failed, result = info(alias="reg-a", resource_crn="crn:v1:*:bucket:b2")
    assert not failed and [r["resource_crn"] for r in result["registrations"]] == [COS % "b2"]
