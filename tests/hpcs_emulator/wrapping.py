# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wrap, unwrap and rewrap with real authenticated encryption (reference 4.7).

A wrapped key (``ciphertext``) is base64 of a JSON blob ``{"ciphertext", "iv", "version":
"4.0.0", "handle": <key version id>}``: AES-GCM under that key version's material, with
the key id, the version id and the request's ``aad`` bound in as associated data. A
ciphertext of another key, a tampered one or a wrong ``aad`` fails the tag check (422).
Bodies are flat; nothing here is ever logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import request

from .errors import KmsError, bad_body, field_error, root_required
from .model import STATE_ACTIVE, STATE_DEACTIVATED, Key, KeyVersion
from .routing import KmsContext, flat, kms_route, lookup_key, require_state
from .validation import canonical_fields, decode_base64, read_json_body, typed

BLOB_VERSION = '4.0.0'
MAX_PLAINTEXT = 4096
MAX_AAD_ITEMS = 126
MAX_AAD_LENGTH = 255
DEK_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode('ascii')


def _fields(names: tuple, required: bool) -> dict:
    body = read_json_body(request, required=required)
    if body is not None and not isinstance(body, dict):
        raise bad_body('the body must be a JSON object')
    return canonical_fields(body or {}, names)


def _aad(fields: dict) -> list:
    value = fields.get('aad')
    if value is None:
        return []
    typed(value, list, 'aad')
    rule = f'an array of at most {MAX_AAD_ITEMS} strings of at most {MAX_AAD_LENGTH} characters'
    if len(value) > MAX_AAD_ITEMS or any(not isinstance(item, str) or len(item) > MAX_AAD_LENGTH for item in value):
        raise field_error('aad', rule)
    return list(value)


def _associated(key: Key, version: KeyVersion, aad: list) -> bytes:
    return json.dumps({'key': key.id, 'version': version.id, 'aad': aad}, separators=(',', ':')).encode('utf-8')


def seal(key: Key, version: KeyVersion, plaintext: bytes, aad: list) -> str:
    init_vector = os.urandom(12)
    sealed = AESGCM(version.material).encrypt(init_vector, plaintext, _associated(key, version, aad))
    blob = {'ciphertext': _b64(sealed), 'iv': _b64(init_vector), 'version': BLOB_VERSION, 'handle': version.id}
    return _b64(json.dumps(blob, separators=(',', ':')).encode('utf-8'))


def _unprocessable() -> KmsError:
    return KmsError(422, 'UNPROCESSABLE_CIPHERTEXT_ERR', 'The provided ciphertext is invalid or corrupted, was wrapped by '
                    'another key, or the additional authentication data does not match', target=('field', 'ciphertext'))


def unseal(key: Key, ciphertext, aad: list) -> tuple:
    """Return (plaintext, key version) of a wrapped key; 400 for bad base64, 422 for anything else."""
    if ciphertext is None or ciphertext == '':
        raise field_error('ciphertext', 'a base64 encoded wrapped key (required)')
    raw = decode_base64(ciphertext, 'ciphertext')
    try:
        blob = json.loads(raw)
        version = key.version(blob['handle'])
        init_vector = base64.b64decode(blob['iv'], validate=True)
        sealed = base64.b64decode(blob['ciphertext'], validate=True)
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise _unprocessable() from exc
    if version is None:
        raise _unprocessable()
    try:
        return AESGCM(version.material).decrypt(init_vector, sealed, _associated(key, version, aad)), version
    except (InvalidTag, ValueError) as exc:
        raise _unprocessable() from exc


def _check_key(ctx: KmsContext, key: Key, action: str, allowed: tuple) -> None:
    if key.extractable:
        raise root_required(f'{action} needs a root key, this is a standard key')
    require_state(ctx, key, allowed, action, gone=True)


def do_wrap(ctx: KmsContext, key: Key):
    fields = _fields(('plaintext', 'aad'), required=False)
    _check_key(ctx, key, 'wrap', (STATE_ACTIVE,))
    aad = _aad(fields)
    plaintext = fields.get('plaintext')
    generated = plaintext is None or plaintext == ''
    if generated:
        dek = os.urandom(DEK_BYTES)
    else:
        if isinstance(plaintext, str) and len(plaintext) > MAX_PLAINTEXT:
            raise field_error('plaintext', f'a base64 encoded string of at most {MAX_PLAINTEXT} characters')
        dek = decode_base64(plaintext, 'plaintext')
    version = key.latest_version
    result = {'ciphertext': seal(key, version, dek, aad), 'keyVersion': {'id': version.id}}
    if generated:
        result = dict({'plaintext': _b64(dek)}, **result)
    return flat(result)


def do_unwrap(ctx: KmsContext, key: Key):
    fields = _fields(('ciphertext', 'aad'), required=True)
    _check_key(ctx, key, 'unwrap', (STATE_ACTIVE, STATE_DEACTIVATED))
    aad = _aad(fields)
    dek, version = unseal(key, fields.get('ciphertext'), aad)
    result = {'plaintext': _b64(dek), 'keyVersion': {'id': version.id}}
    latest = key.latest_version
    if version is not latest:
        result.update({'ciphertext': seal(key, latest, dek, aad), 'rewrappedKeyVersion': {'id': latest.id}})
    return flat(result)


def do_rewrap(ctx: KmsContext, key: Key):
    fields = _fields(('ciphertext', 'aad'), required=True)
    _check_key(ctx, key, 'rewrap', (STATE_ACTIVE, STATE_DEACTIVATED))
    aad = _aad(fields)
    dek, version = unseal(key, fields.get('ciphertext'), aad)
    latest = key.latest_version
    return flat({'ciphertext': seal(key, latest, dek, aad), 'keyVersion': {'id': version.id},
                 'rewrappedKeyVersion': {'id': latest.id}})


@kms_route('/keys/<key_id>/actions/wrap', ['POST'], 'Key', 'wrapped')
def wrap_key(ctx: KmsContext, key_id: str):
    return do_wrap(ctx, lookup_key(ctx, key_id))


@kms_route('/keys/<key_id>/actions/unwrap', ['POST'], 'Key', 'unwrapped')
def unwrap_key(ctx: KmsContext, key_id: str):
    return do_unwrap(ctx, lookup_key(ctx, key_id))


@kms_route('/keys/<key_id>/actions/rewrap', ['POST'], 'Key', 'rewrapped')
def rewrap_key(ctx: KmsContext, key_id: str):
    return do_rewrap(ctx, lookup_key(ctx, key_id))
