# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The "script of your own" of hs_crypto_import_token's EXAMPLES, as docs/secure-import.md describes it.

Reads ``{"public_key": <PEM>, "nonce": <base64>, "key_file": <path>}`` on standard input and prints ``{"payload",
"encrypted_nonce", "iv"}``: the key material of ``key_file`` encrypted with RSA-OAEP (SHA-1) under the token's public
key, and the token's nonce encrypted with the key material (AES-GCM, the tag appended). The one difference to a
user's script: an absolute ``key_file`` is read below ``$HS_CRYPTO_EXAMPLES_ROOT`` when that is set, so the
example's ``/secure/byok.key`` is a file of the test run, not of the machine.
"""

from __future__ import absolute_import, division, print_function

import base64
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__metaclass__ = type


def main():
    request = json.load(sys.stdin)
    key_file = request['key_file']
    root = os.environ.get('HS_CRYPTO_EXAMPLES_ROOT')

    if root:
        key_file = os.path.join(root, key_file.lstrip('/'))

    with open(key_file, 'rb') as handle:
        material = handle.read()

    public_key = serialization.load_pem_public_key(request['public_key'].encode('ascii'))
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    iv = os.urandom(12)
    json.dump({
        'payload': base64.b64encode(public_key.encrypt(material, oaep)).decode('ascii'),
        'encrypted_nonce': base64.b64encode(AESGCM(material).encrypt(iv, base64.b64decode(request['nonce']), None)).decode('ascii'),
        'iv': base64.b64encode(iv).decode('ascii'),
    }, sys.stdout)


if __name__ == '__main__':
    main()
