# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key Protect's instance policies (rotation, allowedIP), the policy table per service, and the crypto units URL (no service)."""

import types

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._crypto_units import crypto_units_result, crypto_units_url
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import (
    InstancePolicyService, PolicySpec, effective, parse_allowed_ip, parse_cidr, parse_rotation, policies_result, same_subnets, shown_options)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import (
    check_dedicated_only, check_policies, instance_policies, of_connection)

COMMON = ("dual_auth_delete", "allowed_network", "key_create_import_access", "metrics")


def record(policy_type, enabled, attributes=None):
    data = {"enabled": enabled}
    if attributes is not None:
        data["attributes"] = attributes
    return {"policy_type": policy_type, "policy_data": data}


@pytest.mark.parametrize("text, expected", [
    ("192.0.2.0/24", "192.0.2.0/24"),
    ("203.0.113.5/32", "203.0.113.5/32"),
    (" 10.0.0.0/8 ", "10.0.0.0/8"),
    ("2001:DB8:0::/32", "2001:db8::/32"),
    ("0.0.0.0/0", "0.0.0.0/0"),
])
def test_cidr_accepted_and_written_canonically(text, expected):
    assert parse_cidr(text) == expected


@pytest.mark.parametrize("text, message", [
    ("192.0.2.1/24", "has host bits set; the subnet is 192.0.2.0/24"),
    ("192.0.2.1", "is not in CIDR notation"),
    ("example.com/24", "is not an IPv4 or IPv6 subnet"),
    ("192.0.2.0/-1", "is not an IPv4 or IPv6 subnet"),
    (24, "is not in CIDR notation"),
])
def test_cidr_refused(text, message):
    with pytest.raises(ConfigurationError) as caught:
        parse_cidr(text)
    assert message in str(caught.value)


def test_allowed_ip_limits():
    assert parse_allowed_ip({"allowed_ip": [f"10.{i // 256}.{i % 256}.0/24" for i in range(1000)]})["enabled"] is True
    for bad in ({"allowed_ip": "192.0.2.0/24"}, {"allowed_ip": []}, {"enabled": True}):
        with pytest.raises(ConfigurationError):
            parse_allowed_ip(bad)
    assert parse_allowed_ip({"enabled": "false"}) == {"enabled": False, "attributes": None}
    assert parse_allowed_ip({"enabled": False, "allowed_ip": []}) == {"enabled": False, "attributes": None}


@pytest.mark.parametrize("value, expected", [
    ({"interval_month": 1}, {"enabled": True, "attributes": {"interval_month": 1}}),
    ({"enabled": "yes", "interval_month": 12}, {"enabled": True, "attributes": {"interval_month": 12}}),
    ({"enabled": False}, {"enabled": False, "attributes": None}),
])
def test_rotation_forms(value, expected):
    assert parse_rotation(value) == expected


@pytest.mark.parametrize("value", [{"interval_month": True}, {"interval_month": "3"}, {"interval_month": 3, "months": 3}, [3]])
def test_rotation_refused(value):
    with pytest.raises(ConfigurationError) as caught:
        parse_rotation(value)
    assert "rotation" in str(caught.value)


@pytest.mark.parametrize("held, wanted, same", [
    (["192.0.2.0/24", "2001:db8::/32"], ["2001:DB8::/32", "192.0.2.0/24"], True),
    (["192.0.2.0/24"], ["192.0.2.0/24", "198.51.100.0/24"], False),
    (["192.0.2.0/24", "192.0.2.0/24"], ["192.0.2.0/24"], False),  # a duplicate held: rewrite it clean
    (None, ["192.0.2.0/24"], False),
    (["not-a-subnet"], ["192.0.2.0/24"], False),
])
def test_same_subnets(held, wanted, same):
    assert same_subnets(held, wanted) is same


@pytest.mark.parametrize("option, wanted, held, expected", [
    ("rotation", {"enabled": True, "attributes": {"interval_month": 3}}, None, {"enabled": True, "attributes": {"interval_month": 3}}),
    ("rotation", {"enabled": True, "attributes": {"interval_month": 3}}, record("rotation", True, {"interval_month": 3}), None),
    ("rotation", {"enabled": True, "attributes": {"interval_month": 4}}, record("rotation", True, {"interval_month": 3}),
     {"enabled": True, "attributes": {"interval_month": 4}}),
    ("rotation", {"enabled": False, "attributes": None}, record("rotation", True, {"interval_month": 3}), {"enabled": False}),
    ("rotation", {"enabled": False, "attributes": None}, None, None),
    ("allowed_ip", {"enabled": True, "attributes": {"allowed_ip": ["192.0.2.0/24"]}}, record("allowedIP", False, {"allowed_ip": []}),
     {"enabled": True, "attributes": {"allowed_ip": ["192.0.2.0/24"]}}),
    ("allowed_ip", {"enabled": True, "attributes": {"allowed_ip": ["192.0.2.0/24"]}},
     record("allowedIP", True, {"allowed_ip": ["192.0.2.0/24"]}), None),
    # each write carries the complete list
    ("allowed_ip", {"enabled": True, "attributes": {"allowed_ip": ["192.0.2.0/24", "198.51.100.0/24"]}},
     record("allowedIP", True, {"allowed_ip": ["192.0.2.0/24"]}),
     {"enabled": True, "attributes": {"allowed_ip": ["192.0.2.0/24", "198.51.100.0/24"]}}),
    ("allowed_ip", {"enabled": False, "attributes": None}, record("allowedIP", True, {"allowed_ip": ["192.0.2.0/24"]}),
     {"enabled": False}),
    ("allowed_ip", {"enabled": False, "attributes": None}, record("allowedIP", False, {"allowed_ip": []}), None),
])
def test_desired_policy_data(option, wanted, held, expected):
    assert InstancePolicyService._desired(option, wanted, held) == expected  # pylint: disable=protected-access


def test_a_disabled_allowed_ip_record_reads_as_no_list():
    assert effective("allowed_ip", record("allowedIP", False, {"allowed_ip": []})) == {"enabled": False, "allowed_ip": None}


def test_no_option_set_names_every_policy():
    with pytest.raises(ConfigurationError) as caught:
        PolicySpec.from_params({"rotation": None, "allowed_ip": None})
    assert "rotation (Key Protect) or allowed_ip (Key Protect)" in str(caught.value)


@pytest.mark.parametrize("service, plan, records, expected", [
    ("hs_crypto", None, {}, COMMON),
    ("key_protect", "tiered-pricing", {}, COMMON + ("rotation", "allowed_ip")),
    ("key_protect", "dedicated", {}, ("dual_auth_delete", "key_create_import_access", "metrics", "rotation", "allowed_ip")),
    (None, None, {}, COMMON),
    (None, None, {"allowed_ip": record("allowedIP", False)}, COMMON + ("allowed_ip",)),
])
def test_which_policies_results_list(service, plan, records, expected):
    assert shown_options(service, plan, records) == expected
    assert tuple(policies_result(records, shown_options(service, plan, records))) == expected


def test_policy_table_refusals():
    check_policies(None, None, ["rotation", "allowed_network"])  # unknown: the service answers
    check_policies("key_protect", "tiered-pricing", ["rotation", "allowed_ip", "allowed_network"])
    with pytest.raises(ConfigurationError) as caught:
        check_policies("hs_crypto", None, ["metrics", "rotation"], "g")
    assert str(caught.value).startswith("rotation: instance g is a Hyper Protect Crypto Services instance")
    with pytest.raises(ConfigurationError) as caught:
        check_policies("key_protect", "dedicated", ["allowed_network"], "g")
    assert "Key Protect Dedicated instance, which does not support the allowed network policy" in str(caught.value)
    assert instance_policies("key_protect", "dedicated") == ("dual_auth_delete", "key_create_import_access", "metrics", "rotation", "allowed_ip")


@pytest.mark.parametrize("service, plan, refused", [
    ("hs_crypto", None, True), ("key_protect", "tiered-pricing", True), ("key_protect", "cross-region-resiliency", True),
    ("key_protect", None, False), (None, None, False), ("key_protect", "dedicated", False),
])
def test_crypto_units_only_on_dedicated(service, plan, refused):
    if refused:
        with pytest.raises(ConfigurationError) as caught:
            check_dedicated_only(service, plan, "crypto_units", "g")
        assert "only Key Protect Dedicated instances have crypto units" in str(caught.value)
    else:
        check_dedicated_only(service, plan, "crypto_units", "g")


def test_service_of_a_connection_without_discovery_attributes():
    """Older connections (no known_service): the service option or the CRN says it; the plan is unknown."""
    def old(service=None, crn_service=None):
        return types.SimpleNamespace(options={"service": service}, instance=types.SimpleNamespace(service=crn_service))
    assert of_connection(old(crn_service="kms")) == ("key_protect", None)
    assert of_connection(old(service="hs_crypto")) == ("hs_crypto", None)
    assert of_connection(old()) == (None, None)
    assert of_connection(types.SimpleNamespace(known_service="key_protect", plan="dedicated")) == ("key_protect", "dedicated")


@pytest.mark.parametrize("base, expected", [
    ("https://7f3e.api.us-south.kms.appdomain.cloud/api/v2", "https://7f3e.api.us-south.kms.appdomain.cloud/api/v1/cryptounits"),
    ("http://127.0.0.1:8080/api/v2", "http://127.0.0.1:8080/api/v1/cryptounits"),
])
def test_crypto_units_url(base, expected):
    assert crypto_units_url(types.SimpleNamespace(base_url=base)) == expected


def test_crypto_units_readiness():
    assert crypto_units_result([]) == {"crypto_units": [], "initialized_count": 0, "ready": False}
    units = [{"id": "a", "state": "kms-initialized", "instance_id": None}, {"id": "b", "state": "initialized", "instance_id": None}]
    assert crypto_units_result(units)["ready"] is True and crypto_units_result(units)["initialized_count"] == 1
