# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator under concurrent clients, as the collection's modules will drive it (8-32 threads at once).

Two things are shown: concurrent requests are answered correctly (no lost, doubled or mixed-up keys, a request log that
holds exactly what was sent), and they are served side by side rather than one after the other. Nothing here measures
time: the outcomes are checked, and the ordering is proved with events.
"""

from __future__ import annotations

import collections
import threading

import requests

from hpcs_emulator.testing import INSTANCE_A, control, key_body

WRITERS, KEYS_PER_WRITER = 16, 25
LISTERS, READERS = 2, 2
JOIN_TIMEOUT = 600  # a bound for a hung test only; a busy 2-core machine needs a small fraction of it


class Traffic:
    """What the client threads sent and saw, shared between them (every change under one lock)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = collections.Counter()  # "<METHOD> <route template>" -> requests sent
        self.correlation_ids: set = set()
        self.created: list = []  # (alias, name, id) of every 201, in the order the answers came
        self.create_statuses: list = []
        self.failures: list = []  # what a client thread found wrong, or the exception that ended it

    def note(self, route: str, cid: str) -> None:
        with self.lock:
            self.sent[route] += 1
            self.correlation_ids.add(cid)

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def latest(self):
        with self.lock:
            return self.created[-1] if self.created else None


def _run(traffic: Traffic, body, *args) -> None:
    """Thread target: any exception becomes a failure the test reports (a thread's exception would go unseen)."""
    try:
        body(*args)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        traffic.fail(f'{body.__name__}{args}: {exc!r}')


def test_concurrent_creates_lists_and_reads(alice, emu):
    """16 threads create 25 keys each while others list and read keys, all on one instance, each with its own session."""
    headers = alice.headers()  # fetches the token first: the one IAM request of the test
    base = f'{emu.http_url}/api/v2'
    traffic = Traffic()
    start = threading.Barrier(WRITERS + LISTERS + READERS)
    writers_done = threading.Event()

    def writer(number: int) -> None:
        with requests.Session() as session:
            session.headers.update(headers)
            start.wait(timeout=JOIN_TIMEOUT)
            for index in range(KEYS_PER_WRITER):
                name, alias, cid = f'conc-{number:02d}-{index:02d}', f'conc-alias-{number:02d}-{index:02d}', f'create-{number}-{index}'
                traffic.note('POST /api/v2/keys', cid)
                response = session.post(f'{base}/keys', json=key_body(name, aliases=[alias]), headers={'Correlation-Id': cid},
                                        timeout=JOIN_TIMEOUT)
                with traffic.lock:
                    traffic.create_statuses.append(response.status_code)
                if response.status_code != 201:
                    traffic.fail(f'create {name}: {response.status_code} {response.text}')
                    continue
                key = response.json()['resources'][0]
                if key['name'] != name or key['aliases'] != [alias]:
                    traffic.fail(f'create {name} answered with {key["name"]} {key["aliases"]}')
                with traffic.lock:
                    traffic.created.append((alias, name, key['id']))

    def lister(number: int) -> None:
        """HEAD counts the keys (never fewer than before, never more than will exist); GET pages hold no duplicates."""
        seen = 0
        with requests.Session() as session:
            session.headers.update(headers)
            start.wait(timeout=JOIN_TIMEOUT)
            for sequence in range(10**6):
                if writers_done.is_set():
                    return
                cid = f'list-{number}-{sequence}'
                if sequence % 2 == 0:
                    traffic.note('HEAD /api/v2/keys', cid)
                    response = session.head(f'{base}/keys', headers={'Correlation-Id': cid}, timeout=JOIN_TIMEOUT)
                    total = int(response.headers.get('Key-Total', -1))
                    if response.status_code != 200 or not seen <= total <= WRITERS * KEYS_PER_WRITER:
                        traffic.fail(f'HEAD /keys: {response.status_code}, Key-Total {total} after {seen}')
                    seen = max(seen, total)
                else:
                    traffic.note('GET /api/v2/keys', cid)
                    response = session.get(f'{base}/keys', headers={'Correlation-Id': cid}, timeout=JOIN_TIMEOUT)
                    ids = [key['id'] for key in response.json().get('resources', [])]
                    if response.status_code != 200 or len(set(ids)) != len(ids):
                        traffic.fail(f'GET /keys: {response.status_code}, {len(ids)} ids, {len(set(ids))} distinct')
                writers_done.wait(0.005)  # pacing, so that the listers leave the CPU to the writers

    def reader(number: int) -> None:
        """Reads the key created last, by id and by alias: a key whose create was answered is there, whole."""
        with requests.Session() as session:
            session.headers.update(headers)
            start.wait(timeout=JOIN_TIMEOUT)
            for sequence in range(10**6):
                if writers_done.is_set():
                    return
                latest = traffic.latest()
                if latest is not None:
                    alias, name, key_id = latest
                    cid = f'read-{number}-{sequence}'
                    traffic.note('GET /api/v2/keys/<key_id>', cid)
                    response = session.get(f'{base}/keys/{alias if sequence % 2 else key_id}', headers={'Correlation-Id': cid},
                                           timeout=JOIN_TIMEOUT)
                    key = response.json().get('resources', [{}])[0]
                    if response.status_code != 200 or (key.get('id'), key.get('name')) != (key_id, name):
                        traffic.fail(f'read {alias}: {response.status_code} {key.get("id")} {key.get("name")}')
                writers_done.wait(0.005)

    writers = [threading.Thread(target=_run, args=(traffic, writer, number)) for number in range(WRITERS)]
    others = [threading.Thread(target=_run, args=(traffic, lister, number)) for number in range(LISTERS)]
    others += [threading.Thread(target=_run, args=(traffic, reader, number)) for number in range(READERS)]
    try:
        for thread in writers + others:
            thread.start()
        for thread in writers:
            thread.join(timeout=JOIN_TIMEOUT)
    finally:
        writers_done.set()
        for thread in others:
            thread.join(timeout=JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in writers + others)
    assert traffic.failures == []

    # every create answered 201 with a key of its own
    assert traffic.create_statuses == [201] * (WRITERS * KEYS_PER_WRITER)
    ids = {key_id for _alias, _name, key_id in traffic.created}
    assert len(ids) == WRITERS * KEYS_PER_WRITER
    # the readers and listers really ran alongside the writers
    assert traffic.sent['GET /api/v2/keys/<key_id>'] > 0 and traffic.sent['HEAD /api/v2/keys'] > 0

    # the log and the counters hold exactly the requests sent: none lost, none counted twice (plus alice's token)
    counters = control(emu.http_url, 'GET', 'counters').json()
    sent_total = sum(traffic.sent.values())
    assert counters['writes'] == WRITERS * KEYS_PER_WRITER
    assert counters['total'] == sent_total + 1 and counters['faults'] == 0
    assert counters['by_service'] == {'iam': 1, 'kms': sent_total}
    assert {route: count for route, count in counters['by_route'].items() if '/api/v2/' in route} == dict(traffic.sent)
    assert counters['by_status'] == {'201': WRITERS * KEYS_PER_WRITER, '200': sent_total - WRITERS * KEYS_PER_WRITER + 1}
    log = control(emu.http_url, 'GET', 'requests').json()['requests']
    kms_log = [entry for entry in log if entry['service'] == 'kms']
    assert len(log) == sent_total + 1
    assert sorted(entry['correlation_id'] for entry in kms_log) == sorted(traffic.correlation_ids)
    assert len({entry['seq'] for entry in log}) == len(log)
    assert all(entry['instance'] == INSTANCE_A for entry in kms_log)

    # afterwards: every alias names its own key, and the listing holds exactly the keys created
    with requests.Session() as session:
        session.headers.update(headers)
        for alias, name, key_id in traffic.created:
            key = session.get(f'{base}/keys/{alias}', timeout=JOIN_TIMEOUT).json()['resources'][0]
            assert (key['id'], key['name'], key['aliases']) == (key_id, name, [alias])
        listing = session.get(f'{base}/keys', params={'limit': 5000}, timeout=JOIN_TIMEOUT).json()
    assert listing['metadata']['collectionTotal'] == WRITERS * KEYS_PER_WRITER
    assert {key['id'] for key in listing['resources']} == ids
    assert emu.state.key_count() == WRITERS * KEYS_PER_WRITER


def test_a_delayed_request_does_not_hold_up_the_others(alice, emu, monkeypatch):
    """While one request waits in an injected delay, requests to the same instance on other connections are answered.

    The delay ends when the test says so (or after its 60 s, a bound for a hung test only), not on a stopwatch: the
    others are answered while the delayed request is provably still waiting, however slow the machine. A server that
    queued requests, globally or per instance, would leave the others unanswered until the delay ended, and the test
    would fail on ``others_done``.
    """
    key_id = alice.new_key('slow-to-read')['id']
    added = control(emu.http_url, 'POST', 'faults', json={'rules': [
        {'service': 'kms', 'method': 'GET', 'path': f'^/api/v2/keys/{key_id}$', 'delay': 60, 'times': 1}]})
    assert added.status_code == 201, added.text
    faults = emu.state.faults
    real_sleep = faults.sleep
    in_delay, release = threading.Event(), threading.Event()

    def gated_sleep(seconds: float, epoch: int) -> bool:
        in_delay.set()
        release.wait(timeout=seconds)
        return real_sleep(0, epoch)  # True (abandon the request) only if a reset came meanwhile

    monkeypatch.setattr(faults, 'sleep', gated_sleep)
    delayed: dict = {}
    delayed_returned, others_done = threading.Event(), threading.Event()
    others: list = []
    failures: list = []

    def slow_read() -> None:
        try:
            delayed['response'] = alice.get_key(key_id, headers=alice.headers(Correlation_Id='delayed'), timeout=120)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            failures.append(repr(exc))
        finally:
            delayed_returned.set()

    def quick_requests() -> None:
        try:
            with requests.Session() as session:
                session.headers.update(alice.headers())
                for index in range(3):
                    others.append(session.get(f'{alice.base_url}/api/v2/keys', headers={'Correlation-Id': f'quick-list-{index}'}, timeout=120))
                    others.append(session.post(f'{alice.base_url}/api/v2/keys', json=key_body(f'quick-{index}'),
                                               headers={'Correlation-Id': f'quick-create-{index}'}, timeout=120))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            failures.append(repr(exc))
        finally:
            others_done.set()

    slow = threading.Thread(target=slow_read)
    quick = threading.Thread(target=quick_requests)
    try:
        slow.start()
        assert in_delay.wait(timeout=120)  # the delayed request is inside the emulator, waiting
        quick.start()
        assert others_done.wait(timeout=120)
        assert not delayed_returned.is_set()  # the others were answered while it was still waiting
    finally:
        release.set()
        slow.join(timeout=120)
        quick.join(timeout=120)
    assert failures == []
    assert [response.status_code for response in others] == [200, 201] * 3
    assert delayed['response'].status_code == 200 and delayed['response'].json()['resources'][0]['id'] == key_id
    log = {entry['correlation_id']: entry for entry in control(emu.http_url, 'GET', 'requests').json()['requests']}
    assert log['delayed']['fault'] is True and log['delayed']['instance'] == INSTANCE_A
    # the delayed request was logged (when it finished) after every other one
    assert all(log[f'quick-{kind}-{index}']['seq'] < log['delayed']['seq'] for kind in ('list', 'create') for index in range(3))
