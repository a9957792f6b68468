#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_instance_policy_info
short_description: Read the instance policies of a Hyper Protect Crypto Services instance
version_added: 0.1.0
description:
  - Returns the four instance policies of an IBM Cloud Hyper Protect Crypto Services instance (dual authorization delete,
    allowed network, key create and import access, metrics) in one request.
  - The shape is the RV(ibm.hs_crypto.hs_crypto_instance_policy#module:policies) result of
    M(ibm.hs_crypto.hs_crypto_instance_policy), whose options take the same fields. A policy never set is reported disabled.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
notes:
  - An instance whose allowed network policy is V(private-only) only answers on its private endpoint
    (O(endpoint_type=private)).
seealso:
  - module: ibm.hs_crypto.hs_crypto_instance_policy
"""

EXAMPLES = r"""
- name: Read the instance policies
  ibm.hs_crypto.hs_crypto_instance_policy_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
  register: instance

- name: Insist on dual authorization
  ansible.builtin.assert:
    that:
      - instance.policies.dual_auth_delete.enabled
    fail_msg: Dual authorization delete is not enabled on {{ hpcs_instance_id }}
"""

RETURN = r"""
policies:
  description:
    - All four instance policies, each with C(enabled), its attributes (null when disabled), and who set it when
      (C(created_by), C(creation_date), C(updated_by), C(last_updated); null for a policy never set).
  returned: always
  type: dict
  contains:
    dual_auth_delete:
      description: Dual authorization delete policy, C(enabled).
      type: dict
      sample: {enabled: false, created_by: null, creation_date: null, updated_by: null, last_updated: null}
    allowed_network:
      description: Allowed network policy, C(enabled) and C(allowed_network).
      type: dict
      sample: {enabled: true, allowed_network: public-and-private, created_by: IBMid-alice,
               creation_date: "2026-01-05T10:00:00Z", updated_by: IBMid-alice, last_updated: "2026-01-05T10:00:00Z"}
    key_create_import_access:
      description:
        - Key create and import access policy, C(enabled) and C(create_root_key), C(create_standard_key), C(import_root_key),
          C(import_standard_key), C(enforce_token).
      type: dict
    metrics:
      description: Metrics policy, C(enabled).
      type: dict
correlation_id:
  description: Correlation id of the last request sent to the key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import policies_result, read_policies
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule


def read(module):
    module.exit_json(changed=False, policies=policies_result(read_policies(module.kms)))


def main():
    module = HsCryptoModule()
    module.run(read)


if __name__ == "__main__":
    main()
