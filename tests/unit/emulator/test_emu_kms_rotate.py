# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotate (/keys/<id>/actions/rotate), versions (/keys/<id>/versions) and rotation by policy."""

from __future__ import annotations

import base64
import datetime

import pytest

from hpcs_emulator.clock import parse_rfc3339
from hpcs_emulator.testing import expect_error

VERSION_TYPE = 'application/vnd.ibm.kms.key.version+json'


def _advance(emu, client, seconds: float) -> None:
    emu.state.clock.advance(seconds)
    client.forget_token()


def _versions(client, key_ref, **params) -> list:
    response = client.request('GET', f'keys/{key_ref}/versions', params=params)
    assert response.status_code == 200, response.text
    return [version['id'] for version in response.json()['resources']]


def _material(size: int = 32, fill: bytes = b'm') -> str:
    return base64.b64encode(fill * size).decode()


@pytest.mark.parametrize('kwargs', [{}, {'data': 'null'}, {'json': {}}])
def test_rotate_generated_key(alice, emu, kwargs):
    key = alice.new_key('rotating', aliases=['rotating'])
    response = alice.request('POST', 'keys/rotating/actions/rotate', **kwargs)
    assert response.status_code == 204 and response.content == b''
    rotated = alice.get_key(key['id']).json()['resources'][0]
    assert rotated['keyVersion']['id'] != key['keyVersion']['id']
    assert rotated['lastRotateDate'] == rotated['keyVersion']['creationDate']
    assert _versions(alice, key['id']) == [rotated['keyVersion']['id'], key['id']]


def test_rotation_limit_is_one_per_hour(alice, emu):
    key = alice.new_key('limited')
    assert alice.action(key['id'], 'rotate').status_code == 204  # creation does not count
    reason = expect_error(alice.action(key['id'], 'rotate'), 409, 'KEY_ROTATION_NOT_PERMITTED')
    assert 'once per hour' in reason['message']
    _advance(emu, alice, 3599)
    expect_error(alice.action(key['id'], 'rotate'), 409, 'KEY_ROTATION_NOT_PERMITTED')
    _advance(emu, alice, 1)
    assert alice.action(key['id'], 'rotate').status_code == 204
    assert len(_versions(alice, key['id'])) == 3


def test_rotate_rules(alice, emu):
    standard = alice.new_key('standard', extractable=True)
    expect_error(alice.action(standard['id'], 'rotate'), 400, 'KEY_ROOT_REQ_ERR')
    generated = alice.new_key('generated')
    reason = expect_error(alice.action(generated['id'], 'rotate', body={'payload': _material()}), 400, 'INVALID_QUERY_PARAM_ERR')
    assert reason['message'] == "'payload' must be: provided only if key is imported"
    expect_error(alice.action(generated['id'], 'rotate', body={'colour': 'red'}), 400, 'BAD_BODY_ERR')
    suspended = alice.new_key('suspended')
    alice.action(suspended['id'], 'disable')
    expect_error(alice.action(suspended['id'], 'rotate'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    deleted = alice.new_key('deleted')
    alice.delete_key(deleted['id'])
    expect_error(alice.action(deleted['id'], 'rotate'), 409, 'KEY_ACTION_INVALID_STATE_ERR')


def test_rotate_deactivated_key(alice, emu):
    key = alice.new_key('expiring', expirationDate='2099-01-01T00:00:00Z')
    emu.state.clock.set(parse_rfc3339('2099-01-02T00:00:00Z'))
    alice.forget_token()
    assert alice.action(key['id'], 'rotate').status_code == 204
    rotated = alice.get_key(key['id']).json()['resources'][0]
    assert rotated['state'] == 3 and rotated['expirationDate'] == '2099-01-01T00:00:00Z'


def test_rotate_imported_key(alice, emu):
    key = alice.new_key('imported', payload=_material(16))
    assert key['algorithmBitSize'] == 128
    reason = expect_error(alice.action(key['id'], 'rotate'), 400, 'KEY_PAYLOAD_REQ_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'payload'}
    expect_error(alice.action(key['id'], 'rotate', body={'payload': _material(20)}), 400, 'INVALID_FIELD_ERR')
    expect_error(alice.action(key['id'], 'rotate', body={'payload': 'not base64!'}), 400, 'INVALID_FIELD_ERR')
    assert alice.action(key['id'], 'rotate', body={'Payload': _material(32, b'n')}).status_code == 204
    rotated = alice.get_key(key['id']).json()['resources'][0]
    assert rotated['algorithmBitSize'] == 256 and rotated['imported'] is True


def test_rotate_imported_key_with_enforce_token(alice):
    key = alice.new_key('imported', payload=_material())
    body = {'metadata': {'collectionType': 'application/vnd.ibm.kms.policy+json', 'collectionTotal': 1},
            'resources': [{'policy_type': 'keyCreateImportAccess', 'policy_data': {'enabled': True,
                                                                                   'attributes': {'enforce_token': True}}}]}
    assert alice.request('PUT', 'instance/policies', json=body).status_code == 204
    expect_error(alice.action(key['id'], 'rotate', body={'payload': _material(32, b'z')}), 409, 'KEY_CREATE_IMPORT_ACCESS_ERR')


def test_rotate_representation(alice):
    key = alice.new_key('shown')
    response = alice.action(key['id'], 'rotate', headers=alice.headers(Prefer='return=representation'))
    assert response.status_code == 200
    assert response.json()['resources'][0]['keyVersion']['id'] != key['id']


def test_versions_listing(alice, emu):
    key = alice.new_key('versioned')
    for dummy in range(3):
        alice.action(key['id'], 'rotate')
        _advance(emu, alice, 3600)
    body = alice.request('GET', f'keys/{key["id"]}/versions').json()
    assert body['metadata'] == {'collectionType': VERSION_TYPE, 'collectionTotal': 4}
    dates = [version['creationDate'] for version in body['resources']]
    assert dates == sorted(dates, reverse=True)
    assert set(body['resources'][0]) == {'id', 'creationDate'} and body['resources'][-1]['id'] == key['id']
    assert len(_versions(alice, key['id'], limit=2)) == 2
    assert _versions(alice, key['id'], offset=3) == [key['id']]
    counted = alice.request('GET', f'keys/{key["id"]}/versions', params={'totalCount': 'true', 'limit': 1}).json()
    assert counted['metadata']['totalCount'] == 4 and counted['metadata']['collectionTotal'] == 1
    expect_error(alice.request('GET', f'keys/{key["id"]}/versions', params={'limit': 5001}), 400, 'INVALID_QUERY_PARAM_ERR')


def test_versions_of_inactive_keys(alice):
    key = alice.new_key('inactive')
    alice.action(key['id'], 'disable')
    expect_error(alice.request('GET', f'keys/{key["id"]}/versions'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    assert _versions(alice, key['id'], allKeyStates='true') == [key['id']]
    alice.delete_key(key['id'])
    expect_error(alice.request('GET', f'keys/{key["id"]}/versions'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    assert _versions(alice, key['id'], allKeyStates='true') == [key['id']]


def test_rotation_policy_rotates_on_the_clock(alice, emu):
    key = alice.create_key('auto', overrides=True, rotation={'enabled': True, 'interval_month': 1}).json()['resources'][0]
    _advance(emu, alice, 29 * 86400)
    assert len(_versions(alice, key['id'])) == 1
    _advance(emu, alice, 86400)
    current = alice.get_key(key['id']).json()['resources'][0]
    assert current['keyVersion']['id'] != key['id']
    # the new version is dated when it fell due: creation + 30 days
    assert parse_rfc3339(current['lastRotateDate']) - parse_rfc3339(key['creationDate']) == datetime.timedelta(days=30)
    assert current['keyVersion']['creationDate'] == current['lastRotateDate']
    _advance(emu, alice, 61 * 86400)
    assert len(_versions(alice, key['id'])) == 4
    # disabled policy, imported and suspended keys do not rotate
    policy = {'metadata': {'collectionType': 'application/vnd.ibm.kms.policy+json', 'collectionTotal': 1},
              'resources': [{'type': 'application/vnd.ibm.kms.policy+json', 'rotation': {'enabled': False}}]}
    assert alice.request('PUT', f'keys/{key["id"]}/policies', json=policy).status_code == 200
    imported = alice.create_key('imported', overrides=True, payload=_material(),
                                rotation={'enabled': True, 'interval_month': 1}).json()['resources'][0]
    _advance(emu, alice, 90 * 86400)
    assert len(_versions(alice, key['id'])) == 4
    assert len(_versions(alice, imported['id'])) == 1


def test_rotation_policies_set_after_a_request_still_rotate_on_time(alice, emu):
    """A request skips the scan for due rotations until the earliest one it found; a policy set since, or a key that
    was due while suspended and is enabled again, is still rotated on time."""
    late = alice.create_key('late', overrides=True, rotation={'enabled': True, 'interval_month': 12}).json()['resources'][0]
    assert len(_versions(alice, late['id'])) == 1  # a scan: the next rotation of the instance is 360 days away
    soon = alice.new_key('soon')
    policy = {'metadata': {'collectionType': 'application/vnd.ibm.kms.policy+json', 'collectionTotal': 1},
              'resources': [{'type': 'application/vnd.ibm.kms.policy+json', 'rotation': {'enabled': True, 'interval_month': 1}}]}
    assert alice.request('PUT', f'keys/{soon["id"]}/policies', json=policy).status_code == 200
    paused = alice.create_key('paused', overrides=True, rotation={'enabled': True, 'interval_month': 1}).json()['resources'][0]
    alice.action(paused['id'], 'disable')
    _advance(emu, alice, 31 * 86400)
    assert len(_versions(alice, soon['id'])) == 2
    assert len(_versions(alice, late['id'])) == 1
    assert len(_versions(alice, paused['id'], allKeyStates='true')) == 1  # suspended keys do not rotate
    alice.action(paused['id'], 'enable')
    assert len(_versions(alice, paused['id'])) == 2  # enabled again: the rotation it missed
