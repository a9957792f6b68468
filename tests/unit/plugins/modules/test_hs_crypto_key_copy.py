# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_key_copy against the in-process emulator: HPCS (instance A) to Key Protect Standard, in one module process."""

import base64
import json
import os

import pytest

from hpcs_emulator.testing import KP_STANDARD

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_copy import main

from .conftest import INSTANCE_A

SOURCE_CRN = f"crn:v1:bluemix:public:hs-crypto:us-south:a/abc:{INSTANCE_A}:key:"


@pytest.fixture
def run(run_module, hsc):
    def go(crypto_keys, check_mode=False, diff=False, **params):
        args = hsc.args(crypto_keys=crypto_keys, target={"instance_id": KP_STANDARD, "endpoint": hsc.url}, **params)
        if diff:
            args["_ansible_diff"] = True
        return run_module(main, args, check_mode=check_mode)
    return go


def material(size=32):
    return base64.b64encode(os.urandom(size)).decode()


def source_key(hsc, name, payload, **extra):
    return hsc.make_key(name=name, extractable=True, payload=payload, **extra)


def target_get(hsc, ref):
    response = hsc.kms("GET", f"keys/{ref}", headers={"Bluemix-Instance": KP_STANDARD})
    return response.json()["resources"][0] if response.status_code == 200 else None


def target_key(hsc, payload, **resource):
    media = "application/vnd.ibm.kms.key+json"
    body = {"metadata": {"collectionType": media, "collectionTotal": 1},
            "resources": [dict({"type": media, "extractable": True, "payload": payload}, **resource)]}
    response = hsc.kms("POST", "keys", json=body, headers={"Bluemix-Instance": KP_STANDARD})
    assert response.status_code == 201, response.text
    return response.json()["resources"][0]


def by_instance(entries, instance):
    return [e for e in entries if e["instance"] == instance]


def test_copies_material_names_and_aliases_rerun_changes_nothing(run, hsc):
    first, second = material(), material(100)
    hmac_key = source_key(hsc, "payments-hmac", first, aliases=["payments-hmac"], description="HMAC secret of payments")
    ledger = source_key(hsc, "ledger", second)
    mark = hsc.mark()
    failed, result = run([{"key_id": "payments-hmac"},
                          {"key_id": ledger["id"], "name": "ledger-secret", "aliases": ["ledger-secret"],
                           "expiration_date": "2099-01-31T00:00:00Z"}])
    assert not failed, result.get("msg")
    assert result["changed"] and result["summary"] == {"total": 2, "copied": 2, "unchanged": 0, "failed": 0}
    assert [r["item"] for r in result["results"]] == ["payments-hmac", ledger["id"]]
    assert [r["source_key_id"] for r in result["results"]] == [hmac_key["id"], ledger["id"]]
    assert [r["material"] for r in result["results"]] == ["copied", "copied"]
    assert [r["actions"] for r in result["results"]] == [["create"], ["create"]]
    copied = result["results"][0]["key"]
    assert copied["name"] == "payments-hmac" and copied["aliases"] == ["payments-hmac"] and copied["type"] == "standard"
    assert copied["description"] == "HMAC secret of payments" and copied["imported"] is True
    assert result["results"][1]["key"]["name"] == "ledger-secret"
    assert result["results"][1]["key"]["expiration_date"].startswith("2099-01-31T00:00:00")
    # The material arrived in Key Protect, and never in the result.
    assert target_get(hsc, "payments-hmac")["payload"] == first
    assert target_get(hsc, "ledger-secret")["payload"] == second
    dumped = json.dumps(result)
    assert first not in dumped and second not in dumped
    # The source was only read; the target got one create per key.
    sent = hsc.requests_since(mark)
    assert all(e["method"] == "GET" for e in by_instance(sent, INSTANCE_A))
    assert [e["route"] for e in by_instance(sent, KP_STANDARD) if e["write"]] == ["POST /api/v2/keys"] * 2
    assert not any(e["write"] for e in sent if e["instance"] not in (INSTANCE_A, KP_STANDARD))

    mark = hsc.mark()
    failed, again = run([{"key_id": "payments-hmac"},
                         {"key_id": ledger["id"], "name": "ledger-secret", "aliases": ["ledger-secret"],
                          "expiration_date": "2099-01-31T00:00:00Z"}])
    assert not failed and not again["changed"], again.get("msg")
    assert again["summary"] == {"total": 2, "copied": 0, "unchanged": 2, "failed": 0}
    assert [r["material"] for r in again["results"]] == ["same", "same"]
    assert [r["actions"] for r in again["results"]] == [[], []]
    assert not any(e["write"] for e in hsc.requests_since(mark))
    assert first not in json.dumps(again) and second not in json.dumps(again)


def test_existing_target_with_other_material_is_never_overwritten(run, hsc):
    mine, theirs, fine = material(), material(), material()
    source_key(hsc, "app-secret", mine, aliases=["app-secret"])
    source_key(hsc, "other-secret", fine, aliases=["other-secret"])
    squatter = target_key(hsc, theirs, name="app-secret", aliases=["app-secret"])
    mark = hsc.mark()
    failed, result = run([{"key_id": "app-secret"}, {"key_id": "other-secret"}])
    assert failed
    assert result["msg"].startswith("1 of 2 keys failed: app-secret: Key %s of the target instance" % squatter["id"])
    assert "holds other material; it is never overwritten" in result["msg"]
    bad, good = result["results"]
    assert bad["failed"] and bad["material"] == "different" and bad["actions"] == [] and not bad["changed"]
    assert good["material"] == "copied" and good["actions"] == ["create"] and not good["failed"]
    assert result["summary"] == {"total": 2, "copied": 1, "unchanged": 0, "failed": 1}
    assert result["changed"]
    writes = [e for e in hsc.requests_since(mark) if e["write"]]
    assert [(e["instance"], e["route"]) for e in writes] == [(KP_STANDARD, "POST /api/v2/keys")]
    assert target_get(hsc, squatter["id"])["payload"] == theirs
    dumped = json.dumps(result)
    assert mine not in dumped and theirs not in dumped and fine not in dumped


def test_same_material_under_a_name_gets_the_missing_alias(run, hsc):
    secret = material(48)
    source_key(hsc, "shared-secret", secret, aliases=["shared-secret", "shared-2"])
    existing = target_key(hsc, secret, name="shared-secret", aliases=["shared-secret"])
    failed, result = run([{"key_id": "shared-2"}])
    assert not failed, result.get("msg")
    entry = result["results"][0]
    assert entry["material"] == "same" and entry["actions"] == ["add_alias:shared-2"] and entry["changed"]
    assert entry["key"]["id"] == existing["id"] and sorted(entry["key"]["aliases"]) == ["shared-2", "shared-secret"]
    assert result["summary"] == {"total": 1, "copied": 0, "unchanged": 1, "failed": 0}
    assert secret not in json.dumps(result)


def test_root_and_inactive_source_keys_are_refused(run, hsc):
    root = hsc.make_key(name="a-root", aliases=["a-root"])
    suspended = source_key(hsc, "sleeping", material(), aliases=["sleeping"])
    assert hsc.kms("POST", f"keys/{suspended['id']}/actions/disable").status_code == 204
    fine = material()
    source_key(hsc, "awake", fine, aliases=["awake"])
    mark = hsc.mark()
    failed, result = run([{"key_id": "a-root"}, {"key_id": suspended["id"]}, {"key_id": "awake"}])
    assert failed and result["msg"].startswith("2 of 3 keys failed: a-root: Source key %s is a root key" % root["id"])
    first, second, third = result["results"]
    assert "root key material is never readable" in first["msg"] and "use hs_crypto_key with payload from your vault" in first["msg"]
    assert first["source_key_id"] == root["id"] and first["material"] is None and first["key"] is None
    assert second["failed"] and "is not active (state suspended)" in second["msg"]
    assert third["material"] == "copied" and not third["failed"]
    writes = [e for e in hsc.requests_since(mark) if e["write"]]
    assert [(e["instance"], e["route"]) for e in writes] == [(KP_STANDARD, "POST /api/v2/keys")]
    assert target_get(hsc, "a-root") is None and target_get(hsc, "sleeping") is None


def test_check_mode_writes_nowhere_and_predicts(run, hsc):
    secret, other = material(), material()
    source_key(hsc, "new-one", secret, aliases=["new-one"], description="first")
    source_key(hsc, "twin", other, aliases=["twin", "twin-b"])
    target_key(hsc, other, name="twin", aliases=["twin"])
    entries = [{"key_id": "new-one"}, {"key_id": "twin"}]
    mark = hsc.mark()
    failed, predicted = run(entries, check_mode=True, diff=True)
    assert not failed and predicted["changed"], predicted.get("msg")
    assert not any(e["write"] for e in hsc.requests_since(mark))
    assert target_get(hsc, "new-one") is None
    assert [r["actions"] for r in predicted["results"]] == [["create"], ["add_alias:twin-b"]]
    assert [r["material"] for r in predicted["results"]] == ["copied", "same"]
    assert predicted["summary"] == {"total": 2, "copied": 1, "unchanged": 1, "failed": 0}
    assert [d["before_header"] for d in predicted["diff"]] == ["new-one", "twin"]
    assert predicted["diff"][0]["before"] == {} and predicted["diff"][0]["after"]["description"] == "first"
    assert predicted["diff"][1]["after"]["aliases"] == ["twin", "twin-b"]
    failed, real = run(entries, diff=True)
    assert not failed
    assert [r["actions"] for r in real["results"]] == [r["actions"] for r in predicted["results"]]
    assert real["diff"][1] == predicted["diff"][1]
    for dumped in (json.dumps(predicted), json.dumps(real)):
        assert secret not in dumped and other not in dumped


def test_same_source_key_named_twice_fails_the_second(run, hsc):
    secret = material()
    key = source_key(hsc, "once", secret, aliases=["once"])
    failed, result = run([{"key_id": key["id"]}, {"key_id": "once"}])
    assert failed and result["results"][0]["material"] == "copied"
    assert "crypto_keys[1] names source key %s, which crypto_keys[0] copies already" % key["id"] in result["results"][1]["msg"]


def test_material_is_masked_wherever_it_would_show(run, hsc):
    # Defence in depth: a description that happens to hold the material is masked in the result, never shown.
    secret = material(24)
    source_key(hsc, "odd-one", secret, aliases=["odd-one"], description=secret)
    failed, result = run([{"key_id": "odd-one"}])
    assert not failed and result["results"][0]["material"] == "copied"
    assert secret not in json.dumps(result)
    assert result["results"][0]["key"]["description"] != secret


@pytest.mark.parametrize("entries,message", [
    ([{"key_id": ""}], "crypto_keys[0].key_id is required and must not be empty"),
    ([{"key_id": "dup"}, {"key_id": "dup"}], "crypto_keys[0] and crypto_keys[1] both name the source key 'dup'"),
    ([{"key_id": "one", "aliases": ["same"]}, {"key_id": "two", "aliases": ["same"]}],
     "crypto_keys[0] and crypto_keys[1] both name the alias 'same'"),
    ([{"key_id": "one", "aliases": ["has space"]}], "crypto_keys[0].aliases: 'has space' is not a valid alias"),
    ([{"key_id": "one", "aliases": ["keys"]}], "crypto_keys[0].aliases: 'keys' is a reserved word"),
    ([{"key_id": "one", "aliases": ["a-a", "a-a"]}], "crypto_keys[0].aliases: the same alias is listed twice"),
    ([{"key_id": "one", "name": "x"}], "crypto_keys[0].name must be 2 to 90 characters"),
    ([{"key_id": "one", "expiration_date": "tomorrow"}], "crypto_keys[0].expiration_date must be an RFC 3339 date"),
    ([{"key_id": "one", "key_ring": "bad ring"}], "crypto_keys[0].key_ring: 'bad ring' is not a valid key ring id"),
    ([{"key_id": "crn:v1:bluemix:public:hs-crypto:us-south:a/abc:3f9e8d7c-6b5a-4d3c-8b2a-1f0e9d8c7b6a:key:"
                 "02fd6835-6001-4482-a892-13bd2085f75d"}], "crypto_keys[0].key_id is the CRN of a key of instance"),
])
def test_bad_entries_fail_before_any_request(run, hsc, entries, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = run(entries)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_a_source_key_crn_of_the_source_instance_is_accepted(run, hsc):
    secret = material()
    key = source_key(hsc, "by-crn", secret, aliases=["by-crn"])
    failed, result = run([{"key_id": SOURCE_CRN + key["id"]}])
    assert not failed and result["results"][0]["source_key_id"] == key["id"]
    assert target_get(hsc, "by-crn")["payload"] == secret


@pytest.mark.parametrize("applied", [True, False], ids=["create made", "create not made"])
def test_a_lost_create_answer_never_makes_two_keys(run, hsc, applied):
    secret = material()
    source_key(hsc, "lost-one", secret, aliases=["lost-one"])
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "^/api/v2/keys$", "drop": True,
                                                   "after": applied, "times": 1}]})
    mark = hsc.mark()
    failed, result = run([{"key_id": "lost-one"}], retries=0)
    hsc.control("DELETE", "faults")
    assert not failed, result.get("msg")
    assert result["results"][0]["material"] == "copied" and result["results"][0]["actions"] == ["create"]
    creates = [e for e in hsc.requests_since(mark) if e["method"] == "POST" and e["path"] == "/api/v2/keys"]
    assert len(creates) == (1 if applied else 2) and {e["instance"] for e in creates} == {KP_STANDARD}
    listed = hsc.kms("GET", "keys", headers={"Bluemix-Instance": KP_STANDARD}).json()["resources"]
    assert [k["name"] for k in listed].count("lost-one") == 1
    assert target_get(hsc, "lost-one")["payload"] == secret and secret not in json.dumps(result)


def test_a_service_message_echoing_the_material_is_scrubbed(run, hsc):
    secret = material()
    source_key(hsc, "echoed", secret, aliases=["echoed"])
    echo = {"errorMsg": f"refused payload {secret}", "errorCode": "INVALID_FIELD_ERR"}
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "POST", "path": "^/api/v2/keys$", "status": 400,
                                                   "body": echo, "times": 1}]})
    failed, result = run([{"key_id": "echoed"}])
    hsc.control("DELETE", "faults")
    assert failed and "refused payload ********" in result["results"][0]["msg"]
    assert secret not in json.dumps(result)


def test_expected_key_rings_count_in_check_mode_only(run, hsc):
    """The migration's apply --check: the ring the role would create is missing in the target, and the copy into it is
    still predicted; a real run checks the ring."""
    hsc.kms("POST", "key_rings/payments")
    media = "application/vnd.ibm.kms.key+json"
    body = {"metadata": {"collectionType": media, "collectionTotal": 1},
            "resources": [{"type": media, "name": "ringed", "extractable": True, "payload": material(), "aliases": ["ringed"]}]}
    assert hsc.kms("POST", "keys", json=body, headers={"X-Kms-Key-Ring": "payments"}).status_code == 201
    entries = [{"key_id": "ringed"}]
    failed, result = run(entries, check_mode=True)
    assert failed and "Key ring payments does not exist" in result["msg"]
    mark = hsc.mark()
    failed, result = run(entries, check_mode=True, expected_key_rings=["payments"])
    assert not failed, result.get("msg")
    assert result["changed"] and result["summary"]["copied"] == 1
    assert not [e for e in hsc.requests_since(mark) if e["write"]]
    failed, result = run(entries, expected_key_rings=["payments"])
    assert failed and "Key ring payments does not exist" in result["msg"]
