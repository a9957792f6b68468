# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The compliance rules' pure functions: every rule passing and failing, params, waivers, configuration errors (no service)."""

import datetime

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils import _compliance as compliance
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
GUID = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
OTHER = "3f9e8d7c-6b5a-4d3c-8b2a-1f0e9d8c7b6a"
HPCS = {"instance_id": GUID, "crn": None, "service": "hs_crypto", "plan": None, "region": "us-south", "name": "payments"}
KP = dict(HPCS, service="key_protect", plan="tiered-pricing")


def days_ago(days):
    return (NOW - datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def raw_key(key_id, name=None, extractable=False, imported=False, state=1, created=30, rotated=None, expires=None, aliases=()):
    raw = {"id": key_id, "name": name or key_id, "aliases": list(aliases), "extractable": extractable, "imported": imported,
           "state": state, "creationDate": days_ago(created), "keyRingID": "default"}
    if rotated is not None:
        raw["lastRotateDate"] = days_ago(rotated)
    if expires is not None:
        raw["expirationDate"] = (NOW + datetime.timedelta(days=expires)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return raw


def policy(policy_type, enabled, **attributes):
    data = {"enabled": enabled}
    if attributes:
        data["attributes"] = attributes
    return {"policy_type": policy_type, "policy_data": data}


def good_policies(service="hs_crypto"):
    records = {"dual_auth_delete": policy("dualAuthDelete", True), "allowed_network": policy("allowedNetwork", True, allowed_network="private-only"),
               "key_create_import_access": policy("keyCreateImportAccess", True, enforce_token=True), "metrics": policy("metrics", True)}
    return records


def estate(keys=(), key_policies=None, policies=None, registrations=(), units=None, kms_reason=None):
    keys = list(keys)
    if key_policies is None:
        key_policies = {}
        for raw in keys:
            if not raw["extractable"] and raw["state"] in (1, 2):
                key_policies[raw["id"]] = {"rotation": {"enabled": True, "interval_month": 3}, "dual_auth_delete": True}
    return {"keys": keys, "key_policies": key_policies, "policies": good_policies() if policies is None else policies,
            "policies_reason": None, "registrations": [{"keyId": k} for k in registrations], "units": units, "kms_reason": kms_reason}


def run(state, instance=None, rules=None, waivers=None, now=NOW):
    return compliance.evaluate(state, instance or HPCS, compliance.parse_rules(rules), compliance.parse_waivers(waivers, GUID), now)


def rule(result, rule_id):
    return next(entry for entry in result["rules"] if entry["id"] == rule_id)


def found(result, rule_id):
    return [f for f in result["findings"] if f["rule"] == rule_id]


# -- the table ---------------------------------------------------------------------------------------------------------

def test_the_table_lists_every_rule_with_its_fields():
    assert compliance.RULE_IDS == (
        "rotation-enabled", "rotation-interval", "rotation-overdue", "imported-rotated", "instance-dual-auth", "key-dual-auth",
        "expiring-keys", "inactive-key-registrations", "private-only", "high-availability", "import-token-enforced", "metrics-enabled",
        "dedicated-units-initialized", "hpcs-end-of-support", "waiver-expired")
    for entry in compliance.rule_table():
        assert set(entry) == {"id", "title", "benchmarks", "severity", "scope", "params", "fields", "applies_to"}
        assert entry["severity"] in compliance.SEVERITIES and entry["scope"] in ("key", "instance") and entry["fields"]
    table = dict((entry["id"], entry) for entry in compliance.rule_table())
    assert table["rotation-enabled"]["benchmarks"][0] == "CIS IBM Cloud Foundations 8.1.1"
    assert table["high-availability"]["benchmarks"][0] == "CIS IBM Cloud Foundations 8.1.2"
    assert table["rotation-overdue"]["params"] == {"max_interval_month": 12, "grace_days": 7}
    assert table["inactive-key-registrations"]["severity"] == "critical"


# -- one compliant instance ---------------------------------------------------------------------------------------------

def test_a_compliant_hpcs_instance_passes_every_rule_but_the_end_of_support():
    result = run(estate([raw_key("root-1", rotated=10), raw_key("std-1", extractable=True)]))
    statuses = dict((entry["id"], entry["status"]) for entry in result["rules"])
    assert statuses == {
        "rotation-enabled": "pass", "rotation-interval": "pass", "rotation-overdue": "pass", "imported-rotated": "pass",
        "instance-dual-auth": "pass", "key-dual-auth": "pass", "expiring-keys": "pass", "inactive-key-registrations": "pass",
        "private-only": "pass", "high-availability": "not_applicable", "import-token-enforced": "pass", "metrics-enabled": "pass",
        "dedicated-units-initialized": "not_applicable", "hpcs-end-of-support": "fail", "waiver-expired": "pass"}
    assert [f["rule"] for f in result["findings"]] == ["hpcs-end-of-support"]
    assert result["evaluated_at"] == "2026-06-01T12:00:00Z"
    assert rule(result, "high-availability")["reason"].startswith("Hyper Protect Crypto Services has no cross-region-resiliency plan")
    assert rule(result, "rotation-enabled")["checked"] == 1
    assert result["keys"][0] == {
        "id": "root-1", "name": "root-1", "aliases": [], "type": "root", "imported": False, "state": "active", "key_ring": "default",
        "creation_date": days_ago(30), "last_rotate_date": days_ago(10), "expiration_date": None, "rotation_enabled": True,
        "rotation_interval_month": 3, "days_since_rotation": 10, "registrations": 0}
    assert result["keys"][1]["days_since_rotation"] is None and result["keys"][1]["rotation_enabled"] is None


# -- each rule failing ------------------------------------------------------------------------------------------------------

def test_rotation_enabled_fails_for_generated_active_root_keys_only():
    keys = [raw_key("plain"), raw_key("imported", imported=True), raw_key("paused", state=2), raw_key("std", extractable=True)]
    policies = {"plain": {"rotation": None, "dual_auth_delete": True}, "imported": {"rotation": None, "dual_auth_delete": True},
                "paused": {"rotation": {"enabled": False, "interval_month": None}, "dual_auth_delete": True}}
    result = run(estate(keys, key_policies=policies))
    assert [f["key_id"] for f in found(result, "rotation-enabled")] == ["plain"]
    entry = rule(result, "rotation-enabled")
    assert (entry["status"], entry["checked"], entry["failed"], entry["severity"]) == ("fail", 1, 1, "high")
    finding = found(result, "rotation-enabled")[0]
    assert finding["observed"] == {"rotation_enabled": False} and finding["expected"] == {"rotation_enabled": True}
    assert finding["scope"] == "key" and finding["instance_id"] == GUID and finding["key_ring"] == "default"


def test_rotation_interval_and_its_param():
    keys = [raw_key("monthly"), raw_key("yearly")]
    policies = {"monthly": {"rotation": {"enabled": True, "interval_month": 1}, "dual_auth_delete": True},
                "yearly": {"rotation": {"enabled": True, "interval_month": 12}, "dual_auth_delete": True}}
    assert rule(run(estate(keys, key_policies=policies)), "rotation-interval")["status"] == "pass"
    result = run(estate(keys, key_policies=policies), rules={"rotation-interval": {"params": {"max_interval_month": 6}}})
    assert [f["key_id"] for f in found(result, "rotation-interval")] == ["yearly"]
    assert found(result, "rotation-interval")[0]["message"] == "key yearly ('yearly') rotates every 12 months, more than 6"
    assert rule(result, "rotation-interval")["params"] == {"max_interval_month": 6}


def test_rotation_overdue_uses_the_last_rotation_else_creation_and_the_grace():
    keys = [raw_key("never-rotated", created=400), raw_key("rotated", created=800, rotated=20), raw_key("in-grace", created=370),
            raw_key("quarterly", created=200, rotated=100)]
    policies = dict((k["id"], {"rotation": None, "dual_auth_delete": True}) for k in keys)
    policies["quarterly"] = {"rotation": {"enabled": True, "interval_month": 3}, "dual_auth_delete": True}
    result = run(estate(keys, key_policies=policies))
    assert sorted(f["key_id"] for f in found(result, "rotation-overdue")) == ["never-rotated", "quarterly"]
    never = next(f for f in found(result, "rotation-overdue") if f["key_id"] == "never-rotated")
    assert "created, never rotated, on" in never["message"] and "400 days ago" in never["message"]
    assert never["observed"]["days_since_rotation"] == 400 and never["expected"]["interval_month"] == 12
    # a longer grace brings the 370-day-old key in; a shorter interval fails it
    result = run(estate(keys, key_policies=policies), rules={"rotation-overdue": {"params": {"grace_days": 0, "max_interval_month": 6}}})
    assert sorted(f["key_id"] for f in found(result, "rotation-overdue")) == ["in-grace", "never-rotated", "quarterly"]


def test_imported_rotated():
    keys = [raw_key("old-import", imported=True, created=500), raw_key("fresh-import", imported=True, created=500, rotated=30)]
    result = run(estate(keys))
    assert [f["key_id"] for f in found(result, "imported-rotated")] == ["old-import"]
    assert "cannot rotate automatically" in found(result, "imported-rotated")[0]["message"]
    assert rule(run(estate(keys), rules={"imported-rotated": {"params": {"max_age_days": 600}}}), "imported-rotated")["status"] == "pass"


def test_instance_and_key_dual_auth():
    policies = good_policies()
    policies["dual_auth_delete"] = policy("dualAuthDelete", False)
    keys = [raw_key("single"), raw_key("paused", state=2), raw_key("gone", state=3)]
    key_policies = {"single": {"rotation": {"enabled": True, "interval_month": 1}, "dual_auth_delete": False},
                    "paused": {"rotation": None, "dual_auth_delete": None}}
    result = run(estate(keys, key_policies=key_policies, policies=policies))
    assert found(result, "instance-dual-auth")[0]["observed"] == {"dual_auth_delete": False}
    assert rule(result, "instance-dual-auth")["severity"] == "high"
    assert [f["key_id"] for f in found(result, "key-dual-auth")] == ["single", "paused"]
    assert rule(result, "key-dual-auth")["checked"] == 2
    del policies["dual_auth_delete"]  # never set counts as disabled
    assert rule(run(estate(keys, key_policies=key_policies, policies=policies)), "instance-dual-auth")["status"] == "fail"


def test_expiring_keys_and_days():
    keys = [raw_key("soon", expires=10), raw_key("later", expires=100), raw_key("past", expires=-1), raw_key("off", state=3, expires=5)]
    result = run(estate(keys))
    assert [f["key_id"] for f in found(result, "expiring-keys")] == ["soon", "past"]
    assert "in 10 days" in found(result, "expiring-keys")[0]["message"] or "in 9 days" in found(result, "expiring-keys")[0]["message"]
    assert "expired on" in found(result, "expiring-keys")[1]["message"]
    result = run(estate(keys), rules={"expiring-keys": {"params": {"days": 120}}})
    assert [f["key_id"] for f in found(result, "expiring-keys")] == ["soon", "later", "past"]


def test_inactive_keys_with_registrations_are_critical():
    keys = [raw_key("active"), raw_key("suspended", state=2), raw_key("deactivated", state=3), raw_key("deleted", state=5),
            raw_key("clean", state=3)]
    result = run(estate(keys, registrations=["active", "suspended", "deactivated", "deleted", "deleted"]))
    entries = found(result, "inactive-key-registrations")
    assert [(f["key_id"], f["observed"]) for f in entries] == [
        ("suspended", {"state": "suspended", "registrations": 1}), ("deactivated", {"state": "deactivated", "registrations": 1}),
        ("deleted", {"state": "deleted", "registrations": 2})]
    assert {f["severity"] for f in entries} == {"critical"} and rule(result, "inactive-key-registrations")["checked"] == 4
    assert result["summary"]["by_severity"]["critical"] == 3


def test_private_only_on_each_service():
    public = good_policies()
    public["allowed_network"] = policy("allowedNetwork", True, allowed_network="public-and-private")
    result = run(estate(policies=public))
    assert found(result, "private-only")[0]["observed"] == {"allowed_network": "public-and-private"}
    # Key Protect: the allowedIP policy passes too
    result = run(estate(policies=public), instance=KP)
    assert found(result, "private-only")[0]["observed"] == {"allowed_network": "public-and-private", "allowed_ip": False}
    with_ip = dict(public, allowed_ip=policy("allowedIP", True, allowed_ip=["10.0.0.0/8"]))
    assert rule(run(estate(policies=with_ip), instance=KP), "private-only")["status"] == "pass"
    # HPCS has no allowedIP: a record of one would not count
    assert rule(run(estate(policies=with_ip)), "private-only")["status"] == "fail"
    dedicated = dict(KP, plan="dedicated")
    no_network = {"dual_auth_delete": policy("dualAuthDelete", True)}
    result = run(estate(policies=no_network, units=[{"id": "u1", "state": "kms-initialized"}]), instance=dedicated)
    assert "no allowedNetwork policy" in found(result, "private-only")[0]["message"]
    assert rule(run(estate(policies=dict(no_network, allowed_ip=with_ip["allowed_ip"]), units=[]), instance=dedicated),
                "private-only")["status"] == "pass"


def test_policies_not_readable_make_instance_rules_not_applicable():
    state = estate()
    state["policies"] = None
    state["policies_reason"] = "the instance policies could not be read (HTTP 403: forbidden)"
    result = run(state, instance=dict(KP, plan="dedicated"))
    for rule_id in ("instance-dual-auth", "metrics-enabled", "private-only"):
        assert rule(result, rule_id)["status"] == "not_applicable"
        assert rule(result, rule_id)["reason"] == state["policies_reason"]


def test_high_availability():
    assert rule(run(estate(), instance=dict(KP, plan="cross-region-resiliency", region="eu-de")), "high-availability")["status"] == "pass"
    result = run(estate(), instance=KP)
    finding = found(result, "high-availability")[0]
    assert "inference" in finding["message"] and finding["expected"] == {"plan": "cross-region-resiliency"}
    assert finding["severity"] == "low"
    reasons = {
        "eu-gb": "offered only in us-south, jp-tok, eu-de, not in eu-gb",
        "dedicated": "not offered for Key Protect Dedicated",
        "unknown": "the plan of the Key Protect instance is unknown; set plan",
    }
    assert reasons["eu-gb"] in rule(run(estate(), instance=dict(KP, region="eu-gb")), "high-availability")["reason"]
    assert reasons["dedicated"] in rule(run(estate(units=[]), instance=dict(KP, plan="dedicated")), "high-availability")["reason"]
    assert reasons["unknown"] in rule(run(estate(), instance=dict(KP, plan=None)), "high-availability")["reason"]
    unknown = dict(KP, plan=None, plan_reason="the Resource Controller names plan id bd1e, which the collection does not know")
    assert rule(run(estate(), instance=unknown), "high-availability")["reason"].startswith("the Resource Controller names plan id bd1e")


def test_import_token_enforced():
    policies = good_policies()
    policies["key_create_import_access"] = policy("keyCreateImportAccess", True, enforce_token=False)
    finding = found(run(estate(policies=policies), instance=KP), "import-token-enforced")[0]
    assert finding["observed"] == {"enabled": True, "enforce_token": False}
    del policies["key_create_import_access"]
    assert "not enabled" in found(run(estate(policies=policies)), "import-token-enforced")[0]["message"]
    assert rule(run(estate(units=[]), instance=dict(KP, plan="dedicated")), "import-token-enforced")["reason"] == \
        "Key Protect Dedicated has no import tokens (secure import)"


def test_metrics_enabled():
    policies = good_policies()
    policies["metrics"] = policy("metrics", False)
    assert found(run(estate(policies=policies)), "metrics-enabled")[0]["severity"] == "low"


def test_dedicated_units():
    dedicated = dict(KP, plan="dedicated")
    ready = [{"id": "u1", "state": "kms-initialized"}, {"id": "u2", "state": "kms-initialized"}]
    assert rule(run(estate(units=ready), instance=dedicated), "dedicated-units-initialized")["status"] == "pass"
    waiting = [{"id": "u1", "state": "kms-initialized"}, {"id": "u2", "state": "reserved"}]
    finding = found(run(estate(units=waiting), instance=dedicated), "dedicated-units-initialized")[0]
    assert finding["message"].startswith("1 of 2 crypto unit(s) are not kms-initialized: u2 (reserved)")
    assert rule(run(estate(), instance=KP), "dedicated-units-initialized")["status"] == "not_applicable"


def test_a_dedicated_instance_without_initialized_units_reads_no_keys():
    reason = "no crypto unit is kms-initialized"
    result = run(estate(units=[{"id": "u1", "state": "reserved"}], kms_reason=reason, key_policies={}, policies={}),
                 instance=dict(KP, plan="dedicated"))
    assert rule(result, "dedicated-units-initialized")["status"] == "fail"
    for rule_id in ("rotation-enabled", "imported-rotated", "instance-dual-auth", "expiring-keys", "private-only", "metrics-enabled"):
        assert rule(result, rule_id)["reason"] == reason, rule_id


def test_hpcs_end_of_support_days_and_severity():
    result = run(estate())
    finding = found(result, "hpcs-end-of-support")[0]
    left = (datetime.datetime(2027, 3, 28, tzinfo=UTC) - NOW).days
    assert left == 299
    assert finding["observed"] == {"service": "hs_crypto", "days_left": 299} and finding["severity"] == "high"
    assert "(in 299 days)" in finding["message"] and "ibm.hs_crypto.migrate_plan" in finding["message"]
    late = datetime.datetime(2027, 1, 27, tzinfo=UTC)
    assert found(run(estate(), now=late), "hpcs-end-of-support")[0]["severity"] == "critical"  # 60 days left
    assert found(run(estate(), now=late, rules={"hpcs-end-of-support": {"params": {"critical_days": 30}}}),
                 "hpcs-end-of-support")[0]["severity"] == "high"
    assert found(run(estate(), rules={"hpcs-end-of-support": {"severity": "low"}}), "hpcs-end-of-support")[0]["severity"] == "low"
    assert rule(run(estate(), instance=KP), "hpcs-end-of-support")["status"] == "not_applicable"


def test_unknown_service():
    result = run(estate(), instance=dict(HPCS, service=None))
    assert rule(result, "hpcs-end-of-support")["reason"].startswith(f"the service of instance {GUID} is unknown")
    assert rule(result, "rotation-enabled")["status"] == "pass"


# -- configuration -----------------------------------------------------------------------------------------------------------

def test_disabled_rules_and_severity_overrides():
    keys = [raw_key("plain")]
    result = run(estate(keys, key_policies={"plain": {"rotation": None, "dual_auth_delete": True}}),
                 rules={"rotation-enabled": {"enabled": False}, "rotation-overdue": {"severity": "critical"}})
    entry = rule(result, "rotation-enabled")
    assert (entry["status"], entry["enabled"], entry["reason"]) == ("disabled", False, "disabled by rules.rotation-enabled.enabled")
    assert found(result, "rotation-enabled") == []
    assert rule(result, "rotation-overdue")["severity"] == "critical"


def test_key_policy_rules_without_key_policies_are_not_applicable():
    result = run(estate([raw_key("k")], key_policies={}))
    result2 = compliance.evaluate(dict(estate([raw_key("k")]), key_policies=None), HPCS, compliance.parse_rules(None), [], NOW)
    assert rule(result, "rotation-enabled")["status"] == "fail"
    assert rule(result2, "rotation-enabled")["reason"] == "the key policies were not read"


@pytest.mark.parametrize("rules, message", [
    ({"rotation-everything": {}}, "rules.rotation-everything: there is no rule 'rotation-everything'; the rules are rotation-enabled,"),
    ({"rotation-interval": {"params": {"max_months": 3}}},
     "rules.rotation-interval.params.max_months: rule rotation-interval has no param 'max_months' (its params: max_interval_month)"),
    ({"rotation-interval": {"params": {"max_interval_month": 13}}},
     "rules.rotation-interval.params.max_interval_month: rule rotation-interval takes a whole number from 1 to 12 (got 13)"),
    ({"rotation-overdue": {"params": {"grace_days": "soon"}}},
     "rules.rotation-overdue.params.grace_days: rule rotation-overdue takes a whole number from 0 to 3650 (got 'soon')"),
    ({"expiring-keys": {"params": {"days": True}}}, "rules.expiring-keys.params.days: rule expiring-keys takes a whole number"),
    ({"metrics-enabled": {"severity": "urgent"}},
     "rules.metrics-enabled.severity: rule metrics-enabled takes one of critical, high, medium, low (got 'urgent')"),
    ({"metrics-enabled": {"enabled": "maybe"}}, "rules.metrics-enabled.enabled: rule metrics-enabled takes true or false (got 'maybe')"),
    ({"metrics-enabled": {"weight": 2}}, "rules.metrics-enabled.weight: rule metrics-enabled has no such setting; expected enabled, severity, params"),
    ({"metrics-enabled": {"params": {"days": 1}}}, "rules.metrics-enabled.params.days: rule metrics-enabled has no param 'days' (its params: none)"),
    ({"metrics-enabled": True}, "rules.metrics-enabled: rule metrics-enabled takes a dictionary"),
])
def test_bad_rules_are_refused_naming_the_setting_and_the_rule(rules, message):
    with pytest.raises(ConfigurationError) as caught:
        compliance.parse_rules(rules)
    assert str(caught.value).startswith(message)


def test_params_given_as_text_are_taken():
    assert compliance.parse_rules({"expiring-keys": {"params": {"days": "45"}}})["expiring-keys"]["params"] == {"days": 45}


@pytest.mark.parametrize("waiver, message", [
    ({"rule": "nope", "reason": "x", "expires": "2030-01-01"}, "waivers[0].rule: 'nope' is not a rule that can be waived"),
    ({"rule": "waiver-expired", "reason": "x", "expires": "2030-01-01"}, "waivers[0].rule: 'waiver-expired' is not a rule that can be waived"),
    ({"rule": "metrics-enabled", "expires": "2030-01-01"}, "waivers[0].reason: rule metrics-enabled: a waiver needs a reason"),
    ({"rule": "metrics-enabled", "reason": "  ", "expires": "2030-01-01"}, "waivers[0].reason: rule metrics-enabled: a waiver needs a reason"),
    ({"rule": "metrics-enabled", "reason": "x"}, "waivers[0].expires: rule metrics-enabled: a waiver needs an expiry date"),
    ({"rule": "metrics-enabled", "reason": "x", "expires": "next year"}, "waivers[0].expires must be an RFC 3339 date (2026-12-31)"),
    ({"rule": "metrics-enabled", "reason": "x", "expires": "2030-02-30"}, "waivers[0].expires: '2030-02-30' is not a real date"),
    ({"rule": "metrics-enabled", "reason": "x", "expires": "2030-01-01", "key": "k"},
     "waivers[0].key: rule metrics-enabled checks the instance, not keys"),
    ({"rule": "key-dual-auth", "reason": "x", "expires": "2030-01-01", "instance_id": OTHER},
     f"waivers[0].instance_id: rule key-dual-auth: the waiver names instance {OTHER}, but this task checks instance {GUID}"),
    ({"rule": "key-dual-auth", "reason": "x", "expires": "2030-01-01", "until": "x"}, "waivers[0].until: a waiver has no such field"),
])
def test_bad_waivers_are_refused(waiver, message):
    with pytest.raises(ConfigurationError) as caught:
        compliance.parse_waivers([waiver], GUID)
    assert str(caught.value).startswith(message)


def test_a_waiver_may_name_this_instance_by_crn():
    crn = f"crn:v1:bluemix:public:hs-crypto:us-south:a/acct:{GUID}::"
    waivers = compliance.parse_waivers([{"rule": "key-dual-auth", "reason": "ok", "expires": "2030-01-01", "instance_id": crn}], GUID)
    assert waivers[0]["expires_at"] == datetime.datetime(2030, 1, 2, tzinfo=UTC)  # a date holds through that day


# -- waivers --------------------------------------------------------------------------------------------------------------

def test_active_waivers_waive_by_id_alias_or_instance_and_unused_ones_are_reported():
    keys = [raw_key("k1", aliases=["payments"]), raw_key("k2"), raw_key("k3")]
    policies = dict((k["id"], {"rotation": None, "dual_auth_delete": False}) for k in keys)
    waivers = [{"rule": "rotation-enabled", "key": "payments", "reason": "HSM-bound", "expires": "2026-12-31"},
               {"rule": "rotation-enabled", "key": "k2", "reason": "legacy", "expires": "2026-12-31T00:00:00Z"},
               {"rule": "key-dual-auth", "reason": "single admin team", "expires": "2027-01-01"},
               {"rule": "metrics-enabled", "reason": "not needed", "expires": "2027-01-01"},
               {"rule": "rotation-enabled", "key": "absent", "reason": "gone", "expires": "2027-01-01"}]
    result = run(estate(keys, key_policies=policies), waivers=waivers)
    rotation = found(result, "rotation-enabled")
    assert [(f["key_id"], f["waived"]) for f in rotation] == [("k1", True), ("k2", True), ("k3", False)]
    assert rotation[0]["waiver"] == {"reason": "HSM-bound", "expires": "2026-12-31"}
    assert rotation[2]["waiver"] is None
    assert all(f["waived"] for f in found(result, "key-dual-auth"))
    assert (rule(result, "key-dual-auth")["status"], rule(result, "key-dual-auth")["waived"], rule(result, "key-dual-auth")["failed"]) == \
        ("waived", 3, 0)
    entry = rule(result, "rotation-enabled")
    assert (entry["status"], entry["failed"], entry["waived"]) == ("fail", 1, 2)
    assert [w["rule"] for w in result["unused_waivers"]] == ["metrics-enabled", "rotation-enabled"]
    assert result["unused_waivers"][1] == {"rule": "rotation-enabled", "key": "absent", "instance_id": None, "reason": "gone",
                                           "expires": "2027-01-01"}
    summary = result["summary"]
    assert summary["waived"] == 5 and summary["findings"] == 2  # k3's rotation, and the end of support
    assert rule(result, "waiver-expired")["status"] == "pass" and rule(result, "waiver-expired")["checked"] == 5


def test_an_expired_waiver_waives_nothing_and_is_a_finding_of_the_waived_findings_severity():
    keys = [raw_key("k1", aliases=["payments"])]
    policies = {"k1": {"rotation": None, "dual_auth_delete": True}}
    waivers = [{"rule": "rotation-enabled", "key": "payments", "reason": "HSM-bound", "expires": "2026-05-31"},
               {"rule": "metrics-enabled", "reason": "later", "expires": "2026-01-01T00:00:00Z"}]
    result = run(estate(keys, key_policies=policies), waivers=waivers)
    assert found(result, "rotation-enabled")[0]["waived"] is False
    expired = found(result, "waiver-expired")
    assert [(f["severity"], f["key_id"], f["observed"]["findings"]) for f in expired] == [("high", "k1", 1), ("low", None, 0)]
    assert expired[0]["message"].startswith("the waiver of rule rotation-enabled for key payments expired on 2026-05-31")
    assert rule(result, "waiver-expired")["status"] == "fail" and rule(result, "waiver-expired")["failed"] == 2
    assert result["unused_waivers"] == []
    # the same waiver a day earlier still waives (a date holds through that day)
    earlier = run(estate(keys, key_policies=policies), waivers=waivers[:1], now=datetime.datetime(2026, 5, 31, 23, 0, tzinfo=UTC))
    assert found(earlier, "rotation-enabled")[0]["waived"] is True and found(earlier, "waiver-expired") == []


# -- summary ---------------------------------------------------------------------------------------------------------------

def test_summary_and_compliant_share():
    keys = [raw_key("good"), raw_key("bad")]
    policies = {"good": {"rotation": {"enabled": True, "interval_month": 1}, "dual_auth_delete": True},
                "bad": {"rotation": None, "dual_auth_delete": False}}
    result = run(estate(keys, key_policies=policies))
    summary = result["summary"]
    checks = sum(entry["checked"] for entry in result["rules"] if entry["status"] in ("pass", "fail", "waived"))
    failed = sum(entry["failed"] for entry in result["rules"])
    # rotation-enabled 2 (1 failed), rotation-interval 1, rotation-overdue 2, imported-rotated 0, instance-dual-auth 1,
    # key-dual-auth 2 (1 failed), expiring-keys 2, inactive 0, private-only 1, import-token 1, metrics 1, end of support 1 (failed)
    assert (checks, failed) == (14, 3)
    assert summary == {"keys": 2, "rules_checked": 13, "rules_failed": 3, "findings": 3, "waived": 0,
                       "by_severity": {"critical": 0, "high": 2, "medium": 1, "low": 0}, "compliant_share": round(11 / 14, 4)}
    empty = compliance.summarize([], [], [])
    assert empty["compliant_share"] is None


def test_parse_http_date():
    assert compliance.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert compliance.parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    for bad in (None, "", "yesterday", 12):
        assert compliance.parse_http_date(bad) is None


def test_add_months_clamps_the_day():
    assert compliance.add_months(datetime.datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime.datetime(2026, 2, 28, tzinfo=UTC)
    assert compliance.add_months(datetime.datetime(2026, 11, 15, tzinfo=UTC), 12) == datetime.datetime(2027, 11, 15, tzinfo=UTC)
