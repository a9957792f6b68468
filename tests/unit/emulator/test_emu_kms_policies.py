# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key policies (/keys/<id>/policies) and instance policies (/instance/policies)."""

from __future__ import annotations

import base64

import pytest

from hpcs_emulator.testing import KmsClient, expect_error

POLICY_TYPE = 'application/vnd.ibm.kms.policy+json'


def _policies(*resources) -> dict:
    return {'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': len(resources)}, 'resources': list(resources)}


def _rotation(enabled=True, interval=None) -> dict:
    rotation = {'enabled': enabled}
    if interval is not None:
        rotation['interval_month'] = interval
    return {'type': POLICY_TYPE, 'rotation': rotation}


def _dual(enabled) -> dict:
    return {'type': POLICY_TYPE, 'dualAuthDelete': {'enabled': enabled}}


def _put(client, key_ref, body, policy=None):
    return client.request('PUT', f'keys/{key_ref}/policies', params={'policy': policy} if policy else None, json=body)


def test_key_policies_round_trip(alice, bob):
    key = alice.new_key('policed', aliases=['policed'])
    empty = alice.request('GET', 'keys/policed/policies').json()
    assert empty == {'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': 0}, 'resources': []}
    response = _put(alice, 'policed', _policies(_rotation(True, 3), _dual(True)))
    assert response.status_code == 200, response.text
    resources = response.json()['resources']
    assert [resource.get('rotation') or resource.get('dualAuthDelete') for resource in resources] == [
        {'enabled': True, 'interval_month': 3}, {'enabled': True}]
    rotation = resources[0]
    assert rotation['type'] == POLICY_TYPE and rotation['crn'] == f'{key["crn"]}:policy:{rotation["id"]}'
    assert rotation['createdBy'] == rotation['updatedBy'] == 'IBMid-alice'
    assert {'creationDate', 'lastUpdateDate'} <= set(rotation)
    got = alice.request('GET', f'keys/{key["id"]}/policies').json()
    assert got['metadata']['collectionTotal'] == 2 and got['resources'] == resources
    only = alice.request('GET', f'keys/{key["id"]}/policies', params={'policy': 'dualAuthDelete'}).json()['resources']
    assert [resource['dualAuthDelete'] for resource in only] == [{'enabled': True}]
    # the key object reflects them
    shown = alice.get_key(key['id']).json()['resources'][0]
    assert shown['rotation'] == {'enabled': True, 'interval_month': 3}
    assert shown['dualAuthDelete'] == {'enabled': True, 'keySetForDeletion': False}
    # an update keeps id and creator, changes updatedBy
    updated = _put(bob, key['id'], _policies(_rotation(True, 6)), policy='rotation').json()['resources']
    assert len(updated) == 1 and updated[0]['id'] == rotation['id']
    assert updated[0]['createdBy'] == 'IBMid-alice' and updated[0]['updatedBy'] == 'IBMid-bob'
    assert updated[0]['rotation'] == {'enabled': True, 'interval_month': 6}


def test_disable_rotation_keeps_interval(alice):
    key = alice.new_key('rotating')
    _put(alice, key['id'], _policies(_rotation(True, 2)))
    assert _put(alice, key['id'], _policies(_rotation(False))).json()['resources'][0]['rotation'] == {
        'enabled': False, 'interval_month': 2}
    assert alice.get_key(key['id']).json()['resources'][0]['rotation'] == {'enabled': False, 'interval_month': 2}
    fresh = alice.new_key('fresh')
    assert _put(alice, fresh['id'], _policies(_rotation(False))).json()['resources'][0]['rotation'] == {'enabled': False}
    # the SDK's combined resource: one resource carrying both policies
    both = {'type': POLICY_TYPE, 'rotation': {'enabled': True, 'interval_month': 1}, 'dualAuthDelete': {'enabled': False}}
    assert len(_put(alice, fresh['id'], _policies(both)).json()['resources']) == 2


def test_policies_from_overrides_are_the_same_policies(alice):
    key = alice.create_key('overridden', overrides=True, rotation={'enabled': True, 'interval_month': 4},
                           dualAuthDelete={'enabled': False}).json()['resources'][0]
    resources = alice.request('GET', f'keys/{key["id"]}/policies').json()['resources']
    assert [resource.get('rotation') or resource.get('dualAuthDelete') for resource in resources] == [
        {'enabled': True, 'interval_month': 4}, {'enabled': False}]
    assert all(resource['createdBy'] == 'IBMid-alice' for resource in resources)


@pytest.mark.parametrize('body, policy, status, code', [
    (_policies(_rotation(True, 0)), None, 400, 'INVALID_FIELD_ERR'),
    (_policies(_rotation(True, 13)), None, 400, 'INVALID_FIELD_ERR'),
    (_policies(_rotation(True)), None, 400, 'INVALID_FIELD_ERR'),
    (_policies(_rotation(True, 1), _dual(True)), 'rotation', 400, 'NUM_COLLECTION_RESOURCE_ERR'),
    (_policies(_dual(True)), 'rotation', 400, 'BODY_QUERY_PARAM_MISMATCH_ERR'),
    (_policies(_rotation(True, 1), _rotation(True, 2)), None, 400, 'BAD_BODY_ERR'),
    (_policies({'type': POLICY_TYPE}), None, 400, 'BAD_BODY_ERR'),
    (_policies({'type': POLICY_TYPE, 'rotation': {'enabled': True, 'interval_month': 1}, 'colour': 'red'}), None, 400,
     'BAD_BODY_ERR'),
    (_policies({'type': POLICY_TYPE, 'dualAuthDelete': {}}), None, 400, 'INVALID_FIELD_ERR'),
    (_policies({'type': 'application/json', 'dualAuthDelete': {'enabled': True}}), None, 400, 'INVALID_FIELD_ERR'),
    ({'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': 2}, 'resources': [_dual(True)]}, None, 400,
     'COLLECTION_TOTAL_MISMATCH_ERR'),
    (None, None, 400, 'NO_BODY_ERR'),
    (_policies(_dual(True)), 'nonsense', 400, 'INVALID_QUERY_PARAM_ERR'),
])
def test_key_policy_errors(alice, body, policy, status, code):
    key = alice.new_key('root')
    reason = expect_error(_put(alice, key['id'], body, policy), status, code)
    if body and 'rotation' in body['resources'][0] and code == 'INVALID_FIELD_ERR':
        assert reason['target'] == {'type': 'field', 'name': 'interval_month'}


def test_rotation_policy_needs_root_key(alice):
    key = alice.new_key('standard', extractable=True)
    reason = expect_error(_put(alice, key['id'], _policies(_rotation(True, 1))), 400, 'KEY_ROOT_REQ_ERR')
    assert 'standard key' in reason['message']
    assert _put(alice, key['id'], _policies(_dual(True))).status_code == 200


def test_dual_auth_cannot_be_disabled(alice):
    key = alice.new_key('sticky')
    assert _put(alice, key['id'], _policies(_dual(False))).status_code == 200
    assert _put(alice, key['id'], _policies(_dual(True))).status_code == 200
    reason = expect_error(_put(alice, key['id'], _policies(_dual(False))), 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'dualAuthDelete'}
    assert _put(alice, key['id'], _policies(_dual(True))).status_code == 200


def test_policies_of_deleted_key(alice):
    key = alice.new_key('gone')
    _put(alice, key['id'], _policies(_rotation(True, 1)))
    alice.delete_key(key['id'])
    assert alice.request('GET', f'keys/{key["id"]}/policies').json()['metadata']['collectionTotal'] == 1
    expect_error(_put(alice, key['id'], _policies(_rotation(True, 2))), 409, 'KEY_ACTION_INVALID_STATE_ERR')


# ---------------------------------------------------------------- instance policies

def _instance(policy_type, enabled, attributes=None) -> dict:
    data = {'enabled': enabled}
    if attributes is not None:
        data['attributes'] = attributes
    return {'policy_type': policy_type, 'policy_data': data}


def _put_instance(client, *resources, policy=None):
    return client.request('PUT', 'instance/policies', params={'policy': policy} if policy else None, json=_policies(*resources))


def test_instance_policies_round_trip(alice, bob):
    assert alice.request('GET', 'instance/policies').json() == {
        'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': 0}, 'resources': []}
    response = _put_instance(alice, _instance('dualAuthDelete', True), _instance('metrics', True),
                             _instance('keyCreateImportAccess', True, {'create_standard_key': False}),
                             _instance('allowedNetwork', True, {'allowed_network': 'public-and-private'}))
    assert response.status_code == 204 and response.content == b''
    resources = alice.request('GET', 'instance/policies').json()['resources']
    assert [resource['policy_type'] for resource in resources] == [
        'dualAuthDelete', 'allowedNetwork', 'keyCreateImportAccess', 'metrics']
    first = resources[0]
    assert set(first) == {'creationDate', 'createdBy', 'updatedBy', 'lastUpdated', 'policy_type', 'policy_data'}
    assert first['policy_data'] == {'enabled': True}
    assert resources[2]['policy_data'] == {'enabled': True, 'attributes': {
        'create_root_key': True, 'create_standard_key': False, 'import_root_key': True, 'import_standard_key': True,
        'enforce_token': False}}
    # ?policy= selects one; an update keeps the creator
    assert _put_instance(bob, _instance('metrics', False), policy='metrics').status_code == 204
    metrics = alice.request('GET', 'instance/policies', params={'policy': 'metrics'}).json()['resources']
    assert len(metrics) == 1 and metrics[0]['policy_data'] == {'enabled': False}
    assert metrics[0]['createdBy'] == 'IBMid-alice' and metrics[0]['updatedBy'] == 'IBMid-bob'
    expect_error(alice.request('GET', 'instance/policies', params={'policy': 'allowedIP'}), 400, 'INVALID_QUERY_PARAM_ERR')


@pytest.mark.parametrize('resources, policy, code', [
    ([_instance('dualAuthDelete', True, {'x': 1})], None, 'BAD_BODY_ERR'),
    ([_instance('metrics', True, {})], None, 'BAD_BODY_ERR'),
    ([_instance('allowedNetwork', True)], None, 'INVALID_FIELD_ERR'),
    ([_instance('allowedNetwork', True, {'allowed_network': 'everywhere'})], None, 'INVALID_FIELD_ERR'),
    ([_instance('allowedNetwork', True, {'allowed_network': 'private-only', 'port': 1})], None, 'BAD_BODY_ERR'),
    ([_instance('keyCreateImportAccess', True)], None, 'INVALID_FIELD_ERR'),
    ([_instance('keyCreateImportAccess', False, {'create_root_key': False})], None, 'INVALID_FIELD_ERR'),
    ([_instance('keyCreateImportAccess', True, {'create_root_keys': False})], None, 'BAD_BODY_ERR'),
    ([_instance('keyCreateImportAccess', True, {'create_root_key': 'no'})], None, 'BAD_BODY_ERR'),
    ([_instance('rotation', True, {'interval_month': 1})], None, 'INVALID_FIELD_ERR'),
    ([{'policy_type': 'metrics'}], None, 'INVALID_FIELD_ERR'),
    ([{'policy_type': 'metrics', 'policy_data': {}}], None, 'INVALID_FIELD_ERR'),
    ([{'policy_type': 'metrics', 'policy_data': {'enabled': 'yes'}}], None, 'BAD_BODY_ERR'),
    ([_instance('metrics', True), _instance('metrics', False)], None, 'BAD_BODY_ERR'),
    ([_instance('metrics', True), _instance('dualAuthDelete', True)], 'metrics', 'NUM_COLLECTION_RESOURCE_ERR'),
    ([_instance('metrics', True)], 'dualAuthDelete', 'BODY_QUERY_PARAM_MISMATCH_ERR'),
])
def test_instance_policy_errors(alice, resources, policy, code):
    expect_error(_put_instance(alice, *resources, policy=policy), 400, code)
    assert alice.request('GET', 'instance/policies').json()['resources'] == []


def test_disabling_resets_attributes(alice):
    _put_instance(alice, _instance('keyCreateImportAccess', True, {'create_root_key': False}))
    assert _put_instance(alice, _instance('keyCreateImportAccess', False)).status_code == 204
    # the Go client always sends allowed_network, even when disabling: accepted and dropped
    assert _put_instance(alice, _instance('allowedNetwork', False, {'allowed_network': 'private-only'})).status_code == 204
    data = [resource['policy_data'] for resource in alice.request('GET', 'instance/policies').json()['resources']]
    assert data == [{'enabled': False}, {'enabled': False}]
    assert alice.new_key('allowed-again')['extractable'] is False


def test_key_create_import_access(alice):
    material = base64.b64encode(b'k' * 32).decode()
    _put_instance(alice, _instance('keyCreateImportAccess', True, {'create_root_key': False, 'import_standard_key': False}))
    reason = expect_error(alice.create_key('root'), 409, 'KEY_CREATE_IMPORT_ACCESS_ERR')
    assert 'create_root_key' in reason['message']
    expect_error(alice.create_key('imported-standard', extractable=True, payload=material), 409, 'KEY_CREATE_IMPORT_ACCESS_ERR')
    assert alice.create_key('standard', extractable=True).status_code == 201
    assert alice.create_key('imported-root', payload=material).status_code == 201
    # enforce_token: key material only through an import token
    _put_instance(alice, _instance('keyCreateImportAccess', True, {'enforce_token': True}))
    reason = expect_error(alice.create_key('imported-root', payload=material), 409, 'KEY_CREATE_IMPORT_ACCESS_ERR')
    assert 'enforce_token' in reason['message']
    assert alice.create_key('generated').status_code == 201


def test_allowed_network_private_only(alice, emu):
    private = KmsClient(emu.private_url, verify=emu.ca_path, iam_url=emu.http_url)
    assert _put_instance(alice, _instance('allowedNetwork', True, {'allowed_network': 'private-only'})).status_code == 204
    expect_error(alice.list_keys(), 401, 'UNAUTHORIZED_ERR')
    assert private.list_keys().status_code == 200
    body = _policies(_instance('allowedNetwork', True, {'allowed_network': 'public-and-private'}))
    assert private.request('PUT', 'instance/policies', json=body).status_code == 204
    assert alice.list_keys().status_code == 200


def test_policy_write_flags(alice, emu):
    key = alice.new_key('flags')
    emu.state.requests.clear()
    alice.request('GET', f'keys/{key["id"]}/policies')
    _put(alice, key['id'], _policies(_dual(True)))
    alice.request('GET', 'instance/policies')
    _put_instance(alice, _instance('metrics', True))
    assert [(entry['method'], entry['write']) for entry in emu.state.requests.entries()] == [
        ('GET', False), ('PUT', True), ('GET', False), ('PUT', True)]
