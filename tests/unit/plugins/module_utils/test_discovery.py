# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import AuthorizedSender
from ansible_collections.ibm.hs_crypto.plugins.module_utils._discovery import (
    broker_url_for, discover_endpoints, parse_instance_id)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import TokenProvider
from ansible_collections.ibm.hs_crypto.tests.unit.fakes import FakeRaw, make_jwt

GUID = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
CRN = f"crn:v1:bluemix:public:hs-crypto:eu-de:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:{GUID}::"


@pytest.fixture
def sender(transport):
    return AuthorizedSender(transport, TokenProvider(transport, iam_token=make_jwt()))


def test_guid_and_crn_are_accepted():
    assert parse_instance_id(GUID.upper()).guid == GUID
    ref = parse_instance_id(CRN)
    assert (ref.guid, ref.region, ref.service) == (GUID, "eu-de", "hs-crypto")


@pytest.mark.parametrize("value", ["", "abc", GUID[:-1], GUID + "0", f"crn:v1:bluemix:public:cos:us-south:a/x:{GUID}::",
                                   "crn:v1:bluemix:public:hs-crypto:us-south:a/x:not-a-guid::", "crn:v2:x"])
def test_bad_instance_ids_name_the_option_and_rule(value):
    with pytest.raises(ConfigurationError) as err:
        parse_instance_id(value)
    assert "instance_id" in str(err.value)
    assert "GUID" in str(err.value)


def test_broker_url_per_region():
    assert broker_url_for("us-south") == "https://us-south.broker.hs-crypto.cloud.ibm.com"
    with pytest.raises(ConfigurationError, match="region 'mars-1' is not a known IBM Cloud region"):
        broker_url_for("mars-1")


def test_discovery_builds_https_urls(sender, session):
    session.queue(FakeRaw(200, {
        "instance_id": GUID,
        "kms": {"public": "api.us-south.hs-crypto.cloud.ibm.com:8800", "private": "api.private.us-south.hs-crypto.cloud.ibm.com:8800"},
        "ep11": {"public": "ep11.us-south.hs-crypto.cloud.ibm.com:8801", "private": ""},
        "uko": {"public": "https://uko.us-south.hs-crypto.cloud.ibm.com"}}))
    endpoints, correlation_id = discover_endpoints(sender, "https://broker.test/", GUID)
    call = session.calls[0]
    assert call["url"] == f"https://broker.test/crypto_v2/instances/{GUID}"
    assert "Bluemix-Instance" not in call["headers"] and call["headers"]["Authorization"].startswith("Bearer ")
    assert endpoints["kms"] == {"public": "https://api.us-south.hs-crypto.cloud.ibm.com:8800",
                                "private": "https://api.private.us-south.hs-crypto.cloud.ibm.com:8800"}
    assert endpoints["ep11"] == {"public": "https://ep11.us-south.hs-crypto.cloud.ibm.com:8801", "private": None}
    assert endpoints["uko"] == {"public": "https://uko.us-south.hs-crypto.cloud.ibm.com", "private": None}
    assert correlation_id == call["headers"]["Correlation-Id"]


def test_discovery_never_downgrades_to_http(sender, session):
    session.queue(FakeRaw(200, {"kms": {"public": "http://api.example.test:8800"}}))
    endpoints, dummy = discover_endpoints(sender, "https://broker.test", GUID)
    assert endpoints["kms"]["public"] == "https://api.example.test:8800"


@pytest.mark.parametrize("body", [{"kms": {}}, {"kms": "x"}, [], b"oops"])
def test_discovery_without_kms_endpoint_fails_clearly(sender, session, body):
    session.queue(FakeRaw(200, body))
    with pytest.raises(ApiError, match=f"instance {GUID}"):
        discover_endpoints(sender, "https://broker.test", GUID)


def test_discovery_error_names_the_instance(sender, session):
    session.queue(FakeRaw(404, {"code": "NOT_FOUND", "message": "instance not found"}))
    with pytest.raises(ApiError) as err:
        discover_endpoints(sender, "https://broker.test", GUID)
    assert str(err.value) == f"Endpoint discovery for instance {GUID} failed: instance not found"
    assert err.value.codes == ["NOT_FOUND"]
