# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Global Tagging: GET /v3/tags (attached_to + providers, paging), POST /v3/tags/attach and /detach, auth."""

from __future__ import annotations

import pytest
import requests

from hpcs_emulator.server import EmulatorServer
from hpcs_emulator.testing import ALICE_API_KEY, get_token

CRN_A = 'crn:v1:bluemix:public:hs-crypto:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b::'
CRN_B = 'crn:v1:bluemix:public:hs-crypto:eu-de:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:3f9e8d7c-6b5a-4d3c-8b2a-1f0e9d8c7b6a::'


@pytest.fixture(scope='module')
def tag_server():
    """A server of its own: tags survive a reset, so no other test sees these."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def auth(tag_server):
    return {'Authorization': f'Bearer {get_token(tag_server.http_url, ALICE_API_KEY)["access_token"]}'}


def _list(server, headers, **params):
    return requests.get(f'{server.http_url}/v3/tags', headers=headers, params=params, timeout=10)


def _post(server, headers, action, body):
    return requests.post(f'{server.http_url}/v3/tags/{action}', headers=headers, json=body, timeout=10)


def test_attach_list_detach(tag_server, auth):
    attached = _post(tag_server, auth, 'attach', {'resources': [{'resource_id': CRN_A}], 'tag_names': ['env:prod', 'Team:Payments']})
    assert attached.status_code == 200 and attached.json() == {'results': [{'resource_id': CRN_A, 'is_error': False}]}
    _post(tag_server, auth, 'attach', {'resources': [{'resource_id': CRN_B}], 'tag_name': 'env:dev'})
    body = _list(tag_server, auth, attached_to=CRN_A, providers='ghost').json()
    assert body == {'total_count': 2, 'offset': 0, 'limit': 100, 'items': [{'name': 'env:prod'}, {'name': 'team:payments'}]}
    page = _list(tag_server, auth, attached_to=CRN_A, providers='ghost', offset='1', limit='1').json()
    assert page['total_count'] == 2 and page['items'] == [{'name': 'team:payments'}]
    assert [item['name'] for item in _list(tag_server, auth).json()['items']] == ['env:dev', 'env:prod', 'team:payments']
    assert _list(tag_server, auth, attached_to=CRN_A, providers='ims').json()['items'] == []
    _post(tag_server, auth, 'detach', {'resources': [{'resource_id': CRN_A}], 'tag_names': ['team:payments']})
    assert _list(tag_server, auth, attached_to=CRN_A, providers='ghost').json()['items'] == [{'name': 'env:prod'}]
    tag_server.state.reset()
    assert _list(tag_server, auth, attached_to=CRN_A, providers='ghost').json()['items'] == [{'name': 'env:prod'}]


def test_untagged_resource_has_no_tags(tag_server, auth):
    body = _list(tag_server, auth, attached_to='crn:v1:bluemix:public:kms:us-south:a/x:none::', providers='ghost').json()
    assert body['total_count'] == 0 and body['items'] == []


@pytest.mark.parametrize('params, fragment', [
    ({'attached_to': CRN_A}, 'providers is required'),
    ({'attached_to': CRN_A, 'providers': 'cloud'}, 'providers must be among'),
    ({'tag_type': 'other'}, 'tag_type must be one of'),
    ({'limit': '0'}, 'limit must be an integer'),
])
def test_bad_queries(tag_server, auth, params, fragment):
    response = _list(tag_server, auth, **params)
    assert response.status_code == 400 and fragment in response.json()['errors'][0]['message']


def test_bad_attach_body(tag_server, auth):
    response = _post(tag_server, auth, 'attach', {'resources': [{'resource_id': CRN_A}], 'tag_names': ['bad/tag']})
    assert response.status_code == 400 and 'tag_names' in response.json()['errors'][0]['message']
    assert _post(tag_server, auth, 'attach', {'tag_names': ['a']}).status_code == 400


def test_needs_a_valid_token(tag_server):
    assert _list(tag_server, {}).status_code == 401
    assert _list(tag_server, {'Authorization': 'Bearer nonsense'}).status_code == 401
    assert _post(tag_server, {}, 'attach', {'resources': [{'resource_id': CRN_A}], 'tag_names': ['a']}).status_code == 401


def test_requests_are_logged(tag_server, auth):
    tag_server.state.reset()
    _list(tag_server, auth, attached_to=CRN_A, providers='ghost')
    entries = [entry for entry in tag_server.state.requests.entries() if entry['path'] == '/v3/tags']
    assert len(entries) == 1 and entries[0]['route'] == 'GET /v3/tags' and 'providers=ghost' in entries[0]['query']
