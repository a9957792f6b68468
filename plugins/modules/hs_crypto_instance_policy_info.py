#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_instance_policy_info
short_description: Read the instance policies of a Hyper Protect Crypto Services or Key Protect instance
version_added: 0.1.0
description:
  - Returns the instance policies of an IBM Cloud Hyper Protect Crypto Services or Key Protect instance in one request - dual
    authorization delete, allowed network, key create and import access, metrics, and on Key Protect also rotation and
    allowed IP.
  - On a Key Protect instance whose allowed IP policy is on, a second request reads the private port (RV(allowed_ip_port)).
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
  - An instance whose allowed IP policy is on only answers requests from its allowed subnets.
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

- name: Read a Key Protect instance's policies, including rotation and allowed IP
  ibm.hs_crypto.hs_crypto_instance_policy_info:
    instance_id: "{{ kp_instance_crn }}"
    api_key: "{{ ibmcloud_api_key }}"
  register: kp

- name: Say where private-endpoint requests must go
  ansible.builtin.debug:
    msg: "Private endpoint port {{ kp.allowed_ip_port }} (allowed subnets {{ kp.policies.allowed_ip.allowed_ip | join(', ') }})"
  when: kp.allowed_ip_port is not none
"""

RETURN = r"""
policies:
  description:
    - The instance's policies, each with C(enabled), its attributes (null when disabled), and who set it when
      (C(created_by), C(creation_date), C(updated_by), C(last_updated); null for a policy never set).
    - The policies listed are those of the instance's service - the four below on Hyper Protect Crypto Services, also
      C(rotation) and C(allowed_ip) on Key Protect, without C(allowed_network) on Key Protect Dedicated. When the service is
      unknown (O(endpoint) with a bare GUID), the four, plus C(rotation) and C(allowed_ip) when the instance has a record of them.
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
    rotation:
      description: Key Protect only. Rotation policy of new root keys, C(enabled) and C(interval_month).
      type: dict
      returned: on Key Protect instances
      sample: {enabled: true, interval_month: 3, created_by: IBMid-alice, creation_date: "2026-01-05T10:00:00Z",
               updated_by: IBMid-alice, last_updated: "2026-01-05T10:00:00Z"}
    allowed_ip:
      description: Key Protect only. Allowed IP policy, C(enabled) and C(allowed_ip), the list of subnets.
      type: dict
      returned: on Key Protect instances
      sample: {enabled: false, allowed_ip: null, created_by: null, creation_date: null, updated_by: null, last_updated: null}
allowed_ip_port:
  description:
    - The port private-endpoint requests must use while the allowed IP policy is on
      (C(https://private.<region>.kms.cloud.ibm.com:<port>)); null when the policy is off (and on Hyper Protect Crypto Services).
  returned: always
  type: int
  sample: 15008
correlation_id:
  description: Correlation id of the last request sent to the key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import (
    allowed_ip_enabled, policies_result, read_allowed_ip_port, read_policies, shown_options)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import of_connection


def read(module):
    kms = module.kms
    service, plan = of_connection(module.connection)
    records = read_policies(kms)
    port = read_allowed_ip_port(kms) if allowed_ip_enabled(records) else None
    module.exit_json(changed=False, policies=policies_result(records, shown_options(service, plan, records)), allowed_ip_port=port)


def main():
    module = HsCryptoModule()
    module.run(read)


if __name__ == "__main__":
    main()
