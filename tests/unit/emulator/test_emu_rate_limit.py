# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rate-limit fault rules (``per_second``/``burst``): a token bucket per instance answering 429 with ``Retry-After``.

The bucket runs on real monotonic time, so these tests step a fake clock instead of sleeping: every outcome is decided
by the arithmetic, never by how fast the machine is. The one HTTP test uses a bucket that refills once in 1000 s, so no
token can come back while it runs.
"""

from __future__ import annotations

import math
import threading

import pytest

from hpcs_emulator.faults import FaultError, FaultManager, FaultRule
from hpcs_emulator.testing import INSTANCE_A, INSTANCE_B, KmsClient, control, expect_error

LIMIT = {'service': 'kms', 'status': 429}


class FakeClock:
    """Monotonic seconds that move only when the test says so (an arbitrary, non-zero start, like the real one)."""

    def __init__(self, now: float = 5000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _rule(clock: FakeClock, **fields) -> FaultRule:
    return FaultRule('f1', dict(LIMIT, **fields), clock=clock)


def _outcomes(rule: FaultRule, count: int, instance=INSTANCE_A) -> list:
    """``'pass'`` or the Retry-After of each of ``count`` requests sent at the same instant."""
    outcomes = []
    for _index in range(count):
        answer = rule.fire(instance)
        outcomes.append('pass' if answer is None else answer.retry_after)
    return outcomes


def test_a_full_burst_passes_and_the_next_request_gets_the_fault():
    clock = FakeClock()
    rule = _rule(clock, per_second=4, burst=3)
    assert _outcomes(rule, 3) == ['pass'] * 3
    answer = rule.fire(INSTANCE_A)
    assert answer is not None and answer.status == 429 and answer.id == 'f1'
    assert (rule.matched, rule.applied) == (4, 1)


@pytest.mark.parametrize('per_second', [0.5, 1, 3, 4, 40, 7.5, 100_000])
def test_one_token_comes_back_after_one_over_per_second_seconds(per_second):
    """Also for rates whose interval is no exact binary fraction (1/3 s, 1/7.5 s): a token due now is there."""
    clock = FakeClock()
    rule = _rule(clock, per_second=per_second, burst=2)
    assert _outcomes(rule, 3) == ['pass', 'pass', '1' if per_second >= 1 else str(math.ceil(1 / per_second))]
    clock.advance(1 / per_second / 2)
    assert rule.fire(INSTANCE_A) is not None  # half a token is no token
    clock.advance(1 / per_second / 2)
    assert rule.fire(INSTANCE_A) is None
    assert rule.fire(INSTANCE_A) is not None


def test_the_bucket_refills_up_to_burst_only():
    clock = FakeClock()
    rule = _rule(clock, per_second=10, burst=5)
    assert _outcomes(rule, 6) == ['pass'] * 5 + ['1']
    clock.advance(3600)  # an idle hour gives back the burst, not 36,000 requests
    assert _outcomes(rule, 6) == ['pass'] * 5 + ['1']


def test_the_default_burst_is_per_second_rounded_up():
    clock = FakeClock()
    assert _rule(clock, per_second=2.5).burst == 3
    assert _rule(clock, per_second=0.5).burst == 1
    assert _outcomes(_rule(clock, per_second=40), 41) == ['pass'] * 40 + ['1']


@pytest.mark.parametrize('per_second, burst, waited, expected', [
    (0.5, 1, 0, '2'),  # the next token in 2 s
    (0.1, 1, 0, '10'),
    (0.1, 1, 3.5, '7'),  # 6.5 s to go: rounded up
    (0.25, 1, 2, '2'),  # exactly 2 s to go: not rounded up to 3
    (40, 40, 0, '1'),  # 25 ms to go: never "0"
    (3, 3, 0.3, '1'),
])
def test_retry_after_is_the_wait_for_the_next_token_in_whole_seconds_rounded_up(per_second, burst, waited, expected):
    clock = FakeClock()
    rule = _rule(clock, per_second=per_second, burst=burst)
    assert _outcomes(rule, burst) == ['pass'] * burst
    clock.advance(waited)
    assert rule.fire(INSTANCE_A).retry_after == expected


def test_a_refused_request_does_not_push_the_next_token_back():
    """A client hammering an empty bucket waits no longer than one that waits politely."""
    clock = FakeClock()
    rule = _rule(clock, per_second=0.5, burst=1)
    assert _outcomes(rule, 1) == ['pass']
    waits = []
    for _second in range(2):
        waits.append(rule.fire(INSTANCE_A).retry_after)
        clock.advance(1)
    assert waits == ['2', '1']
    assert rule.fire(INSTANCE_A) is None


def test_each_instance_has_its_own_bucket():
    clock = FakeClock()
    rule = _rule(clock, per_second=1, burst=1)
    assert _outcomes(rule, 2, INSTANCE_A) == ['pass', '1']
    assert _outcomes(rule, 2, INSTANCE_B) == ['pass', '1']
    assert _outcomes(rule, 1, INSTANCE_A.upper()) == ['1']  # the same instance, however it is spelt
    assert _outcomes(rule, 2, None) == ['pass', '1']  # requests naming no instance share one bucket
    assert (rule.matched, rule.applied) == (7, 4)


def test_an_explicit_retry_after_wins():
    clock = FakeClock()
    rule = _rule(clock, per_second=0.5, burst=1, retry_after='30')
    assert _outcomes(rule, 2) == ['pass', '30']


def test_the_computed_retry_after_is_per_request_and_leaves_the_rule_alone():
    """Concurrent requests share the rule: each answer carries its own wait, the rule keeps none."""
    clock = FakeClock()
    rule = _rule(clock, per_second=0.1, burst=1)
    rule.fire(INSTANCE_A)
    first = rule.fire(INSTANCE_A)
    clock.advance(5)
    second = rule.fire(INSTANCE_A)
    assert (first.retry_after, second.retry_after, rule.retry_after) == ('10', '5', None)
    assert rule.to_dict()['applied'] == 2


def test_times_caps_the_faults_and_skip_lets_requests_through_without_tokens():
    clock = FakeClock()
    manager = FaultManager(clock=clock)
    manager.add([dict(LIMIT, per_second=1, burst=1, times=2, skip=2)])
    statuses = [manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_A) for _index in range(6)]
    # skipped, skipped (no token taken), the bucket's token, two faults, then the rule is spent
    assert [None if rule is None else rule.status for rule in statuses] == [None, None, None, 429, 429, None]
    [listed] = manager.list()
    assert (listed['matched'], listed['applied'], listed['remaining']) == (5, 2, 0)


def test_a_request_the_limit_lets_through_meets_the_next_rules():
    clock = FakeClock()
    manager = FaultManager(clock=clock)
    manager.add([dict(LIMIT, per_second=1, burst=1), {'service': 'kms', 'status': 503, 'times': 1}])
    assert manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_A).status == 503
    assert manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_A).status == 429


def test_a_rate_limit_is_consulted_before_rules_added_earlier():
    """A delay rule fires for every request; added first, it must not hide the limit added after it."""
    manager = FaultManager(clock=FakeClock())
    manager.add([{'service': 'kms', 'delay': 0.05}, dict(LIMIT, per_second=1, burst=1)])
    assert manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_A).delay == 0.05  # a token: on to the delay rule
    assert manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_A).status == 429


def test_only_matching_requests_take_tokens():
    clock = FakeClock()
    manager = FaultManager(clock=clock)
    manager.add([dict(LIMIT, method='POST', path='/keys$', per_second=1, burst=1)])
    for _index in range(3):
        assert manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_A) is None
        assert manager.pick('iam', 'POST', '/identity/token') is None
    assert manager.pick('kms', 'POST', '/api/v2/keys', INSTANCE_A) is None
    assert manager.pick('kms', 'POST', '/api/v2/keys', INSTANCE_A).status == 429
    assert manager.list()[0]['matched'] == 2


def test_other_rules_ignore_the_instance():
    manager = FaultManager(clock=FakeClock())
    manager.add([{'service': 'kms', 'status': 500, 'times': 2}])
    assert manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_A).status == 500
    assert manager.pick('kms', 'GET', '/api/v2/keys').status == 500
    assert manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_B) is None


def test_concurrent_picks_hand_out_exactly_the_burst():
    """The bucket arithmetic runs under the manager's lock: 8 threads racing for 50 tokens get 50, not more."""
    manager = FaultManager(clock=FakeClock())  # no refill while they race
    manager.add([dict(LIMIT, per_second=1, burst=50)])
    start = threading.Barrier(8)
    results: list = []

    def worker() -> None:
        start.wait(timeout=60)
        mine = [manager.pick('kms', 'GET', '/api/v2/keys', INSTANCE_A) for _index in range(20)]
        results.extend(mine)  # list.extend is atomic in CPython

    threads = [threading.Thread(target=worker) for _index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 160
    assert sum(rule is None for rule in results) == 50
    assert manager.list()[0]['applied'] == 110


def test_to_dict_shows_the_limit():
    clock = FakeClock()
    rule = FaultRule('f7', {'service': 'kms', 'status': 429, 'per_second': 40, 'burst': 40}, clock=clock)
    _outcomes(rule, 41)
    assert rule.to_dict() == {'id': 'f7', 'service': 'kms', 'status': 429, 'per_second': 40, 'burst': 40, 'drop': False,
                              'after': False, 'skip': 0, 'remaining': None, 'matched': 41, 'applied': 1}
    assert _rule(clock, per_second=2.5).to_dict()['burst'] == 3
    assert 'per_second' not in FaultRule('f8', LIMIT).to_dict()


@pytest.mark.parametrize('fields, message', [
    ({'service': 'kms', 'per_second': 5}, '"per_second" needs "status"'),
    ({'per_second': 5, 'delay': 1}, '"per_second" needs "status"'),
    (dict(LIMIT, per_second=5, rate=0.5), '"per_second" and "rate" exclude each other'),
    (dict(LIMIT, per_second=5, rate=0), '"per_second" and "rate" exclude each other'),
    (dict(LIMIT, per_second=5, drop=True), '"per_second" and "drop" exclude each other'),
    (dict(LIMIT, per_second=5, after=True), '"per_second" and "after" exclude each other'),
    (dict(LIMIT, per_second=0), '"per_second" must be a number above 0'),
    (dict(LIMIT, per_second=-1), '"per_second" must be a number above 0'),
    (dict(LIMIT, per_second=100_001), 'at most 100000'),
    (dict(LIMIT, per_second=float('inf')), '"per_second" must be a number'),
    (dict(LIMIT, per_second=float('nan')), '"per_second" must be a number'),
    (dict(LIMIT, per_second='40'), '"per_second" must be a number'),
    (dict(LIMIT, per_second=True), '"per_second" must be a number'),
    (dict(LIMIT, per_second=5, burst=0), '"burst" must be a positive integer'),
    (dict(LIMIT, per_second=5, burst=-3), '"burst" must be a positive integer'),
    (dict(LIMIT, per_second=5, burst=2.5), '"burst" must be a positive integer'),
    (dict(LIMIT, per_second=5, burst='10'), '"burst" must be a positive integer'),
    (dict(LIMIT, per_second=5, burst=True), '"burst" must be a positive integer'),
    (dict(LIMIT, burst=10), '"burst" needs "per_second"'),
])
def test_invalid_rate_limits_are_refused(fields, message):
    with pytest.raises(FaultError, match=message):
        FaultRule('f1', fields)


def test_valid_edges_are_accepted():
    assert FaultRule('f1', dict(LIMIT, per_second=100_000)).burst == 100_000
    assert FaultRule('f1', dict(LIMIT, per_second=0.001, burst=1, drop=False, after=False)).per_second == 0.001
    assert FaultRule('f1', dict(LIMIT, per_second=1, delay=0.5)).delay == 0.5  # a slow 429


def test_http_429_with_retry_after_per_instance(emu):
    """Over HTTP: the benchmark's rule posted to the control endpoint; one instance is limited, the other is not."""
    on_a, on_b = KmsClient(emu.http_url, instance=INSTANCE_A), KmsClient(emu.http_url, instance=INSTANCE_B)  # alice reaches both
    assert on_a.token and on_b.token  # IAM requests, which a KMS rule does not touch
    added = control(emu.http_url, 'POST', 'faults', json={'rules': [{'service': 'kms', 'status': 429, 'per_second': 40, 'burst': 40}]})
    assert added.status_code == 201, added.text
    assert control(emu.http_url, 'GET', 'faults').json()['rules'][0]['per_second'] == 40
    assert control(emu.http_url, 'DELETE', 'faults').status_code == 200
    # one token per 1000 s: none comes back while the test runs, however slow the machine
    added = control(emu.http_url, 'POST', 'faults', json={'rules': [dict(LIMIT, per_second=0.001, burst=3)]})
    assert added.status_code == 201, added.text
    assert [on_a.list_keys().status_code for _index in range(3)] == [200, 200, 200]
    limited = on_a.request('GET', 'keys', headers=on_a.headers(Correlation_Id='limited'))
    reason = expect_error(limited, 429, 'TOO_MANY_REQUESTS_ERR')
    assert reason['message'].startswith('Too Many Requests')
    assert 1 <= int(limited.headers['Retry-After']) <= 1000
    assert limited.headers['Correlation-Id'] == 'limited'
    assert on_b.list_keys().status_code == 200
    assert on_a.create_key('still-limited').status_code == 429
    [rule] = control(emu.http_url, 'GET', 'faults').json()['rules']
    assert (rule['per_second'], rule['burst'], rule['matched'], rule['applied']) == (0.001, 3, 6, 2)
    log = control(emu.http_url, 'GET', 'requests').json()['requests']
    [entry] = [item for item in log if item['correlation_id'] == 'limited']
    assert entry['status'] == 429 and entry['fault'] is True and entry['instance'] == INSTANCE_A
    counters = control(emu.http_url, 'GET', 'counters').json()
    assert counters['faults'] == 2 and counters['by_service'] == {'iam': 2, 'kms': 6}
    assert counters['by_status'] == {'200': 6, '429': 2}  # 2 tokens, 3 lists on A, 1 on B


@pytest.mark.parametrize('rule', [
    {'service': 'kms', 'per_second': 40}, dict(LIMIT, per_second=40, burst=0), dict(LIMIT, per_second=40, rate=0.5),
])
def test_http_invalid_rate_limit(emu, rule):
    response = control(emu.http_url, 'POST', 'faults', json={'rules': [rule]})
    assert response.status_code == 400
    assert 'per_second' in response.json()['error'] or 'burst' in response.json()['error']
