# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_compliance_info against the in-process emulator: HPCS instance A, Key Protect Standard, cross-region and Dedicated."""

import base64
import datetime

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_compliance_info import main


INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
KP_STANDARD = "5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d"
KP_XR = "6e2d8c3b-0f9a-4b4c-9d7e-3f2a1b0c9d8e"
KP_DEDICATED = "7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f"
KP_DEDICATED_NEW = "8a4f0e5d-2b1c-4d6e-9f9a-5b4c3d2e1f0a"
XR_PLAN_ID = "bd1e16c6-59ac-45df-9c79-076b22127d24"  # the emulator's id for cross-region-resiliency, unknown to the collection
KEY_TYPE = "application/vnd.ibm.kms.key+json"
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
COS = "crn:v1:bluemix:public:cloud-object-storage:global:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:cos-0001:bucket:payments-data"
MATERIAL = base64.b64encode(bytes(range(100, 132))).decode()
UTC = datetime.timezone.utc
DAY = 86400


def envelope(media, resources):
    return {"metadata": {"collectionType": media, "collectionTotal": len(resources)}, "resources": resources}


class Seeder:
    """Writes straight to the emulator (the module under test never writes)."""

    def __init__(self, hsc):
        self.hsc = hsc

    def call(self, method, path, instance=INSTANCE_A, **kwargs):
        response = self.hsc.kms(method, path, headers={"Bluemix-Instance": instance}, **kwargs)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else None

    def key(self, name, instance=INSTANCE_A, rotation=None, dual=False, **fields):
        body = envelope(KEY_TYPE, [dict({"type": KEY_TYPE, "name": name, "extractable": False}, **fields)])
        created = self.call("POST", "keys", instance=instance, json=body)["resources"][0]
        if rotation is not None:
            self.key_policy(created["id"], instance, rotation=rotation)
        if dual:
            self.key_policy(created["id"], instance, dualAuthDelete={"enabled": True})
        return created

    def key_policy(self, key_id, instance=INSTANCE_A, **policy):
        self.call("PUT", f"keys/{key_id}/policies", instance=instance, json=envelope(POLICY_TYPE, [dict({"type": POLICY_TYPE}, **policy)]))

    def instance_policy(self, policy_type, data, instance=INSTANCE_A):
        self.call("PUT", "instance/policies", instance=instance, params={"policy": policy_type},
                  json=envelope(POLICY_TYPE, [{"policy_type": policy_type, "policy_data": data}]))

    def register(self, key_id, crn=COS, instance=INSTANCE_A):
        self.hsc.control("POST", "registrations", json={"instance_id": instance, "key_id": key_id, "resource_crn": crn})


@pytest.fixture
def seed(hsc):
    return Seeder(hsc)


def in_days(days):
    """A moment ``days`` days and 12 hours from now: the half day keeps a whole-day count ("in 10 days") the same in two
    evaluations a second apart (without it, a count taken in the second the key was made differs from the next one's)."""
    return (datetime.datetime.now(UTC) + datetime.timedelta(days=days, hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def estate(seed):
    """Instance A with keys that fail several rules."""
    keys = {
        "plain": seed.key("plain", aliases=["plain-root"]),  # no rotation, no dual authorization
        "rotating": seed.key("rotating", rotation={"enabled": True, "interval_month": 3}, dual=True),
        "legacy": seed.key("legacy", payload=MATERIAL, dual=True),  # imported
        "expiring": seed.key("expiring", expirationDate=in_days(10), rotation={"enabled": True, "interval_month": 12}, dual=True),
        "paused": seed.key("paused", rotation={"enabled": True, "interval_month": 1}, dual=True),
        "standard": seed.key("app-secret", extractable=True),
    }
    seed.call("POST", f"keys/{keys['paused']['id']}/actions/disable")
    seed.register(keys["paused"]["id"])
    seed.register(keys["rotating"]["id"])
    seed.instance_policy("allowedNetwork", {"enabled": True, "attributes": {"allowed_network": "public-and-private"}})
    seed.instance_policy("metrics", {"enabled": True})
    return keys


@pytest.fixture
def check(run_module, hsc):
    def go(check_mode=False, **params):
        return run_module(main, hsc.args(**params), check_mode=check_mode)
    return go


def discovered(hsc, guid, **extra):
    """Found through the emulator's Resource Controller: service, plan, region and name known before any key request."""
    return dict({"instance_id": guid, "endpoint": None, "resource_controller_url": hsc.url, "ca_path": hsc.server.ca_path}, **extra)


def statuses(result):
    return dict((entry["id"], entry["status"]) for entry in result["rules"])


def failing(result, rule_id):
    return sorted(f["key_name"] or "instance" for f in result["findings"] if f["rule"] == rule_id and not f["waived"])


def parsed(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def stable(result):
    return dict((name, value) for name, value in result.items() if name not in ("correlation_id", "invocation", "evaluated_at"))


def test_instance_a_fails_several_rules_reading_only(check, hsc, estate):
    mark = hsc.mark()
    failed, result = check(service="hs_crypto")
    assert not failed, result.get("msg")
    assert result["changed"] is False
    sent = hsc.requests_since(mark)
    # one listing + one policy read per active or suspended root key (5) + instance policies + registrations
    assert len(sent) == 1 + 5 + 1 + 1, [e["route"] for e in sent]
    assert [e["route"] for e in sent] == (["GET /api/v2/keys"] + ["GET /api/v2/keys/<key_id>/policies"] * 5
                                          + ["GET /api/v2/instance/policies", "GET /api/v2/keys/registrations"])
    assert not any(e["write"] for e in sent) and {e["method"] for e in sent} == {"GET"}
    assert {e["instance"] for e in sent} == {INSTANCE_A}
    assert failing(result, "rotation-enabled") == ["plain"]
    assert failing(result, "key-dual-auth") == ["plain"]
    assert failing(result, "instance-dual-auth") == ["instance"]
    assert failing(result, "private-only") == ["instance"]
    assert failing(result, "import-token-enforced") == ["instance"]
    assert failing(result, "expiring-keys") == ["expiring"]
    assert failing(result, "inactive-key-registrations") == ["paused"]
    assert statuses(result)["rotation-overdue"] == "pass" and statuses(result)["imported-rotated"] == "pass"
    assert statuses(result)["metrics-enabled"] == "pass"
    assert statuses(result)["high-availability"] == "not_applicable"
    crn = f"crn:v1:bluemix:public:hs-crypto:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:{INSTANCE_A}::"
    assert result["instance"] == {"instance_id": INSTANCE_A, "crn": crn, "service": "hs_crypto", "plan": None, "region": None, "name": None}
    # the end of support, counted from the service's time
    now = parsed(result["evaluated_at"])
    assert abs((now - datetime.datetime.now(UTC)).total_seconds()) < 60
    end = [f for f in result["findings"] if f["rule"] == "hpcs-end-of-support"][0]
    left = (datetime.datetime(2027, 3, 28, tzinfo=UTC) - now).days
    assert end["observed"] == {"service": "hs_crypto", "days_left": left}
    assert end["severity"] == ("critical" if left < 90 else "high")
    assert f"({'in %d days' % left if left >= 0 else '%d days ago' % -left})" in end["message"]
    assert "ibm.hs_crypto.migrate_plan" in end["message"]
    keys = dict((k["name"], k) for k in result["keys"])
    assert set(keys) == {"plain", "rotating", "legacy", "expiring", "paused", "app-secret"}
    assert keys["rotating"]["rotation_enabled"] is True and keys["rotating"]["rotation_interval_month"] == 3
    assert keys["plain"]["rotation_enabled"] is False and keys["plain"]["days_since_rotation"] == 0
    assert keys["legacy"]["imported"] is True and keys["paused"]["state"] == "suspended" and keys["paused"]["registrations"] == 1
    assert keys["app-secret"]["type"] == "standard" and keys["app-secret"]["rotation_enabled"] is None
    summary = result["summary"]
    assert summary["findings"] == len(result["findings"]) == 8 and summary["waived"] == 0
    assert summary["by_severity"]["critical"] == 1 + (1 if left < 90 else 0)
    assert 0 < summary["compliant_share"] < 1
    # check mode: the same result, the same reads, no write
    mark = hsc.mark()
    failed, again = check(service="hs_crypto", check_mode=True)
    assert not failed and stable(again) == stable(result)
    sent = hsc.requests_since(mark)
    assert len(sent) == 8 and not any(e["write"] for e in sent)


def test_moving_the_clock_400_days_ages_keys_and_expires_a_waiver(check, hsc, estate):
    waivers = [{"rule": "rotation-overdue", "key": "plain-root", "reason": "rotated with the HSM", "expires": in_days(30)},
               {"rule": "metrics-enabled", "reason": "never used", "expires": in_days(900)}]
    failed, before = check(service="hs_crypto", waivers=waivers)
    assert not failed, before.get("msg")
    assert failing(before, "rotation-overdue") == [] and failing(before, "imported-rotated") == []
    assert before["findings"] == [f for f in before["findings"] if not f["waived"]]  # nothing to waive yet
    assert [w["rule"] for w in before["unused_waivers"]] == ["rotation-overdue", "metrics-enabled"]
    moved = hsc.control("POST", "clock", json={"advance": 400 * DAY})
    failed, after = check(service="hs_crypto", waivers=waivers)
    assert not failed, after.get("msg")
    now = parsed(after["evaluated_at"])
    assert abs((now - parsed(moved["now"])).total_seconds()) < 60  # the service's time, not the machine's
    assert (now - parsed(before["evaluated_at"])).days == 400
    # plain was never rotated; rotating rotated itself (its policy); expiring expired, so it is no longer active
    assert failing(after, "rotation-overdue") == ["plain"]
    overdue = [f for f in after["findings"] if f["rule"] == "rotation-overdue"][0]
    assert overdue["waived"] is False and overdue["observed"]["days_since_rotation"] == 400
    assert failing(after, "imported-rotated") == ["legacy"]
    expired = [f for f in after["findings"] if f["rule"] == "waiver-expired"]
    assert len(expired) == 1 and expired[0]["key_name"] == "plain" and expired[0]["severity"] == "medium"
    assert expired[0]["message"].startswith("the waiver of rule rotation-overdue for key plain-root expired on")
    assert [w["rule"] for w in after["unused_waivers"]] == ["metrics-enabled"]
    keys = dict((k["name"], k) for k in after["keys"])
    assert keys["expiring"]["state"] == "deactivated"
    assert keys["rotating"]["last_rotate_date"] is not None and keys["rotating"]["days_since_rotation"] < 100
    assert failing(after, "expiring-keys") == []


def test_key_policy_reads_are_skipped_when_their_rules_are_disabled(check, hsc, estate):
    mark = hsc.mark()
    disabled = {rule: {"enabled": False} for rule in ("rotation-enabled", "rotation-interval", "rotation-overdue", "key-dual-auth")}
    failed, result = check(service="hs_crypto", rules=disabled)
    assert not failed, result.get("msg")
    routes = [e["route"] for e in hsc.requests_since(mark)]
    assert routes == ["GET /api/v2/keys", "GET /api/v2/instance/policies", "GET /api/v2/keys/registrations"]
    assert [statuses(result)[rule] for rule in disabled] == ["disabled"] * 4
    assert dict((k["name"], k["rotation_enabled"]) for k in result["keys"])["rotating"] is None


def test_kp_standard_fails_high_availability_and_kp_xr_passes(check, hsc, seed):
    seed.instance_policy("allowedIP", {"enabled": True, "attributes": {"allowed_ip": ["10.0.0.0/8"]}}, instance=KP_STANDARD)
    failed, standard = check(**discovered(hsc, KP_STANDARD))
    assert not failed, standard.get("msg")
    assert standard["instance"]["service"] == "key_protect" and standard["instance"]["plan"] == "tiered-pricing"
    assert standard["instance"]["region"] == "us-south" and standard["instance"]["name"] == "kp-standard"
    assert standard["instance"]["crn"].endswith(f":{KP_STANDARD}::")
    ha = [f for f in standard["findings"] if f["rule"] == "high-availability"][0]
    assert ha["observed"] == {"plan": "tiered-pricing", "region": "us-south"} and "inference" in ha["message"]
    assert statuses(standard)["private-only"] == "pass"  # allowedIP counts on Key Protect
    assert statuses(standard)["hpcs-end-of-support"] == "not_applicable"
    # cross-region: discovery cannot name the plan (its id is not known), so the rule says why until plan is given
    failed, unknown = check(**discovered(hsc, KP_XR))
    assert not failed, unknown.get("msg")
    entry = [e for e in unknown["rules"] if e["id"] == "high-availability"][0]
    assert entry["status"] == "not_applicable" and XR_PLAN_ID in entry["reason"] and "set plan" in entry["reason"]
    failed, xr = check(plan="cross-region-resiliency", **discovered(hsc, KP_XR))
    assert not failed, xr.get("msg")
    assert statuses(xr)["high-availability"] == "pass" and xr["instance"]["region"] == "eu-de"


def test_a_plan_that_contradicts_discovery_is_refused_before_any_key_request(check, hsc):
    mark = hsc.mark()
    failed, result = check(plan="dedicated", **discovered(hsc, KP_STANDARD))
    assert failed
    assert result["msg"] == (f"plan dedicated conflicts with the Resource Controller, which says instance {KP_STANDARD} uses the "
                             "tiered-pricing plan")
    assert hsc.requests_since(mark) == []


def test_dedicated_units(check, hsc):
    mark = hsc.mark()
    failed, ready = check(**discovered(hsc, KP_DEDICATED))
    assert not failed, ready.get("msg")
    assert statuses(ready)["dedicated-units-initialized"] == "pass"
    assert statuses(ready)["import-token-enforced"] == "not_applicable" and statuses(ready)["high-availability"] == "not_applicable"
    assert [e["route"] for e in hsc.requests_since(mark)] == [
        "GET /api/v1/cryptounits", "GET /api/v2/keys", "GET /api/v2/instance/policies", "GET /api/v2/keys/registrations"]
    mark = hsc.mark()
    failed, new = check(**discovered(hsc, KP_DEDICATED_NEW))
    assert not failed, new.get("msg")
    assert statuses(new)["dedicated-units-initialized"] == "fail"
    finding = [f for f in new["findings"] if f["rule"] == "dedicated-units-initialized"][0]
    assert finding["message"].startswith("2 of 2 crypto unit(s) are not kms-initialized") and finding["severity"] == "high"
    sent = hsc.requests_since(mark)
    assert [e["route"] for e in sent] == ["GET /api/v1/cryptounits"]  # the key API answers 503 without an initialized unit
    entry = [e for e in new["rules"] if e["id"] == "rotation-enabled"][0]
    assert entry["status"] == "not_applicable" and "no crypto unit of the Dedicated instance is kms-initialized" in entry["reason"]


def test_hpcs_found_through_the_resource_controller(check, hsc):
    failed, result = check(**discovered(hsc, INSTANCE_A))
    assert not failed, result.get("msg")
    assert result["instance"]["service"] == "hs_crypto" and result["instance"]["region"] == "us-south"
    assert statuses(result)["hpcs-end-of-support"] == "fail"


@pytest.mark.parametrize("params, message", [
    ({"rules": {"rotation-interval": {"params": {"max_interval_month": 24}}}},
     "rules.rotation-interval.params.max_interval_month: rule rotation-interval takes a whole number from 1 to 12 (got 24)"),
    ({"rules": {"no-such-rule": {}}}, "rules.no-such-rule: there is no rule 'no-such-rule'"),
    ({"waivers": [{"rule": "key-dual-auth", "reason": "x", "expires": "2030-01-01", "instance_id": KP_STANDARD}]},
     f"waivers[0].instance_id: rule key-dual-auth: the waiver names instance {KP_STANDARD}, but this task checks instance {INSTANCE_A}"),
    ({"waivers": [{"rule": "key-dual-auth", "reason": "", "expires": "2030-01-01"}]},
     "waivers[0].reason: rule key-dual-auth: a waiver needs a reason"),
    ({"plan": "dedicated", "service": "hs_crypto"},
     f"plan: instance {INSTANCE_A} is a Hyper Protect Crypto Services instance; plan names a Key Protect plan"),
])
def test_bad_input_is_refused_before_any_request(check, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = check(**params)
    assert failed
    assert result["msg"].startswith(message), result["msg"]
    assert hsc.requests_since(mark, service=None) == []
