# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wrap, unwrap and rewrap: real AES-GCM per key version, AAD bound in, flat bodies."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from hpcs_emulator.clock import parse_rfc3339
from hpcs_emulator.testing import expect_error

DEK = base64.b64encode(b'd' * 32).decode()


def _post(client, key_ref, action, body=None, **kwargs):
    return client.request('POST', f'keys/{key_ref}/actions/{action}', json=body, **kwargs)


def _ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def test_wrap_and_unwrap(alice):
    key = alice.new_key('kek', aliases=['kek'])
    wrapped = _ok(_post(alice, 'kek', 'wrap', {'plaintext': DEK}))
    assert set(wrapped) == {'ciphertext', 'keyVersion'} and wrapped['keyVersion'] == {'id': key['id']}
    blob = json.loads(base64.b64decode(wrapped['ciphertext']))
    assert set(blob) == {'ciphertext', 'iv', 'version', 'handle'} and blob['handle'] == key['id']
    assert base64.b64decode(blob['ciphertext']) != b'd' * 32
    unwrapped = _ok(_post(alice, key['id'], 'unwrap', {'ciphertext': wrapped['ciphertext']}))
    assert unwrapped == {'plaintext': DEK, 'keyVersion': {'id': key['id']}}
    # wrapping twice gives different ciphertexts (fresh iv)
    assert _ok(_post(alice, 'kek', 'wrap', {'plaintext': DEK}))['ciphertext'] != wrapped['ciphertext']


@pytest.mark.parametrize('body', [None, {}, {'plaintext': ''}])
def test_wrap_generates_a_dek(alice, body):
    key = alice.new_key('kek')
    wrapped = _ok(_post(alice, key['id'], 'wrap', body))
    assert len(base64.b64decode(wrapped['plaintext'])) == 32
    assert _ok(_post(alice, key['id'], 'unwrap', {'ciphertext': wrapped['ciphertext']}))['plaintext'] == wrapped['plaintext']


def test_aad_is_bound(alice):
    key = alice.new_key('kek')
    wrapped = _ok(_post(alice, key['id'], 'wrap', {'plaintext': DEK, 'aad': ['tenant-1', 'db']}))
    assert _ok(_post(alice, key['id'], 'unwrap', {'ciphertext': wrapped['ciphertext'], 'aad': ['tenant-1', 'db']}))
    for aad in (None, ['tenant-2', 'db'], ['db', 'tenant-1'], ['tenant-1']):
        body = {'ciphertext': wrapped['ciphertext']}
        if aad is not None:
            body['aad'] = aad
        expect_error(_post(alice, key['id'], 'unwrap', body), 422, 'UNPROCESSABLE_CIPHERTEXT_ERR')


def test_ciphertext_of_another_key_or_tampered(alice, emu):
    first = alice.new_key('first')
    second = alice.new_key('second')
    wrapped = _ok(_post(alice, first['id'], 'wrap', {'plaintext': DEK}))['ciphertext']
    expect_error(_post(alice, second['id'], 'unwrap', {'ciphertext': wrapped}), 422, 'UNPROCESSABLE_CIPHERTEXT_ERR')
    blob = json.loads(base64.b64decode(wrapped))
    sealed = bytearray(base64.b64decode(blob['ciphertext']))
    sealed[0] ^= 1
    blob['ciphertext'] = base64.b64encode(bytes(sealed)).decode()
    tampered = base64.b64encode(json.dumps(blob).encode()).decode()
    expect_error(_post(alice, first['id'], 'unwrap', {'ciphertext': tampered}), 422, 'UNPROCESSABLE_CIPHERTEXT_ERR')
    # a blob pointing at the other key's version id does not help either
    blob = json.loads(base64.b64decode(wrapped))
    blob['handle'] = second['id']
    forged = base64.b64encode(json.dumps(blob).encode()).decode()
    expect_error(_post(alice, second['id'], 'unwrap', {'ciphertext': forged}), 422, 'UNPROCESSABLE_CIPHERTEXT_ERR')
    for junk in (base64.b64encode(b'not json').decode(), base64.b64encode(b'[1, 2]').decode(),
                 base64.b64encode(b'{"handle": 1}').decode()):
        expect_error(_post(alice, first['id'], 'unwrap', {'ciphertext': junk}), 422, 'UNPROCESSABLE_CIPHERTEXT_ERR')
    # rewrap authenticates the same way
    expect_error(_post(alice, first['id'], 'rewrap', {'ciphertext': tampered}), 422, 'UNPROCESSABLE_CIPHERTEXT_ERR')


@pytest.mark.parametrize('action, body, field', [
    ('wrap', {'plaintext': 'not base64!'}, 'plaintext'),
    ('wrap', {'plaintext': 'A' * 4100}, 'plaintext'),
    ('unwrap', {'ciphertext': 'not base64!'}, 'ciphertext'),
    ('unwrap', {'aad': ['x']}, 'ciphertext'),
    ('rewrap', {'ciphertext': '%%%'}, 'ciphertext'),
    ('wrap', {'aad': ['x' * 256]}, 'aad'),
    ('wrap', {'aad': ['x'] * 127}, 'aad'),
])
def test_invalid_fields(alice, action, body, field):
    key = alice.new_key('kek')
    reason = expect_error(_post(alice, key['id'], action, body), 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'field', 'name': field}


@pytest.mark.parametrize('action, body, code', [
    ('wrap', {'plaintext': DEK, 'colour': 'red'}, 'BAD_BODY_ERR'),
    ('wrap', {'aad': 'x'}, 'BAD_BODY_ERR'),
    ('wrap', {'plaintext': 7}, 'BAD_BODY_ERR'),
    ('wrap', [], 'BAD_BODY_ERR'),
    ('unwrap', None, 'NO_BODY_ERR'),
    ('rewrap', None, 'NO_BODY_ERR'),
])
def test_bad_bodies(alice, action, body, code):
    key = alice.new_key('kek')
    expect_error(_post(alice, key['id'], action, body), 400, code)


def test_rotation_and_rewrap(alice, emu):
    key = alice.new_key('kek')
    old = _ok(_post(alice, key['id'], 'wrap', {'plaintext': DEK, 'aad': ['a']}))
    assert alice.action(key['id'], 'rotate').status_code == 204
    latest = alice.get_key(key['id']).json()['resources'][0]['keyVersion']['id']
    unwrapped = _ok(_post(alice, key['id'], 'unwrap', {'ciphertext': old['ciphertext'], 'aad': ['a']}))
    assert unwrapped['plaintext'] == DEK and unwrapped['keyVersion'] == {'id': key['id']}
    assert unwrapped['rewrappedKeyVersion'] == {'id': latest}
    fresh = _ok(_post(alice, key['id'], 'unwrap', {'ciphertext': unwrapped['ciphertext'], 'aad': ['a']}))
    assert fresh == {'plaintext': DEK, 'keyVersion': {'id': latest}}
    rewrapped = _ok(_post(alice, key['id'], 'rewrap', {'ciphertext': old['ciphertext'], 'aad': ['a']}))
    assert set(rewrapped) == {'ciphertext', 'keyVersion', 'rewrappedKeyVersion'}
    assert rewrapped['keyVersion'] == {'id': key['id']} and rewrapped['rewrappedKeyVersion'] == {'id': latest}
    assert _ok(_post(alice, key['id'], 'unwrap', {'ciphertext': rewrapped['ciphertext'], 'aad': ['a']}))['plaintext'] == DEK
    new = _ok(_post(alice, key['id'], 'wrap', {'plaintext': DEK}))
    assert new['keyVersion'] == {'id': latest}


def test_key_type_and_states(alice, emu):
    standard = alice.new_key('standard', extractable=True)
    expect_error(_post(alice, standard['id'], 'wrap', {}), 400, 'KEY_ROOT_REQ_ERR')
    expect_error(_post(alice, standard['id'], 'unwrap', {'ciphertext': 'AAAA'}), 400, 'KEY_ROOT_REQ_ERR')
    key = alice.new_key('kek')
    wrapped = _ok(_post(alice, key['id'], 'wrap', {'plaintext': DEK}))['ciphertext']
    alice.action(key['id'], 'disable')
    for action in ('wrap', 'unwrap', 'rewrap'):
        expect_error(_post(alice, key['id'], action, {'ciphertext': wrapped} if action != 'wrap' else {}), 409,
                     'KEY_ACTION_INVALID_STATE_ERR')
    alice.action(key['id'], 'enable')
    alice.delete_key(key['id'])
    for action in ('wrap', 'unwrap', 'rewrap'):
        error = expect_error(_post(alice, key['id'], action, {'ciphertext': wrapped} if action != 'wrap' else {}), 410,
                             'KEY_DELETED_ERR')
        assert error['status'] == 410
    expiring = alice.new_key('expiring', expirationDate='2099-01-01T00:00:00Z')
    sealed = _ok(_post(alice, expiring['id'], 'wrap', {'plaintext': DEK}))['ciphertext']
    emu.state.clock.set(parse_rfc3339('2099-01-02T00:00:00Z'))
    alice.forget_token()
    expect_error(_post(alice, expiring['id'], 'wrap', {'plaintext': DEK}), 409, 'KEY_ACTION_INVALID_STATE_ERR')
    assert _ok(_post(alice, expiring['id'], 'unwrap', {'ciphertext': sealed}))['plaintext'] == DEK
    assert _ok(_post(alice, expiring['id'], 'rewrap', {'ciphertext': sealed}))


def test_imported_128_bit_key_wraps(alice):
    key = alice.new_key('small', payload=base64.b64encode(b'k' * 16).decode())
    wrapped = _ok(_post(alice, key['id'], 'wrap', {'plaintext': DEK}))
    assert _ok(_post(alice, key['id'], 'unwrap', {'ciphertext': wrapped['ciphertext']}))['plaintext'] == DEK


def test_wrap_is_not_a_write_and_leaves_no_secrets(alice, emu):
    key = alice.new_key('kek')
    emu.state.requests.clear()
    wrapped = _ok(_post(alice, key['id'], 'wrap', {'plaintext': DEK, 'aad': ['secret-aad']}))
    _post(alice, key['id'], 'unwrap', {'ciphertext': wrapped['ciphertext'], 'aad': ['secret-aad']})
    _post(alice, key['id'], 'rewrap', {'ciphertext': wrapped['ciphertext'], 'aad': ['secret-aad']})
    entries = emu.state.requests.entries()
    assert [entry['write'] for entry in entries] == [False, False, False]
    log = requests.get(f'{emu.http_url}/_emulator/requests', timeout=10).text
    for secret in (DEK, wrapped['ciphertext'], 'secret-aad'):
        assert secret not in log
