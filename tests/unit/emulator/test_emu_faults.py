# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from hpcs_emulator.testing import ALICE_API_KEY, APIKEY_GRANT, key_body


def _faults(emu, *rules) -> list:
    response = requests.post(f'{emu.http_url}/_emulator/faults', json={'rules': list(rules)}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()['ids']


def _log(emu) -> list:
    return requests.get(f'{emu.http_url}/_emulator/requests', timeout=10).json()['requests']


def test_status_with_retry_after(alice, emu):
    alice.token  # pylint: disable=pointless-statement
    ids = _faults(emu, {'service': 'kms', 'method': 'GET', 'path': r'^/api/v2/keys$', 'status': 503, 'retry_after': '2'})
    assert len(ids) == 1
    response = alice.list_keys()
    assert response.status_code == 503
    assert response.headers['Retry-After'] == '2'
    error = response.json()['resources'][0]
    assert error['errorMsg'].startswith('Service Unavailable: ')
    assert error['reasons'][0]['status'] == 503
    assert response.headers['Correlation-Id']
    # other methods/paths are untouched
    assert alice.create_key('unaffected').status_code == 201
    entry = [item for item in _log(emu) if item['method'] == 'GET'][0]
    assert entry['status'] == 503 and entry['fault'] is True and entry['service'] == 'kms'


def test_times_limits_the_rule(alice, emu):
    alice.token  # pylint: disable=pointless-statement
    _faults(emu, {'service': 'kms', 'status': 429, 'times': 2, 'body': {'custom': True}})
    first, second, third = (alice.list_keys() for _index in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.json() == {'custom': True}
    rules = requests.get(f'{emu.http_url}/_emulator/faults', timeout=10).json()['rules']
    assert rules[0]['remaining'] == 0 and rules[0]['applied'] == 2
    counters = requests.get(f'{emu.http_url}/_emulator/counters', timeout=10).json()
    assert counters['faults'] == 2


def test_rate_with_seed_is_deterministic(alice, emu):
    alice.token  # pylint: disable=pointless-statement
    outcomes = []
    for _attempt in range(2):
        requests.delete(f'{emu.http_url}/_emulator/faults', timeout=10)
        _faults(emu, {'service': 'kms', 'status': 500, 'rate': 0.5, 'seed': 42})
        outcomes.append([alice.list_keys().status_code for _index in range(20)])
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0].count(500) < 20
    assert set(outcomes[0]) == {200, 500}


def test_delay(alice, emu):
    alice.token  # pylint: disable=pointless-statement
    _faults(emu, {'service': 'kms', 'delay': 0.3, 'times': 1})
    started = time.monotonic()
    assert alice.request('GET', 'keys', headers=alice.headers(Correlation_Id='delayed')).status_code == 200
    assert time.monotonic() - started >= 0.3  # a lower bound: true however slow the machine
    assert alice.request('GET', 'keys', headers=alice.headers(Correlation_Id='undelayed')).status_code == 200
    # the second request was not delayed: said by the log, not by a stopwatch (which a busy machine would stop)
    assert _entry(emu, 'delayed')['fault'] is True and _entry(emu, 'delayed')['duration_ms'] >= 300
    assert _entry(emu, 'undelayed')['fault'] is False
    assert requests.get(f'{emu.http_url}/_emulator/faults', timeout=10).json()['rules'][0]['remaining'] == 0


def test_delay_causes_client_timeout(alice, emu):
    alice.token  # pylint: disable=pointless-statement
    _faults(emu, {'service': 'kms', 'delay': 0.5, 'status': 503, 'times': 1})
    with pytest.raises(requests.exceptions.ReadTimeout):
        alice.request('GET', 'keys', timeout=(30, 0.2))  # only the answer times out: the server sleeps 0.5 s before it


@pytest.mark.parametrize('after', [False, True])
def test_reset_abandons_a_request_still_waiting_in_an_injected_delay(alice, emu, after):
    """A client that gave up on a delayed request (a module's read timeout) leaves the emulator waiting. A reset ends
    the wait: the request is not run any further and neither logged nor counted, so it cannot land in the log of the
    next test (it did: a module test's 6 s delay showed up in whichever test its xdist worker ran next)."""
    alice.token  # pylint: disable=pointless-statement
    rule = {'service': 'kms', 'method': 'POST', 'delay': 300, 'times': 1}
    if after:
        rule.update(status=503, after=True)
    _faults(emu, rule)
    with pytest.raises(requests.exceptions.ReadTimeout):
        alice.request('POST', 'keys', json=key_body('late'), timeout=(30, 0.2))
    assert emu.state.faults.sleeping == 1  # the emulator's worker of that request, waiting out the 300 s
    emu.state.reset()
    deadline = time.monotonic() + 60  # a bound only a request still in its 300 s delay reaches
    while emu.state.faults.sleeping and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emu.state.faults.sleeping == 0
    assert emu.state.key_count() == 0
    assert _log(emu) == []
    assert requests.get(f'{emu.http_url}/_emulator/counters', timeout=10).json()['total'] == 0


def test_a_request_begun_before_a_reset_is_not_logged_after_it(alice, emu, monkeypatch):
    """The log of a test holds only requests begun after its reset, however late an earlier one finishes."""
    alice.token  # pylint: disable=pointless-statement
    record = emu.state.requests.record

    def reset_then_record(entry, **kwargs):
        emu.state.reset()  # as if the next test began while this request was still being answered
        return record(entry, **kwargs)

    monkeypatch.setattr(emu.state.requests, 'record', reset_then_record)
    assert alice.list_keys().status_code == 200
    monkeypatch.undo()
    assert _log(emu) == []
    assert requests.get(f'{emu.http_url}/_emulator/counters', timeout=10).json()['total'] == 0


def _entry(emu, cid: str) -> dict:
    """The log entry of the one request sent with Correlation-Id ``cid`` (never "the first/last entry")."""
    entries = [item for item in _log(emu) if item['correlation_id'] == cid]
    assert len(entries) == 1, entries
    return entries[0]


def _token_request(base: str, emu, cid: str) -> requests.Response:
    return requests.post(f'{base}/identity/token', data={'grant_type': APIKEY_GRANT, 'apikey': ALICE_API_KEY},
                         headers={'Correlation-Id': cid}, verify=emu.ca_path, timeout=5)


@pytest.mark.parametrize('https', [False, True])
def test_drop_connection(emu, https):
    base = emu.https_url if https else emu.http_url
    _faults(emu, {'service': 'iam', 'drop': True, 'times': 1})
    dropped, retried = (f'drop-{uuid.uuid4()}', f'retry-{uuid.uuid4()}')
    with pytest.raises(requests.exceptions.ConnectionError):
        _token_request(base, emu, dropped)
    assert _token_request(base, emu, retried).status_code == 200
    entry = _entry(emu, dropped)
    assert entry['fault'] is True and entry['dropped'] is True and entry['status'] is None
    assert _entry(emu, retried)['fault'] is False and _entry(emu, retried)['seq'] > entry['seq']


@pytest.mark.parametrize('after', [False, True])
def test_dropped_request_is_logged_before_the_client_sees_the_drop(emu, monkeypatch, after):
    """The log entry of a dropped request exists once the client sees the drop: no race with the next request.

    Recording is slowed down on purpose, which only widens the window a late recording would need; nothing is timed.
    """
    record = emu.state.requests.record

    def slow_record(entry, **kwargs):
        if entry.get('dropped'):
            time.sleep(0.3)
        return record(entry, **kwargs)

    monkeypatch.setattr(emu.state.requests, 'record', slow_record)
    _faults(emu, {'service': 'iam', 'drop': True, 'after': after, 'times': 1})
    cid = f'drop-{uuid.uuid4()}'
    with pytest.raises(requests.exceptions.ConnectionError):
        _token_request(emu.http_url, emu, cid)
    entry = _entry(emu, cid)
    assert entry['dropped'] is True and entry['status'] is None
    assert entry.get('app_status') == (200 if after else None)


def test_after_status_loses_the_response_of_a_create(alice, emu):
    alice.token  # pylint: disable=pointless-statement
    _faults(emu, {'service': 'kms', 'method': 'POST', 'path': '/keys$', 'status': 502, 'after': True, 'times': 1})
    response = alice.create_key('lost-response', aliases=['lost'])
    assert response.status_code == 502
    # the key exists anyway: a blind retry would collide on the alias
    assert alice.get_key('lost').status_code == 200
    entry = [item for item in _log(emu) if item['method'] == 'POST' and item['service'] == 'kms'][0]
    assert entry['status'] == 502 and entry['app_status'] == 201 and entry['write'] is True


def test_after_drop_loses_the_response_of_a_create(alice, emu):
    alice.token  # pylint: disable=pointless-statement
    _faults(emu, {'service': 'kms', 'method': 'POST', 'drop': True, 'after': True, 'times': 1})
    with pytest.raises(requests.exceptions.ConnectionError):
        alice.create_key('dropped-response', aliases=['dropped'])
    assert alice.get_key('dropped').status_code == 200


def test_fault_on_any_service_and_rule_removal(emu):
    ids = _faults(emu, {'status': 500, 'path': '^/identity/'}, {'service': 'broker', 'status': 404})
    assert requests.post(f'{emu.http_url}/identity/token', data={}, timeout=5).status_code == 500
    assert requests.get(f'{emu.http_url}/crypto_v2/instances/x', timeout=5).json()['code'] == 'NOT_FOUND'
    assert requests.delete(f'{emu.http_url}/_emulator/faults/{ids[0]}', timeout=5).status_code == 200
    assert requests.post(f'{emu.http_url}/identity/token', data={}, timeout=5).status_code == 400
    # control endpoints are never faulted
    _faults(emu, {'status': 500})
    assert requests.get(f'{emu.http_url}/_emulator/health', timeout=5).status_code == 200


@pytest.mark.parametrize('rule', [
    {'service': 'database', 'status': 500}, {'status': 'bad'}, {'status': 700}, {}, {'after': True, 'delay': 1},
    {'drop': True, 'status': 500}, {'status': 500, 'times': 0}, {'status': 500, 'rate': 2}, {'status': 500, 'path': '('},
    {'status': 500, 'colour': 'red'},
])
def test_invalid_rules(emu, rule):
    response = requests.post(f'{emu.http_url}/_emulator/faults', json={'rules': [rule]}, timeout=10)
    assert response.status_code == 400
    assert response.json()['error']
