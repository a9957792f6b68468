# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The migration plan's pure functions: classification, matching, policies, declaration, CRKM rows, report (no service)."""

import datetime
import json

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils import _migration as migration
from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import ReadOnlyKmsClient, ReadOnlyViolation
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError

NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
SRC = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
TGT = "7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f"
COS = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:cos-guid:bucket:payments"
ICD = "crn:v1:bluemix:public:databases-for-postgresql:us-south:a/acct:pg-guid::"
VSI = "crn:v1:bluemix:public:is:us-south:a/acct::instance:0717_abc"
VOLUME = "crn:v1:bluemix:public:is:us-south:a/acct::volume:r006-abc"
APPID = "crn:v1:bluemix:public:appid:us-south:a/acct:appid-guid::"


def key(key_id, name, aliases=(), kind="root", imported=False, state=1, ring="default", rotation=None, dual=False, crn_guid=SRC,
        description=None, expiration=None):
    return {"id": key_id, "crn": f"crn:v1:bluemix:public:hs-crypto:us-south:a/acct:{crn_guid}:key:{key_id}", "name": name,
            "aliases": list(aliases), "type": kind, "imported": imported, "state": migration.STATE_NAMES.get(state, "deleted"),
            "state_code": state, "key_ring": ring, "rotation": rotation, "dual_auth_delete": dual, "description": description,
            "expiration_date": expiration}


def twin(key_id, name, aliases=(), kind="root", ring="default", rotation=None, dual=False):
    found = key(key_id, name, aliases, kind, ring=ring, rotation=rotation, dual=dual, crn_guid=TGT)
    found["crn"] = found["crn"].replace("hs-crypto", "kms")
    return found


def record(policy_type, enabled, attributes=None):
    data = {"enabled": enabled}
    if attributes is not None:
        data["attributes"] = attributes
    return {"policy_type": policy_type, "policy_data": data}


def estate(keys, registrations=None, policies=None, rings=("default",)):
    return {"keys": keys, "registrations": registrations or {}, "policies": policies or {}, "key_rings": list(rings)}


def build(keys, targets=(), registrations=None, policies=None, plan="dedicated", include_states=(), verify=False, materials=None,
          rings=("default",), usage=None):
    data = estate(keys, registrations, policies, rings)
    if usage:
        data["usage"] = usage
    entries, blockers = migration.match_keys(keys, list(targets), include_states, plan)
    return migration.build_plan(data, entries, blockers, {"instance_id": SRC, "crn": None, "service": "hs_crypto"},
                                {"instance_id": TGT, "service": "key_protect", "plan": plan}, include_states, now=NOW,
                                verify=verify, materials=materials)


# -- classification ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, include, action, words", [
    (key("k", "gen"), (), "create", "generated root key"),
    (key("k", "gen", state=0), (), "create", "generated root key"),
    (key("k", "imp", imported=True), (), "import", "imported root key"),
    (key("k", "std", kind="standard"), (), "copy", "hs_crypto_key_copy"),
    (key("k", "sus", state=2), (), "skip", "add suspended to include_states"),
    (key("k", "sus", state=2), ("suspended",), "create", "generated root key"),
    (key("k", "dea", state=3), (), "skip", "add deactivated to include_states"),
    (key("k", "dea", state=3), ("suspended",), "skip", "add deactivated to include_states"),
    (key("k", "dea", state=3, imported=True), ("deactivated",), "import", "imported root key"),
    (key("k", "del", state=5), ("suspended", "deactivated"), "skip", "restore it first"),
])
def test_classification(source, include, action, words):
    found, reason = migration.classify(source, include, "dedicated")
    assert found == action and words in reason


def test_import_reason_names_the_plan():
    imported = key("k", "imp", imported=True)
    assert "no import tokens" in migration.classify(imported, (), "dedicated")[1]
    standard = migration.classify(imported, (), "tiered-pricing")[1]
    assert "secure import" in standard and "docs/secure-import.md" in standard


@pytest.mark.parametrize("crn, service, supported", [
    (COS, "cloud-object-storage", True), (ICD, "databases-for-postgresql", True), (VOLUME, "is:volume", True),
    (VSI, "is:instance", False), ("crn:v1:bluemix:public:is:us-south:a/acct::share:r1", "is:share", False),
    ("crn:v1:bluemix:public:is:us-south:a/acct::image:r1", "is:image", False), (APPID, "appid", False), ("nonsense", "unknown", True),
])
def test_registration_services(crn, service, supported):
    entry = migration.registration_entry(crn, True, "registration")
    assert entry == {"resource_crn": crn, "service": service, "prevent_key_deletion": True, "intent_supported": supported,
                     "origin": "registration"}


# -- matching ---------------------------------------------------------------------------------------------------------

def test_twin_by_alias_then_by_unique_name_and_type():
    keys = [key("s1", "payments", ["payments-root"]), key("s2", "backup"), key("s3", "app-data", kind="standard")]
    targets = [twin("t1", "other-name", ["payments-root"]), twin("t2", "backup"), twin("t3", "app-data", kind="root")]
    entries, blockers = migration.match_keys(keys, targets)
    assert not blockers
    assert [e["twin"]["id"] if e["twin"] else None for e in entries] == ["t1", "t2", None]  # a root key is no standard key's twin


def test_an_aliased_key_is_not_matched_by_name():
    entries, dummy = migration.match_keys([key("s1", "payments", ["payments-root"])], [twin("t1", "payments")])
    assert entries[0]["twin"] is None


def test_a_target_key_claimed_by_alias_is_no_name_twin():
    keys = [key("s1", "payments", ["pay"]), key("s2", "shared-name")]
    entries, dummy = migration.match_keys(keys, [twin("t1", "shared-name", ["pay"])])
    assert entries[0]["twin"]["id"] == "t1" and entries[1]["twin"] is None


def test_duplicate_names_without_aliases_block_with_the_ids():
    keys = [key("s1", "dup"), key("s2", "dup"), key("s3", "dup", ["dup-3"]), key("s4", "dup", state=5)]
    result = build(keys)
    assert len(result["plan"]["blockers"]) == 1
    blocker = result["plan"]["blockers"][0]
    assert "s1, s2" in blocker and "s3" not in blocker and "add an alias" in blocker
    assert [k["status"] for k in result["plan"]["keys"]] == ["blocked", "blocked", "pending", "skipped"]
    assert [k["name"] for k in result["declaration"]["hs_crypto_instance_keys"]] == ["dup"]  # only the aliased one
    assert result["summary"]["blocked"] == 2


def test_several_target_keys_with_the_name_block():
    result = build([key("s1", "lonely")], [twin("t1", "lonely"), twin("t2", "lonely")])
    assert result["plan"]["keys"][0]["status"] == "blocked"
    assert "t1, t2" in result["plan"]["blockers"][0]


def test_aliases_held_by_two_target_keys_block():
    result = build([key("s1", "k", ["a1", "a2"])], [twin("t1", "x", ["a1"]), twin("t2", "y", ["a2"])])
    assert result["plan"]["keys"][0]["status"] == "blocked" and "different target keys" in result["plan"]["blockers"][0]


def test_differences_make_a_mismatch():
    source = key("s1", "k", ["a1", "a2"], ring="payments", rotation={"enabled": True, "interval_month": 3}, dual=True)
    result = build([source], [twin("t1", "k", ["a1"], ring="default", rotation={"enabled": True, "interval_month": 6})])
    item = result["plan"]["keys"][0]
    assert item["status"] == "mismatch" and item["target"]["id"] == "t1"
    assert {d["field"]: (d["expected"], d["found"]) for d in item["differences"]} == {
        "aliases": (["a2"], ["a1"]),
        "key_ring": ("payments", "default"),
        "rotation": ({"enabled": True, "interval_month": 3}, {"enabled": True, "interval_month": 6}),
        "dual_auth_delete": (True, False),
    }
    assert result["summary"]["mismatch"] == 1


def test_type_difference_and_present():
    result = build([key("s1", "k", ["a1"]), key("s2", "j", ["b1"], rotation={"enabled": False, "interval_month": None})],
                   [twin("t1", "k", ["a1"], kind="standard"), twin("t2", "j", ["b1"])])
    first, second = result["plan"]["keys"]
    assert first["status"] == "mismatch" and first["differences"][0] == {"field": "type", "expected": "root", "found": "standard"}
    assert second["status"] == "present" and second["differences"] == []  # a disabled policy equals none


def test_a_twin_under_dual_authorization_is_stricter_not_different():
    """The source enabled instance dual authorization after creating this key; the target's twin has it from birth."""
    result = build([key("s1", "k", ["a1"], dual=False)], [twin("t1", "k", ["a1"], dual=True)])
    assert result["plan"]["keys"][0]["status"] == "present" and result["plan"]["keys"][0]["differences"] == []


# -- policies ---------------------------------------------------------------------------------------------------------

ACCESS = {"create_root_key": True, "create_standard_key": True, "import_root_key": True, "import_standard_key": True}


def test_dedicated_drops_allowed_network_and_import_tokens():
    records = {"dual_auth_delete": record("dualAuthDelete", True), "metrics": record("metrics", True),
               "allowed_network": record("allowedNetwork", True, {"allowed_network": "private-only"}),
               "key_create_import_access": record("keyCreateImportAccess", True, dict(ACCESS, enforce_token=True))}
    declared, notes, follow_ups = migration.map_policies(records, "dedicated")
    assert declared == {"dual_auth_delete": True, "metrics": True,
                        "key_create_import_access": dict(ACCESS, enabled=True, enforce_token=False)}
    by_policy = {note["policy"]: note for note in notes}
    assert by_policy["allowed_network"]["action"] == "dropped" and "context-based restrictions" in by_policy["allowed_network"]["replacement"]
    assert by_policy["key_create_import_access.enforce_token"]["action"] == "dropped"
    assert by_policy["dual_auth_delete"]["action"] == by_policy["metrics"]["action"] == "carried"
    assert any("context-based restrictions" in text for text in follow_ups)


def test_standard_carries_allowed_network_and_defers_token_enforcement():
    records = {"allowed_network": record("allowedNetwork", True, {"allowed_network": "public-and-private"}),
               "key_create_import_access": record("keyCreateImportAccess", True, dict(ACCESS, enforce_token=True))}
    declared, notes, follow_ups = migration.map_policies(records, "tiered-pricing")
    assert declared["allowed_network"] == "public-and-private"
    assert declared["key_create_import_access"]["enforce_token"] is False
    note = next(n for n in notes if n["policy"] == "key_create_import_access.enforce_token")
    assert note["action"] == "deferred" and "enable enforce_token after the import" in note["replacement"]
    assert any("enforce_token: true" in text and "docs/secure-import.md" in text for text in follow_ups)


def test_access_that_would_refuse_the_plan_is_deferred():
    access = dict(ACCESS, import_root_key=False, import_standard_key=False)
    records = {"key_create_import_access": record("keyCreateImportAccess", True, access)}
    declared, notes, dummy = migration.map_policies(records, "dedicated", actions={"import"})
    access = declared["key_create_import_access"]
    assert access["import_root_key"] is True and access["import_standard_key"] is False  # no copy in this plan
    assert [n["action"] for n in notes if n["policy"].startswith("key_create_import_access")] == ["deferred"]


def test_unset_policies_are_disabled_and_nothing_is_dropped():
    declared, notes, follow_ups = migration.map_policies({}, "dedicated")
    assert declared == {"dual_auth_delete": False, "metrics": False}
    assert {n["action"] for n in notes} == {"carried"} and follow_ups == []


# -- declaration, standard keys, CRKM ------------------------------------------------------------------------------------

def sample_estate():
    keys = [
        key("s1", "payments", ["payments-root"], ring="payments", rotation={"enabled": True, "interval_month": 3}, dual=True,
            description="Payments root", expiration="2030-01-01T00:00:00Z"),
        key("s2", "legacy", ["legacy-root"], imported=True),
        key("s3", "app-secret", ["app-secret"], kind="standard", ring="apps"),
        key("s4", "paused", ["paused"], state=2),
        key("s5", "gone", ["gone"], state=5),
        key("s6", "unused", ["unused"]),
    ]
    registrations = {"s1": [migration.registration_entry(COS, True, "registration"), migration.registration_entry(VSI, False, "registration")],
                     "s2": [migration.registration_entry(ICD, False, "registration")],
                     "s4": [migration.registration_entry(APPID, False, "registration")]}
    return keys, registrations


def test_declaration_lists_create_and_import_keys_only():
    keys, registrations = sample_estate()
    result = build(keys, registrations=registrations, rings=("default", "payments", "apps"))
    declaration = result["declaration"]
    assert declaration["hs_crypto_instance_id"] == TGT and declaration["hs_crypto_instance_service"] == "key_protect"
    assert declaration["hs_crypto_instance_key_rings"] == [{"id": "payments"}, {"id": "apps"}]
    assert declaration["hs_crypto_instance_keys"] == [
        {"name": "payments", "aliases": ["payments-root"], "type": "root", "description": "Payments root",
         "expiration_date": "2030-01-01T00:00:00Z", "key_ring": "payments", "rotation": {"enabled": True, "interval_month": 3},
         "dual_auth_delete": True},
        {"name": "legacy", "aliases": ["legacy-root"], "type": "root", "payload": "{{ hs_crypto_migration_material['s2'] }}"},
        {"name": "unused", "aliases": ["unused"], "type": "root"},
    ]
    assert result["standard_keys"] == [{"key_id": "s3", "key_ring": "apps"}]
    assert result["summary"] == {"keys": 6, "create": 2, "import": 1, "copy": 1, "skip": 2, "present": 0, "pending": 4,
                                 "mismatch": 0, "blocked": 0, "registrations_left": 4}
    assert result["crkm"] == [] and result["crkm_pending"] == 2
    assert any("hs_crypto_migration_material" in text and "s2" in text for text in result["plan"]["follow_ups"])
    assert any("'paused'" in text and "protects 1 resource" in text for text in result["plan"]["follow_ups"])


def test_material_variable_and_included_suspended_key():
    keys, dummy = sample_estate()
    data = estate(keys)
    entries, blockers = migration.match_keys(keys, [], ("suspended",), "dedicated")
    result = migration.build_plan(data, entries, blockers, {"instance_id": SRC, "crn": None, "service": "hs_crypto"},
                                  {"instance_id": TGT, "service": "key_protect", "plan": "dedicated"}, material_variable="vault_keys",
                                  now=NOW)
    declared = {entry["name"]: entry for entry in result["declaration"]["hs_crypto_instance_keys"]}
    assert declared["legacy"]["payload"] == "{{ vault_keys['s2'] }}"
    assert declared["paused"]["enabled"] is False


def test_a_past_expiration_date_is_left_out_with_a_follow_up():
    expired = key("s1", "old", ["old"], state=3, expiration="2026-01-01T00:00:00Z")
    result = build([expired], include_states=("deactivated",))
    assert "expiration_date" not in result["declaration"]["hs_crypto_instance_keys"][0]
    assert any("expired on 2026-01-01T00:00:00Z" in text for text in result["plan"]["follow_ups"])


def test_crkm_rows_for_registered_root_keys_with_twins():
    keys, registrations = sample_estate()
    targets = [twin("t1", "payments", ["payments-root"], ring="payments", rotation={"enabled": True, "interval_month": 3}, dual=True),
               twin("t3", "app-secret", ["app-secret"], kind="standard", ring="apps")]
    result = build(keys, targets, registrations, usage={"s6": ["cloud-object-storage"]})
    assert result["crkm"] == [{"source_crn": keys[0]["crn"], "target_crn": targets[0]["crn"]}]
    assert result["crkm_pending"] == 2  # legacy (registered) and unused (KUR usage) have no twin yet
    assert result["plan"]["keys"][0]["status"] == "present" and result["plan"]["keys"][2]["status"] == "present"


def test_remaining_is_grouped_by_service_with_intent_support():
    keys, registrations = sample_estate()
    remaining = build(keys, registrations=registrations)["remaining"]
    assert sorted(remaining) == ["appid", "cloud-object-storage", "databases-for-postgresql", "is:instance"]
    assert remaining["is:instance"] == [{"key_id": "s1", "key_name": "payments", "resource_crn": VSI, "intent_supported": False,
                                         "origin": "registration"}]


# -- verify ---------------------------------------------------------------------------------------------------------------

def test_verified_only_when_everything_is_present_and_the_same():
    keys = [key("s1", "root", ["root"]), key("s2", "std", ["std"], kind="standard")]
    targets = [twin("t1", "root", ["root"]), twin("t2", "std", ["std"], kind="standard")]
    good = build(keys, targets, verify=True, materials={"s2": "same"})
    assert good["verified"] is True
    assert [k["material"] for k in good["plan"]["keys"]] == ["not comparable", "same"]
    assert build(keys, targets, verify=True, materials={"s2": "different"})["verified"] is False
    assert build(keys, targets[:1], verify=True, materials={"s2": "missing"})["verified"] is False
    assert build(keys, targets, verify=False)["verified"] is None
    # Once the keys are in the target, the follow-ups no longer ask to copy them (the verify report of the demo did).
    assert not any("Copy the" in text for text in good["plan"]["follow_ups"])
    assert any("Copy the 1 standard key" in text for text in build(keys, targets[:1])["plan"]["follow_ups"])


@pytest.mark.parametrize("first, second, same", [
    ("AAECAwQFBgcICQoLDA0ODw==", "AAECAwQFBgcICQoLDA0ODw==", True),
    ("AAECAwQFBgcICQoLDA0ODw==", "AAECAwQFBgcICQoLDA0OEA==", False),
    ("not base64!", "not base64!", True),
])
def test_same_material(first, second, same):
    assert migration.same_material(first, second) is same


# -- report ---------------------------------------------------------------------------------------------------------------

def test_report_content():
    keys, registrations = sample_estate()
    keys[0]["name"] = "pay|ments"
    records = {"allowed_network": record("allowedNetwork", True, {"allowed_network": "private-only"})}
    result = build(keys, registrations=registrations, policies=records)
    report = result["report"]
    assert report.startswith("# Migration plan: HPCS to Key Protect\n")
    assert f"- Source: {SRC} (hs_crypto)" in report and f"- Target: {TGT}, Key Protect Dedicated (dedicated)" in report
    assert "- Date: 2026-12-01 (UTC)" in report
    assert "| keys | create | import | copy | skip |" in report
    assert "| pay\\|ments | payments-root | root | active | create | pending |" in report
    assert "| legacy | legacy-root | imported root | active | import | pending |" in report
    assert "| allowed_network | dropped |" in report
    assert "### VPC VSI (is:instance): migration intents NOT supported - does not support migration intents yet" in report
    assert "### cloud-object-storage (cloud-object-storage): migration intents supported" in report
    assert "## Follow-ups" in report and "## What is left" not in report


def test_verify_report_says_what_is_left_and_holds_no_material():
    keys = [key("s1", "root", ["root"]), key("s2", "std", ["std"], kind="standard")]
    result = build(keys, [twin("t2", "std", ["std"], kind="standard")], registrations={"s1": [migration.registration_entry(COS, False, "registration")]},
                   verify=True, materials={"s2": "different"})
    report = result["report"]
    assert report.startswith("# Migration verification") and "**Verified: no**" in report
    assert "- Key root (s1): pending" in report and "- Standard key std (s2): material different" in report
    assert "1 registration(s) are still on source keys" in report


# -- inputs ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["my_material", "_x", "Vault1"])
def test_material_variable_accepted(value):
    assert migration.check_material_variable(value) == value


@pytest.mark.parametrize("value", ["1abc", "my-material", "a b", "", "x}}{{", "é"])
def test_material_variable_refused(value):
    with pytest.raises(ConfigurationError, match="material_variable must be a variable name"):
        migration.check_material_variable(value)


def test_include_states_refuses_deleted():
    with pytest.raises(ConfigurationError, match="restore it first"):
        migration.check_include_states(["deleted"])


def kur_report(tmp_path, data):
    path = tmp_path / "kur.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_kur_report_adds_associations_and_usage(tmp_path):
    report = {"metadata": {}, "result": {"kms_instances": [
        {"crn": f"crn:v1:bluemix:public:hs-crypto:us-south:a/acct:{SRC}::", "keys": [
            {"id": "s1", "type": "crk", "associations": [{"resource_crn": COS, "prevent_key_deletion": True},
                                                         {"resource_crn": ICD, "prevent_key_deletion": False}]},
            {"id": "s6", "type": "crk", "service_usage": ["cloud-object-storage"]},
            {"id": "unknown", "associations": [{"resource_crn": VSI}]}]},
        {"crn": "crn:v1:bluemix:public:hs-crypto:us-south:a/acct:other-guid::", "keys": [{"id": "s1", "associations": [{"resource_crn": APPID}]}]},
    ]}}
    by_key, warnings = migration.load_kur_report(kur_report(tmp_path, report), SRC)
    assert warnings == [] and sorted(by_key) == ["s1", "s6", "unknown"]
    keys, registrations = sample_estate()
    data = estate(keys, registrations)
    migration.merge_kur(data, by_key)
    found = [(r["resource_crn"], r["origin"]) for r in data["registrations"]["s1"]]
    assert found == [(COS, "registration"), (VSI, "registration"), (ICD, "kur_report")]
    assert data["usage"] == {"s6": ["cloud-object-storage"]} and "unknown" not in data["registrations"]


@pytest.mark.parametrize("content, problem", [
    (None, "no such file"),
    ("{not json", "is not valid JSON"),
    ({"result": {}}, "is not a KUR report"),
    ([], "is not a KUR report"),
    ({"result": {"kms_instances": ["x"]}}, "result.kms_instances[0] is not an object"),
    ({"result": {"kms_instances": [{"crn": SRC, "keys": {}}]}}, "result.kms_instances[0].keys is not a list"),
    ({"result": {"kms_instances": [{"crn": SRC, "keys": [{"name": "x"}]}]}}, "keys[0] is not an object with an id"),
    ({"result": {"kms_instances": [{"crn": SRC, "keys": [{"id": "x", "associations": [{}]}]}]}}, "associations[0] is not an object"),
])
def test_kur_report_problems_name_the_path(tmp_path, content, problem):
    path = str(tmp_path / "missing.json") if content is None else kur_report(tmp_path, content)
    with pytest.raises(ConfigurationError) as caught:
        migration.load_kur_report(path, SRC)
    assert str(caught.value).startswith(f"kur_report {path}: ") and problem in str(caught.value)


def test_kur_report_without_the_source_warns(tmp_path):
    by_key, warnings = migration.load_kur_report(kur_report(tmp_path, {"result": {"kms_instances": []}}), SRC)
    assert by_key == {} and "holds no instance whose crn contains the source instance" in warnings[0]


# -- reading, through a read-only client ----------------------------------------------------------------------------------

class Answer:
    def __init__(self, resources):
        self.resources = resources

    @property
    def resource(self):
        return self.resources[0] if self.resources else None


class FakeKms:
    """Answers GETs from a table; records every request."""

    def __init__(self, answers):
        self.answers = answers
        self.sent = []

    def request(self, method, path, params=None, **kwargs):  # pylint: disable=unused-argument
        self.sent.append((method, path, dict(params or {})))
        resources = self.answers.get(path, [])
        offset = (params or {}).get("offset", 0)
        limit = (params or {}).get("limit")
        return Answer(resources[offset:offset + limit] if limit else resources)


def test_read_estate_reads_everything_and_only_reads():
    fake = FakeKms({
        "keys": [{"id": "r1", "name": "root", "extractable": False, "state": 1, "crn": "c1", "dualAuthDelete": {"enabled": False}},
                 {"id": "s1", "name": "std", "extractable": True, "state": 1},
                 {"id": "d1", "name": "gone", "extractable": False, "state": 5}],
        "keys/r1/policies": [{"rotation": {"enabled": True, "interval_month": 2}}, {"dualAuthDelete": {"enabled": True}}],
        "key_rings": [{"id": "default"}, {"id": "apps"}],
        "instance/policies": [record("metrics", True)],
        "keys/registrations": [{"keyId": "r1", "resourceCrn": COS, "preventKeyDeletion": True}],
    })
    data = migration.read_estate(ReadOnlyKmsClient(fake))
    assert [(k["id"], k["state"]) for k in data["keys"]] == [("r1", "active"), ("s1", "active"), ("d1", "deleted")]
    assert data["keys"][0]["rotation"] == {"enabled": True, "interval_month": 2} and data["keys"][0]["dual_auth_delete"] is True
    assert data["key_rings"] == ["default", "apps"] and list(data["policies"]) == ["metrics"]
    assert data["registrations"] == {"r1": [migration.registration_entry(COS, True, "registration")]}
    assert {method for method, dummy, dummy2 in fake.sent} == {"GET"}
    assert ("GET", "keys", {"state": "0,1,2,3,5", "limit": 5000, "offset": 0}) in fake.sent
    assert [path for dummy, path, dummy2 in fake.sent if path.startswith("keys/") and path.endswith("/policies")] == ["keys/r1/policies"]  # root, not deleted


def test_a_read_only_client_cannot_write():
    fake = FakeKms({})
    with pytest.raises(ReadOnlyViolation):
        ReadOnlyKmsClient(fake).request("POST", "keys")
    assert fake.sent == []
