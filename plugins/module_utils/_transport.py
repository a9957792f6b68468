# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""HTTP transport: one ``requests.Session``, TLS settings, timeouts and retries.

Retry rules (docs/design-choices.md, "Transport"):

* connection failures, 429 and every 5xx except 501 are retried, with
  exponential backoff and jitter; a numeric or HTTP-date ``Retry-After`` is
  honoured (a wait longer than ``RetryPolicy.max_retry_after`` is not sat out:
  the error is reported instead);
* a request that is not idempotent (a create, a rotate, ...) is only re-sent
  when the service certainly did not act on it: the connection could not be
  opened, or the answer was 429 (the service refused the request). Everything
  else is raised to the caller, whose job it is to look the resource up again
  before trying once more, so a lost answer never leaves a duplicate.
"""

import email.utils
import json
import random
import re
import threading
import time
import uuid

try:
    import requests
    from requests import exceptions as requests_exceptions
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by the sanity import test
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import TransportError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._version import COLLECTION_VERSION

USER_AGENT = f"ibm.hs_crypto/{COLLECTION_VERSION}"
IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
RETRY_AFTER_SECONDS_RE = re.compile(r"^[0-9]{1,9}\Z")
HOST_PORT_OF_URL_RE = re.compile(r"^(https?)://(?:[^@/?#]*@)?(\[[^\]/]*\]|[^:/?#]+)(?::([0-9]+))?")
ERRNO_TEXT_RE = re.compile(r"\[Errno -?[0-9]+\] ([^)\"'\]]+)")
OBJECT_REPR_RE = re.compile(r"<[A-Za-z0-9_.]+ object at 0x[0-9a-fA-F]+>:?\s*")
POOL_PREFIX_RE = re.compile(r"\b[A-Za-z]*Connection(?:Pool)?\(host='[^']*', port=[0-9]+\):\s*")


class RetryPolicy:
    """When and how long to wait before sending a request again.

    ``retries`` is the number of re-sends after the first attempt. The wait
    before re-send ``n`` (0-based) is drawn from ``[d/2, d]`` with
    ``d = min(backoff_max, backoff_base * 2 ** n)`` ("equal jitter": spread
    out, never zero).
    """

    def __init__(self, retries=4, backoff_base=0.5, backoff_max=30.0, max_retry_after=60.0, rng=None):
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._rng = rng or random.Random()

    @staticmethod
    def retryable_status(status):
        return status == 429 or (500 <= status <= 599 and status != 501)

    def backoff(self, attempt):
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return ceiling / 2.0 + self._rng.uniform(0, ceiling / 2.0)

    def wait_for(self, attempt, retry_after=None):
        """Seconds to wait before re-send ``attempt``, or None to give up."""
        if retry_after is None:
            return self.backoff(attempt)
        if retry_after > self.max_retry_after:
            return None
        # Honour the service's figure; a little jitter keeps parallel runs apart.
        return retry_after + self._rng.uniform(0, min(1.0, self.backoff_base))


def parse_retry_after(value, now=None):
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if RETRY_AFTER_SECONDS_RE.match(value):
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, parsed.timestamp() - now)


class Throttle:
    """What every thread sending through one transport shares: how many requests may be in flight, and a pause.

    A 429 is about the client, not one request: when the service says "too many", every worker waits out its
    ``Retry-After`` (``pause``), not only the one that was told, and the number of requests in flight is halved
    (once per pause: the 429s of requests already in flight count as one). Each run of ``10 x limit`` answers
    without a 429 gives one slot back, up to the ``ceiling`` the caller allowed (additive increase, multiplicative
    decrease, as TCP does).

    Fewer requests in flight slow a client down only when the service is slow; over a fast link one worker alone can
    outrun a rate limit. So from the second 429 on, requests are also paced: the answers that succeeded between two
    429s, over the time between them (pause included), is what the service allows; requests then start at most at 90 %
    of that rate, which grows by 0.05 % with every success, so that a limit that was raised is found again. With one
    worker and no 429 (the usual case) nothing waits.
    """

    RECOVERY_FACTOR = 10
    RATE_MARGIN = 0.9
    RATE_GROWTH = 1.0005
    MIN_RATE = 0.5

    def __init__(self, ceiling=1, clock=None, sleep=None):
        self.ceiling = max(1, int(ceiling))
        self.limit = self.ceiling
        self.active = 0
        self.paused_until = 0.0
        self.throttled = 0  # 429 answers seen, for tests and benchmarks
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._cond = threading.Condition()
        self._streak = 0
        self._last_cut = None
        self._waited = threading.local()  # the end of the last pause each thread sat out (it never waits for one twice)
        self.rate = None  # requests a second, learned from 429s (None: not paced)
        self._next_start = 0.0
        self._event = None  # when the last 429 that started a pause came
        self._since_event = 0  # answers without a 429 since then

    def allow(self, ceiling):
        """Allow up to ``ceiling`` requests in flight (called before the workers start)."""
        with self._cond:
            self.ceiling = self.limit = max(1, int(ceiling))
            self._cond.notify_all()

    def acquire(self):
        """Wait out a pause in force (once per thread), then for a free slot."""
        with self._cond:
            until = self.paused_until
            wait = until - self._clock() if until > getattr(self._waited, "until", 0.0) else 0
        if wait > 0:
            self._sleep(wait)
            self._waited.until = until
        with self._cond:
            while self.active >= self.limit:
                self._cond.wait()
            self.active += 1
            pace = 0.0
            if self.rate:
                now = self._clock()
                start = max(now, self._next_start)
                self._next_start = start + 1.0 / self.rate
                pace = start - now
        if pace > 0:
            self._sleep(pace)

    def release(self, status=None):
        """Give the slot back; ``status`` is the answer's (None when there was none)."""
        with self._cond:
            self.active -= 1
            if status is not None and status != 429:
                self._since_event += 1
                if self.rate:
                    self.rate *= self.RATE_GROWTH
                self._streak += 1
                if self.limit < self.ceiling and self._streak >= self.RECOVERY_FACTOR * self.limit:
                    self.limit += 1
                    self._streak = 0
            self._cond.notify_all()

    def pause(self, seconds):
        """A 429 asked for ``seconds``: hold every request until then, and halve the requests in flight."""
        with self._cond:
            now = self._clock()
            self.throttled += 1
            self._streak = 0
            if self._last_cut is None or now >= self._last_cut:
                if self._event is not None and now > self._event:
                    allowed = self._since_event / (now - self._event)
                    self.rate = max(self.MIN_RATE, self.RATE_MARGIN * allowed)
                self._event, self._since_event = now, 0
                self.limit = max(1, self.limit // 2)
                # The 429s of the requests in flight now belong to this cut: the next cut waits for the pause to end.
                self._last_cut = now + seconds
            self.paused_until = max(self.paused_until, now + seconds)


class Response:
    """What the transport hands back: status, headers, raw body, correlation id."""

    def __init__(self, status, headers, body, correlation_id, method, url):
        self.status = status
        self.headers = headers
        self.body = body
        self.correlation_id = correlation_id
        self.method = method
        self.url = url

    @property
    def ok(self):
        return 200 <= self.status < 300

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        """The body parsed as JSON, or None when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            text = self.body.decode("utf-8") if isinstance(self.body, bytes) else self.body
            return json.loads(text)
        except (ValueError, UnicodeError, RecursionError):
            return None


def new_correlation_id():
    return str(uuid.uuid4())


class Transport:
    """Sends HTTP requests over one session with the collection's retry rules."""

    def __init__(self, validate_certs=True, ca_path=None, timeout=30.0, retry_policy=None, sleep=None, session=None, clock=None):
        if not HAS_REQUESTS and session is None:
            raise TransportError("The Python library 'requests' is required")
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self._own_session = session is None
        self.session = session or requests.Session()
        # Every worker of a module shares this session: its connection pool is thread-safe, and holds one keep-alive
        # connection per worker (``allow_concurrency``).
        # Passed with every request, not set on the session: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE
        # override a session-level setting, which would silently replace ca_path or re-enable validate_certs=false.
        self.verify = ca_path if ca_path else bool(validate_certs)
        self.session.headers["User-Agent"] = USER_AGENT
        self.attempts = 0  # every HTTP attempt made, for tests and benchmarks
        self.throttle = Throttle(clock=self._clock, sleep=self._sleep)
        self._count_lock = threading.Lock()
        # Hosts known to be private endpoints although their names do not say so (endpoint_type=private), for messages.
        self.private_hosts = set()

    def close(self):
        self.session.close()

    def allow_concurrency(self, workers):
        """Let ``workers`` threads send at once: a connection pool that keeps one connection per worker, and a
        throttle that lets that many requests be in flight (fewer after a 429)."""
        workers = max(1, int(workers))
        if self._own_session and workers > 10:
            adapter_options = dict(pool_connections=10, pool_maxsize=workers)
            self.session.mount("https://", HTTPAdapter(**adapter_options))
            self.session.mount("http://", HTTPAdapter(**adapter_options))
        self.throttle.allow(workers)

    def send(self, method, url, headers=None, params=None, data=None, json_body=None, idempotent=None, correlation_id=None):
        """Send one logical request, re-sending it as the retry rules allow, within ``timeout`` seconds in all.

        ``timeout`` is a deadline for the whole logical request: every attempt
        gets the time that is left, and no wait is started that would end after
        the deadline. Returns a ``Response`` for every HTTP answer (errors
        included: mapping them is the caller's business); raises
        ``TransportError`` when no answer could be had.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        headers = dict(headers or {})
        correlation_id = correlation_id or new_correlation_id()
        headers["Correlation-Id"] = correlation_id
        policy = self.retry_policy
        deadline = self._clock() + self.timeout
        attempt = 0
        while True:
            with self._count_lock:
                self.attempts += 1
            self.throttle.acquire()
            status = None
            try:
                raw = self.session.request(method, url, headers=headers, params=params, data=data, json=json_body,
                                           timeout=max(0.001, deadline - self._clock()), verify=self.verify, allow_redirects=False)
                status = raw.status_code
            except requests_exceptions.SSLError as exc:
                raise TransportError(
                    f"TLS verification of {_origin(url)} failed ({_short(_root_cause(exc))}). Set ca_path to the CA bundle that signed the "
                    "service's certificate; validate_certs=false disables the check (not recommended).",
                    method=method, url=url, correlation_id=correlation_id)
            except (requests_exceptions.ConnectionError, requests_exceptions.Timeout) as exc:
                failure = exc
            else:
                failure = None
            finally:
                self.throttle.release(status)
            if failure is not None:
                wait = policy.backoff(attempt)
                if attempt < policy.retries and (idempotent or _request_not_sent(failure)) and self._fits(deadline, wait):
                    self._sleep(wait)
                    attempt += 1
                    continue
                raise TransportError(
                    f"{method} {_path(url)} failed after {int(attempt + 1)} attempt(s): {self._describe(failure, url)}",
                    method=method, url=url, correlation_id=correlation_id)
            response = Response(raw.status_code, raw.headers, raw.content, correlation_id, method, url)
            if policy.retryable_status(raw.status_code) and attempt < policy.retries and (idempotent or raw.status_code == 429):
                wait = policy.wait_for(attempt, parse_retry_after(raw.headers.get("Retry-After")))
                if wait is not None and self._fits(deadline, wait):
                    if raw.status_code == 429:
                        self.throttle.pause(wait)  # every worker waits; this one in its next acquire()
                    else:
                        self._sleep(wait)
                    attempt += 1
                    continue
            return response

    def _describe(self, exc, url):
        """Why no answer came, naming the whole host (the library's text is clipped, never the host), and where a
        private endpoint can be reached from."""
        host, port = _host_port(url)
        text = _describe(exc, self.timeout, host, port)
        if isinstance(exc, requests_exceptions.ConnectionError) and (_looks_private(host) or host in self.private_hosts):
            public = "the public IAM endpoint (leave iam_url unset)" if _path(url).startswith("/identity/") else \
                "the public endpoint (endpoint_type=public)"
            text += (f"; {host} is a private endpoint, reachable only from IBM Cloud's private network (a VPC or classic "
                     f"infrastructure in IBM Cloud): from outside it, use {public}")
        return text

    def _fits(self, deadline, wait):
        """Whether waiting ``wait`` seconds still leaves time for another attempt before the deadline."""
        return self._clock() + wait < deadline


def _request_not_sent(exc):
    """True when the connection was never established, so the service saw nothing."""
    if isinstance(exc, requests_exceptions.ConnectTimeout):
        return True
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolutionError" in text


def _describe(exc, timeout, host, port):
    where = f"{host}:{port}"
    if isinstance(exc, requests_exceptions.ConnectTimeout):
        return f"no connection to {where} within the timeout of {timeout} s (the timeout option bounds each request, retries included)"
    if isinstance(exc, requests_exceptions.Timeout):
        return f"no answer within the timeout of {timeout} s (the timeout option bounds each request, retries included)"
    cause = _root_cause(exc)
    text = str(cause)
    if type(cause).__name__ == "NameResolutionError" or "Failed to resolve" in text or "Name or service not known" in text:
        errno = ERRNO_TEXT_RE.search(text)
        return f"the host name {host} could not be resolved" + (f" ({errno.group(1).strip()})" if errno else "")
    if "Connection refused" in text:
        return f"{where} refused the connection (nothing listens there, or a firewall rejects it)"
    return f"could not reach {where}: {_short(cause)}"


def _root_cause(exc):
    """The innermost exception: requests wraps urllib3's MaxRetryError, whose ``reason`` is what happened."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException):
            exc = reason
        elif exc.args and isinstance(exc.args[0], BaseException):
            exc = exc.args[0]
        else:
            break
    return exc


def _without_noise(text):
    """The library's text without object reprs and connection-pool prefixes (they repeat the host, or say nothing)."""
    text = OBJECT_REPR_RE.sub("", text)
    return POOL_PREFIX_RE.sub("", text).strip()


def _looks_private(host):
    """IBM Cloud names its private endpoints ``private.<region>...`` or ``<service>.private.<region>...``."""
    return "private" in host.lower().split(".")


def _host_port(url):
    match = HOST_PORT_OF_URL_RE.match(url or "")
    if not match:
        return url, ""
    port = match.group(3) or ("80" if match.group(1).lower() == "http" else "443")
    return match.group(2), port


def _short(exc):
    """The library's text for ``exc``, without its noise, clipped (hosts are named by the caller, whole)."""
    text = _without_noise(str(exc))
    return text if len(text) <= 300 else text[:297] + "..."


def _origin(url):
    parts = url.split("/", 3)
    return "/".join(parts[:3]) if len(parts) >= 3 else url


def _path(url):
    parts = url.split("/", 3)
    path = "/" + parts[3] if len(parts) > 3 else "/"
    return path.split("?", 1)[0]
