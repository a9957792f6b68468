#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_ring_info
short_description: Read the key rings of a Hyper Protect Crypto Services instance
version_added: 0.1.0
description:
  - Returns every key ring of an instance (every page read), or the one named by O(key_ring_id).
  - Rings carry the same fields as the RV(ibm.hs_crypto.hs_crypto_key_ring#module:key_ring) result of
    M(ibm.hs_crypto.hs_crypto_key_ring). The V(default) ring, which every instance has, is listed too.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
options:
  key_ring_id:
    description:
      - ID of one key ring (case-sensitive). A ring that does not exist gives an empty list.
    type: str
notes:
  - One request per 5,000 rings.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key_ring
"""

EXAMPLES = r"""
- name: Every key ring of the instance
  ibm.hs_crypto.hs_crypto_key_ring_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
  register: rings

- name: Show their ids
  ansible.builtin.debug:
    msg: "{{ rings.key_rings | map(attribute='id') | list }}"

- name: Does the payments ring exist?
  ibm.hs_crypto.hs_crypto_key_ring_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    key_ring_id: payments
  register: payments

- name: Say so
  ansible.builtin.debug:
    msg: "{{ 'yes' if payments.count else 'no' }}"
"""

RETURN = r"""
key_rings:
  description: The key rings found, V(default) first, then the others in the order the service lists them.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ID of the key ring.
      type: str
      sample: payments
    creation_date:
      description: When the ring was created (null for V(default)).
      type: str
      sample: "2026-01-05T10:00:00Z"
    created_by:
      description: IAM id of the creator (null for V(default)).
      type: str
      sample: IBMid-alice
count:
  description: Number of key rings returned.
  returned: always
  type: int
  sample: 2
correlation_id:
  description: Correlation id of the last request sent to the key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_rings import check_ring_id, list_rings, ring_result
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule

ARGUMENT_SPEC = dict(
    key_ring_id=dict(type="str", no_log=False),
)


def read(module):
    wanted = module.params["key_ring_id"]
    if wanted is not None:
        check_ring_id(wanted, allow_default=True)
    key_rings = [ring_result(raw) for raw in list_rings(module.kms) if wanted is None or raw.get("id") == wanted]
    module.exit_json(changed=False, key_rings=key_rings, count=len(key_rings))


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(read)


if __name__ == "__main__":
    main()
