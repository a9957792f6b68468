# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registrations: seeding through /_emulator/registrations, the list routes, and delete blockers."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from hpcs_emulator.testing import INSTANCE_A, INSTANCE_B, KmsClient, control, expect_error

REGISTRATION_TYPE = 'application/vnd.ibm.kms.registration+json'
COS = 'crn:v1:bluemix:public:cloud-object-storage:global:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:1234abcd::bucket:{}'


def _seed(emu, key_id, name, prevent=False, instance=INSTANCE_A, **extra):
    body = dict({'instance_id': instance, 'key_id': key_id, 'resource_crn': COS.format(name),
                 'prevent_key_deletion': prevent}, **extra)
    return control(emu.http_url, 'POST', 'registrations', json=body)


def _crns(response) -> list:
    assert response.status_code == 200, response.text
    return [reg['resourceCrn'] for reg in response.json()['resources']]


def test_seed_and_list(alice, emu):
    key = alice.new_key('protector', aliases=['protector'])
    response = _seed(emu, 'protector', 'bucket-1', description='backups')
    assert response.status_code == 201, response.text
    seeded = response.json()
    assert seeded['keyId'] == key['id'] and seeded['keyName'] == 'protector' and seeded['description'] == 'backups'
    assert seeded['preventKeyDeletion'] is False and seeded['keyVersion']['id'] == key['keyVersion']['id']
    assert {'createdBy', 'creationDate', 'updatedBy', 'lastUpdated'} <= set(seeded)
    _seed(emu, key['id'], 'bucket-2', prevent=True)
    other = alice.new_key('other')
    _seed(emu, other['id'], 'bucket-3')
    body = alice.request('GET', f'keys/{key["id"]}/registrations').json()
    assert body['metadata'] == {'collectionType': REGISTRATION_TYPE, 'collectionTotal': 2}
    assert body['resources'][0] == seeded
    assert _crns(alice.request('GET', 'keys/registrations')) == [COS.format(n) for n in ('bucket-1', 'bucket-2', 'bucket-3')]
    assert _crns(alice.request('GET', 'keys/registrations', params={'preventKeyDeletion': 'true'})) == [COS.format('bucket-2')]
    assert _crns(alice.request('GET', 'keys/protector/registrations', params={'preventKeyDeletion': 'false'})) == [
        COS.format('bucket-1')]
    paged = alice.request('GET', 'keys/registrations', params={'limit': 1, 'offset': 1, 'totalCount': 'true'}).json()
    assert paged['metadata']['totalCount'] == 3 and [r['resourceCrn'] for r in paged['resources']] == [COS.format('bucket-2')]
    # isolation: instance B sees none
    assert _crns(KmsClient(emu.http_url, instance=INSTANCE_B).request('GET', 'keys/registrations')) == []


def test_crn_query_with_wildcards(alice, emu):
    key = alice.new_key('protector')
    for name in ('logs-1', 'logs-2', 'data-1'):
        _seed(emu, key['id'], name)
    prefix = COS.format('')
    query = {'urlEncodedResourceCRNQuery': quote(prefix + 'logs-*', safe='')}
    assert _crns(alice.request('GET', 'keys/registrations', params=query)) == [COS.format('logs-1'), COS.format('logs-2')]
    unencoded = {'urlEncodedResourceCRNQuery': prefix + '*-1'}
    assert _crns(alice.request('GET', f'keys/{key["id"]}/registrations', params=unencoded)) == [
        COS.format('logs-1'), COS.format('data-1')]
    exact = {'urlEncodedResourceCRNQuery': COS.format('data-1')}
    assert _crns(alice.request('GET', 'keys/registrations', params=exact)) == [COS.format('data-1')]
    early_wildcard = {'urlEncodedResourceCRNQuery': 'crn:v1:bluemix:public:*:global:a/x:y::bucket:logs-1'}
    reason = expect_error(alice.request('GET', 'keys/registrations', params=early_wildcard), 400, 'INVALID_QUERY_PARAM_ERR')
    assert reason['target'] == {'type': 'query_param', 'name': 'urlEncodedResourceCRNQuery'}
    # the one-key form allows it
    assert len(_crns(alice.request('GET', f'keys/{key["id"]}/registrations', params=early_wildcard))) == 0


def test_list_filters_by_key_ring(alice, emu):
    alice.request('POST', 'key_rings/ringed')
    in_ring = alice.create_key('in-ring', headers=alice.headers(X_Kms_Key_Ring='ringed')).json()['resources'][0]
    outside = alice.new_key('outside')
    _seed(emu, in_ring['id'], 'a')
    _seed(emu, outside['id'], 'b')
    response = alice.request('GET', 'keys/registrations', headers=alice.headers(X_Kms_Key_Ring='ringed'))
    assert _crns(response) == [COS.format('a')]


@pytest.mark.parametrize('params', [{'limit': 0}, {'limit': 5001}, {'offset': -1}, {'preventKeyDeletion': 'yes'},
                                    {'totalCount': 'sure'}])
def test_list_bad_params(alice, params):
    expect_error(alice.request('GET', 'keys/registrations', params=params), 400, 'INVALID_QUERY_PARAM_ERR')


def test_seed_errors(alice, emu):
    standard = alice.new_key('standard', extractable=True)
    root = alice.new_key('root')
    assert _seed(emu, standard['id'], 'x').status_code == 400
    assert _seed(emu, 'no-such-key', 'x').status_code == 404
    assert _seed(emu, root['id'], 'x', instance='00000000-0000-4000-8000-000000000000').status_code == 404
    assert _seed(emu, root['id'], 'x', colour='red').status_code == 400
    assert control(emu.http_url, 'POST', 'registrations', json={'instance_id': INSTANCE_A, 'key_id': root['id'],
                                                                'resource_crn': 'not-a-crn'}).status_code == 400
    assert _seed(emu, root['id'], 'x').status_code == 201
    assert _seed(emu, root['id'], 'x').status_code == 400  # already registered
    assert control(emu.http_url, 'DELETE', 'registrations', data='{bad').status_code == 400


def test_delete_blocked_by_registrations(alice, emu):
    key = alice.new_key('protector')
    _seed(emu, key['id'], 'bucket-a')
    _seed(emu, key['id'], 'bucket-b')
    reason = expect_error(alice.delete_key(key['id']), 409, 'PROTECTED_RESOURCE_ERR')
    assert COS.format('bucket-a') in reason['message'] and COS.format('bucket-b') in reason['message']
    assert alice.delete_key(key['id'], force='true').status_code == 204
    # a forced delete removes the key's registrations
    assert _crns(alice.request('GET', 'keys/registrations')) == []


def test_prevent_key_deletion_beats_force(alice, emu):
    key = alice.new_key('retained')
    _seed(emu, key['id'], 'plain')
    _seed(emu, key['id'], 'retained', prevent=True)
    for params in ({}, {'force': 'true'}):
        reason = expect_error(alice.delete_key(key['id'], **params), 409, 'PREV_KEY_DEL_ERR')
        assert COS.format('retained') in reason['message'] and COS.format('plain') not in reason['message']
    removed = control(emu.http_url, 'DELETE', 'registrations', json={'resource_crn': COS.format('retained')})
    assert removed.json() == {'ok': True, 'removed': 1}
    expect_error(alice.delete_key(key['id']), 409, 'PROTECTED_RESOURCE_ERR')
    assert control(emu.http_url, 'DELETE', 'registrations').json()['removed'] == 1
    assert alice.delete_key(key['id']).status_code == 204


def test_purge_drops_registrations_and_reset_clears_them(alice, emu):
    key = alice.new_key('protector')
    alice.delete_key(key['id'])
    _seed(emu, key['id'], 'seeded-after-delete')
    emu.state.clock.advance(4 * 3600)
    alice.forget_token()
    assert alice.request('DELETE', f'keys/{key["id"]}/purge').status_code == 200
    assert _crns(alice.request('GET', 'keys/registrations')) == []
    other = alice.new_key('other')
    _seed(emu, other['id'], 'kept')
    emu.state.reset()
    alice.forget_token()
    assert _crns(alice.request('GET', 'keys/registrations')) == []
