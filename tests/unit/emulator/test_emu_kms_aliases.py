# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""POST/DELETE /api/v2/keys/<id>/aliases/<alias>."""

from __future__ import annotations

import re
import uuid

import pytest

from hpcs_emulator.testing import expect_error

ALIAS_TYPE = 'application/vnd.ibm.kms.alias+json'


def test_create_alias(alice):
    key = alice.new_key('aliased')
    response = alice.request('POST', f'keys/{key["id"]}/aliases/first-alias')
    assert response.status_code == 201, response.text
    body = response.json()
    assert body['metadata'] == {'collectionType': ALIAS_TYPE, 'collectionTotal': 1}
    resource = body['resources'][0]
    assert set(resource) == {'keyId', 'alias', 'createdBy', 'creationDate'}
    assert resource['keyId'] == key['id'] and resource['alias'] == 'first-alias' and resource['createdBy'] == 'IBMid-alice'
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', resource['creationDate'])
    assert alice.get_key('first-alias').json()['resources'][0]['aliases'] == ['first-alias']
    # the alias works as {id} on key-scoped routes, including the alias routes themselves
    assert alice.request('POST', 'keys/first-alias/aliases/second_alias').status_code == 201
    assert alice.get_key(key['id']).json()['resources'][0]['aliases'] == ['first-alias', 'second_alias']


def test_recreate_same_alias_is_200_with_the_same_body(alice, bob):
    key = alice.new_key('aliased')
    first = alice.request('POST', f'keys/{key["id"]}/aliases/stable')
    again = bob.request('POST', f'keys/{key["id"]}/aliases/stable')
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()  # still alice's creation
    # an alias set at creation time can be "re-created" too
    other = alice.new_key('other', aliases=['born-with'])
    response = alice.request('POST', f'keys/{other["id"]}/aliases/born-with')
    assert response.status_code == 200
    assert response.json()['resources'][0]['createdBy'] == 'IBMid-alice'


def test_alias_of_another_key_is_409(alice):
    alice.new_key('owner', aliases=['taken'])
    other = alice.new_key('other')
    reason = expect_error(alice.request('POST', f'keys/{other["id"]}/aliases/taken'), 409, 'KEY_ALIAS_NOT_UNIQUE_ERR')
    assert reason['target'] == {'type': 'path_param', 'name': 'alias'}


def test_sixth_alias_is_refused(alice):
    key = alice.new_key('busy', aliases=['a1', 'a2', 'a3', 'a4', 'a5'])
    reason = expect_error(alice.request('POST', f'keys/{key["id"]}/aliases/a6'), 400, 'KEY_ALIAS_QUOTA_ERR')
    assert 'at most 5' in reason['message']
    assert alice.request('DELETE', f'keys/{key["id"]}/aliases/a1').status_code == 204
    assert alice.request('POST', f'keys/{key["id"]}/aliases/a6').status_code == 201


@pytest.mark.parametrize('alias', ['a', 'b' * 91, 'dot.ted', 'keys', 'Policies', 'rewrap', 'allowed_ip', 'x%20y',
                                   '598f7678-33d0-4ff3-bbd0-e8f75f9fc103'])
def test_alias_rules(alice, alias):
    key = alice.new_key('rules')
    reason = expect_error(alice.request('POST', f'keys/{key["id"]}/aliases/{alias}'), 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'path_param', 'name': 'alias'}


def test_alias_limits_accepted(alice):
    key = alice.new_key('limits')
    for alias in ('ab', 'c' * 90, 'Mixed_Case-1'):
        assert alice.request('POST', f'keys/{key["id"]}/aliases/{alias}').status_code == 201


def test_alias_on_unknown_key(alice):
    expect_error(alice.request('POST', f'keys/{uuid.uuid4()}/aliases/nowhere'), 404, 'KEY_NOT_FOUND_ERR')


def test_delete_alias(alice):
    key = alice.new_key('aliased', aliases=['gone-soon', 'stays'])
    response = alice.request('DELETE', 'keys/stays/aliases/gone-soon')
    assert response.status_code == 204 and response.content == b''
    assert alice.get_key('gone-soon').status_code == 404
    assert alice.get_key(key['id']).json()['resources'][0]['aliases'] == ['stays']
    reason = expect_error(alice.request('DELETE', f'keys/{key["id"]}/aliases/gone-soon'), 404, 'KEY_ALIAS_NOT_FOUND_ERR')
    assert reason['target'] == {'type': 'path_param', 'name': 'alias'}
    # an alias of another key is not this key's alias
    alice.new_key('other', aliases=['foreign'])
    expect_error(alice.request('DELETE', f'keys/{key["id"]}/aliases/foreign'), 404, 'KEY_ALIAS_NOT_FOUND_ERR')
    # a freed alias can go to another key at once
    other = alice.new_key('third')
    assert alice.request('POST', f'keys/{other["id"]}/aliases/gone-soon').status_code == 201


def test_aliases_of_deleted_key(alice, emu):
    key = alice.new_key('doomed', aliases=['doomed-alias'])
    assert alice.delete_key(key['id']).status_code == 204
    expect_error(alice.request('POST', f'keys/{key["id"]}/aliases/late'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    expect_error(alice.request('DELETE', f'keys/{key["id"]}/aliases/doomed-alias'), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    # re-creating the alias it already has is still a no-op 200
    assert alice.request('POST', f'keys/{key["id"]}/aliases/doomed-alias').status_code == 200
    other = alice.new_key('other')
    expect_error(alice.request('POST', f'keys/{other["id"]}/aliases/doomed-alias'), 409, 'KEY_ALIAS_NOT_UNIQUE_ERR')


def test_alias_routes_are_writes(alice, emu):
    key = alice.new_key('logged')
    emu.state.requests.clear()
    alice.request('POST', f'keys/{key["id"]}/aliases/logged-alias')
    alice.request('POST', f'keys/{key["id"]}/aliases/bad.alias')
    alice.request('DELETE', f'keys/{key["id"]}/aliases/logged-alias')
    entries = [entry for entry in emu.state.requests.entries() if entry['service'] == 'kms']
    assert [(entry['route'], entry['write']) for entry in entries] == [
        ('POST /api/v2/keys/<key_id>/aliases/<alias>', True),
        ('POST /api/v2/keys/<key_id>/aliases/<alias>', True),
        ('DELETE /api/v2/keys/<key_id>/aliases/<alias>', True)]


def test_alias_with_key_ring_header(alice):
    alice.request('POST', 'key_rings/team-x')
    key = alice.new_key('ringed')
    assert alice.request('POST', f'keys/{key["id"]}/aliases/r1', headers=alice.headers(X_Kms_Key_Ring='default')).status_code == 201
    expect_error(alice.request('POST', f'keys/{key["id"]}/aliases/r2', headers=alice.headers(X_Kms_Key_Ring='team-x')),
                 404, 'KEY_NOT_FOUND_ERR')
