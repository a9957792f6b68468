# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import Connection
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError

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
    with pytest.raises(ConfigurationError, match="region is required"):
        Connection(options(region=None)).require_instance()
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
    (dict(service="kp"), "service must be one of hs_crypto, key_protect"),
])
def test_bad_service_fails_before_any_request(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        Connection(options(**overrides))


@pytest.mark.parametrize("endpoint_type,url", [
    ("public", "https://eu-de.kms.cloud.ibm.com"),
    ("private", "https://private.eu-de.kms.cloud.ibm.com"),
])
def test_key_protect_endpoint_follows_from_the_region_without_a_request(endpoint_type, url):
    connection = Connection(options(region=None, instance_id=KP_CRN, endpoint_type=endpoint_type))
    connection._sender = NoRequests()  # pylint: disable=protected-access
    assert connection.kms_url() == url
    assert not connection.discovers
    assert connection.endpoints()["ep11"] == {"public": None, "private": None}


def test_key_protect_does_not_use_a_broker_url():
    connection = Connection(options(service="key_protect", broker_url="https://broker.example.test"))
    connection._sender = NoRequests()  # pylint: disable=protected-access
    assert connection.kms_url() == "https://us-south.kms.cloud.ibm.com"


def test_key_protect_needs_a_region_or_an_endpoint():
    with pytest.raises(ConfigurationError, match="region is required to derive the endpoint"):
        Connection(options(region=None, service="key_protect")).require_instance()
    given = Connection(options(region=None, service="key_protect", endpoint="https://kp.example.test"))
    given.require_instance()
    assert given.kms_url() == "https://kp.example.test" and not given.discovers


@pytest.mark.parametrize("overrides", [dict(region="ca-mon"), dict(region="in-che", service="hs_crypto"),
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
