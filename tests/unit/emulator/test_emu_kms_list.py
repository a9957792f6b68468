# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET and HEAD /api/v2/keys, and the registrations route."""

from __future__ import annotations

import pytest

from hpcs_emulator.testing import KEY_TYPE


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
