# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_instance_policy and hs_crypto_instance_policy_info against the in-process emulator."""

import json

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_instance_policy, hs_crypto_instance_policy_info

ACCESS_ALL = {"create_root_key": True, "create_standard_key": True, "import_root_key": True, "import_standard_key": True,
              "enforce_token": False}
KEY_TYPE = "application/vnd.ibm.kms.key+json"


@pytest.fixture
def policy(run_module, hsc):
    def go(check_mode=False, diff=False, **params):
        args = hsc.args(**params)
        if diff:
            args["_ansible_diff"] = True
        return run_module(hs_crypto_instance_policy.main, args, check_mode=check_mode)
    return go


@pytest.fixture
def info(run_module, hsc):
    def go(**params):
        return run_module(hs_crypto_instance_policy_info.main, hsc.args(**params))
    return go


def writes(hsc, mark):
    return [e for e in hsc.requests_since(mark) if e["write"]]


def test_nothing_set_reads_as_disabled(info, hsc):
    mark = hsc.mark()
    failed, result = info()
    assert not failed and not result["changed"]
    policies = result["policies"]
    assert sorted(policies) == ["allowed_network", "dual_auth_delete", "key_create_import_access", "metrics"]
    assert policies["dual_auth_delete"] == {"enabled": False, "created_by": None, "creation_date": None, "updated_by": None,
                                            "last_updated": None}
    assert policies["allowed_network"]["allowed_network"] is None
    assert policies["key_create_import_access"]["create_root_key"] is None
    assert len(hsc.requests_since(mark)) == 1


def test_check_mode_then_set_then_unchanged(policy, info, hsc):
    desired = dict(dual_auth_delete=True, metrics=True, allowed_network="public-and-private",
                   key_create_import_access={"create_standard_key": False, "enforce_token": True})
    mark = hsc.mark()
    failed, check = policy(check_mode=True, diff=True, **desired)
    assert not failed and check["changed"]
    assert check["actions"] == ["set_dual_auth_delete", "set_allowed_network", "set_key_create_import_access", "set_metrics"]
    assert check["policies"]["key_create_import_access"]["create_standard_key"] is False
    assert check["policies"]["key_create_import_access"]["create_root_key"] is True  # the service's default
    assert check["diff"]["before"]["dual_auth_delete"] == {"enabled": False}
    assert check["diff"]["after"]["allowed_network"] == {"enabled": True, "allowed_network": "public-and-private"}
    assert writes(hsc, mark) == []
    assert len(hsc.requests_since(mark)) == 1

    mark = hsc.mark()
    failed, done = policy(diff=True, **desired)
    assert not failed and done["changed"] and done["actions"] == check["actions"]
    sent = writes(hsc, mark)
    assert [(e["method"], e["query"]) for e in sent] == [
        ("PUT", "policy=dualAuthDelete"), ("PUT", "policy=allowedNetwork"), ("PUT", "policy=keyCreateImportAccess"),
        ("PUT", "policy=metrics")]
    assert all(e["status"] == 204 for e in sent)
    assert done["diff"]["after"] == check["diff"]["after"]
    assert done["policies"]["metrics"]["enabled"] is True and done["policies"]["metrics"]["created_by"] == "IBMid-alice"
    assert done["policies"]["key_create_import_access"] == dict(
        ACCESS_ALL, enabled=True, create_standard_key=False, enforce_token=True, **dict(
            (k, done["policies"]["key_create_import_access"][k]) for k in ("created_by", "creation_date", "updated_by", "last_updated")))

    mark = hsc.mark()
    failed, again = policy(**desired)
    assert not failed and not again["changed"] and again["actions"] == []
    assert len(hsc.requests_since(mark)) == 1
    failed, read = info()
    assert read["policies"] == again["policies"]


def test_unset_options_are_untouched_and_attributes_kept(policy, hsc):
    policy(key_create_import_access={"import_root_key": False}, metrics=True)
    mark = hsc.mark()
    # Only enforce_token is given: import_root_key keeps its false, metrics is not touched.
    failed, result = policy(key_create_import_access={"enforce_token": True})
    assert not failed and result["actions"] == ["set_key_create_import_access"]
    access = result["policies"]["key_create_import_access"]
    assert access["import_root_key"] is False and access["enforce_token"] is True and access["create_root_key"] is True
    assert result["policies"]["metrics"]["enabled"] is True
    assert len(writes(hsc, mark)) == 1


def test_update_in_check_mode_then_disable(policy, hsc):
    policy(dual_auth_delete=True, key_create_import_access={"create_root_key": False})
    mark = hsc.mark()
    failed, check = policy(check_mode=True, diff=True, dual_auth_delete=False, key_create_import_access={"enabled": False})
    assert not failed and check["changed"]
    assert check["diff"]["before"]["key_create_import_access"]["create_root_key"] is False
    assert check["diff"]["after"]["key_create_import_access"] == dict(dict((k, None) for k in ACCESS_ALL), enabled=False)
    assert writes(hsc, mark) == []
    failed, done = policy(dual_auth_delete=False, key_create_import_access={"enabled": False})
    assert not failed and done["changed"] and done["policies"]["dual_auth_delete"]["enabled"] is False
    assert done["policies"]["key_create_import_access"]["enabled"] is False
    failed, again = policy(dual_auth_delete=False, key_create_import_access={"enabled": False})
    assert not failed and not again["changed"]


def test_policies_take_effect(policy, hsc):
    policy(key_create_import_access={"create_standard_key": False})
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": "std", "extractable": True}]}
    response = hsc.kms("POST", "keys", json=body)
    assert response.status_code == 409 and "KEY_CREATE_IMPORT_ACCESS_ERR" in response.text


def test_private_only_set_over_the_public_endpoint_warns(policy, info, hsc):
    failed, result = policy(allowed_network="private-only")
    assert not failed and result["changed"]
    assert result["policies"]["allowed_network"]["allowed_network"] == "private-only"
    assert "private endpoint only" in json.dumps(result["warnings"])  # strings before ansible-core 2.19, records since
    failed, refused = info()
    assert failed and "endpoint_type=private" in refused["msg"] and refused["error"]["status"] == 401
    # Through the private endpoint (broker discovery), the policy is read and disabled again.
    private = dict(endpoint=None, broker_url=hsc.url, region="us-south", endpoint_type="private", ca_path=hsc.server.ca_path)
    failed, read = info(**private)
    assert not failed and read["policies"]["allowed_network"]["enabled"] is True
    failed, dict_form = policy(allowed_network={"enabled": True, "allowed_network": "private-only"}, **private)
    assert not failed and not dict_form["changed"]
    failed, disabled = policy(allowed_network={"enabled": False}, **private)
    assert not failed and disabled["changed"] and disabled["policies"]["allowed_network"]["allowed_network"] is None
    failed, public_again = info()
    assert not failed and public_again["policies"]["allowed_network"]["enabled"] is False


@pytest.mark.parametrize("params, message", [
    ({}, "set at least one of dual_auth_delete, allowed_network, key_create_import_access, metrics, rotation (Key Protect) or "
         "allowed_ip (Key Protect)"),
    ({"allowed_network": "private"}, "allowed_network must be public-and-private or private-only"),
    ({"allowed_network": {"enabled": True}}, "allowed_network.allowed_network must be public-and-private or private-only when"),
    ({"allowed_network": {"enabled": False, "allowed_network": "private-only"}},
     "allowed_network.allowed_network must not be set when allowed_network.enabled is false"),
    ({"allowed_network": {"network": "private-only"}}, "allowed_network: unknown field(s) network"),
    ({"allowed_network": {"enabled": "maybe", "allowed_network": "private-only"}}, "allowed_network.enabled must be true or false"),
    ({"allowed_network": ["private-only"]}, "allowed_network must be public-and-private or private-only, or a dictionary"),
    ({"key_create_import_access": {"enabled": False, "enforce_token": True}},
     "key_create_import_access: enforce_token must not be set when enabled is false"),
    ({"key_create_import_access": {"create_keys": True}}, "create_keys"),
])
def test_bad_input_fails_before_any_request(policy, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = policy(**params)
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_write_error_is_reported(policy, hsc):
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "PUT", "path": "instance/policies", "status": 403}]})
    failed, result = policy(metrics=True)
    assert failed and result["msg"].startswith("Setting the instance policy metrics")
    assert result["error"]["status"] == 403


# -- Key Protect: rotation and allowed_ip, and which service has which policy ------------------------------------------------
INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"  # the emulator's instances (HPCS A, Key Protect Standard, Dedicated)
KP_STANDARD = "5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d"
KP_DEDICATED = "7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f"
ACCOUNT = "b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21"
KP_CRN = f"crn:v1:bluemix:public:kms:us-south:a/{ACCOUNT}:{KP_STANDARD}::"
HPCS_CRN = f"crn:v1:bluemix:public:hs-crypto:us-south:a/{ACCOUNT}:{INSTANCE_A}::"
KP_POLICIES = ["allowed_ip", "allowed_network", "dual_auth_delete", "key_create_import_access", "metrics", "rotation"]


def kp(**extra):
    """Key Protect Standard, its service said by its CRN, endpoint given (no discovery)."""
    return dict({"instance_id": KP_CRN}, **extra)


def dedicated(hsc, **extra):
    """Key Protect Dedicated found through the emulator's Resource Controller (plan known before any KMS request)."""
    return dict({"instance_id": KP_DEDICATED, "endpoint": None, "resource_controller_url": hsc.url, "ca_path": hsc.server.ca_path}, **extra)


def test_key_protect_rotation_check_mode_then_set_then_unchanged(policy, info, hsc):
    mark = hsc.mark()
    failed, check = policy(check_mode=True, diff=True, **kp(rotation={"interval_month": 3}))
    assert not failed and check["changed"] and check["actions"] == ["set_rotation"]
    assert sorted(check["policies"]) == KP_POLICIES
    assert check["diff"]["before"]["rotation"] == {"enabled": False, "interval_month": None}
    assert check["diff"]["after"]["rotation"] == {"enabled": True, "interval_month": 3}
    assert writes(hsc, mark) == [] and len(hsc.requests_since(mark)) == 1
    assert "allowed_ip_port" not in check

    mark = hsc.mark()
    failed, done = policy(diff=True, **kp(rotation={"interval_month": 3}))
    assert not failed and done["changed"] and done["diff"]["after"] == check["diff"]["after"]
    sent = writes(hsc, mark)
    assert [(e["method"], e["query"], e["status"]) for e in sent] == [("PUT", "policy=rotation", 204)]
    assert done["policies"]["rotation"]["interval_month"] == 3 and done["policies"]["rotation"]["created_by"] == "IBMid-alice"

    mark = hsc.mark()
    failed, again = policy(**kp(rotation={"enabled": True, "interval_month": 3}))
    assert not failed and not again["changed"] and len(hsc.requests_since(mark)) == 1
    failed, changed = policy(**kp(rotation={"interval_month": 12}))
    assert not failed and changed["changed"] and changed["policies"]["rotation"]["interval_month"] == 12
    failed, read = info(**kp())
    assert not failed and sorted(read["policies"]) == KP_POLICIES
    assert read["policies"]["rotation"]["enabled"] is True and read["allowed_ip_port"] is None
    failed, off = policy(**kp(rotation={"enabled": False}))
    assert not failed and off["changed"] and off["policies"]["rotation"] == dict(off["policies"]["rotation"], enabled=False, interval_month=None)


def test_key_protect_rotation_policy_applies_to_new_root_keys(policy, hsc):
    policy(**kp(rotation={"interval_month": 2}))
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": "rotated", "extractable": False}]}
    created = hsc.kms("POST", "keys", json=body, headers={"Bluemix-Instance": KP_STANDARD})
    assert created.status_code == 201, created.text
    key_id = created.json()["resources"][0]["id"]
    policies = hsc.kms("GET", f"keys/{key_id}/policies", headers={"Bluemix-Instance": KP_STANDARD}).json()["resources"]
    assert [p.get("rotation") for p in policies if "rotation" in p][0]["interval_month"] == 2


def test_key_protect_allowed_ip_and_its_port(policy, info, hsc):
    subnets = ["192.0.2.0/24", "2001:db8::/32"]
    mark = hsc.mark()
    failed, check = policy(check_mode=True, diff=True, **kp(allowed_ip={"allowed_ip": subnets}))
    assert not failed and check["changed"] and check["actions"] == ["set_allowed_ip"]
    assert check["diff"]["after"]["allowed_ip"] == {"enabled": True, "allowed_ip": subnets}
    assert check["allowed_ip_port"] is None  # not on yet: no port to read
    assert writes(hsc, mark) == []

    mark = hsc.mark()
    failed, done = policy(**kp(allowed_ip={"allowed_ip": subnets}))
    assert not failed and done["changed"] and done["allowed_ip_port"] == 15008
    assert done["policies"]["allowed_ip"]["allowed_ip"] == subnets
    sent = writes(hsc, mark)
    assert [(e["method"], e["query"]) for e in sent] == [("PUT", "policy=allowedIP")]
    assert [e["path"] for e in hsc.requests_since(mark)][-1].endswith("instance/allowed_ip_port")

    # Same subnets, another order and spelling: nothing to do (one read of the policies, one of the port).
    mark = hsc.mark()
    failed, again = policy(**kp(allowed_ip={"enabled": True, "allowed_ip": ["2001:DB8::/32", "192.0.2.0/24"]}))
    assert not failed and not again["changed"] and again["allowed_ip_port"] == 15008
    assert writes(hsc, mark) == [] and len(hsc.requests_since(mark)) == 2
    failed, check_again = policy(check_mode=True, **kp(allowed_ip={"allowed_ip": ["192.0.2.0/24"]}))
    assert not failed and check_again["changed"] and check_again["allowed_ip_port"] == 15008  # on before: the port is known

    failed, read = info(**kp())
    assert not failed and read["allowed_ip_port"] == 15008 and read["policies"]["allowed_ip"]["enabled"] is True

    # A smaller list replaces the whole policy.
    failed, smaller = policy(**kp(allowed_ip={"allowed_ip": ["192.0.2.0/24"]}))
    assert not failed and smaller["changed"] and smaller["policies"]["allowed_ip"]["allowed_ip"] == ["192.0.2.0/24"]

    failed, off = policy(diff=True, **kp(allowed_ip={"enabled": False}))
    assert not failed and off["changed"] and off["allowed_ip_port"] is None
    assert off["diff"]["after"]["allowed_ip"] == {"enabled": False, "allowed_ip": None}
    failed, read = info(**kp())
    assert not failed and read["allowed_ip_port"] is None and read["policies"]["allowed_ip"]["allowed_ip"] is None
    failed, off_again = policy(**kp(allowed_ip={"enabled": False}))
    assert not failed and not off_again["changed"]


def test_hpcs_instance_lists_four_policies_and_never_asks_for_a_port(info, hsc):
    mark = hsc.mark()
    failed, read = info(instance_id=HPCS_CRN)
    assert not failed and sorted(read["policies"]) == ["allowed_network", "dual_auth_delete", "key_create_import_access", "metrics"]
    assert read["allowed_ip_port"] is None
    assert len(hsc.requests_since(mark)) == 1


@pytest.mark.parametrize("args", [{"instance_id": HPCS_CRN}, {"service": "hs_crypto"}])
@pytest.mark.parametrize("params, named", [
    ({"rotation": {"interval_month": 1}}, "rotation"),
    ({"allowed_ip": {"allowed_ip": ["192.0.2.0/24"]}, "metrics": True}, "allowed_ip"),
])
def test_key_protect_policy_on_hpcs_is_refused_before_any_request(policy, hsc, args, params, named):
    hsc.token()
    mark = hsc.mark()
    failed, result = policy(check_mode=True, **dict(params, **args))
    assert failed, result
    assert result["msg"].startswith(f"{named}: instance {INSTANCE_A} is a Hyper Protect Crypto Services instance, which has no such"), result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_unknown_service_lets_the_service_answer(policy, info, hsc):
    """A bare GUID and an explicit endpoint: nothing tells the service, so the request goes out and the service decides."""
    failed, refused = policy(rotation={"interval_month": 1})  # instance A is HPCS
    assert failed and refused["error"]["status"] == 400
    failed, done = policy(instance_id=KP_STANDARD, rotation={"interval_month": 4})
    assert not failed and done["changed"] and "rotation" in done["policies"]
    failed, read = info(instance_id=KP_STANDARD)
    assert not failed and read["policies"]["rotation"]["interval_month"] == 4  # listed: the instance holds a record of it


@pytest.mark.parametrize("params, message", [
    ({"rotation": {}}, "rotation.interval_month must be a whole number of months from 1 to 12"),
    ({"rotation": {"interval_month": 0}}, "rotation.interval_month must be a whole number of months from 1 to 12"),
    ({"rotation": {"interval_month": 13}}, "from 1 to 12 when the policy is enabled (got 13)"),
    ({"rotation": {"enabled": False, "interval_month": 3}}, "rotation.interval_month must not be set when rotation.enabled is false"),
    ({"allowed_ip": {}}, "allowed_ip.allowed_ip must list from 1 to 1000 subnets"),
    ({"allowed_ip": {"allowed_ip": []}}, "allowed_ip.allowed_ip must list from 1 to 1000 subnets in CIDR notation when the policy is enabled (got 0)"),
    ({"allowed_ip": {"allowed_ip": [f"10.{i // 256}.{i % 256}.0/24" for i in range(1001)]}}, "(got 1001)"),
    ({"allowed_ip": {"allowed_ip": ["192.0.2.0/24", "300.0.0.0/8"]}}, "allowed_ip.allowed_ip[1]: '300.0.0.0/8' is not an IPv4 or IPv6 subnet"),
    ({"allowed_ip": {"allowed_ip": ["192.0.2.7"]}}, "allowed_ip.allowed_ip[0]: '192.0.2.7' is not in CIDR notation"),
    ({"allowed_ip": {"allowed_ip": ["192.0.2.1/24"]}}, "has host bits set; the subnet is 192.0.2.0/24"),
    ({"allowed_ip": {"allowed_ip": ["10.0.0.0/33"]}}, "is not an IPv4 or IPv6 subnet"),
    ({"allowed_ip": {"allowed_ip": ["2001:db8::/32", "2001:DB8::/32"]}}, "allowed_ip.allowed_ip[1]: the subnet 2001:db8::/32 is listed twice"),
    ({"allowed_ip": {"enabled": False, "allowed_ip": ["192.0.2.0/24"]}}, "allowed_ip.allowed_ip must not be set when allowed_ip.enabled is false"),
])
def test_bad_key_protect_input_fails_before_any_request(policy, hsc, params, message):
    hsc.token()
    mark = hsc.mark()
    failed, result = policy(**kp(**params))
    assert failed and message in result["msg"], result["msg"]
    assert hsc.requests_since(mark, service=None) == []


def test_dedicated_refuses_allowed_network_after_discovery_and_before_any_kms_request(policy, info, hsc):
    hsc.token()
    mark = hsc.mark()
    failed, result = policy(**dedicated(hsc, allowed_network="private-only", metrics=True))
    assert failed and result["msg"] == (f"instance {KP_DEDICATED} is a Key Protect Dedicated instance, which does not support the "
                                        "allowed network policy (use context-based restrictions)"), result["msg"]
    assert hsc.requests_since(mark) == []  # the Resource Controller was asked; the instance was not
    failed, read = info(**dedicated(hsc))
    assert not failed and sorted(read["policies"]) == ["allowed_ip", "dual_auth_delete", "key_create_import_access", "metrics", "rotation"]
    failed, done = policy(**dedicated(hsc, rotation={"interval_month": 6}))
    assert not failed and done["changed"] and "allowed_network" not in done["policies"]


def test_dedicated_refusal_from_the_service_is_explained(policy, hsc):
    """An explicit endpoint and a bare GUID: the plan is unknown, the service refuses, the message says why."""
    failed, result = policy(instance_id=KP_DEDICATED, allowed_network="private-only")
    assert failed and result["error"]["status"] == 403 and "FEATURE_RESTRICTED_ERR" in result["msg"]
    assert "Key Protect Dedicated instances have no allowed network policy" in result["msg"]
