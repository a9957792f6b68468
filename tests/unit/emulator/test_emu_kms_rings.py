# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key rings (/api/v2/key_rings) and moving keys between them (PATCH /keys/<id>)."""

from __future__ import annotations

import json

import pytest

from hpcs_emulator.testing import INSTANCE_B, KmsClient, expect_error

RING_TYPE = 'application/vnd.ibm.kms.key_ring+json'


def _ring_ids(client, **params) -> list:
    response = client.request('GET', 'key_rings', params=params)
    assert response.status_code == 200, response.text
    return [ring['id'] for ring in response.json()['resources']]


def test_list_create_delete(alice):
    body = alice.request('GET', 'key_rings').json()
    assert body == {'metadata': {'collectionType': RING_TYPE, 'collectionTotal': 1}, 'resources': [{'id': 'default'}]}
    response = alice.request('POST', 'key_rings/team-a')
    assert response.status_code == 201 and response.content == b''
    resources = alice.request('GET', 'key_rings').json()['resources']
    assert resources[1]['id'] == 'team-a' and resources[1]['createdBy'] == 'IBMid-alice' and 'creationDate' in resources[1]
    assert alice.request('DELETE', 'key_rings/team-a').status_code == 204
    assert _ring_ids(alice) == ['default']
    # rings are per instance
    alice.request('POST', 'key_rings/only-in-a')
    assert _ring_ids(KmsClient(alice.base_url, instance=INSTANCE_B)) == ['default']


def test_list_paging(alice):
    for index in range(5):
        assert alice.request('POST', f'key_rings/ring-{index}').status_code == 201
    assert _ring_ids(alice, limit=2) == ['default', 'ring-0']
    assert _ring_ids(alice, limit=2, offset=2) == ['ring-1', 'ring-2']
    body = alice.request('GET', 'key_rings', params={'totalCount': 'true', 'limit': 1}).json()
    assert body['metadata'] == {'collectionType': RING_TYPE, 'collectionTotal': 1, 'totalCount': 6}
    expect_error(alice.request('GET', 'key_rings', params={'limit': 0}), 400, 'INVALID_QUERY_PARAM_ERR')


@pytest.mark.parametrize('ring_id', ['x', 'r' * 101, 'under_score', 'dot.ted', 'default'])
def test_create_invalid_ids(alice, ring_id):
    reason = expect_error(alice.request('POST', f'key_rings/{ring_id}'), 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'path_param', 'name': 'key_ring_id'}


def test_create_limits(alice, emu):
    assert alice.request('POST', 'key_rings/ab').status_code == 201
    assert alice.request('POST', 'key_rings/' + 'R' * 100).status_code == 201
    assert alice.request('POST', 'key_rings/Default').status_code == 201  # only `default` itself is reserved
    expect_error(alice.request('POST', 'key_rings/ab'), 409, 'KEY_RING_CONFLICT_ERR')
    for index in range(47):
        assert alice.request('POST', f'key_rings/bulk-{index}').status_code == 201
    assert len(_ring_ids(alice)) == 51  # default + 50
    expect_error(alice.request('POST', 'key_rings/one-too-many'), 400, 'KEY_RING_QUOTA_ERR')


def test_delete_rules(alice, emu):
    expect_error(alice.request('DELETE', 'key_rings/default'), 400, 'INVALID_FIELD_ERR')
    expect_error(alice.request('DELETE', 'key_rings/nope'), 404, 'KEY_RING_NOT_FOUND_ERR')
    alice.request('POST', 'key_rings/busy')
    key = alice.create_key('in-busy', headers=alice.headers(X_Kms_Key_Ring='busy')).json()['resources'][0]
    expect_error(alice.request('DELETE', 'key_rings/busy'), 409, 'KEY_RING_NOT_EMPTY_ERR')
    expect_error(alice.request('DELETE', 'key_rings/busy', params={'force': 'true'}), 409, 'KEY_RING_NOT_EMPTY_ERR')
    assert alice.delete_key(key['id']).status_code == 204
    # only destroyed keys left: refused without force, moved to default with force
    reason = expect_error(alice.request('DELETE', 'key_rings/busy'), 409, 'KEY_RING_NOT_EMPTY_ERR')
    assert 'force=true' in reason['message']
    expect_error(alice.request('DELETE', 'key_rings/busy', params={'force': 'maybe'}), 400, 'INVALID_QUERY_PARAM_ERR')
    assert alice.request('DELETE', 'key_rings/busy', params={'force': 'true'}).status_code == 204
    assert alice.get_key(key['id']).json()['resources'][0]['keyRingID'] == 'default'
    assert _ring_ids(alice) == ['default']


def test_expired_key_keeps_ring_busy(alice, emu):
    alice.request('POST', 'key_rings/timed')
    alice.create_key('expiring', headers=alice.headers(X_Kms_Key_Ring='timed'),
                     expirationDate='2099-01-01T00:00:00Z')
    emu.state.clock.set(emu.state.clock.now().replace(year=2099, month=6))
    alice.forget_token()
    expect_error(alice.request('DELETE', 'key_rings/timed', params={'force': 'true'}), 409, 'KEY_RING_NOT_EMPTY_ERR')


def test_patch_key_ring(alice):
    alice.request('POST', 'key_rings/target')
    key = alice.new_key('movable', aliases=['movable'])
    response = alice.request('PATCH', 'keys/movable', json={'keyRingID': 'target'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body['metadata']['collectionType'] == 'application/vnd.ibm.kms.key+json'
    assert body['resources'][0]['keyRingID'] == 'target' and body['resources'][0]['id'] == key['id']
    # the header names the key's current ring
    stale = alice.request('PATCH', f'keys/{key["id"]}', headers=alice.headers(X_Kms_Key_Ring='default'),
                          json={'keyRingID': 'default'})
    expect_error(stale, 404, 'KEY_NOT_FOUND_ERR')
    # the Go client sends "KeyRingID", no Content-Type; field names match case-insensitively
    back = alice.request('PATCH', f'keys/{key["id"]}', headers=alice.headers(X_Kms_Key_Ring='target'),
                         data=json.dumps({'KeyRingID': 'default'}))
    assert back.status_code == 200 and back.json()['resources'][0]['keyRingID'] == 'default'
    # moving to the ring it is in already is fine
    assert alice.request('PATCH', f'keys/{key["id"]}', json={'keyringid': 'default'}).status_code == 200
    listed = alice.request('GET', 'keys', headers=alice.headers(X_Kms_Key_Ring='target')).json()['resources']
    assert listed == []


@pytest.mark.parametrize('body, status, code', [
    ({'keyRingID': 'default', 'name': 'renamed'}, 400, 'BAD_BODY_ERR'),
    ({'name': 'renamed'}, 400, 'BAD_BODY_ERR'),
    ({}, 400, 'BAD_BODY_ERR'),
    ({'keyRingID': 7}, 400, 'BAD_BODY_ERR'),
    ([], 400, 'BAD_BODY_ERR'),
    (None, 400, 'NO_BODY_ERR'),
    ({'keyRingID': 'missing-ring'}, 404, 'KEY_RING_NOT_FOUND_ERR'),
])
def test_patch_errors(alice, body, status, code):
    key = alice.new_key('patchy')
    reason = expect_error(alice.request('PATCH', f'keys/{key["id"]}', json=body), status, code)
    if code == 'KEY_RING_NOT_FOUND_ERR':
        assert reason['target'] == {'type': 'field', 'name': 'keyRingID'}


def test_patch_deleted_key(alice):
    alice.request('POST', 'key_rings/target')
    key = alice.new_key('gone')
    alice.delete_key(key['id'])
    expect_error(alice.request('PATCH', f'keys/{key["id"]}', json={'keyRingID': 'target'}), 409,
                 'KEY_ACTION_INVALID_STATE_ERR')


def test_ring_routes_write_flags(alice, emu):
    key = alice.new_key('flags')
    emu.state.requests.clear()
    alice.request('GET', 'key_rings')
    alice.request('POST', 'key_rings/flagged')
    alice.request('PATCH', f'keys/{key["id"]}', json={'keyRingID': 'flagged'})
    alice.request('DELETE', 'key_rings/flagged')
    flags = [(entry['method'], entry['write']) for entry in emu.state.requests.entries()]
    assert flags == [('GET', False), ('POST', True), ('PATCH', True), ('DELETE', True)]
