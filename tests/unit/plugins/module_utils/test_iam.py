# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import time
from urllib.parse import parse_qs

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, IamError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import (
    GRANT_TYPE_API_KEY, IamToken, TokenProvider, decode_jwt_claims, strip_bearer)
from ansible_collections.ibm.hs_crypto.tests.unit.fakes import FakeRaw, make_jwt, token_answer

API_KEY = "test-api-key-0123456789abcdef"


def test_api_key_is_exchanged_form_encoded(transport, session):
    session.queue(token_answer())
    provider = TokenProvider(transport, api_key=API_KEY, iam_url="https://iam.example.test/")
    token = provider.token()
    call = session.calls[0]
    assert call["method"] == "POST" and call["url"] == "https://iam.example.test/identity/token"
    assert call["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert call["data"] == {"grant_type": GRANT_TYPE_API_KEY, "apikey": API_KEY}
    assert token.identity["iam_id"] == "IBMid-test"
    assert provider.authorization() == "Bearer " + token.access_token
    assert len(session.calls) == 1  # cached


def test_token_is_renewed_near_expiry(transport, session):
    soon = int(time.time()) + 30
    session.queue(token_answer(make_jwt(exp=soon, iat=soon - 3600), expiration=soon), token_answer())
    provider = TokenProvider(transport, api_key=API_KEY)
    first = provider.token()
    second = provider.token()
    assert first.access_token != second.access_token and len(session.calls) == 2


def test_given_token_is_used_without_asking_iam(transport, session):
    token = make_jwt()
    provider = TokenProvider(transport, iam_token="Bearer " + token)
    assert provider.authorization() == "Bearer " + token
    assert session.calls == []


def test_given_expired_token_is_replaced_when_an_api_key_is_there(transport, session):
    session.queue(token_answer())
    expired = make_jwt(exp=int(time.time()) - 10, iat=int(time.time()) - 3610)
    provider = TokenProvider(transport, api_key=API_KEY, iam_token=expired)
    assert provider.token().access_token != expired
    assert len(session.calls) == 1


def test_expired_token_without_api_key_cannot_be_refreshed(transport):
    provider = TokenProvider(transport, iam_token=make_jwt(exp=1, iat=0))
    with pytest.raises(ConfigurationError, match="no api_key"):
        provider.refresh()


def test_given_expired_token_without_api_key_is_refused_before_any_request(transport, session):
    provider = TokenProvider(transport, iam_token=make_jwt(exp=1000, iat=0))
    with pytest.raises(ConfigurationError, match=r"^iam_token expired at 1970-01-01T00:16:40Z \(its exp claim\), and no api_key was given"):
        provider.authorization()
    assert session.calls == []


@pytest.mark.parametrize("token", ["opaque-token", "x.y.z", "Bearer eyJub3QiOiJhIGp3dCJ9", "a.W1sxXV0.b"])
def test_given_non_jwt_without_api_key_is_refused_before_any_request(transport, session, token):
    provider = TokenProvider(transport, iam_token=token)
    with pytest.raises(ConfigurationError, match="^iam_token is not an IAM access token .*no api_key was given") as err:
        provider.authorization()
    assert strip_bearer(token) not in str(err.value)
    assert session.calls == []


def test_given_token_without_expiry_claim_is_used(transport, session):
    header, dummy, signature = make_jwt().split(".")
    token = f"{header}.eyJpYW1faWQiOiJJQk1pZC14In0.{signature}"  # claims {"iam_id": "IBMid-x"}: no exp
    assert TokenProvider(transport, iam_token=token).authorization() == "Bearer " + token


def test_nothing_to_authenticate_with(transport):
    with pytest.raises(ConfigurationError, match="api_key or iam_token"):
        TokenProvider(transport)


def test_bad_api_key_error_is_iam_shaped_and_secret_free(transport, session):
    session.queue(FakeRaw(400, {"errorCode": "BXNIM0415E", "errorMessage": f"Provided API key could not be found: {API_KEY}",
                                "context": {"requestId": "req-123"}}))
    provider = TokenProvider(transport, api_key=API_KEY)
    with pytest.raises(IamError) as err:
        provider.token()
    assert err.value.status == 400 and err.value.codes == ["BXNIM0415E"]
    assert err.value.correlation_id == "req-123"
    assert "Provided API key could not be found" in str(err.value)
    assert API_KEY not in str(err.value) and API_KEY not in repr(err.value.to_dict())


@pytest.mark.parametrize("body", [b"", b"<html>oops</html>", {"token_type": "Bearer"}, [1, 2], {"access_token": 5}])
def test_malformed_iam_answers_fail_cleanly(transport, session, body):
    session.queue(FakeRaw(200, body))
    with pytest.raises(IamError, match="without an access token"):
        TokenProvider(transport, api_key=API_KEY).token()


def test_iam_is_retried_on_5xx(transport, session):
    session.queue(FakeRaw(503), token_answer())
    assert TokenProvider(transport, api_key=API_KEY).token()
    assert len(session.calls) == 2


def test_jwt_helpers():
    token = make_jwt(exp=200, iat=100, sub="x")
    assert decode_jwt_claims(token)["sub"] == "x"
    assert decode_jwt_claims("not-a-jwt") == {}
    assert decode_jwt_claims("a.%%%.c") == {}
    assert strip_bearer("  bearer abc ") == "abc"
    assert IamToken(token).expiration == 200
    assert IamToken("opaque").needs_refresh() is False


def test_form_body_is_what_iam_expects():
    # requests form-encodes a dict; make sure the grant type survives encoding
    from requests.models import RequestEncodingMixin
    encoded = RequestEncodingMixin._encode_params({"grant_type": GRANT_TYPE_API_KEY, "apikey": "k"})
    assert parse_qs(encoded) == {"grant_type": [GRANT_TYPE_API_KEY], "apikey": ["k"]}
