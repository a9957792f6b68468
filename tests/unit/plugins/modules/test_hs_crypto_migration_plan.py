# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_migration_plan against the in-process emulator: INSTANCE_A (HPCS) planned onto Key Protect Dedicated and Standard."""

import base64
import json
import os

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_migration_plan import main

INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
KP_STANDARD = "5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d"
KP_DEDICATED = "7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
COS = "crn:v1:bluemix:public:cloud-object-storage:global:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:cos-0001:bucket:payments-data"
ICD = "crn:v1:bluemix:public:databases-for-postgresql:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:pg-0001::"
VSI = "crn:v1:bluemix:public:is:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21::instance:0717_abcdef"
IMPORTED_MATERIAL = base64.b64encode(bytes(range(100, 132))).decode()
STANDARD_MATERIAL = base64.b64encode(b"standard-key-material-0123456789").decode()


def envelope(media, resources):
    return {"metadata": {"collectionType": media, "collectionTotal": len(resources)}, "resources": resources}


class Seeder:
    """Writes straight to the emulator (the module under test never writes)."""

    def __init__(self, hsc):
        self.hsc = hsc

    def call(self, method, path, instance=INSTANCE_A, expect=(200, 201, 204), ring=None, **kwargs):
        headers = {"Bluemix-Instance": instance}
        if ring:
            headers["X-Kms-Key-Ring"] = ring
        response = self.hsc.kms(method, path, headers=headers, **kwargs)
        assert response.status_code in expect, response.text
        return response.json() if response.content else None

    def key(self, name, instance=INSTANCE_A, ring=None, rotation=None, dual=False, **fields):
        body = envelope(KEY_TYPE, [dict({"type": KEY_TYPE, "name": name, "extractable": False}, **fields)])
        created = self.call("POST", "keys", instance=instance, ring=ring, json=body)["resources"][0]
        if rotation is not None:
            self.key_policy(created["id"], instance=instance, rotation=rotation)
        if dual:
            self.key_policy(created["id"], instance=instance, dualAuthDelete={"enabled": True})
        return created

    def ring(self, ring_id, instance=INSTANCE_A):
        self.call("POST", f"key_rings/{ring_id}", instance=instance)

    def key_policy(self, key_id, instance=INSTANCE_A, **policy):
        self.call("PUT", f"keys/{key_id}/policies", instance=instance, json=envelope(POLICY_TYPE, [dict({"type": POLICY_TYPE}, **policy)]))

    def instance_policy(self, policy_type, data, instance=INSTANCE_A):
        self.call("PUT", "instance/policies", instance=instance, params={"policy": policy_type},
                  json=envelope(POLICY_TYPE, [{"policy_type": policy_type, "policy_data": data}]))

    def register(self, key_id, crn):
        self.hsc.control("POST", "registrations", json={"instance_id": INSTANCE_A, "key_id": key_id, "resource_crn": crn})

    def payload(self, key_id, instance=INSTANCE_A):
        return self.call("GET", f"keys/{key_id}", instance=instance)["resources"][0]["payload"]


@pytest.fixture
def seed(hsc):
    return Seeder(hsc)


@pytest.fixture
def estate(seed):
    """INSTANCE_A as a migration finds it; returns the source keys by role."""
    seed.ring("payments")
    payments = seed.key("payments", ring="payments", aliases=["payments-root", "pay-root"], description="Payments root key",
                        expirationDate="2031-01-01T00:00:00Z")
    seed.key_policy(payments["id"], rotation={"enabled": True, "interval_month": 3})
    seed.key_policy(payments["id"], dualAuthDelete={"enabled": True})
    backup = seed.key("backup")
    imported = seed.key("legacy", aliases=["legacy-root"], payload=IMPORTED_MATERIAL)
    standard = seed.key("app-secret", aliases=["app-secret"], extractable=True, payload=STANDARD_MATERIAL, ring="payments")
    suspended = seed.key("paused", aliases=["paused"])
    seed.call("POST", f"keys/{suspended['id']}/actions/disable")
    deleted = seed.key("gone", aliases=["gone"])
    seed.call("DELETE", f"keys/{deleted['id']}")
    seed.register(payments["id"], COS)
    seed.register(payments["id"], VSI)
    seed.register(imported["id"], ICD)
    seed.instance_policy("allowedNetwork", {"enabled": True, "attributes": {"allowed_network": "public-and-private"}})
    seed.instance_policy("dualAuthDelete", {"enabled": True})
    seed.instance_policy("metrics", {"enabled": True})
    return {"payments": payments, "backup": backup, "imported": imported, "standard": standard, "suspended": suspended,
            "deleted": deleted}


@pytest.fixture
def plan(run_module, hsc):
    def go(check_mode=False, target=None, **params):
        target = dict(target or {"instance_id": KP_DEDICATED, "endpoint": hsc.url, "plan": "dedicated"})
        return run_module(main, hsc.args(target=target, **params), check_mode=check_mode)
    return go


def by_name(result):
    return {item["source"]["name"]: item for item in result["plan"]["keys"]}


def without_dates(result):
    kept = {name: value for name, value in result.items() if name not in ("correlation_id", "invocation")}
    kept["report"] = "\n".join(line for line in result["report"].splitlines() if not line.startswith("- Date: "))
    return kept


def test_plan_to_dedicated_reads_only_and_declares_the_target(plan, hsc, estate):
    mark = hsc.mark()
    failed, result = plan()
    assert not failed, result.get("msg")
    assert result["changed"] is False
    sent = hsc.requests_since(mark, service=None)
    assert sent and all(not entry["write"] for entry in sent), [e for e in sent if e["write"]]
    assert {entry["method"] for entry in sent if entry["service"] == "kms"} <= {"GET", "HEAD"}
    assert {entry["instance"] for entry in sent if entry["service"] == "kms"} == {INSTANCE_A, KP_DEDICATED}

    keys = by_name(result)
    assert {name: (item["action"], item["status"]) for name, item in keys.items()} == {
        "payments": ("create", "pending"), "backup": ("create", "pending"), "legacy": ("import", "pending"),
        "app-secret": ("copy", "pending"), "paused": ("skip", "skipped"), "gone": ("skip", "skipped")}
    payments = keys["payments"]["source"]
    assert payments["rotation"] == {"enabled": True, "interval_month": 3} and payments["dual_auth_delete"] is True
    assert payments["key_ring"] == "payments" and sorted(payments["aliases"]) == ["pay-root", "payments-root"]
    assert [(r["service"], r["intent_supported"]) for r in keys["payments"]["registrations"]] == [
        ("cloud-object-storage", True), ("is:instance", False)]
    assert "restore it first" in keys["gone"]["reason"] and "include_states" in keys["paused"]["reason"]
    assert result["plan"]["source"] == {"instance_id": INSTANCE_A, "service": "hs_crypto",
                                        "crn": estate["payments"]["crn"].rsplit(":key:", 1)[0] + "::"}
    assert result["plan"]["target"] == {"instance_id": KP_DEDICATED, "service": "key_protect", "plan": "dedicated"}

    declaration = result["declaration"]
    assert declaration["hs_crypto_instance_id"] == KP_DEDICATED and declaration["hs_crypto_instance_service"] == "key_protect"
    assert declaration["hs_crypto_instance_key_rings"] == [{"id": "payments"}]
    assert declaration["hs_crypto_instance_policies"] == {"dual_auth_delete": True, "metrics": True}  # allowed_network dropped
    notes = {note["policy"]: note for note in result["plan"]["policy_notes"]}
    assert notes["allowed_network"]["action"] == "dropped" and "context-based restrictions" in notes["allowed_network"]["replacement"]
    entries = {entry["name"]: entry for entry in declaration["hs_crypto_instance_keys"]}
    assert sorted(entries) == ["backup", "legacy", "payments"]  # no standard key, nothing skipped
    assert entries["payments"] == {"name": "payments", "aliases": ["payments-root", "pay-root"], "type": "root",
                                   "description": "Payments root key", "expiration_date": "2031-01-01T00:00:00Z",
                                   "key_ring": "payments", "rotation": {"enabled": True, "interval_month": 3},
                                   "dual_auth_delete": True}
    assert entries["legacy"]["payload"] == "{{ hs_crypto_migration_material['%s'] }}" % estate["imported"]["id"]
    assert result["standard_keys"] == [{"key_id": estate["standard"]["id"], "key_ring": "payments"}]
    assert result["crkm"] == [] and result["crkm_pending"] == 2
    assert result["summary"] == {"keys": 6, "create": 2, "import": 1, "copy": 1, "skip": 2, "present": 0, "pending": 4,
                                 "mismatch": 0, "blocked": 0, "registrations_left": 3}
    assert sorted(result["remaining"]) == ["cloud-object-storage", "databases-for-postgresql", "is:instance"]
    assert result["verified"] is None
    report = result["report"]
    assert "| payments | payments-root, pay-root | root | active | create | pending |" in report
    assert "VPC VSI (is:instance): migration intents NOT supported" in report
    serialized = json.dumps(result)
    assert IMPORTED_MATERIAL not in serialized and STANDARD_MATERIAL not in serialized


def test_check_mode_reads_the_same_and_writes_nothing(plan, hsc, estate):
    dummy, normal = plan()
    mark = hsc.mark()
    failed, checked = plan(check_mode=True)
    assert not failed and not checked["changed"]
    assert without_dates(checked) == without_dates(normal)
    assert [entry for entry in hsc.requests_since(mark, service=None) if entry["write"]] == []


def test_twins_in_the_target_are_present_and_give_crkm_rows(plan, hsc, seed, estate):
    seed.ring("payments", instance=KP_DEDICATED)
    payments = seed.key("payments-kp", instance=KP_DEDICATED, ring="payments", aliases=["pay-root"],
                        rotation={"enabled": True, "interval_month": 3}, dual=True)
    legacy = seed.key("legacy", instance=KP_DEDICATED, aliases=["legacy-root"], payload=IMPORTED_MATERIAL)
    backup = seed.key("backup", instance=KP_DEDICATED)
    mark = hsc.mark()
    failed, result = plan()
    assert not failed, result.get("msg")
    keys = by_name(result)
    assert keys["payments"]["status"] == "mismatch"  # pay-root found it, payments-root is missing
    assert keys["payments"]["differences"] == [{"field": "aliases", "expected": ["payments-root"], "found": ["pay-root"]}]
    assert keys["payments"]["target"] == {"id": payments["id"], "crn": payments["crn"]}
    assert keys["legacy"]["status"] == "present" and keys["backup"]["status"] == "present"
    assert sorted(result["crkm"], key=lambda row: row["source_crn"]) == sorted(
        [{"source_crn": estate["payments"]["crn"], "target_crn": payments["crn"]},
         {"source_crn": estate["imported"]["crn"], "target_crn": legacy["crn"]}], key=lambda row: row["source_crn"])
    assert result["crkm_pending"] == 0
    assert backup["crn"] not in json.dumps(result["crkm"])  # no registration, no row
    assert result["summary"]["present"] == 2 and result["summary"]["mismatch"] == 1 and result["summary"]["pending"] == 1
    assert [e for e in hsc.requests_since(mark, service=None) if e["write"]] == []
    # The twin's rotation is read from its policies.
    assert ("GET", f"/api/v2/keys/{payments['id']}/policies") in [(e["method"], e["path"]) for e in hsc.requests_since(mark)]


def test_verify_compares_standard_material_without_returning_it(plan, hsc, seed, estate):
    source_payload = seed.payload(estate["standard"]["id"])
    assert source_payload == STANDARD_MATERIAL
    seed.ring("payments", instance=KP_DEDICATED)
    seed.key("payments", instance=KP_DEDICATED, ring="payments", aliases=["payments-root", "pay-root"],
             rotation={"enabled": True, "interval_month": 3}, dual=True)
    seed.key("backup", instance=KP_DEDICATED)
    seed.key("legacy", instance=KP_DEDICATED, aliases=["legacy-root"], payload=IMPORTED_MATERIAL)
    copy = seed.key("app-secret", instance=KP_DEDICATED, ring="payments", aliases=["app-secret"], extractable=True,
                    payload=source_payload)
    mark = hsc.mark()
    failed, result = plan(verify=True)
    assert not failed, result.get("msg")
    keys = by_name(result)
    assert keys["app-secret"]["material"] == "same" and keys["legacy"]["material"] == "not comparable"
    assert keys["payments"]["material"] == "not comparable" and keys["paused"]["material"] is None
    assert {item["status"] for item in result["plan"]["keys"] if item["action"] != "skip"} == {"present"}
    assert result["verified"] is True
    reads = [(e["method"], e["instance"], e["path"]) for e in hsc.requests_since(mark)]
    assert ("GET", INSTANCE_A, f"/api/v2/keys/{estate['standard']['id']}") in reads
    assert ("GET", KP_DEDICATED, f"/api/v2/keys/{copy['id']}") in reads
    assert [e for e in hsc.requests_since(mark, service=None) if e["write"]] == []
    assert "**Verified: yes**" in result["report"] and "## What is left" in result["report"]
    assert "3 registration(s) are still on source keys" in result["report"]
    serialized = json.dumps(result)
    assert STANDARD_MATERIAL not in serialized and IMPORTED_MATERIAL not in serialized

    # The same key with other material in the target: different, not verified.
    seed.call("DELETE", f"keys/{copy['id']}/aliases/app-secret", instance=KP_DEDICATED)
    seed.call("DELETE", f"keys/{copy['id']}", instance=KP_DEDICATED)
    other = base64.b64encode(os.urandom(32)).decode()
    seed.key("app-secret", instance=KP_DEDICATED, ring="payments", aliases=["app-secret"], extractable=True, payload=other)
    failed, result = plan(verify=True)
    assert not failed
    assert by_name(result)["app-secret"]["material"] == "different" and result["verified"] is False
    assert "material different" in result["report"]
    serialized = json.dumps(result)
    assert other not in serialized and STANDARD_MATERIAL not in serialized


def test_verify_with_a_standard_key_not_copied_yet(plan, estate):
    failed, result = plan(verify=True)
    assert not failed
    assert by_name(result)["app-secret"]["material"] == "missing" and result["verified"] is False


def test_duplicate_names_without_aliases_are_blockers(plan, seed, estate):
    first = seed.key("twin-name")
    second = seed.key("twin-name")
    failed, result = plan()
    assert not failed
    blockers = result["plan"]["blockers"]
    assert len(blockers) == 1 and first["id"] in blockers[0] and second["id"] in blockers[0] and "add an alias" in blockers[0]
    keys = [item for item in result["plan"]["keys"] if item["source"]["name"] == "twin-name"]
    assert [item["status"] for item in keys] == ["blocked", "blocked"]
    assert "twin-name" not in [entry["name"] for entry in result["declaration"]["hs_crypto_instance_keys"]]
    assert result["summary"]["blocked"] == 2
    assert "## Blockers" in result["report"] and first["id"] in result["report"]


def test_included_suspended_key_is_declared_disabled(plan, estate):
    failed, result = plan(include_states=["suspended"])
    assert not failed
    assert by_name(result)["paused"]["action"] == "create"
    entry = next(e for e in result["declaration"]["hs_crypto_instance_keys"] if e["name"] == "paused")
    assert entry["enabled"] is False


def test_standard_target_keeps_allowed_network_and_material_variable(plan, hsc, estate):
    failed, result = plan(target={"instance_id": KP_STANDARD, "endpoint": hsc.url, "plan": "tiered-pricing"},
                          material_variable="vaulted")
    assert not failed
    assert result["declaration"]["hs_crypto_instance_policies"]["allowed_network"] == "public-and-private"
    legacy = next(e for e in result["declaration"]["hs_crypto_instance_keys"] if e["name"] == "legacy")
    assert legacy["payload"] == "{{ vaulted['%s'] }}" % estate["imported"]["id"]
    assert "docs/secure-import.md" in by_name(result)["legacy"]["reason"]


def test_target_plan_found_through_the_resource_controller(plan, hsc, estate):
    failed, result = plan(target={"instance_id": KP_DEDICATED}, resource_controller_url=hsc.url, ca_path=hsc.server.ca_path)
    assert not failed, result.get("msg")
    assert result["plan"]["target"]["plan"] == "dedicated" and not result.get("warnings")
    assert "allowed_network" not in result["declaration"]["hs_crypto_instance_policies"]


def test_unknown_target_plan_is_treated_as_dedicated_with_a_warning(plan, hsc, estate):
    failed, result = plan(target={"instance_id": KP_STANDARD, "endpoint": hsc.url})
    assert not failed
    assert result["plan"]["target"]["plan"] == "dedicated"
    assert "treated as Key Protect Dedicated" in json.dumps(result["warnings"])  # strings before ansible-core 2.19, records since
    assert "allowed_network" not in result["declaration"]["hs_crypto_instance_policies"]


def test_kur_report_adds_associations(plan, hsc, estate, tmp_path):
    extra = "crn:v1:bluemix:public:messages-for-rabbitmq:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:mq-0001::"
    report = {"metadata": {}, "result": {"kms_instances": [{
        "crn": f"crn:v1:bluemix:public:hs-crypto:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:{INSTANCE_A}::",
        "keys": [{"id": estate["backup"]["id"], "type": "crk", "associations": [{"resource_crn": extra, "prevent_key_deletion": False}]},
                 {"id": "00000000-0000-4000-8000-000000000000", "associations": [{"resource_crn": extra}]}]}]}}
    path = tmp_path / "kur.json"
    path.write_text(json.dumps(report))
    failed, result = plan(kur_report=str(path))
    assert not failed, result.get("msg")
    backup = by_name(result)["backup"]
    assert backup["registrations"] == [{"resource_crn": extra, "service": "messages-for-rabbitmq", "prevent_key_deletion": False,
                                        "intent_supported": True, "origin": "kur_report"}]
    assert result["crkm_pending"] == 3 and result["summary"]["registrations_left"] == 4


@pytest.mark.parametrize("params, message", [
    ({"include_states": ["deleted"]}, "include_states"),
    ({"material_variable": "my-material"}, "material_variable must be a variable name"),
    ({"material_variable": "{{ x }}"}, "material_variable must be a variable name"),
    ({"kur_report": "/nonexistent/kur.json"}, "kur_report /nonexistent/kur.json: no such file"),
    ({"kur_report": "BAD_JSON"}, "is not valid JSON"),
    ({"kur_report": "NOT_KUR"}, 'is not a KUR report: expected {"result": {"kms_instances": [...]}}'),
    ({"target": {"instance_id": INSTANCE_A, "endpoint": "URL"}}, "target.instance_id names the source instance"),
    ({"target": {"instance_id": KP_DEDICATED, "endpoint": "URL", "service": "hs_crypto"}}, "is a Hyper Protect Crypto Services instance"),
    ({"target": {"endpoint": "URL"}}, "instance_id"),
])
def test_bad_input_is_refused_before_any_request(run_module, hsc, tmp_path, params, message):
    params = dict(params)
    if params.get("kur_report") in ("BAD_JSON", "NOT_KUR"):
        path = tmp_path / "kur.json"
        path.write_text("{oops" if params["kur_report"] == "BAD_JSON" else json.dumps({"keys": []}))
        params["kur_report"] = str(path)
    target = params.pop("target", {"instance_id": KP_DEDICATED, "endpoint": "URL", "plan": "dedicated"})
    target = {name: (hsc.url if value == "URL" else value) for name, value in target.items()}
    args = hsc.args(target=target, **params)
    mark = hsc.mark()
    failed, result = run_module(main, args)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []


@pytest.mark.parametrize("side", ["source", "target"])
def test_both_clients_are_read_only(plan, hsc, monkeypatch, side):
    """A code path that tried to write (here, planted) fails before anything is sent: both clients refuse writes."""
    from ansible_collections.ibm.hs_crypto.plugins.module_utils import _migration as migration  # pylint: disable=import-outside-toplevel

    original = migration.read_live_keys if side == "target" else migration.read_estate

    def writing(kms):
        kms.request("POST", "keys", body={"resources": []})
        return original(kms)

    monkeypatch.setattr(migration, "read_live_keys" if side == "target" else "read_estate", writing)
    hsc.token()
    mark = hsc.mark()
    failed, result = plan()
    assert failed and "POST keys: this client reads only" in result["msg"]
    assert [entry for entry in hsc.requests_since(mark, service=None) if entry["write"] or entry["method"] == "POST"] == []
