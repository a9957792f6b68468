# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based tests of module input validation: arbitrary option values, as a playbook could pass them.

Each property feeds generated values through Ansible's own argument-spec validation (what ``AnsibleModule``
does before the module's code runs: type conversion, choices, suboptions), then through the collection's
checks (``Connection``, ``KeySpec``, ``KeyQuery``, the request objects of the other modules). The outcome
must be acceptance or a ``ConfigurationError`` whose message names an option; any other exception would
reach the user as a traceback. Inputs that once found a bug stay as explicit ``@example``s.
"""

import base64
import os
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.ansible_release import __version__ as ANSIBLE_CORE_VERSION

from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import Connection
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._import_token import ImportTokenRequest
from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import PolicySpec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_actions import RotateRequest, WrapRequest
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_batch import parse_specs
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_info import KeyQuery
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_rings import check_ring_id
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import KeySpec, key_argument_spec, parse_rfc3339
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import COMMON_OPTION_NAMES, common_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._registrations import RegistrationQuery
from ansible_collections.ibm.hs_crypto.plugins.modules import (
    hs_crypto_import_token, hs_crypto_instance_policy, hs_crypto_key_batch, hs_crypto_key_info, hs_crypto_key_registrations_info,
    hs_crypto_key_ring, hs_crypto_key_rotate, hs_crypto_key_wrap)

FUZZ = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CORE_VERSION = tuple(int(part) for part in ANSIBLE_CORE_VERSION.split(".")[:2])

BUG_UPSTREAM = ("ansible-core 2.19 set_fallbacks()/_list_no_log_values(): a scalar (rotation: 0) for a dict option with suboptions "
                "raises TypeError inside AnsibleModule; not fixable in the collection short of dropping the suboptions")

INSTANCE = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
KEY_UUID = "0b0e8a0e-1111-4222-8333-444455556666"
INSTANCE_CRN = f"crn:v1:bluemix:public:hs-crypto:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:{INSTANCE}::"
KEY_CRN = INSTANCE_CRN[:-2] + ":key:" + KEY_UUID
ENV_NAMES = ("IBMCLOUD_API_KEY", "IC_API_KEY", "IBMCLOUD_IAM_TOKEN", "IC_IAM_TOKEN", "IBMCLOUD_REGION", "IC_REGION",
             "HS_CRYPTO_INSTANCE_ID", "HS_CRYPTO_ENDPOINT", "IBMCLOUD_KP_API_ENDPOINT", "HS_CRYPTO_IAM_URL", "IBMCLOUD_IAM_API_ENDPOINT",
             "HS_CRYPTO_BROKER_URL", "IBMCLOUD_HPCS_API_ENDPOINT", "HS_CRYPTO_CA_PATH", "HS_CRYPTO_VALIDATE_CERTS", "HS_CRYPTO_TIMEOUT",
             "HS_CRYPTO_RETRIES", "HS_CRYPTO_ENDPOINT_TYPE")


@pytest.fixture(autouse=True, scope="module")
def no_environment_fallbacks():
    """The options' environment fallbacks must not leak the developer's settings into the properties."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV_NAMES:
            patch.delenv(name, raising=False)
        yield


def b64(size):
    return base64.b64encode(b"\x5a" * size).decode()


# Values a playbook could pass: valid ones (to get past the first check), near misses, and junk.
INTERESTING = [
    "", " ", "a", "ab", "valid-alias", "keys", "Rotate", "default", "ring-a", "Ring_B", KEY_UUID, KEY_CRN, INSTANCE, INSTANCE.upper(),
    INSTANCE_CRN, INSTANCE_CRN.replace("us-south", "eu-de"), "us-south", "eu-de", "mars-1", "https://kms.example.test",
    "https://kms.example.test:8443/api/v2", "http://127.0.0.1:8080", "http://[::1]:8080", "http://kms.example.test",
    "https://user:pw@kms.example.test", "https://kms.example.test:", b64(16), b64(32), b64(20), b64(7501), "AAAA", "====", "a-b_",
    "2027-01-31T23:59:59Z", "2027-02-30T00:00:00Z", "1970-01-01T00:00:00+05:30", "2027-01-31 23:59:59", "private-only",
    "public-and-private", "root", "standard", "present", "absent", "restored", "purged", "wrap", "unwrap", "rewrap",
    "RSAES_OAEP_SHA_256", "crn:v1:bluemix:public:cloud-object-storage:global:a/x:y::bucket:b", "crn:v1:*:x", "\n", "x\x00y",
    "\u00e9t\u00e9", "\U0001f511" * 3, "a" * 91, "a" * 257, "true", "no", "3", "-1", "1e3",
]
texts = st.one_of(st.text(max_size=24), st.sampled_from(INTERESTING), st.text(max_size=16).map(lambda t: "https://" + t))
scalars = st.one_of(texts, st.integers(-5, 100000), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none())
SUB_KEYS = ["enabled", "interval_month", "allowed_network", "create_root_key", "enforce_token", "other"]
values = st.one_of(scalars, st.lists(texts, max_size=7), st.dictionaries(st.sampled_from(SUB_KEYS), scalars, max_size=3))


def params_for(spec, extra=()):
    return st.fixed_dictionaries({}, optional=dict((name, values) for name in list(spec) + list(extra)))


def validated(spec, params, **rules):
    """What AnsibleModule hands the module after its own checks, or None when Ansible refuses (it names the option)."""
    try:
        result = ArgumentSpecValidator(spec, **rules).validate(params)
    except (TypeError, OverflowError):
        # ansible-core's own crashes: a scalar given for a dict with suboptions, an infinite number given for an int
        # (ansible-core 2.18 and later); see the test_upstream_... tests below.
        return None
    if result.error_messages:
        return None
    return result.validated_parameters


def assert_names_an_option(error, names):
    message = str(error)
    assert any(name in message for name in names), f"no option named in {message!r}"


def accepted_or_refused_naming_an_option(spec, params, build, names=None, **rules):
    """What AnsibleModule lets through either builds (``build(checked)``) or is refused naming one of ``names``."""
    checked = validated(spec, params, **rules)
    if checked is None:
        return
    try:
        build(checked)
    except ConfigurationError as exc:
        assert_names_an_option(exc, names or tuple(spec))


# -- the common options -----------------------------------------------------------------------------------------------
def connection_from(params):
    checked = validated(common_argument_spec(), params)
    if checked is None:
        return None
    return Connection(dict((name, checked.get(name)) for name in COMMON_OPTION_NAMES))


@FUZZ
@given(params=params_for(common_argument_spec()))
def test_common_options_are_accepted_or_refused_naming_the_option(params):
    try:
        connection_from(params)
    except ConfigurationError as exc:
        assert_names_an_option(exc, COMMON_OPTION_NAMES)


@FUZZ
@given(url=st.one_of(texts, st.text(max_size=20).map(lambda t: "http://127.0.0.1" + t)))
def test_plain_http_is_only_ever_accepted_for_loopback(url):
    try:
        connection = connection_from({"endpoint": url, "iam_url": url, "broker_url": url})
    except ConfigurationError as exc:
        assert_names_an_option(exc, ("endpoint", "iam_url", "broker_url"))
        return
    from urllib3.util import parse_url  # pylint: disable=import-outside-toplevel
    from urllib3.exceptions import LocationParseError  # pylint: disable=import-outside-toplevel
    for option in ("endpoint", "iam_url", "broker_url"):
        value = connection.options.get(option)
        if not value or value.startswith("https://"):
            continue
        assert value.startswith("http://")
        try:
            host = parse_url(value).host
        except LocationParseError:
            continue  # unusable, so nothing can be sent in the clear (test_an_accepted_url_... covers the message)
        assert host in ("127.0.0.1", "localhost", "[::1]"), f"plain http accepted for {value!r}"


@FUZZ
@given(url=st.one_of(texts, st.text(max_size=20).map(lambda t: "https://kms.example.test" + t)))
@example(url="https://kms.example.test:abc")
@example(url="https://kms.example.test:99999")
@example(url="http://[::1]evil:80")
@example(url="https://kms.example.test\n")
def test_an_accepted_url_is_one_the_http_library_can_use(url):
    from urllib3.util import parse_url  # pylint: disable=import-outside-toplevel
    try:
        connection = connection_from({"endpoint": url})
    except ConfigurationError:
        return
    endpoint = connection.options.get("endpoint")
    if endpoint:
        parsed = parse_url(endpoint + "/api/v2/keys")
        assert parsed.host and "\n" not in endpoint


# -- keys ------------------------------------------------------------------------------------------------------------
KEY_OPTIONS = tuple(key_argument_spec())


@FUZZ
@given(params=params_for(key_argument_spec()))
def test_key_options_are_accepted_or_refused_naming_an_option(params):
    checked = validated(key_argument_spec(), params)
    if checked is None:
        return
    try:
        KeySpec.from_params(checked)
    except ConfigurationError as exc:
        assert_names_an_option(exc, KEY_OPTIONS)


# Options whose rule is about another option (a refusal may name that one instead).
PARTNERS = {
    "type": ("rotation", "payload", "encrypted_nonce"), "encrypted_nonce": ("iv", "payload"), "iv": ("encrypted_nonce", "payload"),
    "state": ("key_id", "aliases", "name", "cancel_deletion"), "aliases": ("key_id", "name", "purge_aliases"),
    "name": ("key_id", "aliases"), "key_id": ("aliases", "name"), "encryption_algorithm": ("encrypted_nonce",),
}


@FUZZ
@given(option=st.sampled_from(KEY_OPTIONS), value=values)
def test_one_bad_key_option_is_named_in_the_refusal(option, value):
    params = {"name": "valid-name", "aliases": ["valid-alias"], "type": "root", option: value}
    checked = validated(key_argument_spec(), params)
    if checked is None:
        return
    try:
        KeySpec.from_params(checked)
    except ConfigurationError as exc:
        assert_names_an_option(exc, (option,) + PARTNERS.get(option, ()))


@FUZZ
@given(entries=st.lists(st.one_of(params_for(key_argument_spec()), st.fixed_dictionaries(
    {"name": st.sampled_from(["k1", "k2", "twin"])}, optional={"aliases": st.lists(st.sampled_from(["a1", "a2", "a3"]), max_size=2),
                                                               "key_id": st.sampled_from([KEY_UUID, KEY_CRN])})), max_size=5))
def test_batch_entries_are_accepted_or_refused_naming_the_entry(entries):
    checked = validated(hs_crypto_key_batch.ARGUMENT_SPEC, {"crypto_keys": entries})
    if checked is None:
        return
    try:
        parse_specs(checked["crypto_keys"])
    except ConfigurationError as exc:
        assert "crypto_keys[" in str(exc)


@FUZZ
@given(params=params_for(hs_crypto_key_info.ARGUMENT_SPEC))
def test_key_info_query(params):
    accepted_or_refused_naming_an_option(hs_crypto_key_info.ARGUMENT_SPEC, params, KeyQuery.from_params,
                                         mutually_exclusive=[("key_id", "alias", "name", "search")])


# -- the other modules' request objects ---------------------------------------------------------------------------------
@FUZZ
@given(params=params_for(hs_crypto_key_rotate.ARGUMENT_SPEC))
def test_rotate_request(params):
    accepted_or_refused_naming_an_option(hs_crypto_key_rotate.ARGUMENT_SPEC, params, RotateRequest.from_params,
                                         mutually_exclusive=[("key_id", "alias")], required_one_of=[("key_id", "alias")])


@FUZZ
@given(params=params_for(hs_crypto_key_wrap.ARGUMENT_SPEC))
def test_wrap_request(params):
    accepted_or_refused_naming_an_option(hs_crypto_key_wrap.ARGUMENT_SPEC, params, WrapRequest.from_params,
                                         mutually_exclusive=[("key_id", "alias")], required_one_of=[("key_id", "alias")])


@FUZZ
@given(params=params_for(hs_crypto_import_token.ARGUMENT_SPEC))
def test_import_token_request(params):
    accepted_or_refused_naming_an_option(hs_crypto_import_token.ARGUMENT_SPEC, params, ImportTokenRequest.from_params,
                                         names=("state", "retrieve", "expiration", "max_allowed_retrievals"))


@FUZZ
@given(params=params_for(hs_crypto_instance_policy.ARGUMENT_SPEC))
def test_instance_policy_spec(params):
    accepted_or_refused_naming_an_option(hs_crypto_instance_policy.ARGUMENT_SPEC, params, PolicySpec.from_params)


@FUZZ
@given(params=params_for(hs_crypto_key_registrations_info.ARGUMENT_SPEC))
def test_registration_query(params):
    accepted_or_refused_naming_an_option(hs_crypto_key_registrations_info.ARGUMENT_SPEC, params, RegistrationQuery.from_params,
                                         mutually_exclusive=[("key_id", "alias"), ("key_id", "key_ring"), ("alias", "key_ring")])


@FUZZ
@given(params=params_for(hs_crypto_key_ring.ARGUMENT_SPEC))
def test_key_ring_id(params):
    accepted_or_refused_naming_an_option(hs_crypto_key_ring.ARGUMENT_SPEC, params, lambda checked: check_ring_id(checked["key_ring_id"]),
                                         names=("key_ring_id",))


@FUZZ
@given(alias=texts, ring=texts, name=texts)
@example(alias="ok-alias\n", ring="ring-a", name="valid-name")
@example(alias="ok-alias", ring="ring-a\n", name="valid-name")
@example(alias="ok-alias", ring="ring-a", name="next\x85line")
def test_accepted_identifiers_hold_no_control_characters(alias, ring, name):
    try:
        KeySpec(name=name, aliases=[alias], key_ring=ring).check()
    except ConfigurationError:
        return
    for value in (alias, ring, name):
        assert not [c for c in value if unicodedata.category(c) == "Cc"], f"accepted {value!r}"


# -- dates -----------------------------------------------------------------------------------------------------------
def rfc3339(year, month, day, hour, minute, second, zone):
    return "%04d-%02d-%02dT%02d:%02d:%02d%s" % (year, month, day, hour, minute, second, zone)


offsets = st.one_of(st.just("Z"), st.builds(lambda sign, h, m: "%s%02d:%02d" % (sign, h, m), st.sampled_from("+-"),
                                            st.integers(0, 23), st.integers(0, 59)))
dates = st.builds(rfc3339, st.integers(2, 9998), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61),
                  st.integers(0, 61), offsets)


@FUZZ
@given(value=st.one_of(dates, texts))
def test_dates_are_parsed_or_refused_naming_the_option(value):
    try:
        moment = parse_rfc3339(value, "expiration_date")
    except ConfigurationError as exc:
        assert "expiration_date" in str(exc)
        return
    assert moment.tzinfo is not None


@FUZZ
@given(value=st.builds(rfc3339, st.integers(0, 9999), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), st.integers(0, 59),
                       st.integers(0, 59), st.builds(lambda sign, h, m: "%s%02d:%02d" % (sign, h, m), st.sampled_from("+-"),
                                                     st.integers(0, 99), st.integers(0, 99))))
@example(value="2027-01-01T00:00:00+24:00")
@example(value="9999-12-31T23:59:59-23:59")
def test_any_offset_and_year_is_parsed_or_refused(value):
    spec = KeySpec(name="valid-name", expiration_date=value)
    try:
        spec.check()
    except ConfigurationError as exc:
        assert "expiration_date" in str(exc)


@pytest.mark.xfail(strict=True, raises=TypeError, reason=BUG_UPSTREAM)
@pytest.mark.parametrize("spec, params", [
    (key_argument_spec(), {"name": "valid-name", "rotation": 0}),
    (hs_crypto_instance_policy.ARGUMENT_SPEC, {"key_create_import_access": 0}),
], ids=["hs_crypto_key-rotation", "hs_crypto_instance_policy-key_create_import_access"])
def test_upstream_scalar_for_a_dict_with_suboptions(spec, params):
    """Not the collection's code: AnsibleModule itself raises before the module runs (a traceback for the user)."""
    assert ArgumentSpecValidator(spec).validate(params).error_messages


@pytest.mark.xfail(CORE_VERSION >= (2, 18), raises=OverflowError,
                   reason="ansible-core 2.18 and later: check_type_int() lets int(float('inf')) raise OverflowError inside "
                          "AnsibleModule, before the module runs (2.17 reports a conversion error)")
def test_upstream_infinite_number_for_an_int_option():
    """Not the collection's code: retries: .inf in a playbook makes AnsibleModule itself raise."""
    assert ArgumentSpecValidator(common_argument_spec()).validate({"retries": float("inf")}).error_messages


def test_the_fuzzed_specs_are_the_modules_specs():
    """The properties above fuzz what the modules really declare (a new option is fuzzed without editing this file)."""
    assert set(hs_crypto_key_batch.ARGUMENT_SPEC["crypto_keys"]["options"]) == set(KEY_OPTIONS)
    assert os.path.basename(hs_crypto_key_ring.__file__).startswith("hs_crypto_key_ring")
