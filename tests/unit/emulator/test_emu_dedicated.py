# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key Protect Dedicated: refused features, crypto units (GET /api/v1/cryptounits) and the 503 of uninitialized units."""

from __future__ import annotations

import pytest
import requests

from hpcs_emulator.testing import (ALICE_API_KEY, CAROL_API_KEY, INSTANCE_A, KP_DEDICATED, KP_DEDICATED_NEW, KP_STANDARD,
                                   KmsClient, control, expect_error, get_token)

POLICY_TYPE = 'application/vnd.ibm.kms.policy+json'
NO_UNITS = 'no healthy upstream: no crypto units are in kms-initialized state at this time'


@pytest.fixture
def ded(emu):
    return KmsClient(emu.http_url, instance=KP_DEDICATED)


@pytest.fixture
def ded_new(emu):
    return KmsClient(emu.http_url, instance=KP_DEDICATED_NEW)


def _units(emu, instance_id, api_key=ALICE_API_KEY, header='Bluemix-Instance', token=True):
    headers = {header: instance_id, 'Accept': 'application/json'}
    if token:
        headers['Authorization'] = f'Bearer {get_token(emu.http_url, api_key)["access_token"]}'
    return requests.get(f'{emu.http_url}/api/v1/cryptounits', headers=headers, timeout=10)


def _network_policy(network='private-only') -> dict:
    return {'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': 1},
            'resources': [{'policy_type': 'allowedNetwork',
                           'policy_data': {'enabled': True, 'attributes': {'allowed_network': network}}}]}


def test_dedicated_serves_the_key_api(ded):
    key = ded.new_key('ded-root')
    assert key['crn'].startswith('crn:v1:bluemix:public:kms:us-east:')
    assert ded.get_key(key['id']).status_code == 200
    assert ded.action(key['id'], 'wrap', {'plaintext': 'aGVsbG8='}).status_code == 200


@pytest.mark.parametrize('method', ['POST', 'GET'])
def test_dedicated_refuses_import_tokens(ded, method):
    response = ded.request(method, 'import_token', json={} if method == 'POST' else None)
    reason = expect_error(response, 403, 'FEATURE_RESTRICTED_ERR')
    assert 'is not supported for Key Protect Dedicated instances' in reason['message']


def test_dedicated_refuses_secure_import(ded):
    response = ded.create_key('secure', payload='AAAA', encryptedNonce='AAAA', iv='AAAA')
    expect_error(response, 403, 'FEATURE_RESTRICTED_ERR')


def test_plain_import_works_on_dedicated(ded):
    key = ded.new_key('plain-import', payload='q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=')
    assert key['imported'] is True


@pytest.mark.parametrize('policy', ['allowedNetwork', None])
def test_dedicated_refuses_allowed_network(ded, policy):
    response = ded.request('PUT', 'instance/policies', params={'policy': policy} if policy else None, json=_network_policy())
    reason = expect_error(response, 403, 'FEATURE_RESTRICTED_ERR')
    assert reason['message'] == 'The allowedNetwork instance policy is not supported for Key Protect Dedicated instances'
    assert ded.request('GET', 'instance/policies', params={'policy': 'allowedNetwork'}).json()['resources'] == []


def test_standard_instances_keep_import_tokens_and_allowed_network(kp):
    assert kp.request('POST', 'import_token', json={}).status_code == 200
    assert kp.request('PUT', 'instance/policies', params={'policy': 'allowedNetwork'},
                      json=_network_policy('public-and-private')).status_code == 204


@pytest.mark.parametrize('header', ['Bluemix-Instance', 'Instance-ID'])
def test_crypto_units_list(emu, header):
    response = _units(emu, KP_DEDICATED, header=header)
    assert response.status_code == 200, response.text
    units = response.json()
    assert isinstance(units, list) and len(units) == 2
    assert all(set(unit) == {'id', 'instanceId', 'state'} for unit in units)
    assert {unit['instanceId'] for unit in units} == {KP_DEDICATED}
    assert {unit['state'] for unit in units} == {'kms-initialized'}
    assert [unit['state'] for unit in _units(emu, KP_DEDICATED_NEW).json()] == ['reserved', 'reserved']


@pytest.mark.parametrize('instance_id', [KP_STANDARD, INSTANCE_A])
def test_crypto_units_of_other_plans_not_found(emu, instance_id):
    expect_error(_units(emu, instance_id), 404, 'NOT_FOUND_ERR')


def test_crypto_units_auth(emu):
    unauthorized = _units(emu, KP_DEDICATED, token=False)
    assert unauthorized.status_code == 401
    assert unauthorized.json()['resources'][0]['errorMsg'].startswith('Unauthorized')
    expect_error(_units(emu, KP_DEDICATED, api_key=CAROL_API_KEY), 401, 'UNAUTHORIZED_ERR')
    token = get_token(emu.http_url, ALICE_API_KEY)['access_token']
    missing = requests.get(f'{emu.http_url}/api/v1/cryptounits', headers={'Authorization': f'Bearer {token}'}, timeout=10)
    expect_error(missing, 400, 'BAD_HEADER_ERR')


def test_uninitialized_units_answer_503_on_the_key_api(emu, ded_new):
    for response in (ded_new.list_keys(), ded_new.create_key('early'), ded_new.request('GET', 'instance/policies')):
        assert response.status_code == 503, response.text
        assert response.json()['resources'][0]['errorMsg'] == f'Service Unavailable: {NO_UNITS}'
    assert _units(emu, KP_DEDICATED_NEW).status_code == 200  # the units stay readable
    counters = control(emu.http_url, 'GET', 'counters').json()
    assert counters['by_status'].get('503') == 3


def test_auth_comes_before_the_unit_check(emu):
    response = KmsClient(emu.http_url, api_key=CAROL_API_KEY, instance=KP_DEDICATED_NEW).list_keys()
    assert response.status_code == 401


def test_control_sets_unit_states(emu, ded, ded_new):
    response = control(emu.http_url, 'POST', 'crypto_units', json={'instance_id': KP_DEDICATED_NEW,
                                                                   'states': ['kms-initialized', 'reserved']})
    assert response.status_code == 200, response.text
    assert [unit['state'] for unit in response.json()['crypto_units']] == ['kms-initialized', 'reserved']
    assert ded_new.list_keys().status_code == 200  # one initialized unit is enough
    control(emu.http_url, 'POST', 'crypto_units', json={'instance_id': KP_DEDICATED, 'states': ['maintenance', 'claimed']})
    assert ded.list_keys().status_code == 503
    assert [unit['state'] for unit in _units(emu, KP_DEDICATED).json()] == ['maintenance', 'claimed']
    listed = control(emu.http_url, 'GET', f'crypto_units?instance_id={KP_DEDICATED}').json()
    assert [unit['state'] for unit in listed['crypto_units']] == ['maintenance', 'claimed']
    control(emu.http_url, 'POST', 'reset')
    assert ded.list_keys().status_code == 200  # reset brings back the configured states
    assert ded_new.list_keys().status_code == 503


@pytest.mark.parametrize('body, status', [
    ({'instance_id': KP_DEDICATED, 'states': ['kms-initialized']}, 400),
    ({'instance_id': KP_DEDICATED, 'states': ['ready', 'ready']}, 400),
    ({'instance_id': KP_DEDICATED}, 400),
    ({'instance_id': KP_STANDARD, 'states': ['kms-initialized', 'kms-initialized']}, 400),
    ({'instance_id': '00000000-0000-4000-8000-000000000000', 'states': ['kms-initialized']}, 404),
])
def test_control_crypto_units_errors(emu, body, status):
    response = control(emu.http_url, 'POST', 'crypto_units', json=body)
    assert response.status_code == status, response.text
    assert response.json()['error']
