# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prepare the secret scan: known secret values, the emulator state they need, and faults that echo them.

Usage: python prepare.py INTEGRATION_CONFIG INPUT_DIR

Talks to the emulator directly (never through Ansible, so nothing here can show up in the scanned run):
resets it, obtains a token, creates the root key that wraps the known data key, creates and retrieves an
import token and encrypts key material for a secure import, seeds a registration, and installs the fault
rules whose answers echo secrets back (an IAM 500 and two KMS 500s). Writes INPUT_DIR/secrets.json (for
scan.py) and INPUT_DIR/secrets.env (exported for the playbook); INPUT_DIR is the "vault" and is not scanned.
"""

import base64
import json
import os
import sys

import requests
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_TYPE = "application/vnd.ibm.kms.key+json"
APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"


def b64(data):
    return base64.b64encode(data).decode("ascii")


def b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class Emulator:
    def __init__(self, config):
        self.url = config["hs_crypto_emulator_url"]
        self.control_url = config["hs_crypto_emulator_http_url"] + "/_emulator/"
        self.verify = config["hs_crypto_ca_path"]
        self.instance = config["hs_crypto_instance_id"]
        self.token = None

    def control(self, method, path, body=None):
        response = requests.request(method, self.control_url + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def iam_token(self, api_key):
        response = requests.post(self.url + "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": api_key},
                                 verify=self.verify, timeout=30)
        response.raise_for_status()
        return response.json()["access_token"]

    def kms(self, method, path, body=None, expect=(200, 201, 204)):
        headers = {"Authorization": "Bearer " + self.token, "Bluemix-Instance": self.instance, "Accept": "application/json"}
        response = requests.request(method, self.url + "/api/v2/" + path, json=body, headers=headers, verify=self.verify, timeout=30)
        if response.status_code not in expect:
            raise SystemExit(f"prepare: {method} {path} answered {response.status_code}")
        return response.json() if response.content else None


def secure_import_material(public_key_b64, nonce_b64):
    """Key material encrypted for a secure import, as encrypt_for_import.py of the import token target does."""
    public_key = serialization.load_pem_public_key(base64.b64decode(public_key_b64))
    material = os.urandom(32)
    digest = hashes.SHA256
    payload = public_key.encrypt(material, padding.OAEP(mgf=padding.MGF1(algorithm=digest()), algorithm=digest(), label=None))
    iv = os.urandom(12)
    encrypted_nonce = AESGCM(material).encrypt(iv, base64.b64decode(nonce_b64), None)
    return {"material": b64(material), "payload": b64(payload), "encrypted_nonce": b64(encrypted_nonce), "iv": b64(iv)}


def echo_body(kind, *values):
    """A 500 answer that echoes the request back, as a broken service or proxy might."""
    text = f"Internal error while processing {kind}; request was: {' '.join(values)}"
    return {"metadata": {"collectionType": "application/vnd.ibm.kms.error+json", "collectionTotal": 1},
            "resources": [{"errorMsg": text, "reasons": [{"code": "INTERNAL_SERVER_ERR", "message": "echo: " + " | ".join(values),
                                                          "status": 500, "target": {"type": "field", "name": values[0]}}]}]}


def main(config_path, input_dir):
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    emulator = Emulator(config)
    emulator.control("POST", "reset")
    api_key = config["hs_crypto_api_key"]
    emulator.token = emulator.iam_token(api_key)

    secrets = {
        "API_KEY": api_key,
        "TOKEN": emulator.token,
        "PAYLOAD_ROOT": b64(os.urandom(32)),
        "PAYLOAD_ROTATE": b64(os.urandom(32)),
        "PAYLOAD_STANDARD": b64(os.urandom(48)),
        "PAYLOAD_BATCH": b64(os.urandom(64)),
        "PAYLOAD_ROLE": b64(os.urandom(40)),
        "PAYLOAD_FAIL": b64(os.urandom(32)),
        "PLAINTEXT": b64(os.urandom(32)),
        "PLAINTEXT_WRAP": b64(os.urandom(32)),
        "AAD": "scan-aad-" + b64url(os.urandom(12)),
        "API_KEY_ECHOED": "hsc-scan-echoed-api-key-" + b64url(os.urandom(12)),
        "API_KEY_WRONG": "hsc-scan-wrong-api-key-" + b64url(os.urandom(12)),
        "TOKEN_FORGED": ".".join([b64url(b'{"alg":"HS256","typ":"JWT"}'),
                                  b64url(json.dumps({"iam_id": "IBMid-mallory", "exp": 4102444800, "iat": 1}).encode()),
                                  b64url(os.urandom(32))]),
    }

    # The root key that wraps the known data key, and the ciphertext the playbook unwraps and rewraps.
    root = emulator.kms("POST", "keys", {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
                                         "resources": [{"type": KEY_TYPE, "name": "scan-wrapper", "extractable": False,
                                                        "aliases": ["scan-wrapper"]}]})["resources"][0]
    wrapped = emulator.kms("POST", f"keys/{root['id']}/actions/wrap", {"plaintext": secrets["PLAINTEXT"], "aad": [secrets["AAD"]]})
    secrets["CIPHERTEXT"] = wrapped["ciphertext"]

    # Import token material: the nonce the token hands out, and a secure import made with it.
    emulator.kms("POST", "import_token", {"expiration": 1200, "maxAllowedRetrievals": 3})
    token = emulator.kms("GET", "import_token")
    secrets["IMPORT_NONCE"] = token["nonce"]
    material = secure_import_material(token["payload"], token["nonce"])
    secrets.update(SECURE_PAYLOAD=material["payload"], SECURE_NONCE=material["encrypted_nonce"], SECURE_IV=material["iv"],
                   SECURE_MATERIAL=material["material"])

    emulator.control("POST", "registrations", {"instance_id": emulator.instance, "key_id": "scan-wrapper",
                                               "resource_crn": "crn:v1:bluemix:public:cloud-object-storage:global:a/scan:scan::bucket:b1",
                                               "prevent_key_deletion": False})

    # Faults whose answers echo secrets: the first IAM request of the run, the first rewrap, the failing create.
    emulator.control("POST", "faults", {"rules": [
        {"service": "iam", "method": "POST", "path": "/identity/token$", "status": 500, "times": 1,
         "body": {"errorCode": secrets["API_KEY_ECHOED"], "errorMessage": f"cannot process apikey={secrets['API_KEY_ECHOED']}"}},
        {"service": "kms", "method": "POST", "path": "/actions/rewrap$", "status": 500, "times": 1,
         "body": echo_body("rewrap", secrets["CIPHERTEXT"], secrets["TOKEN"], secrets["AAD"], secrets["API_KEY"])},
        {"service": "kms", "method": "POST", "path": "^/api/v2/keys_with_policy_overrides$", "status": 500, "times": 5,
         "body": echo_body("create", secrets["PAYLOAD_FAIL"], secrets["TOKEN"], secrets["API_KEY"])},
    ]})

    os.makedirs(input_dir, exist_ok=True)
    with open(os.path.join(input_dir, "secrets.json"), "w", encoding="utf-8") as handle:
        json.dump(secrets, handle)
    with open(os.path.join(input_dir, "secrets.env"), "w", encoding="utf-8") as handle:
        for name, value in sorted(secrets.items()):
            handle.write(f"HSC_SCAN_{name}='{value}'\n")
    print(f"prepare: {len(secrets)} known secret values")


if __name__ == "__main__":
    main(*sys.argv[1:3])
