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
    ({}, "set at least one of dual_auth_delete, allowed_network, key_create_import_access or metrics"),
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
