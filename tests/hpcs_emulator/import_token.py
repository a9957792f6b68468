# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import tokens (``/api/v2/import_token``) and secure import of root key material (reference 4.2, 4.8).

A token is an RSA key pair plus a 12-byte nonce. The client encrypts the key material with
RSA-OAEP under the public key (``payload``) and the nonce with AES-GCM under the key
material (``encryptedNonce`` = ciphertext followed by the 16-byte tag, as ``cryptography``'s
AESGCM produces it, with ``iv``). AES-CBC with PKCS#7 padding and a 16-byte iv is accepted
too (the Go client's ``EncryptNonceWithCBCPAD``, "needed for HPCS").
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import request

from .clock import format_time
from .errors import KmsError, bad_body, field_error
from .routing import KmsContext, feature_restricted, flat, kms_route
from .validation import ROOT_SIZES, canonical_fields, read_json_body

# RSA-4096 on the real service; 2048 here keeps token creation fast (documented).
IMPORT_TOKEN_KEY_BITS = 2048
NONCE_BYTES = 12
EXPIRATION_RANGE = (300, 86400)
RETRIEVALS_RANGE = (1, 500)


@dataclasses.dataclass
class ImportToken:
    private_key: object = dataclasses.field(repr=False)
    nonce: bytes = dataclasses.field(repr=False)
    creation_date: datetime.datetime
    expiration: int
    max_retrievals: int
    remaining: int

    @property
    def expiration_date(self) -> datetime.datetime:
        return self.creation_date + datetime.timedelta(seconds=self.expiration)

    def to_resource(self, secret: bool = False) -> dict:
        resource = {'expiration': self.expiration, 'maxAllowedRetrievals': self.max_retrievals,
                    'creationDate': format_time(self.creation_date), 'expirationDate': format_time(self.expiration_date),
                    'remainingRetrievals': self.remaining}
        if secret:
            pem = self.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo)
            resource['payload'] = base64.b64encode(pem).decode('ascii')
            resource['nonce'] = base64.b64encode(self.nonce).decode('ascii')
        return resource


def _expired(message: str) -> KmsError:
    return KmsError(409, 'IMPORT_TOKEN_EXPIRED_ERR', message)


def _whole_number(fields: dict, name: str, default: int, low: int, high: int) -> int:
    value = fields.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_body(f"json: field '{name}' has the wrong type")
    if value != int(value) or not low <= value <= high:
        raise field_error(name, f'an integer between {low} and {high} (inclusive)')
    return int(value)


@kms_route('/import_token', ['POST'], 'Import token', 'created', write=True)
def create_import_token(ctx: KmsContext):
    if ctx.dedicated:
        raise feature_restricted('Import tokens (secure import)')
    body = read_json_body(request, required=False)
    if body is not None and not isinstance(body, dict):
        raise bad_body('the body must be a JSON object')
    fields = canonical_fields(body or {}, ('expiration', 'maxAllowedRetrievals'))
    expiration = _whole_number(fields, 'expiration', 600, *EXPIRATION_RANGE)
    retrievals = _whole_number(fields, 'maxAllowedRetrievals', 1, *RETRIEVALS_RANGE)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=IMPORT_TOKEN_KEY_BITS)
    token = ImportToken(private_key, os.urandom(NONCE_BYTES), ctx.now, expiration, retrievals, retrievals)
    ctx.instance.import_token = token
    return flat(token.to_resource())


@kms_route('/import_token', ['GET'], 'Import token', 'retrieved')
def get_import_token(ctx: KmsContext):
    if ctx.dedicated:
        raise feature_restricted('Import tokens (secure import)')
    token = ctx.instance.import_token
    if token is None:
        raise _expired('No import token exists for this instance: create one with POST /api/v2/import_token')
    if ctx.now >= token.expiration_date:
        raise _expired(f'The import token expired at {format_time(token.expiration_date)}: create a new one')
    if token.remaining <= 0:
        raise _expired('The import token has no retrievals left: create a new one')
    token.remaining -= 1
    return flat(token.to_resource(secret=True))


def _decrypt_nonce(material: bytes, encrypted_nonce: bytes, init_vector: bytes) -> bytes | None:
    try:
        return AESGCM(material).decrypt(init_vector, encrypted_nonce, None)
    except (InvalidTag, ValueError):
        pass
    if len(init_vector) != 16 or not encrypted_nonce or len(encrypted_nonce) % 16:
        return None
    decryptor = Cipher(algorithms.AES(material), modes.CBC(init_vector)).decryptor()
    padded = decryptor.update(encrypted_nonce) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        return None


def unwrap_secure_import(ctx: KmsContext, secure: dict) -> bytes:
    """Return the key material of a secure import (``payload``/``encryptedNonce``/``iv``), or raise."""
    if ctx.dedicated:
        raise feature_restricted('Secure import with an import token')
    token = ctx.instance.import_token
    if token is None:
        raise _expired('No import token exists for this instance: create one first')
    if ctx.now >= token.expiration_date:
        raise _expired(f'The import token expired at {format_time(token.expiration_date)}: create a new one')
    digest = hashes.SHA1() if secure['encryptionAlgorithm'] == 'RSAES_OAEP_SHA_1' else hashes.SHA256()
    oaep = asym_padding.OAEP(mgf=asym_padding.MGF1(algorithm=digest), algorithm=digest, label=None)
    try:
        material = token.private_key.decrypt(secure['payload'], oaep)
    except ValueError as exc:
        raise field_error('payload', f"key material encrypted under the import token's public key with "
                                     f"{secure['encryptionAlgorithm']}") from exc
    if len(material) not in ROOT_SIZES:
        raise field_error('payload', 'encrypted key material of 128, 192 or 256 bits (16, 24 or 32 bytes)')
    nonce = _decrypt_nonce(material, secure['encryptedNonce'], secure['iv'])
    if nonce is None:
        raise KmsError(400, 'INCORRECT_NONCE_IV_ERR',
                       'The encrypted nonce could not be decrypted with the key material and the iv', target=('field', 'iv'))
    if nonce != token.nonce:
        raise KmsError(400, 'INCORRECT_NONCE_ERR', "The nonce does not match the import token's nonce",
                       target=('field', 'encryptedNonce'))
    return material
