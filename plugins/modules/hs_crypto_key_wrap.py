#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_wrap
short_description: Wrap, unwrap and rewrap data keys with a root key of Hyper Protect Crypto Services
version_added: 0.1.0
description:
  - Envelope encryption with a root key of an IBM Cloud Hyper Protect Crypto Services (or Key Protect) instance.
  - V(wrap) encrypts a data encryption key (DEK) given in O(plaintext) with the root key and returns the wrapped key in
    RV(ciphertext). Without O(plaintext) the service generates a new 256-bit DEK and returns it in RV(plaintext) as well.
  - V(unwrap) decrypts a wrapped key given in O(ciphertext) and returns the DEK in RV(plaintext). If the ciphertext was made
    with an older version of the root key (before a rotation), RV(ciphertext) also holds the DEK wrapped with the latest version.
  - V(rewrap) re-wraps O(ciphertext) with the root key's latest version without returning the DEK.
  - "B(The results are secrets.) RV(plaintext) is the data key in the clear, and anyone holding RV(ciphertext) and access to the
    root key can unwrap it. Put C(no_log: true) on the task, or the data key is shown in the output and written to logs and to
    any callback or AWX job output. Do not write the results to files that others can read. Without C(no_log), the module warns."
  - The module never reports a change - these operations read the root key and change nothing on the service.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: Wrapping, unwrapping and rewrapping change nothing on the service, so the module runs normally in check mode and
      returns real results.
  diff_mode:
    support: N/A
    details: This module changes nothing.
options:
  operation:
    description:
      - What to do with the root key.
    type: str
    choices: [wrap, unwrap, rewrap]
    default: wrap
  key_id:
    description:
      - ID (UUID) or CRN of the root key.
    type: str
  alias:
    description:
      - An alias of the root key.
    type: str
  plaintext:
    description:
      - With O(operation=wrap), the data key to wrap, base64-encoded, at most 4,096 base64 characters.
      - Leave it out to have the service generate a 256-bit data key.
      - Not used by V(unwrap) and V(rewrap).
    type: str
  ciphertext:
    description:
      - With O(operation=unwrap) or O(operation=rewrap), the wrapped data key that a wrap returned (base64). Required for them.
    type: str
  aad:
    description:
      - Additional authenticated data, up to 126 strings of at most 255 characters each.
      - Bound to the wrapped key - unwrap and rewrap must be given exactly the same list as the wrap, or they fail.
    type: list
    elements: str
notes:
  - One request per run (with O(iam_token) and O(endpoint) set).
  - The key must be an active root key to wrap; unwrap and rewrap also work with a deactivated (expired) one.
  - A ciphertext that was wrapped by another key, is damaged, or is given with other O(aad) fails with the service's
    reason code C(UNPROCESSABLE_CIPHERTEXT_ERR).
  - O(plaintext), O(ciphertext) and O(aad) are C(no_log) options. Ansible masks such values wherever they occur in a result; so
    that a short O(aad) string cannot damage a returned ciphertext by chance, an input value found inside an output is masked
    only in the echoed task arguments.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key
  - module: ibm.hs_crypto.hs_crypto_key_rotate
  - name: Wrapping data encryption keys with root keys
    description: How root keys protect data encryption keys in Hyper Protect Crypto Services.
    link: https://cloud.ibm.com/docs/hs-crypto?topic=hs-crypto-wrap-keys
"""

EXAMPLES = r"""
- name: Work with data keys under one set of connection options
  module_defaults:
    group/ibm.hs_crypto.hs_crypto:
      instance_id: "{{ hpcs_instance_id }}"
      region: us-south
      api_key: "{{ ibmcloud_api_key }}"
  block:
    - name: Generate a new data key, wrapped with the payments root key
      ibm.hs_crypto.hs_crypto_key_wrap:
        alias: payments-root
        aad: [payments, eu-de]
      register: dek
      no_log: true  # the result holds the data key in the clear

    - name: Store only the wrapped key with the data it protects
      ansible.builtin.copy:
        content: "{{ dek.ciphertext }}"
        dest: "{{ dek_file }}"  # for example /etc/payments/dek.wrapped
        mode: "0600"
      no_log: true

    - name: Wrap a data key you already have
      ibm.hs_crypto.hs_crypto_key_wrap:
        alias: payments-root
        plaintext: "{{ existing_dek_b64 }}"
      register: wrapped
      no_log: true

    - name: Unwrap it when the service needs it
      ibm.hs_crypto.hs_crypto_key_wrap:
        operation: unwrap
        alias: payments-root
        ciphertext: "{{ lookup('ansible.builtin.file', dek_file) }}"
        aad: [payments, eu-de]
      register: unwrapped
      no_log: true

    - name: After a rotation, rewrap the stored key with the latest key version
      ibm.hs_crypto.hs_crypto_key_wrap:
        operation: rewrap
        alias: payments-root
        ciphertext: "{{ lookup('ansible.builtin.file', dek_file) }}"
        aad: [payments, eu-de]
      register: rewrapped
      no_log: true
"""

RETURN = r"""
plaintext:
  description:
    - B(Secret.) The data key in the clear, base64-encoded.
    - With O(operation=unwrap), the unwrapped key. With O(operation=wrap), the generated key when O(plaintext) was left out
      (the given key is not echoed). Null otherwise.
  returned: always
  type: str
  sample: 6S7zXv1dEphWlKj6Jb0jvDTq7z2P9X8fNBFqfOSyrq0=
ciphertext:
  description:
    - B(Secret.) The wrapped data key, base64-encoded - store it with the data it protects.
    - With O(operation=wrap), the new wrapped key; with O(operation=rewrap), the key wrapped with the latest root key version;
      with O(operation=unwrap), the same, but only when the given ciphertext came from an older version (else null).
  returned: always
  type: str
  sample: eyJjaXBoZXJ0ZXh0IjoiLi4uIiwiaXYiOiIuLi4iLCJ2ZXJzaW9uIjoiNC4wLjAiLCJoYW5kbGUiOiIuLi4ifQ==
key_version:
  description:
    - The root key version (C(id)) the data key was wrapped with - the new wrap, or for unwrap and rewrap the version of the given
      ciphertext.
  returned: always
  type: dict
  sample: {id: 02fd6835-6001-4482-a892-13bd2085f75d}
rewrapped_key_version:
  description:
    - The root key version (C(id)) RV(ciphertext) is now wrapped with, after a rewrap or after an unwrap of a ciphertext from an
      older version; null otherwise.
  returned: always
  type: dict
  sample: {id: 7c1e1a52-5b2d-4bb1-9d5e-0f3a3c8d2e11}
correlation_id:
  description: Correlation id of the request sent to the key management API, for IBM support.
  returned: always
  type: str
  sample: 5b7e6c2a-3f1d-4c8e-9a0b-1d2e3f4a5b6c
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_actions import OPERATIONS, WrapRequest, run_wrap
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule

ARGUMENT_SPEC = dict(
    operation=dict(type="str", choices=list(OPERATIONS), default="wrap"),
    key_id=dict(type="str"),
    alias=dict(type="str"),
    plaintext=dict(type="str", no_log=True),
    ciphertext=dict(type="str", no_log=True),
    aad=dict(type="list", elements="str", no_log=True),
)


def operate(module):
    request = WrapRequest.from_params(module.params)
    result = run_wrap(module.kms, request)
    if not module.no_log:
        module.warn("This task returns secrets (the data key in plaintext, the wrapped key in ciphertext) and has no 'no_log: true': "
                    "set it on the task, or they are shown in the output and written to logs and to any callback or AWX job output.")
    invocation = module.keep_outputs_intact([result["plaintext"], result["ciphertext"]])
    if invocation is not None:
        result["invocation"] = invocation
    module.exit_json(changed=False, **result)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("key_id", "alias")],
                            required_one_of=[("key_id", "alias")])
    module.run(operate)


if __name__ == "__main__":
    main()
