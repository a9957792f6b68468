# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import (
    AuthorizedSender, KmsClient, envelope, error_from_response)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import TokenProvider
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import Response
from ansible_collections.ibm.hs_crypto.tests.unit.fakes import FakeRaw, make_jwt, token_answer

INSTANCE = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
API_KEY = "test-api-key-0123456789abcdef"
KEY_ENVELOPE = "application/vnd.ibm.kms.key+json"


def page(items):
    return FakeRaw(200, envelope(KEY_ENVELOPE, items))


def kms_error(status, code, msg, reason_msg):
    return FakeRaw(status, {"metadata": {"collectionType": "application/vnd.ibm.kms.error+json", "collectionTotal": 1},
                            "resources": [{"errorMsg": msg, "reasons": [
                                {"code": code, "message": reason_msg, "status": status,
                                 "moreInfo": "https://cloud.ibm.com/apidocs/key-protect",
                                 "target": {"type": "field", "name": "name"}}]}]},
                   headers={"Correlation-Id": "echoed-correlation-id"})


@pytest.fixture
def client(transport, session):
    tokens = TokenProvider(transport, iam_token=make_jwt(), api_key=API_KEY)
    return KmsClient(AuthorizedSender(transport, tokens), "https://kms.example.test:8443/", INSTANCE)


def test_headers_and_url(client, session):
    session.queue(page([{"id": "k1"}]))
    result = client.request("GET", "keys", key_ring="ring-a", params={"state": "1"})
    call = session.calls[0]
    assert call["url"] == "https://kms.example.test:8443/api/v2/keys"
    headers = call["headers"]
    assert headers["Authorization"].startswith("Bearer ey")
    assert headers["Bluemix-Instance"] == INSTANCE
    assert headers["Accept"] == "application/json"
    assert headers["X-Kms-Key-Ring"] == "ring-a"
    assert "Content-Type" not in headers
    assert result.resource == {"id": "k1"}
    assert result.correlation_id == headers["Correlation-Id"] == client.last_correlation_id


def test_body_is_sent_as_json_with_prefer(client, session):
    session.queue(FakeRaw(201, envelope(KEY_ENVELOPE, [{"id": "new"}])))
    body = envelope(KEY_ENVELOPE, [{"name": "k", "extractable": False}])
    result = client.request("POST", "keys", body=body, prefer="return=representation")
    call = session.calls[0]
    assert call["json"] == body and call["headers"]["Prefer"] == "return=representation"
    assert call["headers"]["Content-Type"] == "application/json"
    assert result.status == 201 and result.resource["id"] == "new"


def test_error_envelope_maps_to_api_error(client, session):
    session.queue(kms_error(404, "KEY_NOT_FOUND_ERR",
                            "Not Found: Key could not be retrieved: Please see 'reasons' for more details (KEY_NOT_FOUND_ERR)",
                            "Key does not exist"))
    with pytest.raises(ApiError) as err:
        client.request("GET", "keys/missing", context="Reading key missing")
    exc = err.value
    assert exc.status == 404 and exc.is_not_found and exc.codes == ["KEY_NOT_FOUND_ERR"]
    assert exc.correlation_id == "echoed-correlation-id"
    assert str(exc).startswith("Reading key missing: Not Found: Key could not be retrieved")
    assert exc.reasons[0]["target"] == {"type": "field", "name": "name"}
    assert exc.reasons[0]["status"] == 404


@pytest.mark.parametrize("body,expected", [
    ({"metadata": {}, "resources": [{"errorMsg": "Unauthorized: The user does not have access"}]}, "Unauthorized: The user"),
    ({"message": "instance not found", "code": "NOT_FOUND"}, "instance not found"),
    ({"errorMessage": "bad", "errorCode": "BXNIM1"}, "bad"),
    (b"<html>502 Bad Gateway</html>", "HTTP 418"),
    (b"", "HTTP 418"),
    ([1, 2, 3], "HTTP 418"),
    ({"resources": "not-a-list"}, "HTTP 418"),
    ({"resources": [None]}, "HTTP 418"),
    ({"resources": [{"errorMsg": "x", "reasons": "nope"}]}, "x"),
    ({"resources": [{"errorMsg": "x", "reasons": [1, {"code": 5, "message": None, "target": "t"}]}]}, "x"),
])
def test_error_parsing_never_breaks_on_odd_bodies(body, expected):
    raw = FakeRaw(418, body)
    response = Response(418, raw.headers, raw.content, "cid", "GET", "https://x/api/v2/keys")
    exc = error_from_response(response)
    assert isinstance(exc, ApiError) and str(exc).startswith(expected) and exc.status == 418
    assert exc.correlation_id == "cid"
    assert all(isinstance(code, str) for code in exc.codes)


def test_service_message_echoing_a_secret_is_redacted(client, session):
    token = client.sender.tokens.token().access_token
    session.queue(kms_error(400, "BAD_BODY_ERR", f"Bad Request: echo {token} / {API_KEY}", f"req had {token}"))
    with pytest.raises(ApiError) as err:
        client.request("GET", "keys")
    text = str(err.value) + repr(err.value.to_dict())
    assert token not in text and API_KEY not in text and "********" in text


def test_401_refreshes_the_token_once_and_resends(client, session):
    stale = client.sender.tokens.token().access_token
    session.queue(FakeRaw(401, {"resources": [{"errorMsg": "Unauthorized"}]}), token_answer(), FakeRaw(201, envelope(KEY_ENVELOPE, [{"id": "k"}])))
    result = client.request("POST", "keys", body=envelope(KEY_ENVELOPE, [{}]))
    assert result.status == 201
    kms_calls = [c for c in session.calls if "/api/v2/" in c["url"]]
    assert kms_calls[0]["headers"]["Authorization"] == "Bearer " + stale
    assert kms_calls[1]["headers"]["Authorization"] != "Bearer " + stale
    assert kms_calls[0]["headers"]["Correlation-Id"] != kms_calls[1]["headers"]["Correlation-Id"]


def test_second_401_is_reported_not_looped(client, session):
    session.queue(FakeRaw(401, {"resources": [{"errorMsg": "Unauthorized: no access"}]}), token_answer(),
                  FakeRaw(401, {"resources": [{"errorMsg": "Unauthorized: no access"}]}))
    with pytest.raises(ApiError) as err:
        client.request("GET", "keys")
    assert err.value.status == 401 and len(session.calls) == 3


def test_401_without_api_key_is_reported(transport, session):
    client = KmsClient(AuthorizedSender(transport, TokenProvider(transport, iam_token=make_jwt())), "https://k", INSTANCE)
    session.queue(FakeRaw(401, {"resources": [{"errorMsg": "Unauthorized"}]}))
    with pytest.raises(ApiError):
        client.request("GET", "keys")
    assert len(session.calls) == 1


def test_list_all_reads_every_page(client, session):
    session.queue(page([{"id": "a"}, {"id": "b"}]), page([{"id": "c"}, {"id": "d"}]), page([{"id": "e"}]))
    items = client.list_all("keys", params={"state": "1,2,3"}, page_size=2)
    assert [i["id"] for i in items] == ["a", "b", "c", "d", "e"]
    assert [(c["params"]["offset"], c["params"]["limit"]) for c in session.calls] == [(0, 2), (2, 2), (4, 2)]
    assert all(c["params"]["state"] == "1,2,3" for c in session.calls)


def test_list_all_stops_on_an_empty_page_after_a_full_one(client, session):
    session.queue(page([{"id": "a"}, {"id": "b"}]), page([]))
    assert len(client.list_all("keys", page_size=2)) == 2


def test_list_all_uses_the_largest_page_by_default(client, session):
    session.queue(page([]))
    client.list_all("keys")
    assert session.calls[0]["params"]["limit"] == 5000
