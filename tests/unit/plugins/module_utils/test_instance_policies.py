# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Instance policy options and comparison, table-driven (no service)."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import (
    InstancePolicyService, PolicySpec, effective, parse_allowed_network)

ACCESS_DEFAULTS = {"create_root_key": True, "create_standard_key": True, "import_root_key": True, "import_standard_key": True,
                   "enforce_token": False}


def record(policy_type, enabled, attributes=None):
    data = {"enabled": enabled}
    if attributes is not None:
        data["attributes"] = attributes
    return {"policy_type": policy_type, "policy_data": data, "createdBy": "IBMid-x", "creationDate": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize("value, expected", [
    ("private-only", {"enabled": True, "attributes": {"allowed_network": "private-only"}}),
    ({"allowed_network": "public-and-private"}, {"enabled": True, "attributes": {"allowed_network": "public-and-private"}}),
    ({"enabled": "no"}, {"enabled": False, "attributes": None}),
    ({"enabled": False}, {"enabled": False, "attributes": None}),
])
def test_allowed_network_forms(value, expected):
    assert parse_allowed_network(value) == expected


@pytest.mark.parametrize("option, wanted, held, expected", [
    # never set counts as disabled
    ("dual_auth_delete", {"enabled": False}, None, None),
    ("dual_auth_delete", {"enabled": True}, None, {"enabled": True}),
    ("metrics", {"enabled": True}, record("metrics", True), None),
    ("metrics", {"enabled": False}, record("metrics", True), {"enabled": False}),
    ("allowed_network", {"enabled": True, "attributes": {"allowed_network": "private-only"}},
     record("allowedNetwork", True, {"allowed_network": "private-only"}), None),
    ("allowed_network", {"enabled": True, "attributes": {"allowed_network": "private-only"}},
     record("allowedNetwork", True, {"allowed_network": "public-and-private"}),
     {"enabled": True, "attributes": {"allowed_network": "private-only"}}),
    # disabling allowedNetwork sends the attribute, as the Go client does
    ("allowed_network", {"enabled": False, "attributes": None}, record("allowedNetwork", True, {"allowed_network": "private-only"}),
     {"enabled": False, "attributes": {"allowed_network": "public-and-private"}}),
    # keyCreateImportAccess: given attributes over the current ones over the defaults
    ("key_create_import_access", {"enabled": True, "attributes": {}}, None, {"enabled": True, "attributes": ACCESS_DEFAULTS}),
    ("key_create_import_access", {"enabled": True, "attributes": {"enforce_token": True}},
     record("keyCreateImportAccess", True, dict(ACCESS_DEFAULTS, import_root_key=False)),
     {"enabled": True, "attributes": dict(ACCESS_DEFAULTS, import_root_key=False, enforce_token=True)}),
    ("key_create_import_access", {"enabled": True, "attributes": {"import_root_key": False}},
     record("keyCreateImportAccess", True, dict(ACCESS_DEFAULTS, import_root_key=False)), None),
    # a record without the attributes the service fills in is compared with the defaults
    ("key_create_import_access", {"enabled": True, "attributes": {"create_root_key": True}},
     record("keyCreateImportAccess", True, {}), None),
    ("key_create_import_access", {"enabled": False, "attributes": None}, record("keyCreateImportAccess", False), None),
])
def test_desired_policy_data(option, wanted, held, expected):
    assert InstancePolicyService._desired(option, wanted, held) == expected  # pylint: disable=protected-access


def test_effective_view_of_a_disabled_policy_has_null_attributes():
    assert effective("key_create_import_access", record("keyCreateImportAccess", False)) == dict(
        dict((name, None) for name in ACCESS_DEFAULTS), enabled=False)


@pytest.mark.parametrize("params, message", [
    ({"dual_auth_delete": "perhaps"}, "dual_auth_delete must be true or false"),
    ({"allowed_network": 3}, "allowed_network must be public-and-private or private-only, or a dictionary"),
    ({"key_create_import_access": {"enabled": None, "bogus": True}}, "unknown field(s) bogus"),
])
def test_spec_refuses(params, message):
    with pytest.raises(ConfigurationError) as caught:
        PolicySpec.from_params(params)
    assert message in str(caught.value)
