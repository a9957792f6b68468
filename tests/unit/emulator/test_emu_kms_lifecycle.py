# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore and purge of deleted keys, on the emulator clock."""

from __future__ import annotations

import datetime
import uuid

import pytest

from hpcs_emulator.testing import expect_error


def _advance(emu, *clients, seconds: float) -> None:
    emu.state.clock.advance(seconds)
    for client in clients:
        client.forget_token()


def _in(emu, seconds: int) -> str:
    return (emu.state.clock.now() + datetime.timedelta(seconds=seconds)).strftime('%Y-%m-%dT%H:%M:%SZ')


def _restore(client, key_ref, **kwargs):
    return client.request('POST', f'keys/{key_ref}/restore', **kwargs)


def _purge(client, key_ref, prefer=None):
    return client.request('DELETE', f'keys/{key_ref}/purge', headers=client.headers(Prefer=prefer))


def test_restore(alice, emu):
    alice.request('POST', 'key_rings/team')
    key = alice.create_key('comeback', extractable=True, aliases=['comeback'],
                           headers=alice.headers(X_Kms_Key_Ring='team')).json()['resources'][0]
    assert alice.delete_key('comeback').status_code == 204
    reason = expect_error(_restore(alice, 'comeback'), 409, 'REQ_TOO_EARLY_ERR')
    assert 'restored from' in reason['message']
    _advance(emu, alice, seconds=30)
    response = _restore(alice, 'comeback')
    assert response.status_code == 201, response.text
    restored = response.json()['resources'][0]
    assert restored['state'] == 1 and restored['deleted'] is False
    assert restored['aliases'] == ['comeback'] and restored['keyRingID'] == 'team'
    for field in ('deletionDate', 'deletedBy', 'purgeAllowedFrom', 'restoreExpirationDate'):
        assert field not in restored
    assert 'payload' not in restored
    assert alice.get_key(key['id']).json()['resources'][0]['payload'] == key['payload']
    assert [item['id'] for item in alice.list_keys().json()['resources']] == [key['id']]
    # only a deleted key can be restored
    expect_error(_restore(alice, key['id']), 409, 'KEY_ACTION_INVALID_STATE_ERR')


def test_restore_representation_and_bodies(alice, emu):
    key = alice.new_key('bodies', extractable=True)
    alice.delete_key(key['id'])
    _advance(emu, alice, seconds=60)
    expect_error(_restore(alice, key['id'], json={'payload': 'AAAA'}), 400, 'BAD_BODY_ERR')
    response = _restore(alice, key['id'], data='null', headers=alice.headers(Prefer='return=representation'))
    assert response.status_code == 201
    assert response.json()['resources'][0]['payload'] == key['payload']


def test_restore_window(alice, emu):
    key = alice.new_key('late')
    alice.delete_key(key['id'])
    _advance(emu, alice, seconds=30 * 86400)
    reason = expect_error(_restore(alice, key['id']), 400, 'KEY_RESTORE_EXPIRED')
    assert '30 days' in reason['message']


def test_restore_expired_key(alice, emu):
    key = alice.new_key('expiring-soon', expirationDate=_in(emu, 3600))
    alice.delete_key(key['id'])
    _advance(emu, alice, seconds=3600)
    expect_error(_restore(alice, key['id']), 400, 'KEY_EXPIRED_ERR')
    assert alice.get_key(key['id']).json()['resources'][0]['restoreAllowed'] is False


def test_restored_dual_auth_key_needs_new_approval(alice, bob, emu):
    key = alice.create_key('guarded', overrides=True, dualAuthDelete={'enabled': True}).json()['resources'][0]
    bob.action(key['id'], 'setKeyForDeletion')
    assert alice.delete_key(key['id']).status_code == 204
    _advance(emu, alice, bob, seconds=31)
    assert _restore(alice, key['id']).status_code == 201
    expect_error(alice.delete_key(key['id']), 409, 'AUTHORIZATIONS_NOT_MET')


@pytest.mark.parametrize('prefer, status', [(None, 200), ('return=representation', 200), ('return=minimal', 200)])
def test_purge(alice, emu, prefer, status):
    key = alice.new_key('purgeable', aliases=['purgeable'])
    deleted = alice.delete_key(key['id'], prefer='return=representation').json()['resources'][0]
    reason = expect_error(_purge(alice, 'purgeable'), 409, 'REQ_TOO_EARLY_ERR')
    assert deleted['purgeAllowedFrom'] in reason['message']
    _advance(emu, alice, seconds=4 * 3600)
    response = _purge(alice, 'purgeable', prefer=prefer)
    assert response.status_code == status, response.text
    if prefer == 'return=minimal':
        assert response.content == b''
    else:
        purged = response.json()['resources'][0]
        assert purged['id'] == key['id'] and purged['state'] == 5 and purged['purgeAllowed'] is True
    # gone everywhere, alias freed
    for method, path in (('GET', f'keys/{key["id"]}'), ('GET', f'keys/{key["id"]}/metadata'), ('DELETE', f'keys/{key["id"]}'),
                         ('POST', f'keys/{key["id"]}/restore'), ('DELETE', f'keys/{key["id"]}/purge'),
                         ('GET', f'keys/{key["id"]}/versions'), ('GET', f'keys/{key["id"]}/policies'),
                         ('POST', f'keys/{key["id"]}/actions/enable'), ('GET', 'keys/purgeable')):
        expect_error(alice.request(method, path), 404, 'KEY_NOT_FOUND_ERR')
    assert alice.list_keys(state='5').json()['resources'] == []
    assert alice.create_key('reborn', aliases=['purgeable']).status_code == 201


def test_purge_rules(alice, emu):
    key = alice.new_key('alive')
    expect_error(_purge(alice, key['id']), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    expect_error(_purge(alice, str(uuid.uuid4())), 404, 'KEY_NOT_FOUND_ERR')
    error = _purge(alice, key['id']).json()['resources'][0]
    assert error['errorMsg'].startswith('Conflict: Key could not be purged: ')


def test_lifecycle_write_flags(alice, emu):
    key = alice.new_key('flags')
    alice.delete_key(key['id'])
    _advance(emu, alice, seconds=4 * 3600)
    alice.token  # pylint: disable=pointless-statement
    emu.state.requests.clear()
    _restore(alice, key['id'])
    alice.delete_key(key['id'])
    _purge(alice, key['id'])
    assert [entry['write'] for entry in emu.state.requests.entries()] == [True, True, True]
