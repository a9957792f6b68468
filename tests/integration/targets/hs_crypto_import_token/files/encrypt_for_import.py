# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Encrypt new root key material for a secure import, as a key owner would, with the ``cryptography`` package.

Reads ``{"public_key": <PEM>, "nonce": <base64>, "encryption_algorithm": "RSAES_OAEP_SHA_1"|"RSAES_OAEP_SHA_256"}``
as JSON on standard input (a retrieved import token) and prints ``{"payload", "encrypted_nonce", "iv",
"encryption_algorithm", "material"}``: the new 256-bit key material encrypted with RSA-OAEP under the token's public key,
the token's nonce encrypted with the key material (AES-GCM, the 16-byte tag appended), the 12-byte GCM iv, and the
material itself (base64) so the test can compare. Run it with no_log: everything it prints is secret.
"""

import base64
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DIGESTS = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}


def b64(data):
    return base64.b64encode(data).decode("ascii")


def main():
    token = json.load(sys.stdin)
    algorithm = token.get("encryption_algorithm", "RSAES_OAEP_SHA_1")
    digest = DIGESTS[algorithm]
    public_key = serialization.load_pem_public_key(token["public_key"].encode("ascii"))
    material = os.urandom(32)
    payload = public_key.encrypt(material, padding.OAEP(mgf=padding.MGF1(algorithm=digest()), algorithm=digest(), label=None))
    iv = os.urandom(12)
    encrypted_nonce = AESGCM(material).encrypt(iv, base64.b64decode(token["nonce"]), None)
    json.dump({"payload": b64(payload), "encrypted_nonce": b64(encrypted_nonce), "iv": b64(iv),
               "encryption_algorithm": algorithm, "material": b64(material)}, sys.stdout)


if __name__ == "__main__":
    main()
