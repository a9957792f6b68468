#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_info
short_description: Read the keys of a Hyper Protect Crypto Services instance
version_added: 0.1.0
description:
  - Returns one key (by O(key_id), O(alias) or exact O(name)) or a filtered listing of the keys of an instance, with every page
    read.
  - Keys carry the same fields as the RV(ibm.hs_crypto.hs_crypto_key#module:key) result of M(ibm.hs_crypto.hs_crypto_key).
    Key material is never returned.
  - A listing is one request per 5,000 keys; O(include) adds requests per key, only when asked.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
options:
  key_id:
    description:
      - ID (UUID) or CRN of one key. Deleted keys are returned too, until they are purged.
    type: str
  alias:
    description:
      - An alias of one key.
    type: str
  name:
    description:
      - Exact name of the keys to return (names need not be unique), among the keys in O(key_states).
    type: str
  search:
    description:
      - Server-side search in names and aliases (case-insensitive substring; the service's prefixes such as C(exact:),
        C(alias:), C(name:) and C(not:) are passed on).
    type: str
  key_states:
    description:
      - States of the keys to list, or to match by O(name). V(destroyed) lists deleted keys.
      - A key asked for by O(key_id) or O(alias) is returned whatever its state.
    type: list
    elements: str
    choices: [pre_activation, active, suspended, deactivated, destroyed]
    default: [active, suspended, deactivated]
  type:
    description:
      - Only root or only standard keys.
    type: str
    choices: [root, standard]
  key_ring:
    description:
      - Only the keys of this key ring.
    type: str
  include:
    description:
      - Extra detail to read for every key returned, one request per key and item.
      - V(policies) adds RV(crypto_keys[].policies), V(versions) adds RV(crypto_keys[].versions), V(registrations) adds
        RV(crypto_keys[].registrations).
    type: list
    elements: str
    choices: [policies, versions, registrations]
    default: []
notes:
  - O(key_id), O(alias), O(name) and O(search) are mutually exclusive.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key
"""

EXAMPLES = r"""
- name: Every live key of the instance
  ibm.hs_crypto.hs_crypto_key_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
  register: all_keys

- name: One key by alias, with its versions
  ibm.hs_crypto.hs_crypto_key_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    alias: payments-root
    include: [versions]
  register: payments

- name: Deleted root keys of one key ring
  ibm.hs_crypto.hs_crypto_key_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    key_states: [destroyed]
    type: root
    key_ring: payments
  register: deleted

- name: Show the names
  ansible.builtin.debug:
    msg: "{{ all_keys.crypto_keys | map(attribute='name') | list }}"
"""

RETURN = r"""
crypto_keys:
  description:
    - The keys found, with the fields of the RV(ibm.hs_crypto.hs_crypto_key#module:key) result of M(ibm.hs_crypto.hs_crypto_key).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ID of the key.
      type: str
    name:
      description: Name of the key.
      type: str
    aliases:
      description: Aliases of the key.
      type: list
      elements: str
    type:
      description: V(root) or V(standard).
      type: str
    state:
      description: State name.
      type: str
    state_code:
      description: State number.
      type: int
    key_ring:
      description: Key ring of the key.
      type: str
    policies:
      description: The key's policies as the service returns them (snake_case), with O(include=policies).
      type: list
      elements: dict
      returned: when O(include) has V(policies)
    versions:
      description: Versions of the key material, newest first (C(id), C(creation_date)), with O(include=versions).
      type: list
      elements: dict
      returned: when O(include) has V(versions)
    registrations:
      description: Cloud resources registered with the key (snake_case), with O(include=registrations).
      type: list
      elements: dict
      returned: when O(include) has V(registrations)
count:
  description: Number of keys returned.
  returned: always
  type: int
  sample: 3
correlation_id:
  description: Correlation id of the last request sent to the key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_info import KeyQuery, read_keys
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import STATE_CODES
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule

ARGUMENT_SPEC = dict(
    key_id=dict(type="str"),
    alias=dict(type="str"),
    name=dict(type="str"),
    search=dict(type="str"),
    key_states=dict(type="list", elements="str", choices=sorted(STATE_CODES), default=["active", "suspended", "deactivated"]),
    type=dict(type="str", choices=["root", "standard"]),
    key_ring=dict(type="str", no_log=False),
    include=dict(type="list", elements="str", choices=["policies", "versions", "registrations"], default=[]),
)


def read(module):
    query = KeyQuery.from_params(module.params)
    crypto_keys = read_keys(module.kms, query)
    module.exit_json(changed=False, crypto_keys=crypto_keys, count=len(crypto_keys))


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC,
                            mutually_exclusive=[("key_id", "alias", "name", "search")])
    module.run(read)


if __name__ == "__main__":
    main()
