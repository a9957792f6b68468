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


@pytest.mark.parametrize("instance", [
    dict(instance_id=INSTANCE_A, region="jp-osa", service="key_protect"),
    dict(instance_id=f"crn:v1:bluemix:public:kms:jp-osa:a/acct:{INSTANCE_A}::"),
])
def test_key_protect_endpoint_follows_from_the_region(emu, run_module, args, instance):
    del args["broker_url"]
    args.update(instance, endpoint_type="private")
    failed, result = run_module(main, args)
    assert not failed, result.get("msg")
    assert result["discovered"] is False and result["service"] == "key_protect" and result["region"] == "jp-osa"
    assert result["kms_url"] == "https://private.jp-osa.kms.cloud.ibm.com" == result["endpoints"]["kms"]["private"]
    assert result["endpoints"]["kms"]["public"] == "https://jp-osa.kms.cloud.ibm.com"
    assert control(emu, "GET", "counters")["total"] == 0


def test_key_protect_asks_no_broker_even_with_a_broker_url(emu, run_module, args):
    args.update(service="key_protect", region="us-south")  # broker_url stays: it is not used for Key Protect
    failed, result = run_module(main, args)
    assert not failed and result["kms_url"] == "https://us-south.kms.cloud.ibm.com"
    assert control(emu, "GET", "counters")["total"] == 0


def test_broker_503_is_retried(emu, run_module, args):
    control(emu, "POST", "faults", json={"rules": [{"service": "broker", "status": 503, "retry_after": "0", "times": 2}]})
    failed, result = run_module(main, args)
    assert not failed, result["msg"] if failed else ""
    assert control(emu, "GET", "counters")["by_service"]["broker"] == 3


@pytest.mark.parametrize("overrides,message", [
    ({"instance_id": None}, "instance_id is required"),
    ({"instance_id": "not-a-guid"}, "instance_id must be an instance GUID"),
    ({"broker_url": None, "region": "xx-nowhere"}, "region 'xx-nowhere' is not a known IBM Cloud region"),
    ({"broker_url": None}, "region is required to discover the endpoint"),
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
    args["instance_id"] = "00000000-0000-4000-8000-000000000000"
    failed, result = run_module(main, args)
    assert failed and result["error"]["status"] == 404
    assert result["msg"].startswith("Endpoint discovery for instance 00000000-0000-4000-8000-000000000000 failed: ")
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
