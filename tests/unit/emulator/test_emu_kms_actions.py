# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enable/disable, sync, dual authorization (set/unset for deletion) and the deprecated ?action= form."""

from __future__ import annotations

import datetime

import pytest

from hpcs_emulator.clock import parse_rfc3339
from hpcs_emulator.testing import expect_error


def _state(client, key_ref) -> int:
    return client.get_key(key_ref).json()['resources'][0]['state']


@pytest.mark.parametrize('body', [
    {},                                                   # no body at all
    {'data': 'null'},                                     # the Go client's literal null, no Content-Type
    {'data': '{}', 'headers_extra': {'Content-Type': 'application/vnd.ibm.kms.key_action+json'}},
    {'data': '', 'headers_extra': {'Content-Type': 'text/plain'}},
])
def test_disable_enable(alice, body):
    key = alice.new_key('switchable')
    extra = body.pop('headers_extra', {})
    headers = alice.headers(**{name.replace('-', '_'): value for name, value in extra.items()})
    response = alice.request('POST', f'keys/{key["id"]}/actions/disable', headers=headers, **body)
    assert response.status_code == 204 and response.content == b''
    assert _state(alice, key['id']) == 2
    assert alice.request('POST', f'keys/{key["id"]}/actions/enable', headers=headers, **body).status_code == 204
    assert _state(alice, key['id']) == 1


def test_wrong_states(alice, emu):
    key = alice.new_key('states', extractable=True)
    expect_error(alice.action(key['id'], 'enable'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    assert alice.action(key['id'], 'disable').status_code == 204
    reason = expect_error(alice.action(key['id'], 'disable'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    assert 'state 2' in reason['message']
    expiring = alice.new_key('expiring', expirationDate='2099-01-01T00:00:00Z')
    emu.state.clock.set(parse_rfc3339('2099-02-01T00:00:00Z'))
    alice.forget_token()
    assert _state(alice, expiring['id']) == 3
    expect_error(alice.action(expiring['id'], 'enable'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    expect_error(alice.action(expiring['id'], 'disable'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    gone = alice.new_key('gone')
    alice.delete_key(gone['id'])
    expect_error(alice.action(gone['id'], 'disable'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    expect_error(alice.action('nope-alias', 'disable'), 404, 'KEY_NOT_FOUND_ERR')


def test_action_with_a_body_is_refused(alice):
    key = alice.new_key('bodied')
    expect_error(alice.action(key['id'], 'disable', body={'why': 'because'}), 400, 'BAD_BODY_ERR')
    expect_error(alice.request('POST', f'keys/{key["id"]}/actions/disable', data='{nope'), 400, 'BAD_BODY_ERR')


def test_disabled_key_is_listed_and_readable(alice):
    key = alice.new_key('suspended', extractable=True)
    alice.action(key['id'], 'disable')
    assert alice.get_key(key['id']).json()['resources'][0]['payload'] == key['payload']
    assert [item['state'] for item in alice.list_keys(state='2').json()['resources']] == [2]


def test_dual_auth_delete_flow(alice, bob, emu):
    key = alice.create_key('guarded', overrides=True, dualAuthDelete={'enabled': True}).json()['resources'][0]
    expect_error(alice.delete_key(key['id']), 409, 'AUTHORIZATIONS_NOT_MET')
    assert alice.action(key['id'], 'setKeyForDeletion').status_code == 204
    shown = alice.get_key(key['id']).json()['resources'][0]['dualAuthDelete']
    assert shown['enabled'] is True and shown['keySetForDeletion'] is True
    expires = parse_rfc3339(shown['authExpiration'])
    assert abs((expires - emu.state.clock.now()) - datetime.timedelta(days=7)) < datetime.timedelta(seconds=5)
    # the same identity cannot approve and delete
    reason = expect_error(alice.delete_key(key['id']), 409, 'AUTHORIZATIONS_NOT_MET')
    assert 'another user' in reason['message']
    # another identity can
    response = bob.delete_key(key['id'], prefer='return=representation')
    assert response.status_code == 200
    deleted = response.json()['resources'][0]
    assert deleted['deletedBy'] == 'IBMid-bob' and deleted['dualAuthDelete'] == {'enabled': True, 'keySetForDeletion': False}


def test_dual_auth_unset_and_expiry(alice, bob, emu):
    key = alice.create_key('guarded', overrides=True, dualAuthDelete={'enabled': True}).json()['resources'][0]
    assert alice.action(key['id'], 'setKeyForDeletion').status_code == 204
    assert alice.action(key['id'], 'unsetKeyForDeletion').status_code == 204
    assert alice.get_key(key['id']).json()['resources'][0]['dualAuthDelete'] == {'enabled': True, 'keySetForDeletion': False}
    expect_error(bob.delete_key(key['id']), 409, 'AUTHORIZATIONS_NOT_MET')
    # an approval lasts 7 days on the emulator clock
    assert alice.action(key['id'], 'setKeyForDeletion').status_code == 204
    emu.state.clock.advance(7 * 86400 + 1)
    alice.forget_token()
    bob.forget_token()
    assert alice.get_key(key['id']).json()['resources'][0]['dualAuthDelete']['keySetForDeletion'] is False
    reason = expect_error(bob.delete_key(key['id']), 409, 'AUTHORIZATIONS_NOT_MET')
    assert 'expired' in reason['message']
    # bob approves, alice deletes
    assert bob.action(key['id'], 'setKeyForDeletion').status_code == 204
    assert alice.delete_key(key['id']).status_code == 204


def test_set_for_deletion_needs_dual_auth(alice):
    key = alice.new_key('plain')
    expect_error(alice.action(key['id'], 'setKeyForDeletion'), 409, 'NOT_DUAL_AUTH_ERR')
    expect_error(alice.action(key['id'], 'unsetKeyForDeletion'), 409, 'NOT_DUAL_AUTH_ERR')


def test_instance_dual_auth_policy_applies_to_new_keys(alice, bob):
    before = alice.new_key('before')
    body = {'metadata': {'collectionType': 'application/vnd.ibm.kms.policy+json', 'collectionTotal': 1},
            'resources': [{'policy_type': 'dualAuthDelete', 'policy_data': {'enabled': True}}]}
    assert alice.request('PUT', 'instance/policies', json=body).status_code == 204
    after = alice.new_key('after')
    assert after['dualAuthDelete'] == {'enabled': True, 'keySetForDeletion': False}
    assert alice.delete_key(before['id']).status_code == 204
    expect_error(alice.delete_key(after['id']), 409, 'AUTHORIZATIONS_NOT_MET')
    policies = alice.request('GET', f'keys/{after["id"]}/policies').json()['resources']
    assert [policy['dualAuthDelete'] for policy in policies] == [{'enabled': True}]
    bob.action(after['id'], 'setKeyForDeletion')
    assert alice.delete_key(after['id']).status_code == 204


def test_sync(alice, emu):
    key = alice.new_key('synced')
    assert alice.action(key['id'], 'sync').status_code == 204
    reason = expect_error(alice.action(key['id'], 'sync'), 409, 'REQ_TOO_EARLY_ERR')
    assert 'Sync cannot be performed until at least' in reason['message']
    emu.state.clock.advance(3601)
    alice.forget_token()
    assert alice.action(key['id'], 'sync').status_code == 204


def test_deprecated_action_form(alice, emu):
    key = alice.new_key('old-style', aliases=['old-style'])
    emu.state.requests.clear()
    response = alice.request('POST', 'keys/old-style', params={'action': 'disable'}, json={})
    assert response.status_code == 204
    assert _state(alice, key['id']) == 2
    assert alice.request('POST', f'keys/{key["id"]}', params={'action': 'enable'}, data='null').status_code == 204
    wrapped = alice.request('POST', f'keys/{key["id"]}', params={'action': 'wrap'}, json={})
    assert wrapped.status_code == 200 and 'ciphertext' in wrapped.json()
    reason = expect_error(alice.request('POST', f'keys/{key["id"]}', params={'action': 'explode'}), 400,
                          'INVALID_QUERY_PARAM_ERR')
    assert reason['target'] == {'type': 'query_param', 'name': 'action'}
    expect_error(alice.request('POST', f'keys/{key["id"]}'), 400, 'INVALID_QUERY_PARAM_ERR')
    error = alice.request('POST', f'keys/{key["id"]}', params={'action': 'enable'}).json()['resources'][0]
    assert error['errorMsg'].startswith('Conflict: Key could not be enabled: ')
    flags = [(entry['query'], entry['write']) for entry in emu.state.requests.entries() if entry['method'] == 'POST']
    assert flags == [('action=disable', True), ('action=enable', True), ('action=wrap', False),
                     ('action=explode', True), ('', True), ('action=enable', True)]


def test_action_write_flags(alice, emu):
    key = alice.create_key('flags', overrides=True, dualAuthDelete={'enabled': True}).json()['resources'][0]
    emu.state.requests.clear()
    for action in ('disable', 'enable', 'setKeyForDeletion', 'unsetKeyForDeletion', 'sync', 'rotate', 'wrap'):
        alice.action(key['id'], action)
    flags = {entry['route'].rsplit('/', 1)[-1]: entry['write'] for entry in emu.state.requests.entries()}
    assert flags == {'disable': True, 'enable': True, 'setKeyForDeletion': True, 'unsetKeyForDeletion': True,
                     'sync': True, 'rotate': True, 'wrap': False}
