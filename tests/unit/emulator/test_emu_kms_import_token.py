# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import tokens (/api/v2/import_token) and secure import / rotation of root keys with them."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hpcs_emulator.clock import parse_rfc3339
from hpcs_emulator.testing import INSTANCE_A, INSTANCE_B, KmsClient, expect_error


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _token(client, **body) -> dict:
    assert client.request('POST', 'import_token', json=body or None).status_code == 200
    response = client.request('GET', 'import_token')
    assert response.status_code == 200, response.text
    return response.json()


def _stored(emu, key_id):
    """The stored key (in-process emulator): to check which material was imported."""
    with emu.state.lock:
        return emu.state.instance(INSTANCE_A).keys[key_id]


def secure_fields(token: dict, material: bytes, algorithm: str = 'RSAES_OAEP_SHA_256', cbc: bool = False) -> dict:
    """What a client sends: RSA-OAEP(material) + the token's nonce encrypted under the material."""
    public_key = serialization.load_pem_public_key(base64.b64decode(token['payload']))
    digest = hashes.SHA1() if algorithm == 'RSAES_OAEP_SHA_1' else hashes.SHA256()
    payload = public_key.encrypt(material, asym_padding.OAEP(mgf=asym_padding.MGF1(digest), algorithm=digest, label=None))
    nonce = base64.b64decode(token['nonce'])
    if cbc:
        init_vector = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(material), modes.CBC(init_vector)).encryptor()
        encrypted = encryptor.update(padder.update(nonce) + padder.finalize()) + encryptor.finalize()
    else:
        init_vector = os.urandom(12)
        encrypted = AESGCM(material).encrypt(init_vector, nonce, None)
    return {'payload': _b64(payload), 'encryptedNonce': _b64(encrypted), 'iv': _b64(init_vector), 'encryptionAlgorithm': algorithm}


def test_create_and_retrieve(alice):
    response = alice.request('POST', 'import_token', json={'expiration': 1200, 'maxAllowedRetrievals': 2})
    assert response.status_code == 200
    created = response.json()
    assert set(created) == {'expiration', 'maxAllowedRetrievals', 'creationDate', 'expirationDate', 'remainingRetrievals'}
    assert created['expiration'] == 1200 and created['maxAllowedRetrievals'] == 2 and created['remainingRetrievals'] == 2
    assert (parse_rfc3339(created['expirationDate']) - parse_rfc3339(created['creationDate'])).total_seconds() == 1200
    first = alice.request('GET', 'import_token').json()
    assert first['remainingRetrievals'] == 1
    public_key = serialization.load_pem_public_key(base64.b64decode(first['payload']))
    assert public_key.key_size >= 2048
    assert len(base64.b64decode(first['nonce'])) == 12
    second = alice.request('GET', 'import_token').json()
    assert second['remainingRetrievals'] == 0 and second['payload'] == first['payload'] and second['nonce'] == first['nonce']
    reason = expect_error(alice.request('GET', 'import_token'), 409, 'IMPORT_TOKEN_EXPIRED_ERR')
    assert 'retrievals' in reason['message']
    # a new POST replaces the token (new key pair, new nonce)
    replaced = _token(alice)
    assert replaced['payload'] != first['payload'] and replaced['nonce'] != first['nonce']
    assert replaced['expiration'] == 600 and replaced['maxAllowedRetrievals'] == 1


def test_token_expiry_and_absence(alice, emu):
    expect_error(alice.request('GET', 'import_token'), 409, 'IMPORT_TOKEN_EXPIRED_ERR')
    alice.request('POST', 'import_token', json={'expiration': 300, 'maxAllowedRetrievals': 5})
    emu.state.clock.advance(300)
    alice.forget_token()
    reason = expect_error(alice.request('GET', 'import_token'), 409, 'IMPORT_TOKEN_EXPIRED_ERR')
    assert 'expired' in reason['message']
    # tokens are per instance
    _token(alice)
    expect_error(KmsClient(emu.http_url, instance=INSTANCE_B).request('GET', 'import_token'), 409, 'IMPORT_TOKEN_EXPIRED_ERR')


@pytest.mark.parametrize('body, code, field', [
    ({'expiration': 299}, 'INVALID_FIELD_ERR', 'expiration'),
    ({'expiration': 86401}, 'INVALID_FIELD_ERR', 'expiration'),
    ({'expiration': 600.5}, 'INVALID_FIELD_ERR', 'expiration'),
    ({'maxAllowedRetrievals': 0}, 'INVALID_FIELD_ERR', 'maxAllowedRetrievals'),
    ({'maxAllowedRetrievals': 501}, 'INVALID_FIELD_ERR', 'maxAllowedRetrievals'),
    ({'expiration': '600'}, 'BAD_BODY_ERR', None),
    ({'expiration': True}, 'BAD_BODY_ERR', None),
    ({'colour': 'red'}, 'BAD_BODY_ERR', None),
    ([], 'BAD_BODY_ERR', None),
])
def test_create_errors(alice, body, code, field):
    reason = expect_error(alice.request('POST', 'import_token', json=body), 400, code)
    if field:
        assert reason['target'] == {'type': 'field', 'name': field}


def test_limits_and_float_values_accepted(alice):
    assert alice.request('POST', 'import_token', json={'expiration': 86400.0, 'maxAllowedRetrievals': 500}).status_code == 200
    assert alice.request('POST', 'import_token', json={'expiration': 300, 'maxAllowedRetrievals': 1}).status_code == 200
    assert alice.request('POST', 'import_token', data='null').status_code == 200


@pytest.mark.parametrize('algorithm, size, cbc', [('RSAES_OAEP_SHA_256', 32, False), ('RSAES_OAEP_SHA_1', 16, False),
                                                  ('RSAES_OAEP_SHA_1', 24, True)])
def test_secure_import(alice, emu, algorithm, size, cbc):
    token = _token(alice)
    material = os.urandom(size)
    fields = secure_fields(token, material, algorithm, cbc)
    response = alice.create_key('secure-root', **fields)
    assert response.status_code == 201, response.text
    key = response.json()['resources'][0]
    assert key['imported'] is True and key['algorithmBitSize'] == size * 8 and 'payload' not in key
    # the imported material is what the key wraps with: a DEK wrapped here unwraps with AES-GCM under it
    dek = _b64(os.urandom(32))
    wrapped = alice.request('POST', f'keys/{key["id"]}/actions/wrap', json={'plaintext': dek}).json()
    assert alice.request('POST', f'keys/{key["id"]}/actions/unwrap', json={'ciphertext': wrapped['ciphertext']}).json()['plaintext'] == dek
    assert _stored(emu, key['id']).material == material


def test_secure_import_errors(alice, emu):
    material = os.urandom(32)
    token = _token(alice, maxAllowedRetrievals=3)
    good = secure_fields(token, material)
    wrong_nonce = dict(good, encryptedNonce=_b64(AESGCM(material).encrypt(base64.b64decode(good['iv']), b'x' * 12, None)))
    expect_error(alice.create_key('bad', **wrong_nonce), 400, 'INCORRECT_NONCE_ERR')
    wrong_iv = dict(good, iv=_b64(os.urandom(12)))
    reason = expect_error(alice.create_key('bad', **wrong_iv), 400, 'INCORRECT_NONCE_IV_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'iv'}
    wrong_algorithm = dict(good, encryptionAlgorithm='RSAES_OAEP_SHA_1')
    expect_error(alice.create_key('bad', **wrong_algorithm), 400, 'INVALID_FIELD_ERR')
    expect_error(alice.create_key('bad', **dict(good, encryptionAlgorithm='RSA_PKCS1')), 400, 'INVALID_FIELD_ERR')
    odd_size = secure_fields(token, os.urandom(24))
    odd_size['payload'] = _b64(serialization.load_pem_public_key(base64.b64decode(token['payload'])).encrypt(
        os.urandom(20), asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)))
    assert expect_error(alice.create_key('bad', **odd_size), 400, 'INVALID_FIELD_ERR')['target']['name'] == 'payload'
    only_nonce = {'payload': good['payload'], 'encryptedNonce': good['encryptedNonce']}
    assert expect_error(alice.create_key('bad', **only_nonce), 400, 'INVALID_FIELD_ERR')['target']['name'] == 'iv'
    only_iv = {'payload': good['payload'], 'iv': good['iv']}
    assert expect_error(alice.create_key('bad', **only_iv), 400, 'INVALID_FIELD_ERR')['target']['name'] == 'encryptedNonce'
    no_payload = {'encryptedNonce': good['encryptedNonce'], 'iv': good['iv']}
    expect_error(alice.create_key('bad', **no_payload), 400, 'KEY_PAYLOAD_REQ_ERR')
    expect_error(alice.create_key('bad', extractable=True, **good), 400, 'INVALID_FIELD_ERR')
    # a token replaced in between: the old payload no longer decrypts
    _token(alice)
    expect_error(alice.create_key('bad', **good), 400, 'INVALID_FIELD_ERR')
    assert alice.list_keys().json()['resources'] == []
    # expired token
    fresh = _token(alice)
    emu.state.clock.advance(600)
    alice.forget_token()
    expect_error(alice.create_key('late', **secure_fields(fresh, material)), 409, 'IMPORT_TOKEN_EXPIRED_ERR')


def test_enforce_token_policy(alice):
    body = {'metadata': {'collectionType': 'application/vnd.ibm.kms.policy+json', 'collectionTotal': 1},
            'resources': [{'policy_type': 'keyCreateImportAccess',
                           'policy_data': {'enabled': True, 'attributes': {'enforce_token': True}}}]}
    assert alice.request('PUT', 'instance/policies', json=body).status_code == 204
    material = os.urandom(32)
    expect_error(alice.create_key('plain', payload=_b64(material)), 409, 'KEY_CREATE_IMPORT_ACCESS_ERR')
    assert alice.create_key('secure', **secure_fields(_token(alice), material)).status_code == 201


def test_secure_rotation(alice, emu):
    first = os.urandom(32)
    key = alice.new_key('secure-root', **secure_fields(_token(alice), first))
    second = os.urandom(16)
    response = alice.action(key['id'], 'rotate', body=secure_fields(_token(alice), second))
    assert response.status_code == 204, response.text
    rotated = alice.get_key(key['id']).json()['resources'][0]
    assert rotated['algorithmBitSize'] == 128 and rotated['keyVersion']['id'] != key['id']
    assert [version.material for version in _stored(emu, key['id']).versions] == [first, second]
    emu.state.clock.advance(3600)
    alice.forget_token()
    token = _token(alice)
    bad = dict(secure_fields(token, os.urandom(32)), encryptedNonce=_b64(os.urandom(28)))
    expect_error(alice.action(key['id'], 'rotate', body=bad), 400, 'INCORRECT_NONCE_IV_ERR')


def test_import_token_write_flags(alice, emu):
    alice.token  # pylint: disable=pointless-statement
    emu.state.requests.clear()
    alice.request('POST', 'import_token')
    alice.request('GET', 'import_token')
    assert [(entry['method'], entry['write']) for entry in emu.state.requests.entries()] == [('POST', True), ('GET', False)]
