# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest
import requests

from ansible_collections.ibm.hs_crypto.plugins.modules.hs_crypto_endpoint_info import main

ALICE = "hsc-emulator-alice-api-key-0001"
EVE = "hsc-emulator-eve-api-key-0003"
INSTANCE_A = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
INSTANCE_C = "c0ffee00-1234-4abc-8def-0123456789ab"


def control(emu, method, path, **kwargs):
    response = requests.request(method, emu.http_url + "/_emulator/" + path, timeout=5, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


@pytest.fixture
def args(emu):
    return {"api_key": ALICE, "iam_url": emu.http_url, "broker_url": emu.http_url, "instance_id": INSTANCE_A}


def test_discovery_returns_https_urls(emu, run_module, args):
    failed, result = run_module(main, args)
    assert not failed and result["changed"] is False and result["discovered"] is True
    assert result["kms_url"] == emu.https_url == result["endpoints"]["kms"]["public"]
    assert result["endpoints"]["kms"]["private"] == emu.private_url
    assert all(url.startswith("https://") for url in result["endpoints"]["ep11"].values() if url)
    assert result["instance_id"] == INSTANCE_A and result["correlation_id"]
    assert ALICE not in json.dumps(result)


def test_private_endpoint_from_a_crn(emu, run_module, args):
    args.update(instance_id=f"crn:v1:bluemix:public:hs-crypto:us-south:a/acct:{INSTANCE_A.upper()}::", endpoint_type="private")
    failed, result = run_module(main, args, check_mode=True)
    assert not failed and result["kms_url"] == emu.private_url
    assert result["region"] == "us-south" and result["instance_id"] == INSTANCE_A


def test_explicit_endpoint_asks_nothing(emu, run_module, args):
    args["endpoint"] = "https://kms.example.test:8443/api/v2"
    failed, result = run_module(main, args)
    assert not failed and result["discovered"] is False and result["endpoints"] == {}
    assert result["kms_url"] == "https://kms.example.test:8443"
    assert control(emu, "GET", "counters")["total"] == 0


KP_STANDARD = "5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d"
KP_DEDICATED = "7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f"
CAROL = "hsc-emulator-carol-api-key-0004"


@pytest.mark.parametrize("instance, plan", [
    (dict(instance_id=KP_STANDARD), "tiered-pricing"),
    (dict(instance_id=KP_STANDARD, service="key_protect"), "tiered-pricing"),
    (dict(instance_id=f"crn:v1:bluemix:public:kms:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:{KP_STANDARD}::"), "tiered-pricing"),
    (dict(instance_id=KP_DEDICATED), "dedicated"),
])
def test_key_protect_endpoint_comes_from_the_resource_controller(emu, run_module, args, instance, plan):
    """Issue 12: a Key Protect instance (Standard or Dedicated) is found from its Resource Controller record, whatever
    the options say of it: GUID alone, service, or CRN; one discovery request."""
    del args["broker_url"]
    args.update(instance, resource_controller_url=emu.http_url, endpoint_type="private")
    failed, result = run_module(main, args)
    assert not failed, result.get("msg")
    assert result["service"] == "key_protect" and result["plan"] == plan and result["source"] == "resource_controller"
    assert result["kms_url"] == emu.private_url == result["endpoints"]["kms"]["private"]
    assert result["crn"].startswith("crn:v1:bluemix:public:kms:")
    by_service = control(emu, "GET", "counters")["by_service"]
    assert by_service.get("rc") == 1 and not by_service.get("broker")


def test_a_guid_the_broker_does_not_know_is_found_in_the_resource_controller(emu, run_module, args):
    args.update(instance_id=KP_STANDARD, region="us-south", resource_controller_url=emu.http_url)
    failed, result = run_module(main, args)
    assert not failed, result.get("msg")
    assert result["service"] == "key_protect" and result["source"] == "resource_controller"


def test_key_protect_without_resource_controller_access(emu, run_module, args):
    """carol may use the keys but not read the Resource Controller: with a region, the Standard URL and a warning;
    without one, an error naming the IAM access and the endpoint way out."""
    del args["broker_url"]
    args.update(api_key=CAROL, instance_id=KP_STANDARD, service="key_protect", region="us-south", resource_controller_url=emu.http_url)
    failed, result = run_module(main, args)
    assert not failed and result["kms_url"] == "https://us-south.kms.cloud.ibm.com" and result["source"] == "region"
    assert "Viewer" in json.dumps(result["warnings"])
    del args["region"]
    failed, result = run_module(main, args)
    assert failed and "Viewer role" in result["msg"] and "give endpoint" in result["msg"] and result["error"]["status"] == 403


def test_instance_of_another_account_is_not_found(emu, run_module, args):
    del args["broker_url"]
    args.update(instance_id=INSTANCE_C, resource_controller_url=emu.http_url)  # C belongs to eve's account
    failed, result = run_module(main, args)
    assert failed and result["error"]["status"] == 404 and "knows no instance" in result["msg"]


def test_broker_503_is_retried(emu, run_module, args):
    control(emu, "POST", "faults", json={"rules": [{"service": "broker", "status": 503, "retry_after": "0", "times": 2}]})
    failed, result = run_module(main, args)
    assert not failed, result["msg"] if failed else ""
    assert control(emu, "GET", "counters")["by_service"]["broker"] == 3


@pytest.mark.parametrize("overrides,message", [
    ({"instance_id": None}, "instance_id is required"),
    ({"instance_id": "not-a-guid"}, "instance_id must be an instance GUID"),
    ({"broker_url": None, "region": "xx-nowhere"}, "region 'xx-nowhere' is not a known IBM Cloud region"),
    ({"resource_controller_url": "http://rc.example.test"}, "resource_controller_url must use https://"),
    ({"broker_url": "http://broker.example.test"}, "broker_url must use https://"),
    ({"api_key": None}, "Either api_key or iam_token is required"),
])
def test_bad_input_fails_before_any_request(emu, run_module, args, overrides, message):
    args.update(overrides)
    args = dict((k, v) for k, v in args.items() if v is not None)
    failed, result = run_module(main, args)
    assert failed and message in result["msg"]
    assert control(emu, "GET", "counters")["total"] == 0


def test_unknown_instance(emu, run_module, args):
    """Unknown to the broker, the instance is looked for in the Resource Controller, which knows it neither."""
    args.update(instance_id="00000000-0000-4000-8000-000000000000", resource_controller_url=emu.http_url)
    failed, result = run_module(main, args)
    assert failed and result["error"]["status"] == 404
    assert "The Resource Controller knows no instance 00000000-0000-4000-8000-000000000000" in result["msg"]
    assert "HTTP 404" in result["msg"] and "correlation id" in result["msg"]


def test_other_identity_is_refused(emu, run_module, args):
    args.update(api_key=EVE)
    failed, result = run_module(main, args)
    assert failed and result["error"]["status"] in (401, 403)
    assert EVE not in json.dumps(result)


def test_instance_of_another_account_with_own_key(emu, run_module, args):
    args.update(api_key=EVE, instance_id=INSTANCE_C)
    failed, result = run_module(main, args)
    assert not failed and result["instance_id"] == INSTANCE_C
