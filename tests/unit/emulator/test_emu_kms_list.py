# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET and HEAD /api/v2/keys, and the registrations route."""

from __future__ import annotations

import datetime
import uuid

import pytest

from hpcs_emulator.model import Key, KeyVersion
from hpcs_emulator.testing import INSTANCE_A, KEY_TYPE


def _ids(response) -> list:
    assert response.status_code == 200, response.text
    return [key['id'] for key in response.json()['resources']]


def _reason(response, code: str) -> dict:
    assert response.status_code == 400, response.text
    reason = response.json()['resources'][0]['reasons'][0]
    assert reason['code'] == code
    return reason


def test_paging_450_keys(alice):
    created = {alice.new_key(f'bulk-{index:03d}', extractable=index % 2 == 0)['id'] for index in range(450)}
    seen = []
    pages = []
    offset = 0
    while True:
        response = alice.list_keys(limit=200, offset=offset)
        page = _ids(response)
        assert response.json()['metadata'] == {'collectionType': KEY_TYPE, 'collectionTotal': len(page)}
        if not page:
            break
        pages.append(len(page))
        seen.extend(page)
        offset += len(page)
    assert pages == [200, 200, 50]
    assert set(seen) == created
    assert seen == sorted(seen)  # default sort is id
    assert len(_ids(alice.list_keys())) == 200  # default limit
    assert len(_ids(alice.list_keys(limit=5000))) == 450
    head = alice.request('HEAD', 'keys')
    assert head.status_code == 200
    assert head.headers['Key-Total'] == '450'
    assert head.content == b''
    assert alice.request('HEAD', 'keys', params={'extractable': 'true'}).headers['Key-Total'] == '225'
    resources = alice.list_keys(limit=1).json()['resources']
    assert 'payload' not in resources[0]


@pytest.mark.parametrize('params', [{'limit': 0}, {'limit': 5001}, {'limit': 'ten'}, {'offset': -1}, {'state': '1,4'},
                                    {'state': '1, 2'}, {'state': '1,'}, {'extractable': 'maybe'}, {'sort': 'name'},
                                    {'filter': 'colour=red'}, {'filter': 'state=1', 'state': '1'}, {'search': 'x' * 257}])
def test_bad_query_params(alice, params):
    reason = _reason(alice.list_keys(**params), 'INVALID_QUERY_PARAM_ERR')
    assert reason['target']['type'] == 'query_param'
    if 'limit' in params:
        assert reason['message'] == "The query_param 'limit' must be: an integer between 1 and 5000 (inclusive)"


def test_empty_params_are_ignored(alice):
    """The IBM Python SDK always sends ``state=``."""
    alice.new_key('visible')
    assert len(_ids(alice.list_keys(state='', extractable='', limit=''))) == 1


def test_state_and_extractable_filters(alice, emu):
    root = alice.new_key('root')
    standard = alice.new_key('standard', extractable=True)
    gone = alice.new_key('gone')
    assert alice.delete_key(gone['id']).status_code == 204
    assert set(_ids(alice.list_keys())) == {root['id'], standard['id']}
    assert set(_ids(alice.list_keys(state='5'))) == {gone['id']}
    assert set(_ids(alice.list_keys(state='1,5'))) == {root['id'], standard['id'], gone['id']}
    assert set(_ids(alice.list_keys(extractable='false'))) == {root['id']}
    assert set(_ids(alice.list_keys(extractable='TRUE'))) == {standard['id']}
    assert set(_ids(alice.list_keys(filter='state=5'))) == {gone['id']}
    assert set(_ids(alice.list_keys(filter='extractable=false state=1,5'))) == {root['id'], gone['id']}
    assert alice.request('HEAD', 'keys', params={'state': '5'}).headers['Key-Total'] == '1'


def test_date_filter(alice, emu):
    old = alice.new_key('old')
    emu.state.clock.advance(120)
    alice.forget_token()
    new = alice.new_key('new')
    cut = new['creationDate']
    assert _ids(alice.list_keys(filter=f'creationDate=gte:"{cut}"')) == [new['id']]
    assert _ids(alice.list_keys(filter=f'creationDate=lt:"{cut}"')) == [old['id']]
    assert set(_ids(alice.list_keys(filter='lastRotateDate=none'))) == {old['id'], new['id']}
    _reason(alice.list_keys(filter='creationDate=gte:2020-01-01'), 'INVALID_QUERY_PARAM_ERR')


def test_search(alice):
    web = alice.new_key('Web-Server-Key', aliases=['frontend-prod'])
    db_key = alice.new_key('database-key', aliases=['backend-prod', 'pg'])
    other = alice.new_key('other')
    assert set(_ids(alice.list_keys(search='server'))) == {web['id']}
    assert set(_ids(alice.list_keys(search='PROD'))) == {web['id'], db_key['id']}
    assert set(_ids(alice.list_keys(search='name:prod'))) == set()
    assert set(_ids(alice.list_keys(search='alias:prod'))) == {web['id'], db_key['id']}
    assert set(_ids(alice.list_keys(search='exact:pg'))) == {db_key['id']}
    assert set(_ids(alice.list_keys(search='exact:p'))) == set()
    assert set(_ids(alice.list_keys(search='not:prod'))) == {other['id']}
    assert set(_ids(alice.list_keys(search='not:exact:other'))) == {web['id'], db_key['id']}
    assert set(_ids(alice.list_keys(search='escape:not:x'))) == set()
    # the Go client appends a comma
    assert set(_ids(alice.list_keys(search='server,'))) == {web['id']}
    # a full id is an exact lookup, returned first
    assert _ids(alice.list_keys(search=other['id'])) == [other['id']]
    body = alice.list_keys(search='alias:prod').json()
    assert body['metadata']['searchQuery'] == {'query': 'alias:prod', 'scopes': ['alias'], 'not': False, 'exact': False}
    assert body['metadata']['incompleteSearch'] is False


def test_sort(alice, emu):
    first = alice.new_key('first')
    emu.state.clock.advance(5)
    alice.forget_token()
    second = alice.new_key('second', extractable=True)
    assert _ids(alice.list_keys(sort='-creationDate')) == [second['id'], first['id']]
    assert _ids(alice.list_keys(sort='creationDate')) == [first['id'], second['id']]
    assert _ids(alice.list_keys(sort='-extractable,id')) == [second['id'], first['id']]
    assert _ids(alice.list_keys(sort='-id')) == sorted([first['id'], second['id']], reverse=True)


def test_registrations_route_is_not_shadowed(alice):
    response = alice.request('GET', 'keys/registrations')
    assert response.status_code == 200
    expected = {'metadata': {'collectionType': 'application/vnd.ibm.kms.registration+json', 'collectionTotal': 0}, 'resources': []}
    assert response.json() == expected
    assert alice.request('GET', 'keys/registrations', params={'totalCount': 'true'}).json()['metadata']['totalCount'] == 0
    key = alice.new_key('registered')
    assert alice.request('GET', f'keys/{key["id"]}/registrations').json()['resources'] == []
    assert alice.request('GET', 'keys/nope/registrations').status_code == 404


def _seed_keys(emu, count: int, extractable: bool) -> None:
    """Put ``count`` keys straight into instance A's state (creating 5,000 keys over HTTP is slow)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    with emu.state.lock:
        instance = emu.state.instance(INSTANCE_A)
        for index in range(count):
            key_id = str(uuid.uuid4())
            instance.add_key(Key(id=key_id, name=f'seeded-{index}', extractable=extractable, imported=False,
                                 key_ring='default', created_by='IBMid-alice', creation_date=now,
                                 versions=[KeyVersion(key_id, now, b'\0' * 32)]))


def test_search_too_broad(alice, emu):
    _seed_keys(emu, 5001, extractable=False)
    target = alice.new_key('needle', extractable=True, aliases=['the-needle'])
    reason = _reason(alice.list_keys(search='needle'), 'KEY_SEARCH_TOO_BROAD')
    assert reason['target'] == {'type': 'query_param', 'name': 'search'}
    # an exact lookup (full id or alias) that hits is returned, flagged incomplete
    for term in (target['id'], 'the-needle', 'alias:the-needle'):
        body = alice.list_keys(search=term).json()
        assert [key['id'] for key in body['resources']] == [target['id']]
        assert body['metadata']['incompleteSearch'] is True
    # narrowing the searchable set below 5,000 keys makes a normal search possible
    narrowed = alice.list_keys(search='needle', extractable='true').json()
    assert [key['id'] for key in narrowed['resources']] == [target['id']]
    assert narrowed['metadata']['incompleteSearch'] is False
    _reason(alice.list_keys(search='seeded-100', filter='extractable=false'), 'KEY_SEARCH_TOO_BROAD')


def test_search_lookup_comes_first_and_not_has_no_lookup(alice):
    first = alice.new_key('zzz-first', aliases=['abc'])
    second = alice.new_key('abc-named')
    ids = _ids(alice.list_keys(search='abc', sort='-id'))
    assert ids[0] == first['id'] and set(ids) == {first['id'], second['id']}
    assert _ids(alice.list_keys(search='not:abc')) == []
    assert _ids(alice.list_keys(search=f'not:{first["id"]}')) == sorted([first['id'], second['id']])
    assert _ids(alice.list_keys(search='exact:ABC')) == []
    assert _ids(alice.list_keys(search='name:exact:abc-named')) == [second['id']]


def test_sort_and_filter_on_lifecycle_dates(alice, emu):
    keep = alice.new_key('keep')
    emu.state.clock.advance(10)
    alice.forget_token()
    rotated = alice.new_key('rotated')
    alice.action(rotated['id'], 'rotate')
    gone = alice.new_key('gone')
    alice.delete_key(gone['id'])
    assert _ids(alice.list_keys(filter='lastRotateDate=none')) == [keep['id']]
    rotate_date = alice.get_key(rotated['id']).json()['resources'][0]['lastRotateDate']
    assert _ids(alice.list_keys(filter=f'lastRotateDate=gte:"{rotate_date}"')) == [rotated['id']]
    assert _ids(alice.list_keys(state='1,5', sort='-deletionDate'))[0] == gone['id']
    assert _ids(alice.list_keys(state='5', filter='deletionDate=lte:"2999-01-01T00:00:00Z"')) == [gone['id']]
    assert _ids(alice.list_keys(sort='lastRotateDate,id'))[-1] == rotated['id']
    assert _ids(alice.list_keys(filter=f'creationDate=gt:"{keep["creationDate"]}" creationDate=lt:"2999-01-01T00:00:00Z"')) == [
        rotated['id']]
    _reason(alice.list_keys(filter='creationDate=gt:"2020-01-01T00:00:00Z" creationDate=gt:"2020-01-01T00:00:00Z" '
                                   'creationDate=gt:"2020-01-01T00:00:00Z" creationDate=gt:"2020-01-01T00:00:00Z"'),
            'INVALID_QUERY_PARAM_ERR')
