#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_ring
short_description: Manage a key ring of a Hyper Protect Crypto Services instance
version_added: 0.1.0
description:
  - Creates or deletes one key ring of an IBM Cloud Hyper Protect Crypto Services (or Key Protect) instance, idempotently.
  - Key rings group keys for access control. Keys are put into a ring with the O(ibm.hs_crypto.hs_crypto_key#module:key_ring)
    option of M(ibm.hs_crypto.hs_crypto_key).
  - The service can only delete a ring whose keys are all deleted. A ring holding deleted keys only is deleted with
    O(force=true), which moves those keys to the V(default) ring.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details:
      - No write request is sent; RV(key_ring) is the predicted ring.
      - A delete the service would refuse (keys in the ring) fails in check mode too, which costs one request listing the
        ring's keys.
  diff_mode:
    support: full
    details: Before and after hold the ring's id, or nothing when the ring does not exist.
options:
  key_ring_id:
    description:
      - ID of the key ring, 2 to 100 letters, digits or V(-); case-sensitive.
      - V(default) is reserved; it cannot be created or deleted.
    type: str
    required: true
  state:
    description:
      - V(present) creates the ring if it does not exist; V(absent) deletes it if it exists.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), delete a ring that still holds deleted keys; they move to the V(default) ring.
      - A ring holding any key that is not deleted is never deleted, forced or not.
    type: bool
    default: false
notes:
  - Requests per run, with O(iam_token) and O(endpoint) set - one listing of the rings (one request per 5,000 rings), plus the
    create or delete request and, after a create, one listing to read the new ring back.
  - An instance can have up to 50 key rings besides V(default) (Key Protect documentation); the service refuses more.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key_ring_info
  - module: ibm.hs_crypto.hs_crypto_key
"""

EXAMPLES = r"""
- name: Manage key rings with one set of connection options
  module_defaults:
    group/ibm.hs_crypto.hs_crypto:
      instance_id: "{{ hpcs_instance_id }}"
      region: us-south
      api_key: "{{ ibmcloud_api_key }}"
  block:
    - name: A key ring for the payments team
      ibm.hs_crypto.hs_crypto_key_ring:
        key_ring_id: payments
      register: ring

    - name: Put a root key into it
      ibm.hs_crypto.hs_crypto_key:
        name: payments-root
        aliases: [payments-root]
        key_ring: "{{ ring.key_ring.id }}"

    - name: See whether the ring could be deleted, without deleting it
      ibm.hs_crypto.hs_crypto_key_ring:
        key_ring_id: payments
        state: absent
      check_mode: true
      register: ring_deletion
      failed_when: false  # check mode predicts the service's answer: this ring holds a key, so it cannot be deleted

    - name: Say why not
      ansible.builtin.debug:
        msg: "{{ ring_deletion.msg }}"
      when: ring_deletion.msg is defined

    - name: Delete a ring whose keys are all deleted
      ibm.hs_crypto.hs_crypto_key_ring:
        key_ring_id: old-team
        state: absent
        force: true
"""

RETURN = r"""
key_ring:
  description:
    - The key ring after the run (predicted in check mode); null when it does not exist.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the key ring.
      type: str
      sample: payments
    creation_date:
      description: When the ring was created (null in check mode for a ring that would be created).
      type: str
      sample: "2026-01-05T10:00:00Z"
    created_by:
      description: IAM id of the creator (null in check mode for a ring that would be created).
      type: str
      sample: IBMid-alice
correlation_id:
  description: Correlation id of the last request sent to the key management API, for IBM support.
  returned: always
  type: str
  sample: 5b7e6c2a-3f1d-4c8e-9a0b-1d2e3f4a5b6c
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_rings import KeyRingService, check_ring_id
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule

ARGUMENT_SPEC = dict(
    key_ring_id=dict(type="str", required=True, no_log=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    force=dict(type="bool", default=False),
)


def converge(module):
    ring_id = check_ring_id(module.params["key_ring_id"])
    if module.params["force"] and module.params["state"] != "absent":
        module.fail_json("force is only used with state=absent")
    service = KeyRingService(module.kms, check_mode=module.check_mode)
    if module.params["state"] == "present":
        outcome = service.present(ring_id)
    else:
        outcome = service.absent(ring_id, force=module.params["force"])
    module.exit_json(changed=outcome["changed"], key_ring=outcome["key_ring"], diff=outcome["diff"])


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(converge)


if __name__ == "__main__":
    main()
