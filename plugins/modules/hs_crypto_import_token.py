#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_import_token
short_description: Create and retrieve the import token of a Hyper Protect Crypto Services instance
version_added: 0.1.0
description:
  - An import token lets you import root key material without sending it in the clear - you encrypt the key material with the
    token's public key (RSA-OAEP) and the token's nonce with the key material (AES-GCM), and pass the results to
    M(ibm.hs_crypto.hs_crypto_key) (O(ibm.hs_crypto.hs_crypto_key#module:payload),
    O(ibm.hs_crypto.hs_crypto_key#module:encrypted_nonce), O(ibm.hs_crypto.hs_crypto_key#module:iv),
    O(ibm.hs_crypto.hs_crypto_key#module:encryption_algorithm)) or to M(ibm.hs_crypto.hs_crypto_key_rotate).
  - O(state=present) creates a new token, replacing the instance's previous one (an instance has one token at a time).
    O(retrieve=true) retrieves the current token's public key and nonce (after creating it, when both are set).
  - B(Both are changes, and the module always reports one.) The service can only show a token by retrieving it, and every
    retrieval uses up one of the token's O(max_allowed_retrievals); so the module cannot tell whether a usable token exists without
    changing it, and never creates a token "only if needed".
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details:
      - No request is sent at all, not even the retrieval (it would use up a retrieval and could leave none for the real run).
      - RV(import_token) is predicted for a token that would be created (dates null); RV(public_key) and RV(nonce) are null.
  diff_mode:
    support: none
options:
  state:
    description:
      - V(present) creates a new import token. Leave it out to only retrieve the current token with O(retrieve=true).
    type: str
    choices: [present]
  retrieve:
    description:
      - Retrieve the token - its public key and nonce. Uses up one of the token's retrievals.
      - Fails when the instance has no token, it expired, or its retrievals are used up.
    type: bool
    default: false
  expiration:
    description:
      - With O(state=present), how many seconds the new token can be used, 300 to 86,400. The service's default is 600.
    type: int
  max_allowed_retrievals:
    description:
      - With O(state=present), how many times the new token can be retrieved, 1 to 500. The service's default is 1.
    type: int
notes:
  - At least one of O(state=present) or O(retrieve=true) is required.
  - Using the token to import a key does not use it up; it can be used until it expires.
  - Hyper Protect Crypto Services documents C(RSAES_OAEP_SHA_1) for encrypting the key material; Key Protect defaults to
    C(RSAES_OAEP_SHA_256).
  - The public key and nonce are not secret - they are meant to be handed to whoever encrypts the key material. The key material
    itself is, so run the encryption and the import with C(no_log) (see the examples).
  - Key Protect Dedicated instances have no import tokens (a plain import over TLS works). An instance known to be Dedicated
    (from endpoint discovery) is refused before any request to it; otherwise the service's refusal is explained.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key
  - module: ibm.hs_crypto.hs_crypto_key_rotate
  - name: Importing keys with an import token
    description: The secure import process of Hyper Protect Crypto Services.
    link: https://cloud.ibm.com/docs/hs-crypto?topic=hs-crypto-importing-keys
"""

EXAMPLES = r"""
- name: Import a root key securely
  module_defaults:
    group/ibm.hs_crypto.hs_crypto:
      instance_id: "{{ hpcs_instance_id }}"
      region: us-south
      api_key: "{{ ibmcloud_api_key }}"
  block:
    - name: Create an import token that can be retrieved twice within 10 minutes, and retrieve it
      ibm.hs_crypto.hs_crypto_import_token:
        state: present
        expiration: 600
        max_allowed_retrievals: 2
        retrieve: true
      register: token

    - name: Encrypt the key material with the token (a script of your own; see docs/secure-import.md in the collection)
      ansible.builtin.command:
        cmd: "{{ ansible_playbook_python }} encrypt_for_import.py"
        stdin: "{{ {'public_key': token.public_key, 'nonce': token.nonce, 'key_file': '/secure/byok.key'} | to_json }}"
      register: encrypted
      changed_when: false
      no_log: true
      when: not ansible_check_mode  # check mode retrieves no token: there is nothing to encrypt

    - name: Import the key
      when: not ansible_check_mode
      ibm.hs_crypto.hs_crypto_key:
        name: byok-root
        aliases: [byok-root]
        payload: "{{ (encrypted.stdout | from_json).payload }}"
        encrypted_nonce: "{{ (encrypted.stdout | from_json).encrypted_nonce }}"
        iv: "{{ (encrypted.stdout | from_json).iv }}"
        encryption_algorithm: RSAES_OAEP_SHA_1
      no_log: true

- name: Retrieve the current token again (if it allows more than one retrieval)
  ibm.hs_crypto.hs_crypto_import_token:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    retrieve: true
  register: token_again
"""

RETURN = r"""
import_token:
  description:
    - The token's metadata - after retrieving it, as the retrieval returned it; after only creating it, as the creation did.
    - Null when check mode only retrieves.
  returned: always
  type: dict
  contains:
    creation_date:
      description: When the token was created (null in check mode).
      type: str
      sample: "2026-01-05T10:00:00Z"
    expiration_date:
      description: When the token expires (null in check mode).
      type: str
      sample: "2026-01-05T10:10:00Z"
    expiration:
      description: Seconds the token is valid for.
      type: int
      sample: 600
    max_allowed_retrievals:
      description: How many times the token can be retrieved.
      type: int
      sample: 1
    remaining_retrievals:
      description: How many retrievals are left (after this run's retrieval).
      type: int
      sample: 0
public_key:
  description: The token's RSA public key (PEM, C(-----BEGIN PUBLIC KEY-----)), to encrypt the key material with; null unless retrieved.
  returned: always
  type: str
nonce:
  description: The token's nonce (base64), to encrypt with the key material; null unless retrieved.
  returned: always
  type: str
  sample: DpFbs4xfVjZ5SAcU
created:
  description: Whether a token was created (would be, in check mode).
  returned: always
  type: bool
retrieved:
  description: Whether the token was retrieved (would be, in check mode).
  returned: always
  type: bool
correlation_id:
  description: Correlation id of the last request sent to the key management API, for IBM support.
  returned: always
  type: str
  sample: 5b7e6c2a-3f1d-4c8e-9a0b-1d2e3f4a5b6c
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._import_token import ImportTokenRequest, run_import_token
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import check_feature, of_connection

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["present"]),
    retrieve=dict(type="bool", default=False),
    expiration=dict(type="int"),
    max_allowed_retrievals=dict(type="int"),
)


def apply(module):
    request = ImportTokenRequest.from_params(module.params)
    kms = module.kms  # endpoint discovery first: a plan found there counts
    service, plan = of_connection(module.connection)
    check_feature(service, plan, ["import_token"], module.connection.instance.guid)
    module.exit_json(**run_import_token(kms, request, check_mode=module.check_mode))


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(apply)


if __name__ == "__main__":
    main()
