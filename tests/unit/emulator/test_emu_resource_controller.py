# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource Controller: GET /v2/resource_instances (filters, paging, account scope) and GET /v2/resource_instances/<id>."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from hpcs_emulator.server import EmulatorServer
from hpcs_emulator.testing import (ACCOUNT_ID, ALICE_API_KEY, CAROL_API_KEY, EVE_ACCOUNT_ID, EVE_API_KEY, INSTANCE_A,
                                   INSTANCE_B, INSTANCE_C, KP_DEDICATED, KP_DEDICATED_NEW, KP_STANDARD, KP_XR, PLAN_IDS,
                                   RESOURCE_GROUP_ID, SERVICE_IDS, KmsClient, control, get_token)

MAIN_ACCOUNT = [INSTANCE_A, INSTANCE_B, KP_STANDARD, KP_XR, KP_DEDICATED, KP_DEDICATED_NEW]  # config order


@pytest.fixture(scope='module')
def rc_server():
    """A server of its own: other tests add instances to the shared one, and these tests count instances."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def rc(rc_server):
    rc_server.state.reset()
    return rc_server


def _token(server, api_key=ALICE_API_KEY) -> str:
    return get_token(server.http_url, api_key)['access_token']


def _get(server, path='', api_key=ALICE_API_KEY, token=None, **params):
    headers = {'Accept': 'application/json'}
    if token is not False:
        headers['Authorization'] = f'Bearer {token or _token(server, api_key)}'
    return requests.get(f'{server.http_url}/v2/resource_instances{path}', headers=headers, params=params or None, timeout=10)


def _guids(response) -> list:
    assert response.status_code == 200, response.text
    return [record['guid'] for record in response.json()['resources']]


def _expect_rc_error(response, status, code) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {'error_code', 'message', 'status_code', 'transaction_id'}
    assert body['error_code'] == code and body['status_code'] == status and body['transaction_id']
    return body


def test_list_is_scoped_to_the_account(rc):
    body = _get(rc).json()
    assert body['rows_count'] == 6 and body['next_url'] is None
    assert [record['guid'] for record in body['resources']] == MAIN_ACCOUNT
    assert _guids(_get(rc, api_key=EVE_API_KEY)) == [INSTANCE_C]


@pytest.mark.parametrize('instance_id, service, plan, region', [
    (INSTANCE_A, 'hs-crypto', 'standard', 'us-south'),
    (KP_STANDARD, 'kms', 'tiered-pricing', 'us-south'),
    (KP_XR, 'kms', 'cross-region-resiliency', 'eu-de'),
    (KP_DEDICATED, 'kms', 'dedicated', 'us-east'),
])
def test_record_fields(rc, instance_id, service, plan, region):
    record = _get(rc, f'/{instance_id}').json()
    crn = f'crn:v1:bluemix:public:{service}:{region}:a/{ACCOUNT_ID}:{instance_id}::'
    assert record['id'] == record['crn'] == crn
    assert record['guid'] == instance_id and record['url'] == f'/v2/resource_instances/{instance_id}'
    assert record['region_id'] == region and record['account_id'] == ACCOUNT_ID
    assert record['resource_group_id'] == RESOURCE_GROUP_ID
    assert record['resource_group_crn'].endswith(f'a/{ACCOUNT_ID}::resource-group:{RESOURCE_GROUP_ID}')
    assert record['resource_id'] == SERVICE_IDS[service] and record['resource_plan_id'] == PLAN_IDS[plan]
    assert (record['state'], record['type'], record['sub_type']) == ('active', 'service_instance', service)
    assert record['parameters'] == ({'crypto_units': 2} if plan == 'dedicated' else {})
    assert record['created_at'] and record['updated_at']
    assert record['extensions'] == {'endpoints': {'public': rc.https_url, 'private': rc.private_url}}
    assert 'plan' not in record


def test_kms_service_id_is_the_real_one():
    assert SERVICE_IDS['kms'] == 'ee41347f-b18e-4ca6-bf80-b5467c63f9a6'


def test_record_by_url_encoded_crn(rc):
    crn = f'crn:v1:bluemix:public:kms:us-south:a/{ACCOUNT_ID}:{KP_STANDARD}::'
    response = _get(rc, '/' + quote(crn, safe=''))
    assert response.status_code == 200, response.text
    assert response.json()['guid'] == KP_STANDARD
    wrong_service = crn.replace(':kms:', ':hs-crypto:')
    _expect_rc_error(_get(rc, '/' + quote(wrong_service, safe='')), 404, 'RC-ResourceInstanceNotFound')


def test_parameters_show_allowed_network(rc):
    client = KmsClient(rc.http_url, instance=KP_STANDARD)
    body = {'metadata': {'collectionType': 'application/vnd.ibm.kms.policy+json', 'collectionTotal': 1},
            'resources': [{'policy_type': 'allowedNetwork',
                           'policy_data': {'enabled': True, 'attributes': {'allowed_network': 'public-and-private'}}}]}
    assert client.request('PUT', 'instance/policies', params={'policy': 'allowedNetwork'}, json=body).status_code == 204
    assert _get(rc, f'/{KP_STANDARD}').json()['parameters'] == {'allowed_network': 'public-and-private'}
    assert _get(rc, f'/{INSTANCE_A}').json()['parameters'] == {}


def test_dedicated_parameters_hold_the_unit_count(rc):
    assert _get(rc, f'/{KP_DEDICATED_NEW}').json()['parameters'] == {'crypto_units': 2}


@pytest.mark.parametrize('params, expected', [
    ({'resource_plan_id': PLAN_IDS['dedicated']}, [KP_DEDICATED, KP_DEDICATED_NEW]),
    ({'resource_plan_id': PLAN_IDS['standard']}, [INSTANCE_A, INSTANCE_B]),
    ({'resource_id': SERVICE_IDS['kms']}, [KP_STANDARD, KP_XR, KP_DEDICATED, KP_DEDICATED_NEW]),
    ({'sub_type': 'hs-crypto'}, [INSTANCE_A, INSTANCE_B]),
    ({'name': 'kp-xr'}, [KP_XR]),
    ({'name': 'nothing'}, []),
    ({'guid': KP_STANDARD}, [KP_STANDARD]),
    ({'guid': INSTANCE_C}, []),  # another account's instance
    ({'resource_group_id': RESOURCE_GROUP_ID, 'type': 'service_instance'}, MAIN_ACCOUNT),
    ({'resource_group_id': 'ffffffffffffffffffffffffffffffff'}, []),
    ({'type': 'resource_instance'}, []),
    ({'state': 'active'}, MAIN_ACCOUNT),
    ({'state': 'removed'}, []),
    ({'updated_from': '2026-01-01T00:00:00Z', 'updated_to': '2026-01-31T00:00:00Z'}, MAIN_ACCOUNT),
    ({'updated_from': '2026-02-01T00:00:00Z'}, []),
])
def test_filters(rc, params, expected):
    assert _guids(_get(rc, **params)) == expected


def test_paging_follows_next_url(rc):
    first = _get(rc, limit=4).json()
    assert first['rows_count'] == 4
    next_url = first['next_url']
    assert next_url.startswith('/v2/resource_instances?start=') and next_url.endswith('&limit=4')
    start = parse_qs(urlsplit(next_url).query)['start'][0]
    second = requests.get(rc.http_url + next_url, headers={'Authorization': f'Bearer {_token(rc)}'}, timeout=10).json()
    assert second['rows_count'] == 2 and second['next_url'] is None
    assert [r['guid'] for r in first['resources'] + second['resources']] == MAIN_ACCOUNT
    # with start, the filters come from the token: other params are ignored (the limit still applies)
    assert _guids(_get(rc, start=start, name='kp-xr', limit=1)) == [KP_DEDICATED]


def test_paging_keeps_filters(rc):
    seen, params = [], {'resource_id': SERVICE_IDS['kms'], 'limit': 1}
    while True:
        body = _get(rc, **params).json()
        seen += [r['guid'] for r in body['resources']]
        if body['next_url'] is None:
            break
        params = {'start': parse_qs(urlsplit(body['next_url']).query)['start'][0], 'limit': 1}
    assert seen == [KP_STANDARD, KP_XR, KP_DEDICATED, KP_DEDICATED_NEW]


@pytest.mark.parametrize('params', [{'limit': '0'}, {'limit': '101'}, {'limit': 'ten'}, {'limit': '-1'},
                                    {'start': 'not-a-token'}, {'state': 'sleeping'}, {'updated_from': 'yesterday'}])
def test_bad_query(rc, params):
    _expect_rc_error(_get(rc, **params), 400, 'RC-BadRequest')


def test_limit_100_is_allowed(rc):
    assert _get(rc, limit='100').status_code == 200


@pytest.mark.parametrize('path', ['', f'/{INSTANCE_A}'])
def test_unauthenticated(rc, path):
    _expect_rc_error(_get(rc, path, token=False), 401, 'RC-IamErrorResponse')
    _expect_rc_error(_get(rc, path, token='not.a.token'), 401, 'RC-IamErrorResponse')


@pytest.mark.parametrize('path', ['', f'/{KP_STANDARD}'])
def test_identity_without_resource_controller_access(rc, path):
    body = _expect_rc_error(_get(rc, path, api_key=CAROL_API_KEY), 403, 'RC-IamAuthorizationFailed')
    assert 'Viewer' in body['message'] and 'IBMid-carol' in body['message']
    assert KmsClient(rc.http_url, api_key=CAROL_API_KEY, instance=KP_STANDARD).list_keys().status_code == 200


@pytest.mark.parametrize('path, api_key', [
    ('/00000000-0000-4000-8000-000000000000', ALICE_API_KEY),
    (f'/{INSTANCE_C}', ALICE_API_KEY),  # eve's account
    (f'/{KP_STANDARD}', EVE_API_KEY),
    ('/' + quote(f'crn:v1:bluemix:public:hs-crypto:us-south:a/{EVE_ACCOUNT_ID}:{INSTANCE_C}::', safe=''), ALICE_API_KEY),
])
def test_not_found(rc, path, api_key):
    body = _expect_rc_error(_get(rc, path, api_key=api_key), 404, 'RC-ResourceInstanceNotFound')
    assert 'not found' in body['message']


def test_eve_reads_her_instance(rc):
    record = _get(rc, f'/{INSTANCE_C}', api_key=EVE_API_KEY).json()
    assert record['account_id'] == EVE_ACCOUNT_ID
    assert record['crn'] == f'crn:v1:bluemix:public:hs-crypto:us-south:a/{EVE_ACCOUNT_ID}:{INSTANCE_C}::'


def test_wrong_method_in_rc_shape(rc):
    response = requests.post(f'{rc.http_url}/v2/resource_instances', json={}, timeout=10,
                             headers={'Authorization': f'Bearer {_token(rc)}'})
    _expect_rc_error(response, 405, 'RC-MethodNotAllowed')


def test_logged_and_counted_as_rc(rc):
    _get(rc)
    _get(rc, f'/{INSTANCE_A}')
    entries = [e for e in control(rc.http_url, 'GET', 'requests').json()['requests'] if e['service'] == 'rc']
    assert [(e['route'], e['status']) for e in entries] == [
        ('GET /v2/resource_instances', 200), ('GET /v2/resource_instances/<path:instance_id>', 200)]
    assert all(e['write'] is False for e in entries)
    assert control(rc.http_url, 'GET', 'counters').json()['by_service']['rc'] == 2


def test_fault_rules_target_rc(rc):
    response = control(rc.http_url, 'POST', 'faults', json={'rules': [{'service': 'rc', 'status': 503, 'times': 1}]})
    assert response.status_code == 201, response.text
    faulted = _get(rc)
    assert faulted.status_code == 503
    assert faulted.json()['error_code'] == 'RC-ServiceUnavailable' and faulted.json()['status_code'] == 503
    assert _get(rc).status_code == 200
