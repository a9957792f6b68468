# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad variables of the hs_crypto_instance role, table-driven, on the path the role takes with them.

First the role's argument spec (roles/hs_crypto_instance/meta/argument_specs.yml, entry point ``main``), checked as
``ansible.builtin.validate_argument_spec`` checks it when the role starts; a variable it accepts then reaches
hs_crypto_key_batch exactly as tasks/main.yml passes it when only keys are declared, run in-process against the
emulator. Either way the refusal must name the variable (or the module option it becomes) and the rule, and the
emulator must have received no request. The integration target hs_crypto_bad_input runs the real role.
"""

import os
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_key_batch import main as batch_main

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "hs_crypto_instance")
INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
CONNECTION = ("instance_id", "region", "endpoint", "endpoint_type", "service", "api_key", "iam_url", "broker_url", "ca_path",
              "validate_certs", "timeout", "retries")


def load(*parts):
    with open(os.path.join(ROLE, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


MAIN_OPTIONS = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load("defaults", "main.yml")


def key(**fields):
    return dict({"name": "role-key", "aliases": ["role-key"]}, **fields)


# (case id, role variables on top of a valid set, fragments the message must hold, where it is refused)
SPEC = "argument spec"
MODULE = "module"
CASES = [
    ("instance-id-missing", {"hs_crypto_instance_id": None}, ["hs_crypto_instance_id", "missing required"], SPEC),
    ("endpoint-type-choice", {"hs_crypto_instance_endpoint_type": "sideways"}, ["hs_crypto_instance_endpoint_type", "one of"], SPEC),
    ("service-unknown-word", {"hs_crypto_instance_service": "vault"}, ["service must name HPCS", "vault"], MODULE),
    ("service-contradicts-crn", {"hs_crypto_instance_service": "key_protect",
                                 "hs_crypto_instance_id": f"crn:v1:bluemix:public:hs-crypto:us-south:a/acct:{INSTANCE_A}::"},
     ["service key_protect conflicts with the instance_id CRN"], MODULE),
    ("keys-not-a-list", {"hs_crypto_instance_keys": {"name": "k1"}}, ["hs_crypto_instance_keys", "list"], SPEC),
    ("key-unknown-option", {"hs_crypto_instance_keys": [key(colour="red")]}, ["colour"], SPEC),
    ("key-state-choice", {"hs_crypto_instance_keys": [key(state="vanished")]}, ["state", "one of"], SPEC),
    ("key-type-choice", {"hs_crypto_instance_keys": [key(type="public")]}, ["type", "one of"], SPEC),
    ("key-enabled-not-bool", {"hs_crypto_instance_keys": [key(enabled="sometimes")]}, ["enabled", "bool"], SPEC),
    ("key-rotation-interval-word", {"hs_crypto_instance_keys": [key(rotation={"interval_month": "monthly"})]},
     ["interval_month", "int"], SPEC),
    ("key-rotation-unknown-field", {"hs_crypto_instance_keys": [key(rotation={"every": 3})]}, ["every"], SPEC),
    ("key-algorithm-choice", {"hs_crypto_instance_keys": [key(encryption_algorithm="ROT13")]}, ["encryption_algorithm", "one of"],
     SPEC),
    ("key-aliases-not-a-list", {"hs_crypto_instance_keys": [key(aliases={"a": 1})]}, ["aliases", "list"], SPEC),
    ("ring-without-id", {"hs_crypto_instance_key_rings": [{"state": "present"}]}, ["id", "missing required"], SPEC),
    ("ring-state-choice", {"hs_crypto_instance_key_rings": [{"id": "ring-a", "state": "gone"}]}, ["state", "one of"], SPEC),
    ("rings-not-a-list", {"hs_crypto_instance_key_rings": {"id": "ring-a"}}, ["hs_crypto_instance_key_rings", "list"], SPEC),
    ("policies-not-a-dict", {"hs_crypto_instance_policies": ["metrics"]}, ["hs_crypto_instance_policies", "dict"], SPEC),
    ("policy-network-choice", {"hs_crypto_instance_policies": {"allowed_network": "everywhere"}}, ["allowed_network", "one of"], SPEC),
    ("policy-metrics-not-bool", {"hs_crypto_instance_policies": {"metrics": "loud"}}, ["metrics", "bool"], SPEC),
    ("policy-unknown", {"hs_crypto_instance_policies": {"teleport": True}}, ["teleport"], SPEC),
    ("timeout-word", {"hs_crypto_instance_timeout": "soon"}, ["hs_crypto_instance_timeout", "float"], SPEC),
    ("retries-word", {"hs_crypto_instance_retries": "many"}, ["hs_crypto_instance_retries", "int"], SPEC),
    ("validate-certs-word", {"hs_crypto_instance_validate_certs": "maybe"}, ["hs_crypto_instance_validate_certs", "bool"], SPEC),
    ("report-word", {"hs_crypto_instance_report": "loudly"}, ["hs_crypto_instance_report", "bool"], SPEC),
    # Accepted by the argument spec (right types), refused by the module before any request.
    ("instance-id-not-a-guid", {"hs_crypto_instance_id": "instance-a"}, ["instance_id", "GUID"], MODULE),
    ("region-unknown", {"hs_crypto_instance_endpoint": None, "hs_crypto_instance_region": "mars-1"}, ["region", "not a known"],
     MODULE),
    ("endpoint-plain-http", {"hs_crypto_instance_endpoint": "http://kms.example.com"}, ["endpoint", "https://"], MODULE),
    ("timeout-zero", {"hs_crypto_instance_timeout": 0}, ["timeout", "greater than 0"], MODULE),
    ("retries-too-many", {"hs_crypto_instance_retries": 99}, ["retries", "between 0 and 10"], MODULE),
    ("key-name-short", {"hs_crypto_instance_keys": [key(name="k")]}, ["crypto_keys[0].name", "2 to 90"], MODULE),
    ("key-alias-reserved", {"hs_crypto_instance_keys": [key(aliases=["keys"])]}, ["crypto_keys[0].aliases", "reserved"], MODULE),
    ("key-alias-unicode", {"hs_crypto_instance_keys": [key(aliases=["cl\u00e9"])]}, ["crypto_keys[0].aliases", "letters, digits"],
     MODULE),
    ("key-payload-base64", {"hs_crypto_instance_keys": [key(payload="%%%%")]}, ["crypto_keys[0].payload", "base64"], MODULE),
    ("key-payload-size", {"hs_crypto_instance_keys": [key(payload="AAAA")]}, ["crypto_keys[0].payload", "16, 24 or 32 bytes"], MODULE),
    ("key-rotation-interval-13", {"hs_crypto_instance_keys": [key(rotation={"interval_month": 13})]},
     ["crypto_keys[0].rotation.interval_month", "1 to 12"], MODULE),
    ("key-expiration-word", {"hs_crypto_instance_keys": [key(expiration_date="next year")]},
     ["crypto_keys[0].expiration_date", "RFC 3339"], MODULE),
    ("key-ring-bad", {"hs_crypto_instance_keys": [key(key_ring="ring a")]}, ["crypto_keys[0].key_ring", "not a valid key ring id"],
     MODULE),
    ("key-twice", {"hs_crypto_instance_keys": [key(), key(name="other")]}, ["crypto_keys[0]", "crypto_keys[1]", "both designate"],
     MODULE),
    ("key-1mb-description", {"hs_crypto_instance_keys": [key(description="d" * (1 << 20))]}, ["crypto_keys[0].description", "2 to 240"],
     MODULE),
]


@pytest.fixture
def role_vars(hsc):
    """A valid set of role variables for instance A through the emulator (keys only: the batch module connects itself)."""
    return dict(DEFAULTS, hs_crypto_instance_id=INSTANCE_A, hs_crypto_instance_endpoint=hsc.url,
                hs_crypto_instance_iam_url=hsc.url, hs_crypto_instance_api_key="hsc-emulator-alice-api-key-0001",
                hs_crypto_instance_keys=[key()])


def argument_spec_errors(variables):
    provided = dict((name, value) for name, value in variables.items() if name in MAIN_OPTIONS and value is not None)
    try:
        result = ArgumentSpecValidator(MAIN_OPTIONS).validate(provided, validate_role_argument_spec=True)
    except TypeError as exc:  # ansible-core's own crash on a scalar for a dict with suboptions (see test_fuzz_options)
        return [str(exc)]
    return result.error_messages


def batch_args(variables):
    """hs_crypto_key_batch's arguments as tasks/main.yml builds them (module_defaults "direct" + crypto_keys)."""
    args = dict((option, variables.get("hs_crypto_instance_" + option.replace("instance_", ""))) for option in CONNECTION)
    args["crypto_keys"] = variables["hs_crypto_instance_keys"]
    return dict((name, value) for name, value in args.items() if value is not None)


@pytest.mark.parametrize("variables, fragments, where", [pytest.param(v, f, w, id=i) for i, v, f, w in CASES])
def test_bad_role_variables_are_refused_before_any_request(run_module, hsc, role_vars, variables, fragments, where):
    role_vars.update(variables)
    mark = hsc.mark()
    errors = argument_spec_errors(role_vars)
    if where == SPEC:
        assert errors, f"the argument spec accepted {variables}"
        message = "\n".join(errors)
    else:
        assert errors == []
        failed, result = run_module(batch_main, batch_args(role_vars))
        assert failed and "exception" not in result
        message = result["msg"]
        assert len(message) < 2000
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message[:400]!r}"
    assert hsc.requests_since(mark, service=None) == []


def test_the_valid_set_is_accepted(run_module, hsc, role_vars):
    """The base of every case works (so each case fails for its own reason)."""
    assert argument_spec_errors(role_vars) == []
    failed, result = run_module(batch_main, batch_args(role_vars))
    assert not failed, result.get("msg")
    assert result["summary"]["created"] == 1


def test_the_table_is_large_enough():
    assert len(CASES) >= 30


# --- The role's own check (tasks/main.yml runs the hs_crypto_check filter before any request) -------------------------

CHECK_ROLE = os.path.join(ROLE, "..", "hs_crypto_instance_check")


def role_check(variables):
    """The problems the role's dependency hs_crypto_instance_check reports, computed as its task computes them: the role
    variables its pattern names, given to the hs_crypto_check filter as role_variables."""
    from ansible_collections.ibm.hs_crypto.plugins.filter.hs_crypto_check import hs_crypto_check

    pattern = re.compile(check_task()["vars"]["hs_crypto_instance_check_pattern"].strip())
    return hs_crypto_check({"role_variables": dict((name, value) for name, value in variables.items() if pattern.match(name))})


def check_task():
    with open(os.path.join(CHECK_ROLE, "tasks", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)[0]


def test_every_problem_of_a_run_is_reported_at_once_in_the_role_variables_terms():
    variables = dict(DEFAULTS, hs_crypto_instance_id="instance-a", hs_crypto_instance_region="us-south", hs_crypto_instance_timeout=0,
                     hs_crypto_instance_keys=[
                         key(name="good-key", aliases=["good-key"]),
                         key(name="k", aliases=["short-name"]),
                         key(name="payments-root", aliases=["keys", "payments root"], rotation={"interval_month": 13}),
                         key(name="colourful", aliases=["colourful"], colour="red"),
                         key(name="good-key", aliases=["good-key-2"]),
                     ],
                     hs_crypto_instance_shared_keys=[key(name="backup-root", aliases=["backup root"])],
                     hs_crypto_instance_key_rings=[{"id": "ring a"}],
                     hs_crypto_instance_policies={"allowed_network": "everywhere"})
    problems = role_check(variables)
    text = "\n".join(problems)
    expected = [
        "hs_crypto_instance_id must be",
        "hs_crypto_instance_timeout must be greater than 0",
        "hs_crypto_instance_keys[1] (k).name",
        "hs_crypto_instance_keys[2] (payments-root).aliases: 'keys' is a reserved word",
        "hs_crypto_instance_keys[2] (payments-root).aliases: 'payments root' is not a valid alias",
        "hs_crypto_instance_keys[2] (payments-root).rotation.interval_month",
        "hs_crypto_instance_keys[3] (colourful): unknown option(s) colour",
        "hs_crypto_instance_keys[0] (good-key) and hs_crypto_instance_keys[4] (good-key) both designate the name 'good-key'",
        "hs_crypto_instance_shared_keys[0] (backup-root).aliases",
        "hs_crypto_instance_key_rings[0].id",
        "allowed_network must be one of: public-and-private, private-only, got: everywhere found in hs_crypto_instance_policies",
    ]
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not reported in:\n{text}"
    # In the role's terms only: never the batch module's option, never a bare connection option name.
    assert "crypto_keys[" not in text
    assert not any(problem.startswith(("timeout", "instance_id")) for problem in problems)


def test_a_valid_declaration_has_no_problem(hsc, role_vars):
    role_vars["hs_crypto_instance_shared_keys"] = [key(name="backup-root", aliases=["backup-root"])]
    assert role_check(role_vars) == []


def test_the_filter_imports_no_module():
    """The filter takes the instance-policy argument spec from module_utils, not from the module."""
    path = os.path.join(ROLE, "..", "..", "plugins", "filter", "hs_crypto_check.py")
    with open(path, encoding="utf-8") as handle:
        assert "plugins.modules" not in handle.read()


# --- Shared keys: hs_crypto_instance_shared_keys merged with hs_crypto_instance_keys ----------------------------------

def merged(shared, own):
    from ansible_collections.ibm.hs_crypto.plugins.filter.hs_crypto_merge_keys import hs_crypto_merge_keys

    return hs_crypto_merge_keys(shared, own)


SHARED = [{"name": "backup-root", "aliases": ["backup-root"], "rotation": {"interval_month": 12}},
          {"name": "audit-root", "aliases": ["audit-root"]}]


def test_a_host_without_keys_of_its_own_gets_the_shared_keys():
    assert merged(SHARED, []) == SHARED
    assert merged(SHARED, None) == SHARED


def test_a_host_entry_for_the_same_key_replaces_the_shared_entry():
    own = [{"name": "backup-root", "aliases": ["backup-root"], "rotation": {"interval_month": 3}},
           {"name": "payments-root", "aliases": ["payments-root"]}]
    assert merged(SHARED, own) == [SHARED[1]] + own


@pytest.mark.parametrize("own_entry", [
    pytest.param({"aliases": ["audit-root", "other"]}, id="alias-in-common"),
    pytest.param({"name": "audit-root"}, id="same-name"),
])
def test_any_shared_identity_in_common_is_the_same_key(own_entry):
    assert merged(SHARED, [own_entry]) == [SHARED[0], own_entry]


def test_a_key_id_entry_does_not_replace_by_name():
    """An entry with key_id is found by it (the name is not its identity, as in hs_crypto_key_batch)."""
    own = [{"key_id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "name": "audit-root"}]
    assert merged(SHARED, own) == SHARED + own


def test_the_role_converges_the_merged_keys():
    """tasks/main.yml passes the merged list to the batch module."""
    with open(os.path.join(ROLE, "tasks", "main.yml"), encoding="utf-8") as handle:
        tasks = handle.read()
    assert "crypto_keys: \"{{ hs_crypto_instance_declared_keys }}\"" in tasks
    assert "hs_crypto_merge_keys(hs_crypto_instance_keys)" in load("vars", "main.yml")["hs_crypto_instance_declared_keys"]
    assert MAIN_OPTIONS["hs_crypto_instance_shared_keys"]["options"] == MAIN_OPTIONS["hs_crypto_instance_keys"]["options"]


def test_the_check_runs_first_and_sees_exactly_the_role_variables():
    """The check is a dependency (dependencies run before ansible-core validates the role's argument spec), it runs every
    time the role does, and its pattern names exactly the variables of the role's argument spec."""
    assert load("meta", "main.yml")["dependencies"] == [{"role": "ibm.hs_crypto.hs_crypto_instance_check"}]
    with open(os.path.join(CHECK_ROLE, "meta", "main.yml"), encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["allow_duplicates"] is True
    pattern = re.compile(check_task()["vars"]["hs_crypto_instance_check_pattern"].strip())
    assert all(pattern.match(name) for name in MAIN_OPTIONS)
    assert not any(pattern.match(name) for name in ("hs_crypto_instance_converged", "hs_crypto_instance_connection",
                                                    "hs_crypto_instance_declared_keys", "hs_crypto_instance_keys_extra"))


def test_argument_spec_problems_are_reported_with_the_rules_and_all_at_once():
    """Typos and wrong types (what ansible-core's validation would refuse, printing its whole argument spec) come from
    the check, in one message with every key's own problems."""
    problems = role_check({"hs_crypto_instance_id": INSTANCE_A, "hs_crypto_instance_endpoint_type": "sideways",
                           "hs_crypto_instance_report": "loudly",
                           "hs_crypto_instance_keys": [key(name="colourful", colour="red"), key(name="k")]})
    text = "\n".join(problems)
    for fragment in ("hs_crypto_instance_endpoint_type must be one of", "hs_crypto_instance_report",
                     "hs_crypto_instance_keys[0] (colourful): unknown option(s) colour", "hs_crypto_instance_keys[1] (k).name"):
        assert fragment in text, f"{fragment!r} not in {text}"
    assert "argument_spec_data" not in text and len(text) < 2000


@pytest.mark.parametrize("variables, fragments, where", [pytest.param(v, f, w, id=i) for i, v, f, w in CASES if w == SPEC])
def test_what_the_argument_spec_refuses_the_check_refuses_first(role_vars, variables, fragments, where):
    role_vars.update(variables)
    if role_vars.get("hs_crypto_instance_id") is None:
        role_vars.pop("hs_crypto_instance_id")
    problems = role_check(role_vars)
    assert problems, f"the check accepted {variables}"
    text = "\n".join(problems)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text[:400]!r}"
