# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS authentication, instance header, isolation, correlation ids, leniency."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from hpcs_emulator.testing import INSTANCE_A, INSTANCE_B, INSTANCE_C, KEY_TYPE, KmsClient, key_body

UNAUTHORIZED = {'errorMsg': 'Unauthorized: The user does not have access to the specified resource'}


def _error(response) -> dict:
    body = response.json()
    assert body['metadata'] == {'collectionType': 'application/vnd.ibm.kms.error+json', 'collectionTotal': 1}
    assert response.headers['Content-Type'] == 'application/json'
    return body['resources'][0]


@pytest.mark.parametrize('authorization', [None, '', 'Bearer', 'Basic Yng6Yng=', 'Bearer not-a-jwt', 'Bearer a.b.c'])
def test_missing_or_invalid_token(alice, authorization):
    response = alice.request('GET', 'keys', headers=alice.headers(Authorization=authorization))
    assert response.status_code == 401
    assert _error(response) == UNAUTHORIZED


def test_forged_token_is_rejected(alice):
    header, payload, _signature = alice.token.split('.')
    response = alice.request('GET', 'keys', headers=alice.headers(Authorization=f'Bearer {header}.{payload}.AAAA'))
    assert response.status_code == 401


def test_expired_token(alice, emu):
    assert alice.list_keys().status_code == 200
    emu.state.clock.advance(3600)
    response = alice.list_keys()
    assert response.status_code == 401
    assert _error(response) == UNAUTHORIZED


def test_missing_instance_header(alice):
    response = alice.request('GET', 'keys', headers=alice.headers(Bluemix_Instance=None))
    assert response.status_code == 400
    error = _error(response)
    assert error['errorMsg'].endswith('(BAD_HEADER_ERR)')
    assert error['reasons'][0]['code'] == 'BAD_HEADER_ERR'
    assert error['reasons'][0]['target'] == {'type': 'header', 'name': 'bluemix-instance'}


@pytest.mark.parametrize('instance', [INSTANCE_C, '00000000-0000-4000-8000-000000000000'])
def test_instance_without_access_is_401(alice, instance):
    response = alice.request('GET', 'keys', headers=alice.headers(Bluemix_Instance=instance))
    assert response.status_code == 401
    error = _error(response)
    assert error['reasons'][0]['code'] == 'UNAUTHORIZED_ERR'
    assert error['errorMsg'].startswith('Unauthorized: ')


def test_headers_are_case_insensitive(alice):
    headers = {'authorization': f'Bearer {alice.token}', 'BLUEMIX-INSTANCE': INSTANCE_A.upper(), 'prefer': 'return=minimal'}
    response = alice.request('POST', 'keys', headers=headers, json=key_body('case-test'))
    assert response.status_code == 201
    assert set(response.json()['resources'][0]) == {'type', 'id', 'name', 'crn', 'keyRingID'}


def test_instances_are_isolated(alice, emu):
    key = alice.new_key('only-in-a', aliases=['shared-alias'])
    on_b = KmsClient(emu.http_url, instance=INSTANCE_B)
    assert on_b.get_key(key['id']).status_code == 404
    assert on_b.get_key('shared-alias').status_code == 404
    assert on_b.list_keys().json()['resources'] == []
    # the same alias may exist in another instance
    assert on_b.create_key('in-b', aliases=['shared-alias']).status_code == 201
    assert on_b.delete_key(key['id']).status_code == 404
    assert alice.get_key(key['id']).status_code == 200


def test_other_identity_with_access_sees_the_keys(alice, bob, eve):
    key = alice.new_key('visible-to-bob')
    assert bob.get_key(key['id']).status_code == 200
    assert eve.get_key(key['id']).status_code == 404


def test_correlation_id_echo(alice):
    correlation_id = str(uuid.uuid4())
    response = alice.request('GET', 'keys', headers=alice.headers(Correlation_Id=correlation_id))
    assert response.headers['Correlation-Id'] == correlation_id
    generated = alice.list_keys().headers['Correlation-Id']
    assert uuid.UUID(generated).version == 4
    # errors carry it too
    response = alice.request('GET', 'keys/nope', headers=alice.headers(**{'correlation-id': correlation_id}))
    assert response.status_code == 404
    assert response.headers['Correlation-Id'] == correlation_id


@pytest.mark.parametrize('content_type', [None, 'application/json', KEY_TYPE, 'text/plain'])
def test_content_type_leniency(alice, content_type):
    headers = alice.headers(Content_Type=content_type)
    response = alice.request('POST', 'keys', headers=headers, data=json.dumps(key_body('lenient')))
    assert response.status_code == 201, response.text


def test_private_only_instance_policy(alice, emu):
    with emu.state.lock:
        emu.state.instance(INSTANCE_A).policies['allowedNetwork'] = {
            'enabled': True, 'attributes': {'allowed_network': 'private-only'}}
    public = KmsClient(emu.https_url, verify=emu.ca_path, iam_url=emu.http_url)
    private = KmsClient(emu.private_url, verify=emu.ca_path, iam_url=emu.http_url)
    assert public.list_keys().status_code == 401
    assert alice.list_keys().status_code == 401
    assert private.list_keys().status_code == 200
    entries = requests.get(emu.http_url + '/_emulator/requests', timeout=10).json()['requests']
    assert [entry['listener'] for entry in entries if entry['service'] == 'kms'] == ['public', 'http', 'private']


def test_unknown_route_and_method(alice):
    response = alice.request('GET', 'no_such_thing')
    assert response.status_code == 404
    assert _error(response)['reasons'][0]['code'] == 'NOT_FOUND_ERR'
    response = alice.request('PUT', 'keys')
    assert response.status_code == 405
    assert _error(response)['errorMsg'].startswith('Method Not Allowed: ')
    assert 'GET' in response.headers['Allow']
