# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based tests of the client's response parsing: whatever a server (or a proxy in front of it) answers.

Malformed JSON, wrong envelopes, missing fields and wrong types must end in a result or in one of the
collection's typed errors (``HsCryptoError`` subclasses), never in another exception that would reach the user
as a traceback, and never with a secret in a message. Inputs that once found a bug (docs/security.md, "Findings")
stay as explicit ``@example``s.
"""

import base64
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import (
    AuthorizedSender, KmsClient, KmsResult, error_from_response)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._discovery import discover_endpoints
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, HsCryptoError, Redactor
from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import IamToken, TokenProvider, decode_jwt_claims
from ansible_collections.ibm.hs_crypto.plugins.module_utils._import_token import public_key_pem, token_result
from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import policies_result, read_policies
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_info import KeyQuery, read_keys
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_rings import ring_result
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import KEY_FIELDS, key_result, managed_view
from ansible_collections.ibm.hs_crypto.plugins.module_utils._registrations import registration_result
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import (
    Response, RetryPolicy, Transport, parse_retry_after)
from ansible_collections.ibm.hs_crypto.tests.unit.fakes import CaseInsensitive, FakeRaw, FakeSession, make_jwt

# Deterministic (the suite must not be flaky) and modest (the suite must stay fast); no example database on disk.
FUZZ = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SECRET = "hsc-fuzz-secret-4f1c9a"  # what a server may echo back: it must never come out of the parser
INSTANCE = "8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b"
URL = "https://kms.example.test/api/v2/keys"

# -- strategies -------------------------------------------------------------------------------------------------------
text = st.text(max_size=16)
secretish = st.one_of(text, text.map(lambda t: t + SECRET), text.map(lambda t: f"{t} {SECRET} {t}"))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=True, allow_infinity=False),
                    secretish)
json_values = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=4),
                                                               st.dictionaries(text, children, max_size=4)), max_leaves=12)
EXTRA_KEY_NAMES = ["state", "aliases", "keyVersion", "rotation", "dualAuthDelete", "payload", "type", "keyRingID"]
KEY_NAMES = sorted(set([camel for camel, dummy in KEY_FIELDS] + EXTRA_KEY_NAMES))
key_like = st.dictionaries(st.one_of(st.sampled_from(KEY_NAMES), text), json_values, max_size=8)
metadata = st.one_of(json_values, st.fixed_dictionaries({}, optional={"collectionType": json_values, "collectionTotal": json_values}))
envelopes = st.fixed_dictionaries({}, optional={"metadata": metadata,
                                                "resources": st.one_of(st.lists(st.one_of(key_like, json_values), max_size=4),
                                                                       json_values)})
target_like = st.one_of(json_values, st.fixed_dictionaries({}, optional={"type": json_values, "name": json_values}))
reason_like = st.fixed_dictionaries({}, optional={"code": json_values, "message": json_values, "status": json_values,
                                                  "moreInfo": json_values, "target": target_like})
error_resource = st.fixed_dictionaries({}, optional={"errorMsg": json_values,
                                                     "reasons": st.one_of(json_values, st.lists(reason_like, max_size=3))})
error_like = st.one_of(
    st.fixed_dictionaries({}, optional={"metadata": metadata,
                                        "resources": st.one_of(json_values, st.lists(st.one_of(error_resource, json_values), max_size=3))}),
    st.fixed_dictionaries({}, optional={"errorCode": json_values, "errorMessage": json_values, "context": json_values,
                                        "message": json_values, "error": json_values, "description": json_values,
                                        "code": json_values, "errorMsg": json_values}),
    json_values)


def dump(value):
    return json.dumps(value).encode("utf-8")


RAW_BODIES = [b"", b"<html><body><h1>502 Bad Gateway</h1></body></html>", b"{", b'{"resources": [', b"\xff\xfe\x00",
              b"null", b"[]", b'{"resources": null}', b'"resources"', b"NaN", b"\xef\xbb\xbf{}"]


def bodies(shapes):
    return st.one_of(shapes.map(dump), json_values.map(dump), st.binary(max_size=48),
                     st.text(max_size=48).map(lambda t: t.encode("utf-8")), st.sampled_from(RAW_BODIES))


def response(status, body, headers=None):
    return Response(status, CaseInsensitive(headers or {}), body, "local-correlation-id", "GET", URL)


def transport_for(session):
    return Transport(session=session, sleep=lambda seconds: None, retry_policy=RetryPolicy(retries=0))


def kms_for(session):
    transport = transport_for(session)
    tokens = TokenProvider(transport, iam_token=make_jwt())
    return KmsClient(AuthorizedSender(transport, tokens), "https://kms.example.test", INSTANCE)


# -- error answers ----------------------------------------------------------------------------------------------------
@FUZZ
@given(status=st.integers(100, 599), body=bodies(error_like), correlation_id=st.one_of(st.none(), text))
def test_error_from_response_always_builds_an_api_error_without_secrets(status, body, correlation_id):
    headers = {"Correlation-Id": correlation_id} if correlation_id else {}
    error = error_from_response(response(status, body, headers), redact=Redactor([SECRET]), context="Listing keys")
    assert isinstance(error, ApiError) and error.status == status
    message = str(error)
    assert message.startswith("Listing keys: ") and len(message) <= 1100
    assert SECRET not in message
    assert all(isinstance(code, str) for code in error.codes)
    json.dumps(error.to_dict(), default=str)


@FUZZ
@given(status=st.integers(400, 599), body=bodies(error_like))
@example(status=400, body=dump({"resources": [{"errorMsg": "Bad Request", "reasons": [
    {"code": "INVALID_FIELD_ERR", "message": "m", "target": {"type": "field", "name": SECRET}}]}]}))
@example(status=400, body=dump({"resources": [{"errorMsg": "Bad Request", "reasons": [{"code": SECRET, "message": "m"}]}]}))
def test_error_details_never_carry_secrets(status, body):
    error = error_from_response(response(status, body), redact=Redactor([SECRET]), context="Listing keys")
    assert SECRET not in json.dumps(error.to_dict(), default=str)


# -- successful answers -----------------------------------------------------------------------------------------------
@FUZZ
@given(status=st.sampled_from([200, 201, 204]), body=bodies(envelopes))
def test_kms_result_resources_are_a_list_or_a_typed_error(status, body):
    try:
        result = KmsResult(response(status, body))
        resources = result.resources
        first = result.resource
    except HsCryptoError:
        return
    assert isinstance(resources, list)
    assert first is None or first is resources[0]


def pages_session(pages):
    """A session that answers the scripted pages, then an empty page (so a listing always ends)."""
    answers = [FakeRaw(status, body) for status, body in pages]

    def next_page(call):  # pylint: disable=unused-argument
        return answers.pop(0) if answers else FakeRaw(200, {"resources": []})

    return FakeSession([next_page] * (len(pages) + 1))


page_answers = st.lists(st.tuples(st.sampled_from([200, 200, 200, 400, 404, 500]), bodies(envelopes)), max_size=4)


@FUZZ
@given(pages=page_answers)
def test_list_all_over_malformed_pages_returns_a_list_or_a_typed_error(pages):
    session = pages_session(pages)
    try:
        items = kms_for(session).list_all("keys", page_size=2)
    except HsCryptoError:
        return
    assert isinstance(items, list)
    assert len(session.calls) <= len(pages) + 1


@FUZZ
@given(pages=page_answers)
@example(pages=[(200, dump({"resources": [None, "x", 3]}))])
@example(pages=[(200, dump({"resources": [{"id": "k", "name": "n", "aliases": 7, "state": 1}]}))])
@example(pages=[(200, dump({"resources": [{"id": "k", "name": "n", "aliases": [], "state": [1]}]}))])
def test_read_keys_over_malformed_pages_returns_results_or_a_typed_error(pages):
    try:
        results = read_keys(kms_for(pages_session(pages)), KeyQuery())
    except HsCryptoError:
        return
    assert all(isinstance(result, dict) for result in results)


@FUZZ
@given(raw=key_like)
@example(raw={"aliases": 7})
@example(raw={"state": [1]})
@example(raw={"aliases": [1, "a"]})
def test_key_result_and_managed_view_accept_any_object(raw):
    assert isinstance(key_result(raw), dict)
    assert isinstance(managed_view(raw), dict)


@FUZZ
@given(raw=st.dictionaries(text, json_values, max_size=8))
def test_other_result_converters_accept_any_object(raw):
    assert isinstance(registration_result(raw), dict)
    assert isinstance(ring_result(raw), dict)
    assert isinstance(token_result(raw), dict)
    pem = public_key_pem(raw.get("payload") if isinstance(raw.get("payload"), str) else None)
    assert pem is None or isinstance(pem, str)


@FUZZ
@given(status=st.sampled_from([200, 200, 401, 500]), body=bodies(envelopes))
@example(status=200, body=dump({"resources": [None]}))
@example(status=200, body=dump({"resources": [{"policy_type": ["metrics"]}]}))
def test_instance_policies_over_malformed_answers(status, body):
    try:
        records = read_policies(kms_for(FakeSession([FakeRaw(status, body)])))
    except HsCryptoError:
        return
    assert isinstance(policies_result(records), dict)


# -- endpoint discovery -----------------------------------------------------------------------------------------------
endpoint_values = st.one_of(json_values, st.sampled_from(["http://evil.example.com", "HTTP://evil.example.com:80", "ftp://x",
                                                          "kms.example.test:443", " ", "https://ok.example.test/"]))
broker_like = st.fixed_dictionaries({}, optional=dict(
    (service, st.one_of(json_values, st.fixed_dictionaries({}, optional={"public": endpoint_values, "private": endpoint_values})))
    for service in ("kms", "ep11", "uko", "instance_id")))


@FUZZ
@given(status=st.sampled_from([200, 200, 200, 403, 404, 500]), body=bodies(broker_like))
def test_discovery_never_raises_untyped_and_never_downgrades(status, body):
    transport = transport_for(FakeSession([FakeRaw(status, body)]))
    sender = AuthorizedSender(transport, TokenProvider(transport, iam_token=make_jwt()))
    try:
        endpoints, dummy = discover_endpoints(sender, "https://broker.example.test", INSTANCE)
    except HsCryptoError:
        return
    urls = [url for service in endpoints.values() for url in service.values() if url is not None]
    assert urls and all(url.startswith("https://") for url in urls)


# -- IAM --------------------------------------------------------------------------------------------------------------
iam_like = st.fixed_dictionaries({}, optional={"access_token": st.one_of(json_values, st.just(make_jwt())), "expires_in": json_values,
                                               "expiration": json_values, "token_type": json_values, "refresh_token": json_values,
                                               "errorCode": json_values, "errorMessage": json_values, "context": json_values})


def iam_provider(session):
    return TokenProvider(transport_for(session), api_key=SECRET, iam_url="https://iam.example.test", redactor=Redactor())


@FUZZ
@given(status=st.sampled_from([200, 200, 200, 400, 401, 500]), body=bodies(iam_like))
def test_iam_answers_give_a_token_or_a_typed_error(status, body):
    try:
        token = iam_provider(FakeSession([FakeRaw(status, body)])).request_token()
    except HsCryptoError:
        return
    assert isinstance(token.access_token, str) and token.access_token
    assert token.needs_refresh(0) in (True, False) and isinstance(token.identity, dict)


@FUZZ
@given(status=st.sampled_from([400, 401, 500]), body=iam_like)
@example(status=400, body={"errorCode": SECRET, "errorMessage": "Provided API key could not be found"})
def test_iam_errors_never_carry_the_api_key(status, body):
    try:
        iam_provider(FakeSession([FakeRaw(status, dump(body))])).request_token()
    except HsCryptoError as exc:
        assert SECRET not in str(exc) and SECRET not in json.dumps(exc.to_dict(), default=str)


@FUZZ
@given(body=iam_like)
@example(body={"access_token": "a.b.c", "expiration": float("inf")})
def test_iam_answer_with_infinite_numbers(body):
    try:
        iam_provider(FakeSession([FakeRaw(200, dump(body))])).request_token()
    except HsCryptoError:
        pass


def jwt_with(claims):
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode("utf-8")).decode("ascii").rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{encoded}.c2ln"


CLAIM_NAMES = st.one_of(st.sampled_from(["exp", "iat", "iam_id", "sub", "account"]), text)


@FUZZ
@given(token=st.one_of(st.text(max_size=80), st.dictionaries(CLAIM_NAMES, json_values, max_size=6).map(jwt_with)))
def test_any_given_token_is_usable_or_refused_cleanly(token):
    claims = decode_jwt_claims(token)
    assert isinstance(claims, dict)
    parsed = IamToken(token)
    assert parsed.needs_refresh(0) in (True, False) and parsed.expired(0) in (True, False)
    assert isinstance(parsed.identity, dict)


@FUZZ
@given(exp=st.floats(allow_nan=False))
@example(exp=float("inf"))
def test_a_token_with_an_infinite_expiry(exp):
    IamToken(jwt_with({"exp": exp}))


# -- transport --------------------------------------------------------------------------------------------------------
RETRY_AFTER_SAMPLES = ["120", "0", "-1", "1e9", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 +2359", "\u0661\u0662"]


@FUZZ
@given(value=st.one_of(st.none(), st.text(alphabet=st.characters(max_codepoint=127), max_size=40), st.sampled_from(RETRY_AFTER_SAMPLES)))
def test_retry_after_is_a_non_negative_number_or_none(value):
    seconds = parse_retry_after(value, now=1.7e9)
    assert seconds is None or seconds >= 0


@FUZZ
@given(value=st.text(alphabet=st.characters(min_codepoint=128, max_codepoint=255), max_size=8))
@example(value="\u00b2")
def test_retry_after_with_latin1_header_bytes(value):
    seconds = parse_retry_after(value, now=1.7e9)
    assert seconds is None or seconds >= 0


@FUZZ
@given(answers=st.lists(st.tuples(st.integers(100, 599), st.one_of(st.none(), st.text(max_size=12))), min_size=1, max_size=4))
def test_transport_retries_end_with_an_answer_and_bounded_waits(answers):
    raws = [FakeRaw(status, b"{}", {"Retry-After": retry_after} if retry_after is not None else {}) for status, retry_after in answers]
    waits = []
    transport = Transport(session=FakeSession(raws + [FakeRaw(200, b"{}")] * 8), sleep=waits.append,
                          retry_policy=RetryPolicy(retries=len(raws)))
    answer = transport.send("GET", URL)
    assert 100 <= answer.status <= 599
    assert all(0 <= wait <= 61 for wait in waits)


@FUZZ
@given(body=st.one_of(st.binary(max_size=64), st.sampled_from(RAW_BODIES)))
def test_response_json_never_raises(body):
    parsed = response(200, body).json()
    assert parsed is None or isinstance(parsed, (dict, list, str, int, float, bool))


@FUZZ
@given(depth=st.integers(1, 10))
@example(depth=200000)
def test_response_json_survives_deep_nesting(depth):
    response(200, b"[" * depth + b"]" * depth).json()
