#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_registrations_info
short_description: Read which cloud resources are protected by the root keys of a Hyper Protect Crypto Services instance
version_added: 0.1.0
description:
  - Returns registrations - the links IBM Cloud services (Cloud Object Storage buckets, databases, block storage volumes, ...)
    record between a resource they encrypt and the root key that protects it. Every page is read.
  - Registrations of one key (O(key_id) or O(alias)), or of every key of the instance, optionally narrowed by resource CRN,
    by O(prevent_key_deletion) and by key ring.
  - Registrations are created by the IBM Cloud services themselves; no module creates or deletes them. A key with registrations
    can only be deleted with O(ibm.hs_crypto.hs_crypto_key#module:force=true), and not at all while a registration prevents it.
  - The registrations of keys you list anyway are also available through O(ibm.hs_crypto.hs_crypto_key_info#module:include=registrations).
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
options:
  key_id:
    description:
      - ID (UUID) or CRN of the key whose registrations to return. A key that does not exist fails.
    type: str
  alias:
    description:
      - Alias of the key whose registrations to return.
    type: str
  resource_crn:
    description:
      - Only registrations of resources whose CRN matches; V(*) matches any run of characters.
      - Without O(key_id) or O(alias), the first 8 segments of the CRN (up to the service instance) cannot hold a V(*).
    type: str
  prevent_key_deletion:
    description:
      - Only registrations that prevent (V(true)) or do not prevent (V(false)) deleting their key.
    type: bool
  key_ring:
    description:
      - Without O(key_id) or O(alias), only the registrations of keys in this key ring.
    type: str
notes:
  - One request per 5,000 registrations.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key_info
  - module: ibm.hs_crypto.hs_crypto_key
"""

EXAMPLES = r"""
- name: What does the payments root key protect?
  ibm.hs_crypto.hs_crypto_key_registrations_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    alias: payments-root
  register: protected

- name: Show the resources
  ansible.builtin.debug:
    msg: "{{ protected.registrations | map(attribute='resource_crn') | list }}"

- name: Which keys protect the buckets of one Cloud Object Storage instance, and which of them block a delete?
  ibm.hs_crypto.hs_crypto_key_registrations_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    resource_crn: "crn:v1:bluemix:public:cloud-object-storage:global:a/{{ account_id }}:{{ cos_instance_guid }}:bucket:*"
    prevent_key_deletion: true
  register: blocking
"""

RETURN = r"""
registrations:
  description: The registrations found, in the order the service lists them.
  returned: always
  type: list
  elements: dict
  contains:
    key_id:
      description: ID of the root key.
      type: str
      sample: 02fd6835-6001-4482-a892-13bd2085f75d
    key_name:
      description: Name of the root key.
      type: str
      sample: payments-root
    resource_crn:
      description: CRN of the protected resource.
      type: str
      sample: crn:v1:bluemix:public:cloud-object-storage:global:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:1a2b3c4d::bucket:payments-data
    description:
      description: Description the registering service gave.
      type: str
    prevent_key_deletion:
      description: Whether the registration prevents deleting the key, even with O(ibm.hs_crypto.hs_crypto_key#module:force=true).
      type: bool
      sample: false
    key_version:
      description: The key version the resource uses (C(id), C(creation_date)).
      type: dict
    created_by:
      description: Identity (usually a service id) that created the registration.
      type: str
    creation_date:
      description: When the registration was created.
      type: str
    updated_by:
      description: Identity that last updated the registration.
      type: str
    last_updated:
      description: When the registration was last updated.
      type: str
count:
  description: Number of registrations returned.
  returned: always
  type: int
  sample: 1
correlation_id:
  description: Correlation id of the last request sent to the key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._registrations import RegistrationQuery, read_registrations

ARGUMENT_SPEC = dict(
    key_id=dict(type="str"),
    alias=dict(type="str"),
    resource_crn=dict(type="str"),
    prevent_key_deletion=dict(type="bool"),
    key_ring=dict(type="str", no_log=False),
)


def read(module):
    registrations = read_registrations(module.kms, RegistrationQuery.from_params(module.params))
    module.exit_json(changed=False, registrations=registrations, count=len(registrations))


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("key_id", "alias"), ("key_id", "key_ring"), ("alias", "key_ring")])
    module.run(read)


if __name__ == "__main__":
    main()
