# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import random

import pytest
import requests

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import TransportError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import RetryPolicy, Transport, parse_retry_after

from ansible_collections.ibm.hs_crypto.tests.unit.fakes import FakeRaw, FakeSession

URL = "https://kms.example.test/api/v2/keys"


def test_success_returns_response_with_correlation_id(transport, session):
    session.queue(FakeRaw(200, {"ok": True}))
    response = transport.send("GET", URL)
    assert response.status == 200 and response.json() == {"ok": True}
    sent = session.calls[0]["headers"]["Correlation-Id"]
    assert response.correlation_id == sent and len(sent) == 36


def test_each_logical_request_gets_a_fresh_correlation_id(transport, session):
    session.queue(FakeRaw(200), FakeRaw(200))
    first = transport.send("GET", URL).correlation_id
    second = transport.send("GET", URL).correlation_id
    assert first != second


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 599])
def test_retryable_statuses_are_retried_for_reads(transport, session, sleeps, status):
    session.queue(FakeRaw(status), FakeRaw(status), FakeRaw(200, {"n": 1}))
    response = transport.send("GET", URL)
    assert response.status == 200
    assert len(session.calls) == 3 and len(sleeps) == 2
    # The same logical request keeps its correlation id across attempts.
    assert len(set(c["headers"]["Correlation-Id"] for c in session.calls)) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422, 501])
def test_other_statuses_are_not_retried(transport, session, sleeps, status):
    session.queue(FakeRaw(status))
    assert transport.send("GET", URL).status == status
    assert len(session.calls) == 1 and sleeps == []


def test_gives_up_after_the_configured_retries_and_returns_the_last_answer(transport, session, sleeps):
    session.queue(*[FakeRaw(503) for dummy in range(4)])
    assert transport.send("GET", URL).status == 503
    assert len(session.calls) == 4 and len(sleeps) == 3


def test_retry_after_seconds_is_honoured(transport, session, sleeps):
    session.queue(FakeRaw(429, headers={"Retry-After": "7"}), FakeRaw(200))
    transport.send("GET", URL)
    assert 7 <= sleeps[0] <= 7.5


def test_retry_after_http_date_is_honoured():
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now=1767225600.0) == pytest.approx(10.0)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_retry_after_beyond_the_limit_is_not_sat_out(session, sleeps):
    transport = Transport(session=session, sleep=sleeps.append, retry_policy=RetryPolicy(retries=3, max_retry_after=60))
    session.queue(FakeRaw(429, headers={"Retry-After": "3600"}))
    assert transport.send("GET", URL).status == 429
    assert sleeps == [] and len(session.calls) == 1


def test_backoff_grows_with_jitter_and_is_capped():
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0, rng=random.Random(1))
    waits = [policy.backoff(n) for n in range(6)]
    for n, wait in enumerate(waits):
        ceiling = min(4.0, 0.5 * 2 ** n)
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) == len(waits)  # jittered, not a fixed ladder


def test_create_is_not_resent_after_a_5xx(transport, session, sleeps):
    session.queue(FakeRaw(503))
    assert transport.send("POST", URL, json_body={}).status == 503
    assert len(session.calls) == 1 and sleeps == []


def test_create_is_resent_after_429_because_the_service_refused_it(transport, session):
    session.queue(FakeRaw(429), FakeRaw(201))
    assert transport.send("POST", URL, json_body={}).status == 201
    assert len(session.calls) == 2


def test_post_marked_idempotent_is_retried_on_5xx(transport, session):
    session.queue(FakeRaw(502), FakeRaw(200))
    assert transport.send("POST", URL, json_body={}, idempotent=True).status == 200


def test_connection_errors_are_retried_for_reads(transport, session, sleeps):
    session.queue(requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected"), FakeRaw(200))
    assert transport.send("GET", URL).status == 200
    assert len(sleeps) == 1


def test_lost_answer_to_a_create_is_not_resent(transport, session):
    session.queue(requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected"))
    with pytest.raises(TransportError) as err:
        transport.send("POST", URL, json_body={})
    assert len(session.calls) == 1
    assert "POST /api/v2/keys failed after 1 attempt(s)" in str(err.value)


def test_create_is_resent_when_the_connection_was_never_opened(transport, session):
    session.queue(requests.exceptions.ConnectionError("NewConnectionError: Connection refused"), FakeRaw(201))
    assert transport.send("POST", URL, json_body={}).status == 201


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_timeout_is_a_deadline_for_the_whole_request(session, sleeps):
    """A service that never answers fails after `timeout`, not after timeout x (retries + 1)."""
    clock = FakeClock()

    def hang(call):
        clock.now += call["timeout"]  # the attempt used all the time it was given
        return requests.exceptions.ReadTimeout("read timed out")

    transport = Transport(session=session, sleep=sleeps.append, timeout=2.5, retry_policy=RetryPolicy(retries=4), clock=clock)
    session.queue(hang, hang, hang)
    with pytest.raises(TransportError) as err:
        transport.send("GET", URL)
    assert "no answer within the timeout of 2.5 s" in str(err.value)
    assert "after 1 attempt(s)" in str(err.value)
    assert session.calls[0]["timeout"] == 2.5 and len(session.calls) == 1 and sleeps == []


def test_each_attempt_gets_the_time_that_is_left(session):
    clock = FakeClock()

    def slow_503(call):
        clock.now += 1.0
        return FakeRaw(503)

    transport = Transport(session=session, sleep=lambda s: setattr(clock, "now", clock.now + s), timeout=10,
                          retry_policy=RetryPolicy(retries=4, backoff_base=0.5), clock=clock)
    session.queue(slow_503, FakeRaw(200))
    assert transport.send("GET", URL).status == 200
    assert session.calls[0]["timeout"] == 10
    assert 10 - 1.0 - 0.5 <= session.calls[1]["timeout"] <= 10 - 1.0 - 0.25


def test_no_wait_starts_that_would_end_after_the_deadline(session, sleeps):
    clock = FakeClock()
    transport = Transport(session=session, sleep=sleeps.append, timeout=5, retry_policy=RetryPolicy(retries=4), clock=clock)
    session.queue(FakeRaw(429, headers={"Retry-After": "10"}))
    assert transport.send("GET", URL).status == 429
    assert sleeps == [] and len(session.calls) == 1


def test_tls_failure_is_not_retried_and_explains_ca_path(transport, session):
    session.queue(requests.exceptions.SSLError("certificate verify failed: self-signed certificate"))
    with pytest.raises(TransportError) as err:
        transport.send("GET", URL)
    assert "ca_path" in str(err.value) and "https://kms.example.test" in str(err.value)
    assert len(session.calls) == 1


@pytest.mark.parametrize("options,verify", [({}, True), ({"validate_certs": False}, False),
                                            ({"ca_path": "/etc/ca.pem"}, "/etc/ca.pem"),
                                            ({"ca_path": "/etc/ca.pem", "validate_certs": False}, "/etc/ca.pem")])
def test_tls_settings_go_with_every_request(options, verify):
    # Per request, because requests lets REQUESTS_CA_BUNDLE override a session-level verify.
    session = FakeSession([FakeRaw(200)])
    Transport(session=session, **options).send("GET", URL)
    assert session.calls[0]["verify"] == verify


def test_ca_path_wins_over_requests_ca_bundle(monkeypatch, tmp_path):
    """With a real session: the environment's bundle must not replace ca_path."""
    import requests as real_requests
    bundle = tmp_path / "env-bundle.pem"
    bundle.write_text("not used")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    seen = {}

    class Adapter(real_requests.adapters.HTTPAdapter):
        def send(self, request, **kwargs):  # pylint: disable=arguments-differ
            seen["verify"] = kwargs.get("verify")
            response = real_requests.models.Response()
            response.status_code = 200
            response._content = b"{}"  # pylint: disable=protected-access
            return response

    session = real_requests.Session()
    session.mount("https://", Adapter())
    Transport(session=session, ca_path="/etc/own-ca.pem").send("GET", URL)
    assert seen["verify"] == "/etc/own-ca.pem"


def test_redirects_are_not_followed(transport, session):
    session.queue(FakeRaw(200))
    transport.send("GET", URL)
    assert session.calls[0]["allow_redirects"] is False


def test_user_agent_names_the_collection():
    assert Transport(session=FakeSession()).session.headers["User-Agent"].startswith("ibm.hs_crypto/")


def test_unresolvable_host_is_named_whole_without_the_library_noise(sleeps):
    host = "private.us-south.kms.cloud.ibm." + "x" * 60 + ".invalid"  # RFC 2606: never resolves, no DNS traffic leaves
    transport = Transport(sleep=sleeps.append, retry_policy=RetryPolicy(retries=0))
    with pytest.raises(TransportError) as err:
        transport.send("GET", f"https://{host}:8443/api/v2/keys?limit=1")
    message = str(err.value)
    assert message.startswith(f"GET /api/v2/keys failed after 1 attempt(s): the host name {host} could not be resolved")
    assert "reachable only from IBM Cloud's private network" in message
    assert "Pool(" not in message and "object at" not in message and not message.endswith("...")


def test_private_hosts_given_by_the_caller_get_the_hint_too(sleeps):
    transport = Transport(sleep=sleeps.append, retry_policy=RetryPolicy(retries=0))
    transport.private_hosts.add("kms.example.invalid")
    with pytest.raises(TransportError, match=r"example\.invalid could not be resolved.*reachable only from IBM Cloud's private network"):
        transport.send("GET", "https://kms.example.invalid/api/v2/keys")
