# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""POST /api/v2/keys and /keys_with_policy_overrides."""

from __future__ import annotations

import base64
import datetime
import re
import uuid

import pytest

from hpcs_emulator.testing import ACCOUNT_ID, INSTANCE_A, KEY_TYPE, key_body

DATE_RE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$')


def _reason(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()['resources'][0]
    assert error['errorMsg'].endswith(f'({code})')
    assert error['errorMsg'].startswith(f"{error['errorMsg'].split(':')[0]}: Key could not be created: Please see 'reasons'")
    reason = error['reasons'][0]
    assert reason['code'] == code
    assert reason['status'] == status
    assert reason['moreInfo'].startswith('https://')
    return reason


def test_create_root_key(alice):
    response = alice.create_key('my-root', description='A test root key', aliases=['root-a', 'root_b'])
    assert response.status_code == 201
    body = response.json()
    assert body['metadata'] == {'collectionType': KEY_TYPE, 'collectionTotal': 1}
    key = body['resources'][0]
    assert uuid.UUID(key['id']).version == 4
    assert key['type'] == KEY_TYPE
    assert key['name'] == 'my-root'
    assert key['description'] == 'A test root key'
    assert key['aliases'] == ['root-a', 'root_b']
    assert key['state'] == 1
    assert key['extractable'] is False
    assert key['imported'] is False
    assert key['keyRingID'] == 'default'
    assert key['crn'] == f'crn:v1:bluemix:public:hs-crypto:us-south:a/{ACCOUNT_ID}:{INSTANCE_A}:key:{key["id"]}'
    assert key['createdBy'] == 'IBMid-alice'
    assert key['algorithmType'] == 'Deprecated'
    assert key['algorithmMetadata'] == {'bitLength': '256', 'mode': 'Deprecated'}
    assert key['algorithmBitSize'] == 256
    assert key['keyVersion']['id'] == key['id']
    assert key['dualAuthDelete'] == {'enabled': False}
    assert key['deleted'] is False
    assert 'payload' not in key
    for field in ('creationDate', 'lastUpdateDate'):
        assert DATE_RE.match(key[field])
    assert key['keyVersion']['creationDate'] == key['creationDate']


def test_create_standard_key_returns_payload(alice):
    key = alice.new_key('my-standard', extractable=True)
    assert key['extractable'] is True
    assert len(base64.b64decode(key['payload'])) == 32
    assert alice.get_key(key['id']).json()['resources'][0]['payload'] == key['payload']


def test_create_defaults_to_standard_key(alice):
    body = key_body('no-extractable')
    del body['resources'][0]['extractable']
    response = alice.request('POST', 'keys', json=body)
    assert response.json()['resources'][0]['extractable'] is True


@pytest.mark.parametrize('size', [16, 24, 32])
def test_import_root_key(alice, size):
    material = bytes(range(size))
    key = alice.new_key('imported-root', payload=base64.b64encode(material).decode())
    assert key['imported'] is True
    assert key['algorithmBitSize'] == size * 8
    assert key['algorithmMetadata']['bitLength'] == str(size * 8)
    assert 'payload' not in key
    stored = alice.get_key(key['id']).json()['resources'][0]
    assert 'payload' not in stored


def test_import_standard_key(alice):
    material = b'x' * 7500
    key = alice.new_key('imported-std', extractable=True, payload=base64.b64encode(material).decode())
    assert key['imported'] is True
    assert base64.b64decode(alice.get_key(key['id']).json()['resources'][0]['payload']) == material


@pytest.mark.parametrize('extractable, material', [(False, b'x' * 15), (False, b'x' * 33), (False, b'x' * 20),
                                                   (True, b'x' * 7501), (True, b'')])
def test_import_bad_sizes(alice, extractable, material):
    response = alice.create_key('bad-size', extractable, payload=base64.b64encode(material).decode())
    reason = _reason(response, 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'payload'}


def test_import_bad_base64(alice):
    reason = _reason(alice.create_key('bad-b64', payload='not base64!'), 400, 'INVALID_FIELD_ERR')
    assert reason['target']['name'] == 'payload'


@pytest.mark.parametrize('name', ['x', 'y' * 91])
def test_name_length(alice, name):
    reason = _reason(alice.create_key(name), 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'name'}


@pytest.mark.parametrize('description', ['x', 'y' * 241])
def test_description_length(alice, description):
    reason = _reason(alice.create_key('named', description=description), 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'description'}


def test_name_limits_accepted(alice):
    assert alice.create_key('ab').status_code == 201
    assert alice.create_key('n' * 90, description='d' * 240).status_code == 201


@pytest.mark.parametrize('aliases', [
    ['a'], ['b' * 91], ['has space'], ['dot.ted'], ['keys'], ['Metadata'], ['versions'],
    ['4c7e2a90-1b3d-4f6e-8a9b-0c1d2e3f4a5b'], ['one', 'two', 'three', 'four', 'five', 'six'], ['dup', 'dup'],
])
def test_alias_rules(alice, aliases):
    reason = _reason(alice.create_key('alias-rules', aliases=aliases), 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'aliases'}


def test_five_aliases_and_case_sensitivity(alice):
    key = alice.new_key('five', aliases=['one', 'two', 'three', 'four', 'Five'])
    assert alice.get_key('Five').json()['resources'][0]['id'] == key['id']
    assert alice.get_key('five').status_code == 404


def test_alias_unique_in_instance(alice):
    alice.new_key('first', aliases=['taken'])
    reason = _reason(alice.create_key('second', aliases=['free', 'taken']), 409, 'KEY_ALIAS_NOT_UNIQUE_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'aliases'}
    # nothing was created
    assert alice.get_key('free').status_code == 404


def test_expiration_date(alice, emu):
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=10)).replace(microsecond=0)
    key = alice.new_key('expiring', expirationDate=future.isoformat().replace('+00:00', '.52Z'))
    assert key['expirationDate'] == future.strftime('%Y-%m-%dT%H:%M:%SZ')
    emu.state.clock.advance(11 * 86400)
    alice.forget_token()
    assert alice.get_key(key['id']).json()['resources'][0]['state'] == 3


@pytest.mark.parametrize('value', ['2000-01-01T00:00:00Z', 'tomorrow', '2099-01-01'])
def test_bad_expiration_date(alice, value):
    reason = _reason(alice.create_key('expiring', expirationDate=value), 400, 'INVALID_FIELD_ERR')
    assert reason['target']['name'] == 'expirationDate'


def test_key_ring_header(alice, emu):
    reason = _reason(alice.create_key('ringed', headers=alice.headers(X_Kms_Key_Ring='no-such-ring')), 404,
                     'KEY_RING_NOT_FOUND_ERR')
    assert reason['target'] == {'type': 'header', 'name': 'x-kms-key-ring'}
    key = alice.create_key('ringed', headers=alice.headers(X_Kms_Key_Ring='default')).json()['resources'][0]
    assert key['keyRingID'] == 'default'
    from hpcs_emulator.model import KeyRing  # pylint: disable=import-outside-toplevel
    with emu.state.lock:
        emu.state.instance(INSTANCE_A).rings['team-a'] = KeyRing('team-a')
    key = alice.create_key('ringed', headers=alice.headers(X_Kms_Key_Ring='team-a')).json()['resources'][0]
    assert key['keyRingID'] == 'team-a'
    assert alice.get_key(key['id'], headers=alice.headers(X_Kms_Key_Ring='default')).status_code == 404
    assert alice.get_key(key['id'], headers=alice.headers(X_Kms_Key_Ring='team-a')).status_code == 200
    listed = alice.request('GET', 'keys', headers=alice.headers(X_Kms_Key_Ring='team-a')).json()['resources']
    assert [item['id'] for item in listed] == [key['id']]


@pytest.mark.parametrize('body, status, code', [
    ({'metadata': {'collectionType': KEY_TYPE, 'collectionTotal': 2}, 'resources': [{'type': KEY_TYPE, 'name': 'ab'}]},
     400, 'COLLECTION_TOTAL_MISMATCH_ERR'),
    ({'metadata': {'collectionType': KEY_TYPE, 'collectionTotal': 2},
      'resources': [{'type': KEY_TYPE, 'name': 'ab'}, {'type': KEY_TYPE, 'name': 'cd'}]}, 400, 'NUM_COLLECTION_RESOURCE_ERR'),
    ({'metadata': {'collectionType': KEY_TYPE, 'collectionTotal': 0}, 'resources': []}, 400, 'NUM_COLLECTION_RESOURCE_ERR'),
    ({'metadata': {'collectionType': KEY_TYPE, 'collectionTotal': 1},
      'resources': [{'type': KEY_TYPE, 'name': 'ab', 'colour': 'red'}]}, 400, 'BAD_BODY_ERR'),
    ({'metadata': {'collectionType': KEY_TYPE, 'collectionTotal': 1}, 'resources': [{'type': KEY_TYPE, 'name': 'ab'}],
      'extra': 1}, 400, 'BAD_BODY_ERR'),
    ({'metadata': {'collectionType': KEY_TYPE, 'collectionTotal': 1},
      'resources': [{'type': KEY_TYPE, 'name': 'ab', 'extractable': 'yes'}]}, 400, 'BAD_BODY_ERR'),
    ({'metadata': {'collectionType': 'application/json', 'collectionTotal': 1}, 'resources': [{'type': KEY_TYPE, 'name': 'ab'}]},
     400, 'INVALID_FIELD_ERR'),
    ({'metadata': {'collectionType': KEY_TYPE, 'collectionTotal': 1}, 'resources': [{'name': 'ab'}]}, 400, 'INVALID_FIELD_ERR'),
    ({'resources': [{'type': KEY_TYPE, 'name': 'ab'}]}, 400, 'BAD_BODY_ERR'),
    ([], 400, 'BAD_BODY_ERR'),
    (None, 400, 'NO_BODY_ERR'),
])
def test_envelope_errors(alice, body, status, code):
    _reason(alice.request('POST', 'keys', json=body), status, code)


def test_invalid_json_and_empty_body(alice):
    _reason(alice.request('POST', 'keys', data='{not json'), 400, 'BAD_BODY_ERR')
    _reason(alice.request('POST', 'keys', data=''), 400, 'NO_BODY_ERR')


def test_field_names_are_case_insensitive(alice):
    body = key_body('go-style')
    body['resources'][0]['Tags'] = ['team-a']
    key = alice.request('POST', 'keys', json=body).json()['resources'][0]
    assert key['tags'] == ['team-a']


def test_prefer_minimal(alice):
    response = alice.create_key('minimal', extractable=True, headers=alice.headers(Prefer='return=minimal'))
    assert response.status_code == 201
    key = response.json()['resources'][0]
    assert set(key) == {'type', 'id', 'name', 'crn', 'keyRingID'}
    assert alice.get_key(key['id']).status_code == 200


def test_policy_overrides(alice):
    response = alice.create_key('with-policies', overrides=True, rotation={'enabled': True, 'interval_month': 3},
                                dualAuthDelete={'enabled': True})
    assert response.status_code == 201
    key = response.json()['resources'][0]
    assert key['rotation'] == {'enabled': True, 'interval_month': 3}
    assert key['dualAuthDelete'] == {'enabled': True, 'keySetForDeletion': False}


def test_policy_overrides_rotation_on_standard_key(alice):
    response = alice.create_key('std', extractable=True, overrides=True, rotation={'enabled': True, 'interval_month': 3})
    reason = _reason(response, 400, 'KEY_ROOT_REQ_ERR')
    assert 'standard key' in reason['message']
    # dual authorization alone is fine on a standard key
    assert alice.create_key('std', extractable=True, overrides=True, dualAuthDelete={'enabled': True}).status_code == 201


@pytest.mark.parametrize('interval', [0, 13, -1])
def test_policy_overrides_interval_range(alice, interval):
    response = alice.create_key('root', overrides=True, rotation={'enabled': True, 'interval_month': interval})
    reason = _reason(response, 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'interval_month'}


def test_policy_fields_only_with_overrides(alice):
    _reason(alice.create_key('root', rotation={'enabled': True, 'interval_month': 1}), 400, 'BAD_BODY_ERR')


def test_secure_import_needs_import_token(alice):
    fields = {'payload': base64.b64encode(b'x' * 256).decode(), 'encryptedNonce': 'AAAA', 'iv': 'AAAA'}
    _reason(alice.create_key('secure', **fields), 409, 'IMPORT_TOKEN_EXPIRED_ERR')
    _reason(alice.create_key('secure', extractable=True, **fields), 400, 'INVALID_FIELD_ERR')
    only_nonce = {'payload': fields['payload'], 'encryptedNonce': 'AAAA'}
    reason = _reason(alice.create_key('secure', **only_nonce), 400, 'INVALID_FIELD_ERR')
    assert reason['target']['name'] == 'iv'
