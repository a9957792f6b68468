# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hs_crypto_crypto_units_info, and what Key Protect Dedicated refuses (import tokens), against the in-process emulator."""

import pytest

from ansible_collections.ibm.hs_crypto.plugins.modules import hs_crypto_crypto_units_info, hs_crypto_import_token

ACCOUNT = "b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21"
INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"  # HPCS
KP_STANDARD = "5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d"
KP_DEDICATED = "7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f"  # units initialized
KP_DEDICATED_NEW = "8a4f0e5d-2b1c-4d6e-9f9a-5b4c3d2e1f0a"  # two units, reserved
NEW_UNITS = ["0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f"]


def crn(service, guid, region="us-south"):
    return f"crn:v1:bluemix:public:{service}:{region}:a/{ACCOUNT}:{guid}::"


@pytest.fixture
def units(run_module, hsc):
    def go(check_mode=False, **params):
        return run_module(hs_crypto_crypto_units_info.main, hsc.args(**params), check_mode=check_mode)
    return go


@pytest.fixture
def token(run_module, hsc):
    def go(check_mode=False, **params):
        return run_module(hs_crypto_import_token.main, hsc.args(**params), check_mode=check_mode)
    return go


def discovered(hsc, guid, **extra):
    """Found through the emulator's Resource Controller: service and plan known before any request to the instance."""
    return dict({"instance_id": guid, "endpoint": None, "resource_controller_url": hsc.url, "ca_path": hsc.server.ca_path}, **extra)


def test_reserved_units_are_not_ready(units, hsc):
    hsc.token()
    mark = hsc.mark()
    failed, result = units(instance_id=KP_DEDICATED_NEW, service="key_protect", check_mode=True)
    assert not failed and not result["changed"]
    assert result["crypto_units"] == [{"id": unit, "state": "reserved", "instance_id": KP_DEDICATED_NEW} for unit in NEW_UNITS]
    assert result["ready"] is False and result["initialized_count"] == 0
    sent = hsc.requests_since(mark, service=None)
    assert [(e["method"], e["path"]) for e in sent] == [("GET", "/api/v1/cryptounits")], sent
    assert result["correlation_id"] == sent[0]["correlation_id"]


def test_one_initialized_unit_makes_the_instance_ready(units, hsc):
    hsc.control("POST", "crypto_units", json={"instance_id": KP_DEDICATED_NEW, "states": ["maintenance", "kms-initialized"]})
    failed, result = units(instance_id=crn("kms", KP_DEDICATED_NEW))
    assert not failed
    assert [unit["state"] for unit in result["crypto_units"]] == ["maintenance", "kms-initialized"]
    assert result["ready"] is True and result["initialized_count"] == 1


def test_an_initialized_instance_found_through_the_resource_controller(units, hsc):
    failed, result = units(**discovered(hsc, KP_DEDICATED))
    assert not failed, result["msg"]
    assert result["ready"] is True and result["initialized_count"] == len(result["crypto_units"]) >= 2


@pytest.mark.parametrize("args", [{"instance_id": crn("hs-crypto", INSTANCE_A)}, {"instance_id": INSTANCE_A, "service": "hs_crypto"}])
def test_hpcs_is_refused_before_any_request(units, hsc, args):
    hsc.token()
    mark = hsc.mark()
    failed, result = units(**args)
    assert failed
    assert result["msg"] == (f"instance {INSTANCE_A} is a Hyper Protect Crypto Services instance; only Key Protect Dedicated instances "
                             "have crypto units (GET /api/v1/cryptounits)")
    assert hsc.requests_since(mark, service=None) == []


def test_key_protect_standard_found_through_the_resource_controller_is_refused_before_any_kms_request(units, hsc):
    hsc.token()
    mark = hsc.mark()
    failed, result = units(**discovered(hsc, KP_STANDARD))
    assert failed and result["msg"].startswith(f"instance {KP_STANDARD} is a Key Protect (tiered-pricing) instance; only Key Protect "
                                               "Dedicated instances have crypto units"), result["msg"]
    assert hsc.requests_since(mark) == []  # the Resource Controller was asked, not the instance


@pytest.mark.parametrize("args", [{"instance_id": crn("kms", KP_STANDARD)}, {"instance_id": INSTANCE_A}])
def test_plan_unknown_the_service_answers_404_and_the_message_says_why(units, hsc, args):
    failed, result = units(**args)
    assert failed and result["error"]["status"] == 404
    assert result["msg"].startswith("Reading the crypto units: ")
    assert "only Key Protect Dedicated instances have them" in result["msg"]


def test_malformed_answer_is_an_error_not_an_empty_list(units, hsc):
    hsc.control("POST", "faults", json={"rules": [{"service": "kms", "method": "GET", "path": "cryptounits", "status": 200,
                                                   "body": {"resources": []}}]})
    failed, result = units(instance_id=KP_DEDICATED, service="key_protect")
    assert failed and "is not a list of crypto units with id and state" in result["msg"], result


# -- import tokens on Dedicated ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check_mode", [False, True])
def test_import_token_on_a_known_dedicated_instance_is_refused_before_any_kms_request(token, hsc, check_mode):
    hsc.token()
    mark = hsc.mark()
    failed, result = token(check_mode=check_mode, state="present", retrieve=True, **discovered(hsc, KP_DEDICATED))
    assert failed and result["msg"] == (f"instance {KP_DEDICATED} is a Key Protect Dedicated instance, which does not support import "
                                        "tokens (secure import); a plain import over TLS works"), result["msg"]
    assert hsc.requests_since(mark) == []


def test_import_token_refused_by_the_service_is_explained(token, hsc):
    failed, result = token(instance_id=KP_DEDICATED, state="present")
    assert failed and result["error"]["status"] == 403
    assert "FEATURE_RESTRICTED_ERR" in result["msg"] and "Key Protect Dedicated instances have no secure import" in result["msg"]


def test_import_token_on_key_protect_standard_still_works(token, hsc):
    failed, result = token(instance_id=crn("kms", KP_STANDARD), state="present", retrieve=True)
    assert not failed and result["created"] and result["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
