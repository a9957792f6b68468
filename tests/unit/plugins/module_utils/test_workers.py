# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The worker pool (run_lanes), the transport's shared throttle, and the token shared by workers.

Concurrency is shown with events and barriers, never with durations.
"""

import threading

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import AuthorizedSender
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import TokenProvider
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import RetryPolicy, Throttle, Transport
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import MAX_CONCURRENCY, concurrency_of, run_lanes
from ansible_collections.ibm.hs_crypto.tests.unit.fakes import FakeRaw, FakeSession, make_jwt, token_answer


class InFlight:
    """Counts how many calls are running at once, and the most there ever were."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


# -- run_lanes ---------------------------------------------------------------------------------

def test_results_come_back_in_the_order_of_the_items_whatever_order_they_finish_in():
    release = {i: threading.Event() for i in range(6)}

    def work(i):
        # Item i waits until item i + 1 has finished: they finish in reverse order.
        release[i].wait(timeout=30)
        if i > 0:
            release[i - 1].set()
        return i * 10

    release[5].set()
    assert run_lanes(work, range(6), concurrency=6) == [0, 10, 20, 30, 40, 50]


def test_at_most_concurrency_items_run_at_once_and_they_do_overlap():
    flight = InFlight()
    barrier = threading.Barrier(3, timeout=30)

    def work(i):
        with flight:
            if i < 3:
                barrier.wait()  # the first three can only get past this together: proof that they ran side by side
            return i

    assert run_lanes(work, range(12), concurrency=3) == list(range(12))
    assert flight.most == 3


def test_items_of_one_lane_run_one_after_another_in_their_order():
    seen = []
    flight = InFlight()

    def work(item):
        lane, rank = item
        if lane == "shared":
            with flight:
                seen.append(rank)
        return item

    items = [("shared", 0), ("own", 1), ("shared", 1), ("own", 2), ("shared", 2), ("shared", 3)]
    run_lanes(work, items, lane_of=lambda i: items[i][0] if items[i][0] == "shared" else i, concurrency=4)
    assert seen == [0, 1, 2, 3] and flight.most == 1


def test_concurrency_one_runs_everything_in_the_calling_thread_in_order():
    threads = []
    assert run_lanes(lambda i: threads.append(threading.current_thread()) or i, range(4), concurrency=1) == [0, 1, 2, 3]
    assert set(threads) == {threading.current_thread()}


def test_an_error_ends_its_lane_only_and_is_raised_after_every_lane_ended():
    done = []

    def work(i):
        if i == 1:
            raise KeyError("boom")
        done.append(i)
        return i

    with pytest.raises(KeyError):
        run_lanes(work, range(5), concurrency=3)
    assert sorted(done) == [0, 2, 3, 4]


def test_the_transport_is_told_how_many_requests_may_be_in_flight_and_reset_after():
    transport = Transport(session=FakeSession())
    seen = []
    run_lanes(lambda i: seen.append(transport.throttle.ceiling), range(4), concurrency=3, transport=transport)
    assert set(seen) == {3} and transport.throttle.ceiling == 1


@pytest.mark.parametrize("value", [0, -1, MAX_CONCURRENCY + 1, 1000])
def test_concurrency_out_of_range_is_refused_naming_the_option(value):
    with pytest.raises(ConfigurationError, match=r"^concurrency must be between 1 \(one request at a time\) and 32, got"):
        concurrency_of({"concurrency": value})


def test_concurrency_bounds_are_accepted():
    assert concurrency_of({"concurrency": 1}) == 1 and concurrency_of({"concurrency": MAX_CONCURRENCY}) == MAX_CONCURRENCY
    assert concurrency_of({}) == 10


# -- Throttle ----------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_429_halves_the_requests_in_flight_once_per_pause_and_successes_give_slots_back():
    clock = Clock()
    throttle = Throttle(clock=clock, sleep=lambda s: None)
    throttle.allow(8)
    throttle.pause(2.0)
    assert throttle.limit == 4 and throttle.paused_until == 102.0
    throttle.pause(2.0)  # a second 429 of the requests that were in flight: the same event
    assert throttle.limit == 4 and throttle.throttled == 2
    clock.now = 102.5
    throttle.pause(1.0)  # a new 429 after the pause ended: halved again
    assert throttle.limit == 2
    for _round in range(Throttle.RECOVERY_FACTOR * 2):
        throttle.acquire()
        throttle.release(200)
    assert throttle.limit == 3
    throttle.allow(1)
    throttle.pause(1.0)
    assert throttle.limit == 1  # never below one


def test_every_thread_sits_out_a_pause_once():
    clock = Clock()
    slept = []
    throttle = Throttle(ceiling=2, clock=clock, sleep=slept.append)
    throttle.pause(3.0)
    throttle.acquire()
    throttle.release(200)
    throttle.acquire()  # the same thread, the same pause: no second wait
    throttle.release(200)
    other = threading.Thread(target=lambda: (throttle.acquire(), throttle.release(200)))
    other.start()
    other.join(30)
    assert slept == [3.0, 3.0]  # once here, once in the other thread


def test_a_slot_is_waited_for_when_the_limit_is_reached():
    throttle = Throttle(ceiling=1, clock=Clock(), sleep=lambda s: None)
    throttle.acquire()
    entered = threading.Event()

    def second():
        throttle.acquire()
        entered.set()
        throttle.release(200)

    thread = threading.Thread(target=second)
    thread.start()
    assert not entered.wait(0.2)  # blocked while the only slot is taken
    throttle.release(200)
    assert entered.wait(30)
    thread.join(30)


def test_a_429_in_one_worker_pauses_the_others():
    """Worker A gets a 429 with Retry-After: 7; worker B, which starts after it, waits the 7 s too (recorded, not slept)."""
    answers = {"a": [FakeRaw(429, {}, headers={"Retry-After": "7"}), FakeRaw(200, {"ok": 1})], "b": [FakeRaw(200, {"ok": 2})]}

    class Session:
        headers = {}

        def request(self, method, url, **kwargs):
            return answers[url.rsplit("/", 1)[-1]].pop(0)

        def close(self):
            pass

    slept = []
    transport = Transport(session=Session(), sleep=lambda s: slept.append((threading.current_thread().name, s)),
                          retry_policy=RetryPolicy(retries=2, backoff_base=0.0))
    transport.allow_concurrency(2)
    assert transport.send("GET", "https://kms.test/a").status == 200
    worker = threading.Thread(target=lambda: transport.send("GET", "https://kms.test/b"), name="worker-b")
    worker.start()
    worker.join(30)
    waits = {name: round(seconds) for name, seconds in slept}
    assert waits == {threading.current_thread().name: 7, "worker-b": 7}
    assert transport.throttle.throttled == 1 and transport.throttle.limit == 1


# -- one token for every worker ------------------------------------------------------------------

def test_workers_rejected_together_renew_the_token_once():
    """Four workers send with the same token and all get a 401: one of them renews it, the others re-send with the new one."""
    old, new = make_jwt(iam_id="old"), make_jwt(iam_id="new")
    lock = threading.Lock()
    iam_calls = []
    barrier = threading.Barrier(4, timeout=30)

    class Session:
        headers = {}

        def request(self, method, url, **kwargs):
            if url.endswith("/identity/token"):
                with lock:
                    iam_calls.append(1)
                return token_answer(new)
            if kwargs["headers"]["Authorization"] == f"Bearer {old}":
                barrier.wait()  # every worker holds the old token's 401 at the same time
                return FakeRaw(401, {})
            return FakeRaw(200, {"resources": []})

        def close(self):
            pass

    transport = Transport(session=Session())
    tokens = TokenProvider(transport, api_key="test-api-key", iam_token=old, iam_url="https://iam.test")
    sender = AuthorizedSender(transport, tokens)
    transport.allow_concurrency(4)
    statuses = run_lanes(lambda i: sender.send("GET", f"https://kms.test/api/v2/keys/{i}").status, range(4), concurrency=4)
    assert statuses == [200, 200, 200, 200]
    assert len(iam_calls) == 1


def test_from_the_second_429_requests_are_paced_at_the_rate_the_service_allowed():
    """30 answers between two 429s 2 s apart: the service allows 15 a second; requests then start 1 / 13.5 s apart."""
    clock = Clock()
    slept = []
    throttle = Throttle(ceiling=4, clock=clock, sleep=slept.append)
    throttle.pause(1.0)
    assert throttle.rate is None  # one 429 says nothing about the rate yet
    for _round in range(30):
        throttle.acquire()
        throttle.release(201)
    clock.now += 2.0
    throttle.pause(1.0)
    assert throttle.rate == pytest.approx(0.9 * 30 / 2.0)
    assert throttle.limit == 1  # halved twice (4, 2, 1)
    slept.clear()
    clock.now += 1.0  # the pause is over
    throttle.acquire()  # the first paced request starts at once
    throttle.release(None)  # no answer: the rate stays
    throttle.acquire()  # the clock has not moved: the next one waits one interval, the one after two
    throttle.release(None)
    throttle.acquire()
    assert slept == [pytest.approx(1 / 13.5), pytest.approx(2 / 13.5)]
    throttle.release(201)
    assert throttle.rate == pytest.approx(13.5 * Throttle.RATE_GROWTH)  # each success lets the rate grow a little
