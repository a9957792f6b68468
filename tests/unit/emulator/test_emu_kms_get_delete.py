# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET /keys/<id>, /metadata and DELETE /keys/<id>."""

from __future__ import annotations

import datetime

import pytest

from hpcs_emulator.clock import parse_rfc3339


def _reason(response, status: int, code: str, verb: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()['resources'][0]
    assert error['errorMsg'] == f"{error['errorMsg'].split(':')[0]}: Key could not be {verb}: Please see 'reasons' for more details ({code})"
    return error['reasons'][0]


def test_get_by_id_and_alias(alice):
    key = alice.new_key('gettable', extractable=True, aliases=['my-alias'])
    by_id = alice.get_key(key['id']).json()
    by_alias = alice.get_key('my-alias').json()
    assert by_id == by_alias
    assert by_id['resources'][0]['payload'] == key['payload']
    assert alice.get_key(key['id'].upper()).status_code == 200
    metadata = alice.request('GET', 'keys/my-alias/metadata')
    assert metadata.status_code == 200
    assert 'payload' not in metadata.json()['resources'][0]
    assert metadata.json()['resources'][0]['id'] == key['id']


def test_get_unknown_key(alice):
    response = alice.get_key('00000000-0000-4000-8000-000000000000')
    assert response.status_code == 404
    error = response.json()['resources'][0]
    assert error['errorMsg'] == "Not Found: Key could not be retrieved: Please see 'reasons' for more details (KEY_NOT_FOUND_ERR)"
    assert error['reasons'][0]['code'] == 'KEY_NOT_FOUND_ERR'
    assert alice.request('GET', 'keys/unknown-alias/metadata').status_code == 404


@pytest.mark.parametrize('prefer', [None, 'return=minimal'])
def test_delete_minimal(alice, prefer):
    key = alice.new_key('deletable')
    response = alice.delete_key(key['id'], prefer=prefer)
    assert response.status_code == 204
    assert response.content == b''


def test_delete_representation_and_deleted_key_fields(alice, emu):
    key = alice.new_key('deletable', extractable=True, aliases=['to-delete'])
    response = alice.delete_key('to-delete', prefer='return=representation')
    assert response.status_code == 200
    deleted = response.json()['resources'][0]
    assert deleted['id'] == key['id']
    assert deleted['state'] == 5
    assert deleted['deleted'] is True
    assert deleted['deletedBy'] == 'IBMid-alice'
    assert 'payload' not in deleted
    when = parse_rfc3339(deleted['deletionDate'])
    assert parse_rfc3339(deleted['restoreExpirationDate']) - when == datetime.timedelta(days=30)
    assert parse_rfc3339(deleted['purgeAllowedFrom']) - when == datetime.timedelta(hours=4)
    assert parse_rfc3339(deleted['purgeScheduledOn']) - when == datetime.timedelta(days=90)
    assert deleted['restoreAllowed'] is True
    assert deleted['purgeAllowed'] is False
    # still readable, by id and by alias (aliases stay with the deleted key)
    again = alice.get_key('to-delete').json()['resources'][0]
    assert again['state'] == 5 and 'payload' not in again
    assert alice.create_key('reuse', aliases=['to-delete']).status_code == 409
    # the clock drives the computed fields
    emu.state.clock.advance(5 * 3600)
    alice.forget_token()
    later = alice.get_key(key['id']).json()['resources'][0]
    assert later['purgeAllowed'] is True and later['restoreAllowed'] is True
    emu.state.clock.advance(31 * 86400)
    alice.forget_token()
    assert alice.get_key(key['id']).json()['resources'][0]['restoreAllowed'] is False
    # automatic purge after 90 days frees the alias
    emu.state.clock.advance(60 * 86400)
    alice.forget_token()
    assert alice.get_key(key['id']).status_code == 404
    assert alice.create_key('reuse', aliases=['to-delete']).status_code == 201


def test_delete_twice_is_410(alice):
    key = alice.new_key('twice')
    assert alice.delete_key(key['id']).status_code == 204
    reason = _reason(alice.delete_key(key['id']), 410, 'KEY_DELETED_ERR', 'deleted')
    assert reason['status'] == 410


def test_delete_unknown_and_bad_force(alice):
    _reason(alice.delete_key('00000000-0000-4000-8000-000000000000'), 404, 'KEY_NOT_FOUND_ERR', 'deleted')
    key = alice.new_key('forceful')
    reason = _reason(alice.delete_key(key['id'], force='perhaps'), 400, 'INVALID_QUERY_PARAM_ERR', 'deleted')
    assert reason['target'] == {'type': 'query_param', 'name': 'force'}
    assert alice.delete_key(key['id'], force='true').status_code == 204


def test_dual_auth_key_cannot_be_deleted_without_approval(alice):
    key = alice.create_key('guarded', overrides=True, dualAuthDelete={'enabled': True}).json()['resources'][0]
    _reason(alice.delete_key(key['id']), 409, 'AUTHORIZATIONS_NOT_MET', 'deleted')
    assert alice.get_key(key['id']).json()['resources'][0]['state'] == 1


def test_deleted_key_listing(alice):
    key = alice.new_key('listed')
    alice.delete_key(key['id'])
    assert alice.list_keys().json()['resources'] == []
    assert [item['id'] for item in alice.list_keys(state='5').json()['resources']] == [key['id']]


def test_concurrent_clients(alice, emu):
    """Threaded listeners share one state safely."""
    from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel
    alice.token  # pylint: disable=pointless-statement

    def work(index):
        key = alice.new_key(f'parallel-{index}', aliases=[f'parallel-{index}'])
        assert alice.get_key(f'parallel-{index}').status_code == 200
        return key['id']

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(work, range(80)))
    assert len(set(ids)) == 80
    assert alice.request('HEAD', 'keys').headers['Key-Total'] == '80'
    assert emu.state.requests.counters()['by_route']['POST /api/v2/keys'] == 80
