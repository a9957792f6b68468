# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection rules: status codes, Retry-After, delays, dropped connections, lost responses, rate limits."""

from __future__ import annotations

import copy
import math
import random
import re
import threading
import time

from .errors import KmsError, reason_phrase

SERVICES = ('kms', 'iam', 'broker', 'rc', 'any')
RULE_FIELDS = ('service', 'method', 'path', 'status', 'retry_after', 'body', 'delay', 'drop', 'after', 'times', 'rate', 'seed', 'skip',
               'per_second', 'burst')
MAX_DELAY = 300
MAX_PER_SECOND = 100_000
# Slack for float rounding in the token bucket: a request that arrives exactly when its token is due (after 1/3 s at 3
# per second) must find it, not a bucket a rounding error short of a token, and a wait of exactly 2 s must not round up
# to 3. Differences of large monotonic readings carry errors near 1e-12 s, times up to 100,000 tokens a second.
_EPSILON = 1e-6


class FaultError(ValueError):
    """An invalid fault rule."""


def _number(rule: dict, name: str, low: float, high: float):
    value = rule.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise FaultError(f'"{name}" must be a number between {low} and {high}')
    return value


def _rate_limit(spec: dict) -> tuple:
    """``(per_second, burst)`` of a rate-limit rule, ``(None, None)`` for any other rule; FaultError when invalid."""
    per_second, burst = spec.get('per_second'), spec.get('burst')
    if per_second is None:
        if burst is not None:
            raise FaultError('"burst" needs "per_second"')
        return None, None
    if isinstance(per_second, bool) or not isinstance(per_second, (int, float)) or not 0 < per_second <= MAX_PER_SECOND:
        raise FaultError(f'"per_second" must be a number above 0 and at most {MAX_PER_SECOND}')
    if spec.get('status') is None:
        raise FaultError('"per_second" needs "status" (the answer of a request that finds the bucket empty, normally 429)')
    # "drop"/"after" count as given when true, as everywhere in a rule; any "rate" counts (0 too: it would be ignored)
    for name, given in (('rate', spec.get('rate') is not None), ('drop', bool(spec.get('drop'))), ('after', bool(spec.get('after')))):
        if given:
            raise FaultError(f'"per_second" and "{name}" exclude each other')
    if burst is None:
        burst = math.ceil(per_second)
    elif isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise FaultError('"burst" must be a positive integer (the size of the token bucket)')
    return per_second, burst


class FaultRule:  # pylint: disable=too-many-instance-attributes
    """One rule; ``fire`` is called with the manager's lock held.

    With ``per_second`` the rule is a rate limit: a token bucket per instance, ``burst`` tokens, starting full and
    refilled at ``per_second`` tokens a second of ``clock`` time. ``clock`` is real monotonic time, not the emulator's
    movable clock: a rate limit is about how fast a client really sends, while the movable clock exists to age keys and
    tokens (moving it an hour ahead must not hand out an hour's worth of tokens, nor moving it back stall the bucket).
    Tests inject a fake ``clock`` to step the bucket without sleeping.
    """

    def __init__(self, rule_id: str, spec: dict, clock=time.monotonic):
        if not isinstance(spec, dict):
            raise FaultError('each rule must be an object')
        unknown = set(spec) - set(RULE_FIELDS)
        if unknown:
            raise FaultError(f'unknown rule fields {sorted(unknown)}')
        self.id = rule_id
        self.service = spec.get('service', 'any')
        if self.service not in SERVICES:
            raise FaultError(f'"service" must be one of {", ".join(SERVICES)}')
        self.method = spec.get('method')
        if self.method is not None and not isinstance(self.method, str):
            raise FaultError('"method" must be a string')
        self.method = self.method.upper() if self.method else None
        self.path = spec.get('path')
        try:
            self.path_re = re.compile(self.path) if self.path is not None else None
        except (re.error, TypeError) as exc:
            raise FaultError(f'"path" must be a regular expression: {exc}') from exc
        self.status = _number(spec, 'status', 100, 599)
        if self.status is not None and not isinstance(self.status, int):
            raise FaultError('"status" must be an integer')
        retry_after = spec.get('retry_after')
        self.retry_after = None if retry_after is None else str(retry_after)
        self.body = spec.get('body')
        self.has_body = 'body' in spec
        self.delay = _number(spec, 'delay', 0, MAX_DELAY) or 0
        self.drop = bool(spec.get('drop', False))
        self.after = bool(spec.get('after', False))
        times = spec.get('times')
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise FaultError('"times" must be a positive integer')
        self.remaining = times
        skip = spec.get('skip', 0)
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise FaultError('"skip" must be a whole number (matching requests let through before the rule fires)')
        self.skip = skip
        self.rate = _number(spec, 'rate', 0, 1)
        self.seed = spec.get('seed')
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, (int, str))):
            raise FaultError('"seed" must be an integer or a string')
        self._random = random.Random(self.seed)
        self.per_second, self.burst = _rate_limit(spec)  # before the checks below: its errors name what it excludes
        if self.drop and self.status is not None:
            raise FaultError('"drop" and "status" exclude each other')
        if not (self.drop or self.status is not None or self.delay):
            raise FaultError('a rule needs "status", "drop" or "delay"')
        if self.after and not (self.drop or self.status is not None):
            raise FaultError('"after" needs "status" or "drop"')
        self._clock = clock
        self._buckets: dict = {}  # instance (lower case; None for requests without one) -> [tokens, clock time]
        self.matched = 0
        self.applied = 0

    def matches(self, service: str, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.service != 'any' and self.service != service:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path_re is None or self.path_re.search(path) is not None

    def _take_token(self, instance) -> float | None:
        """Take a token from the bucket of ``instance``: None when there was one, else the seconds until the next.

        Buckets are made on first use, full: the same as one made full when the rule was added and refilled since (a
        bucket never holds more than ``burst``). Instance ids are compared in lower case, as the emulator's instances.
        """
        key = instance.lower() if isinstance(instance, str) else instance
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [float(self.burst), now]
        tokens, last = bucket
        tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.per_second)
        if tokens >= 1 - _EPSILON:
            bucket[:] = [max(0.0, tokens - 1), now]
            return None
        bucket[:] = [tokens, now]
        return (1 - tokens) / self.per_second

    def fire(self, instance=None) -> FaultRule | None:
        """Count a matching request; the rule to answer it with when the fault fires, else None.

        A rate limit that fires without its own ``retry_after`` answers with a copy of the rule whose ``retry_after``
        is this request's wait (RFC 9110 delta-seconds: whole seconds, rounded up, at least 1). A copy, because the
        rule itself is shared by concurrent requests and the middleware reads the value after the lock is released.
        """
        self.matched += 1
        if self.matched <= self.skip:
            return None
        wait = None
        if self.per_second is not None:
            wait = self._take_token(instance)
            if wait is None:
                return None
        elif self.rate is not None and self._random.random() >= self.rate:
            return None
        self.applied += 1
        if self.remaining is not None:
            self.remaining -= 1
        if wait is None or self.retry_after is not None:
            return self
        answer = copy.copy(self)
        answer.retry_after = str(max(1, math.ceil(wait - _EPSILON)))
        return answer

    def to_dict(self) -> dict:
        result = {'id': self.id, 'service': self.service}
        for name in ('method', 'path', 'status', 'retry_after', 'rate', 'seed'):
            if getattr(self, name) is not None:
                result[name] = getattr(self, name)
        if self.has_body:
            result['body'] = self.body
        if self.delay:
            result['delay'] = self.delay
        if self.per_second is not None:
            result.update(per_second=self.per_second, burst=self.burst)
        result.update({'drop': self.drop, 'after': self.after, 'skip': self.skip, 'remaining': self.remaining,
                       'matched': self.matched, 'applied': self.applied})
        return result


class FaultManager:
    """The rules in force, in the order they were added. ``clock`` (monotonic seconds) drives rate-limit buckets."""

    def __init__(self, clock=time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._rules: list = []
        self._next_id = 1
        self._wake = threading.Condition()
        self._epoch = 0
        self._sleeping = 0

    @property
    def epoch(self) -> int:
        """Changes with every ``interrupt``; a request notes it when it begins and hands it to ``sleep``."""
        with self._wake:
            return self._epoch

    def sleep(self, seconds: float, epoch: int) -> bool:
        """Wait out an injected delay of a request begun at ``epoch``; True, at once, when ``interrupt`` was called
        since then (the request is to be abandoned)."""
        with self._wake:
            self._sleeping += 1
            try:
                return self._wake.wait_for(lambda: self._epoch != epoch, timeout=seconds)
            finally:
                self._sleeping -= 1

    @property
    def sleeping(self) -> int:
        """How many requests are waiting out an injected delay now."""
        with self._wake:
            return self._sleeping

    def interrupt(self) -> None:
        """End the injected delays in progress (a reset): a client that gave up on a delayed request leaves the
        emulator waiting, and the request must not run, or be logged, after the reset."""
        with self._wake:
            self._epoch += 1
            self._wake.notify_all()

    def add(self, specs) -> list:
        if not isinstance(specs, list) or not specs:
            raise FaultError('"rules" must be a non-empty list')
        with self._lock:
            rules = []
            for offset, spec in enumerate(specs):
                rules.append(FaultRule(f'f{self._next_id + offset}', spec, clock=self._clock))
            self._next_id += len(rules)
            self._rules.extend(rules)
            return [rule.id for rule in rules]

    def list(self) -> list:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [rule for rule in self._rules if rule.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def pick(self, service: str, method: str, path: str, instance=None) -> FaultRule | None:
        """The first rule that matches and fires for this request, if any. ``instance`` (the one the request log shows;
        None when the request names none) selects a rate limit's bucket; other rules ignore it.

        Rate limits are consulted first, whatever the order the rules were added in, as a service's limiter stands in
        front of everything else: a delay rule (which always fires) must not hide one. A rate limit that lets a request
        through (a token was left) does not fire, so the other rules still apply.
        """
        with self._lock:
            ordered = [rule for rule in self._rules if rule.per_second is not None] + \
                [rule for rule in self._rules if rule.per_second is None]
            for rule in ordered:
                if rule.matches(service, method, path):
                    answer = rule.fire(instance)
                    if answer is not None:
                        return answer
        return None


def default_fault_body(service: str, status: int) -> dict:
    phrase = reason_phrase(status)
    if service == 'kms':
        code = 'INTERNAL_SERVER_ERR' if status == 500 else phrase.upper().replace(' ', '_').replace('-', '_') + '_ERR'
        return KmsError(status, code, f'{phrase}: fault injected by the emulator',
                        resource='Request', verb='processed').body()
    if service == 'rc':
        return {'error_code': 'RC-' + phrase.replace(' ', '').replace('-', ''), 'message': f'{phrase} (fault injected by the emulator)',
                'status_code': status, 'transaction_id': 'bss-fault-injected'}
    if service == 'iam':
        return {'errorCode': 'BXNIM0500E', 'errorMessage': f'{phrase} (fault injected by the emulator)',
                'context': {'instanceId': 'iamid-emulator', 'clusterName': 'emulator'}}
    return {'code': phrase.upper().replace(' ', '_'), 'message': f'{phrase} (fault injected by the emulator)'}
