# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control endpoints: health, reset, request log, counters, clock, config."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from hpcs_emulator.clock import parse_rfc3339
from hpcs_emulator.testing import ALICE_API_KEY, INSTANCE_A, KmsClient, get_token


def _control(emu, method, path, **kwargs):
    response = requests.request(method, f'{emu.http_url}/_emulator/{path}', timeout=10, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_health(emu):
    assert _control(emu, 'GET', 'health') == {'ok': True}
    assert requests.get(f'{emu.https_url}/_emulator/health', verify=emu.ca_path, timeout=10).json() == {'ok': True}


def test_reset_drops_keys_log_faults_and_clock(alice, emu):
    alice.new_key('before-reset', aliases=['kept-alias'])
    _control(emu, 'POST', 'faults', json={'rules': [{'service': 'kms', 'path': 'nothing-matches', 'status': 500}]})
    _control(emu, 'POST', 'clock', json={'advance': 100})
    _control(emu, 'POST', 'reset')
    assert _control(emu, 'GET', 'requests')['requests'] == []
    assert _control(emu, 'GET', 'faults')['rules'] == []
    assert abs(_control(emu, 'GET', 'clock')['offset']) < 1
    assert _control(emu, 'GET', 'counters')['total'] == 0
    assert alice.list_keys().json()['resources'] == []
    assert alice.create_key('after-reset', aliases=['kept-alias']).status_code == 201
    assert _control(emu, 'GET', 'config')['api_keys'][ALICE_API_KEY]['iam_id'] == 'IBMid-alice'


def test_request_log_has_no_secrets(alice, emu):
    material = base64.b64encode(b'S' * 32).decode()
    standard = alice.new_key('secret-holder', extractable=True, payload=material)
    alice.get_key(standard['id'])
    alice.list_keys(search='secret')
    requests.post(emu.http_url + '/identity/token', data={'grant_type': 'urn:ibm:params:oauth:grant-type:apikey',
                                                          'apikey': 'wrong-api-key-value'}, timeout=10)
    refresh = get_token(emu.http_url, ALICE_API_KEY)['refresh_token']
    requests.post(emu.http_url + '/identity/token?apikey=query-secret-value', timeout=10,
                  data={'grant_type': 'refresh_token', 'refresh_token': refresh})
    log = requests.get(emu.http_url + '/_emulator/requests', timeout=10).text
    counters = requests.get(emu.http_url + '/_emulator/counters', timeout=10).text
    for secret in (ALICE_API_KEY, 'wrong-api-key-value', alice.token, refresh, material, standard['payload'],
                   'query-secret-value', 'Bearer'):
        assert secret not in log
        assert secret not in counters
    entries = json.loads(log)['requests']
    assert {'seq', 'time', 'service', 'method', 'path', 'query', 'status', 'instance', 'correlation_id', 'listener',
            'write'} <= set(entries[0])
    assert [entry['service'] for entry in entries] == ['iam', 'kms', 'kms', 'kms', 'iam', 'iam', 'iam']
    assert entries[1]['instance'] == INSTANCE_A
    assert entries[3]['query'] == 'search=secret'
    assert 'apikey=***' in entries[-1]['query']
    assert parse_rfc3339(entries[0]['time']) is not None


def test_log_since_and_clear(alice, emu):
    alice.list_keys()
    first = _control(emu, 'GET', 'requests')
    seq = first['last_seq']
    alice.list_keys()
    newer = _control(emu, 'GET', 'requests', params={'since': seq})['requests']
    assert [entry['seq'] for entry in newer] == [seq + 1]
    requests.delete(emu.http_url + '/_emulator/requests', timeout=10).raise_for_status()
    assert _control(emu, 'GET', 'requests')['requests'] == []
    alice.list_keys()
    assert _control(emu, 'GET', 'requests')['requests'][0]['seq'] > seq + 1


def test_counters_and_write_flags(alice, emu):
    key = alice.new_key('counted')
    alice.get_key(key['id'])
    alice.list_keys()
    alice.request('HEAD', 'keys')
    alice.delete_key(key['id'])
    alice.delete_key(key['id'])  # 410, still a write request
    alice.create_key('x')  # 400, still a write request
    entries = _control(emu, 'GET', 'requests')['requests']
    kms = [(entry['method'], entry['status'], entry['write']) for entry in entries if entry['service'] == 'kms']
    assert kms == [('POST', 201, True), ('GET', 200, False), ('GET', 200, False), ('HEAD', 200, False),
                   ('DELETE', 204, True), ('DELETE', 410, True), ('POST', 400, True)]
    counters = _control(emu, 'GET', 'counters')
    assert counters['total'] == 8
    assert counters['writes'] == 4
    assert counters['by_service'] == {'iam': 1, 'kms': 7}
    assert counters['by_method'] == {'POST': 3, 'GET': 2, 'HEAD': 1, 'DELETE': 2}
    assert counters['by_route']['GET /api/v2/keys/<key_id>'] == 1
    assert counters['by_route']['DELETE /api/v2/keys/<key_id>'] == 2
    assert counters['by_route']['POST /api/v2/keys'] == 2
    assert counters['by_route']['HEAD /api/v2/keys'] == 1
    assert counters['by_route']['POST /identity/token'] == 1
    # control requests are never logged
    assert not any(entry['path'].startswith('/_emulator') for entry in entries)


def test_clock(emu):
    before = _control(emu, 'GET', 'clock')
    assert parse_rfc3339(before['now']) is not None
    moved = _control(emu, 'POST', 'clock', json={'advance': 86400})
    assert 86399 <= moved['offset'] <= 86401
    assert (parse_rfc3339(moved['now']) - parse_rfc3339(before['now'])).total_seconds() >= 86399
    target = _control(emu, 'POST', 'clock', json={'set': '2031-05-06T07:08:09Z'})
    assert target['now'].startswith('2031-05-06T07:08')
    bad = requests.post(emu.http_url + '/_emulator/clock', json={'advance': 'soon'}, timeout=10)
    assert bad.status_code == 400
    assert requests.post(emu.http_url + '/_emulator/clock', json={'set': 'never'}, timeout=10).status_code == 400


def test_the_clock_moves_only_when_the_test_moves_it(alice, emu):
    """The emulator's clock stands still in these tests (conftest), so a slow machine cannot carry a test across a limit."""
    first = alice.new_key('first')
    time.sleep(1.1)  # a slow machine: more than a second between two requests
    assert alice.new_key('second')['creationDate'] == first['creationDate']
    _control(emu, 'POST', 'clock', json={'advance': 1})
    assert alice.new_key('third')['creationDate'] > first['creationDate']


@pytest.mark.real_clock
def test_real_clock_marker_lets_the_clock_follow_real_time(alice, emu):
    first = alice.new_key('first')
    time.sleep(1.1)
    assert alice.new_key('second')['creationDate'] > first['creationDate']


def test_created_keys_use_the_clock(alice, emu):
    _control(emu, 'POST', 'clock', json={'set': '2031-05-06T07:08:09Z'})
    alice.forget_token()
    key = alice.new_key('future')
    assert key['creationDate'].startswith('2031-05-06T07:08')


def test_config_add_identity_and_instance(emu):
    new_instance = 'abcdef00-1111-4222-8333-444455556666'
    config = _control(emu, 'POST', 'config', json={
        'instances': {new_instance: {'region': 'eu-gb', 'name': 'D'}},
        'api_keys': {'hsc-emulator-dave-api-key-0004': {'iam_id': 'iam-ServiceId-dave', 'instances': [new_instance]}},
    })
    assert config['instances'][new_instance]['crn'].startswith('crn:v1:bluemix:public:hs-crypto:eu-gb:a/')
    dave = KmsClient(emu.http_url, api_key='hsc-emulator-dave-api-key-0004', instance=new_instance)
    key = dave.new_key('daves-key')
    assert key['createdBy'] == 'iam-ServiceId-dave'
    assert ':eu-gb:' in key['crn']
    bad = requests.post(emu.http_url + '/_emulator/config', timeout=10,
                        json={'api_keys': {'hsc-emulator-x-api-key': {'iam_id': 'IBMid-x', 'instances': ['missing']}}})
    assert bad.status_code == 400
    assert 'unknown instances' in bad.json()['error']
    assert requests.post(emu.http_url + '/_emulator/config', json={'token_lifetime': 0}, timeout=10).status_code == 400
