# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import Connection
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import Response

GUID = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"


def options(**overrides):
    base = dict(instance_id=GUID, region="us-south", endpoint=None, endpoint_type="public", api_key="k" * 20,
                iam_token=None, iam_url=None, broker_url=None, validate_certs=True, ca_path=None, timeout=30.0, retries=4)
    base.update(overrides)
    return base


@pytest.mark.parametrize("overrides,message", [
    (dict(timeout=0), "timeout must be greater than 0"),
    (dict(timeout=4000), "at most 3600"),
    (dict(retries=-1), "retries must be between 0 and 10"),
    (dict(retries=11), "retries must be between 0 and 10"),
    (dict(endpoint="ftp://x"), "endpoint must be a URL"),
    (dict(endpoint="api.example.test"), "endpoint must be a URL"),
    (dict(endpoint="http://api.example.test"), "endpoint must use https://"),
    (dict(iam_url="http://iam.example.test"), "iam_url must use https://"),
    (dict(broker_url="https://user:pw@broker.test"), "broker_url must not contain credentials"),
    (dict(region="mars-1"), "region 'mars-1' is not a known"),
    (dict(instance_id="nope"), "instance_id must be an instance GUID"),
    (dict(ca_path="/nonexistent/ca.pem"), "ca_path '/nonexistent/ca.pem' is not a readable file"),
    (dict(instance_id=f"crn:v1:bluemix:public:hs-crypto:eu-de:a/x:{GUID}::", region="us-south"), "conflicts"),
])
def test_bad_options_fail_before_any_request(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        Connection(options(**overrides))


def test_http_is_accepted_for_loopback_only():
    for url in ("http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"):
        Connection(options(endpoint=url))


def test_endpoint_with_api_v2_suffix_is_trimmed():
    connection = Connection(options(endpoint="https://api.example.test:8800/api/v2/"))
    assert connection.kms_url() == "https://api.example.test:8800"


def test_region_from_crn_and_requirements():
    connection = Connection(options(region=None, instance_id=f"crn:v1:bluemix:public:hs-crypto:eu-de:a/x:{GUID}::"))
    assert connection.region == "eu-de"
    assert connection.broker_url == "https://eu-de.broker.hs-crypto.cloud.ibm.com"
    with pytest.raises(ConfigurationError, match="instance_id is required"):
        Connection(options(instance_id=None)).require_instance()
    Connection(options(region=None)).require_instance()  # no region: the Resource Controller knows it (issue 12)
    with pytest.raises(ConfigurationError, match="api_key is required"):
        Connection(options(api_key=None, iam_token="t")).require_api_key()


def test_nothing_is_built_until_needed():
    connection = Connection(options(endpoint="https://api.example.test"))
    assert connection.tokens_seen() == [] and connection._transport is None  # pylint: disable=protected-access
    assert connection.correlation_id is None


def test_secrets_are_known_to_the_redactor():
    connection = Connection(options(api_key="super-secret-key", iam_token="super-secret-token"))
    assert connection.redact("a super-secret-key b super-secret-token") == "a ******** b ********"


KP_CRN = f"crn:v1:bluemix:public:kms:eu-de:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:{GUID}::"
HPCS_CRN = f"crn:v1:bluemix:public:hs-crypto:eu-de:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:{GUID}::"


class NoRequests:
    """A sender that fails the test if anything is sent."""

    def __getattr__(self, name):
        raise AssertionError(f"a request was attempted ({name})")


@pytest.mark.parametrize("overrides,service", [
    (dict(), "hs_crypto"),
    (dict(service="key_protect"), "key_protect"),
    (dict(service="kms"), "key_protect"), (dict(service="Key-Protect"), "key_protect"), (dict(service="hpcs"), "hs_crypto"),
    (dict(region=None, instance_id=KP_CRN), "key_protect"),
    (dict(region=None, instance_id=HPCS_CRN), "hs_crypto"),
    (dict(region=None, instance_id=KP_CRN, service="key_protect"), "key_protect"),
])
def test_service_is_given_or_named_by_the_crn(overrides, service):
    assert Connection(options(**overrides)).service == service


@pytest.mark.parametrize("overrides,message", [
    (dict(region=None, instance_id=KP_CRN, service="hs_crypto"),
     "service hs_crypto conflicts with the instance_id CRN, which names the service kms"),
    (dict(region=None, instance_id=HPCS_CRN, service="key_protect"),
     "service key_protect conflicts with the instance_id CRN, which names the service hs-crypto"),
    (dict(service="vault"), "service must name HPCS .* or Key Protect"),
])
def test_bad_service_fails_before_any_request(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        Connection(options(**overrides))


class FakeSender:
    """Answers the Resource Controller and the broker from a table: {url suffix: (status, body)}; records what was asked."""

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    @staticmethod
    def redact(text):
        return text

    def send(self, method, url, headers=None, **kwargs):
        self.asked.append(url)
        for suffix, (status, body) in self.answers.items():
            if url.endswith(suffix):
                return Response(status, {}, json.dumps(body).encode(), "cid-1", method, url)
        raise AssertionError(f"unexpected request {url}")


RC = "https://resource-controller.cloud.ibm.com/v2/resource_instances/" + GUID
BROKER = "/crypto_v2/instances/" + GUID


def record(service="kms", region="eu-de", endpoints=None, parameters=None, plan_id="eedd3585-90c6-4c8f-be3d-062069e99fc3"):
    raw = {"crn": f"crn:v1:bluemix:public:{service}:{region}:a/acct:{GUID}::", "guid": GUID, "name": "inst", "region_id": region,
           "resource_plan_id": plan_id, "parameters": parameters or {}}
    if endpoints is not None:
        raw["extensions"] = {"endpoints": endpoints}
    return raw


def connected(answers, **overrides):
    connection = Connection(options(**overrides))
    connection._sender = FakeSender(answers)  # pylint: disable=protected-access
    return connection


KP_ENDPOINTS = {"public": "https://eu-de.kms.cloud.ibm.com", "private": "https://private.eu-de.kms.cloud.ibm.com"}
DEDICATED_ENDPOINTS = {"public": f"https://{GUID}.api.us-east.kms.appdomain.cloud",
                       "private": f"https://{GUID}.api.private.us-east.kms.appdomain.cloud"}


@pytest.mark.parametrize("endpoint_type", ["public", "private"])
def test_key_protect_endpoint_comes_from_the_resource_controller(endpoint_type):
    connection = connected({RC: (200, record(endpoints=KP_ENDPOINTS))}, region=None, instance_id=KP_CRN, endpoint_type=endpoint_type)
    assert connection.kms_url() == KP_ENDPOINTS[endpoint_type]
    assert connection.source == "resource_controller" and connection.plan == "tiered-pricing" and connection.discovers
    assert connection.endpoints()["ep11"] == {"public": None, "private": None}
    assert connection.sender.asked == [RC]  # one request, cached


@pytest.mark.parametrize("rec", [record(region="us-east", endpoints=DEDICATED_ENDPOINTS, plan_id="x"),
                                 record(region="us-east", endpoints={"public": "https://127.0.0.1:1", "private": None},
                                        parameters={"crypto_units": 2}, plan_id="y")], ids=["by host", "by parameters"])
def test_dedicated_is_told_by_its_record(rec):
    connection = connected({RC: (200, rec)}, region=None, instance_id=GUID, service="key_protect")
    connection.kms_url()
    assert connection.plan == "dedicated" and connection.region == "us-east" and connection.known_service == "key_protect"


def test_a_bare_guid_is_found_through_the_resource_controller():
    connection = connected({RC: (200, record(endpoints=KP_ENDPOINTS))}, region=None)
    assert connection.kms_url() == KP_ENDPOINTS["public"] and connection.service == "key_protect"


def test_a_guid_the_broker_does_not_know_is_asked_of_the_resource_controller():
    connection = connected({BROKER: (404, {"code": "NOT_FOUND", "message": "no such instance"}), RC: (200, record(endpoints=KP_ENDPOINTS))},
                           region="eu-de")
    assert connection.kms_url() == KP_ENDPOINTS["public"] and connection.source == "resource_controller"


def test_an_hpcs_record_without_endpoints_falls_back_to_the_broker_of_its_region():
    broker = {"kms": {"public": "api.eu-de.hs-crypto.cloud.ibm.com:8000", "private": None}}
    connection = connected({RC: (200, record(service="hs-crypto")), "eu-de.broker.hs-crypto.cloud.ibm.com" + BROKER: (200, broker)},
                           region=None)
    assert connection.kms_url() == "https://api.eu-de.hs-crypto.cloud.ibm.com:8000" and connection.source == "broker"


def test_key_protect_without_resource_controller_access_uses_the_region_with_a_warning():
    denied = {"error_code": "RC-IamAuthorizationFailed", "message": "not authorized", "status_code": 403}
    connection = connected({RC: (403, denied)}, service="key_protect", region="eu-de")
    assert connection.kms_url() == "https://eu-de.kms.cloud.ibm.com" and connection.source == "region"
    assert "Dedicated" in connection.warnings[0] and "Viewer" in connection.warnings[0]
    without_region = connected({RC: (403, denied)}, service="key_protect", region=None)
    with pytest.raises(ApiError) as err:
        without_region.kms_url()
    assert "Viewer role" in str(err.value) and "give endpoint" in str(err.value)


def test_an_instance_the_resource_controller_does_not_know():
    connection = connected({RC: (404, {"error_code": "RC-ResourceInstanceNotFound", "message": "not found", "status_code": 404})},
                           region=None)
    with pytest.raises(ApiError, match="knows no instance .* in the account of this identity"):
        connection.kms_url()


def test_a_record_that_contradicts_the_options():
    with pytest.raises(ConfigurationError, match="conflicts with the Resource Controller"):
        connected({RC: (200, record(service="hs-crypto", endpoints=KP_ENDPOINTS))}, region=None, service="key_protect").kms_url()
    with pytest.raises(ConfigurationError, match="region us-south conflicts with the Resource Controller"):
        connected({RC: (200, record(endpoints=KP_ENDPOINTS))}, region="us-south", service="key_protect").kms_url()


def test_a_dedicated_record_without_endpoints_needs_an_endpoint():
    rec = record(region="us-east", parameters={"crypto_units": 3})
    with pytest.raises(ConfigurationError, match="holds no endpoints"):
        connected({RC: (200, rec)}, region=None, service="key_protect").kms_url()


def test_key_protect_does_not_use_a_broker_url():
    connection = connected({RC: (200, record(region="us-south", endpoints={"public": "https://us-south.kms.cloud.ibm.com"}))},
                           service="key_protect", broker_url="https://broker.example.test")
    assert connection.kms_url() == "https://us-south.kms.cloud.ibm.com" and connection.sender.asked == [RC]


def test_key_protect_with_an_endpoint_asks_nothing():
    given = Connection(options(region=None, service="key_protect", endpoint="https://kp.example.test"))
    given._sender = NoRequests()  # pylint: disable=protected-access
    given.require_instance()
    assert given.kms_url() == "https://kp.example.test" and not given.discovers


@pytest.mark.parametrize("overrides", [dict(region="in-che", service="hs_crypto"),
                                       dict(region=None, instance_id=f"crn:v1:bluemix:public:hs-crypto:jp-osa:a/x:{GUID}::")])
def test_hpcs_in_a_key_protect_only_region_is_refused_before_any_request(overrides):
    connection = Connection(options(**overrides))
    with pytest.raises(ConfigurationError, match="Hyper Protect Crypto Services is not offered in region .*set service: key_protect"):
        connection.kms_url()
    assert connection._transport is None  # pylint: disable=protected-access


@pytest.mark.parametrize("overrides", [dict(region="ca-mon", service="key_protect"), dict(region="ca-mon", endpoint="https://kms.example.test"),
                                       dict(region="ca-mon", broker_url="https://broker.example.test")])
def test_key_protect_only_region_is_fine_for_key_protect_a_given_endpoint_or_broker(overrides):
    Connection(options(**overrides)).require_instance()


def test_a_guid_in_a_key_protect_only_region_is_asked_of_the_resource_controller():
    connection = connected({RC: (200, record(region="ca-mon", endpoints={"public": "https://ca-mon.kms.cloud.ibm.com"}))}, region="ca-mon")
    assert connection.route == "resource_controller" and connection.kms_url() == "https://ca-mon.kms.cloud.ibm.com"
