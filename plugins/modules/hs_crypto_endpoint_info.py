#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_endpoint_info
short_description: Discover the service, plan and endpoints of an HPCS or Key Protect instance
version_added: 0.1.0
description:
  - Finds the instance's endpoints, and returns them as full C(https://) URLs - for a Hyper Protect Crypto Services
    instance from the HPCS broker of its region, for a Key Protect instance (Standard, cross-region or Dedicated), or one
    known by its GUID alone, from its IBM Cloud Resource Controller record, which also tells its service and plan (see
    O(service) for the order).
  - Covers the key management API (C(kms)), the GREP11 API (C(ep11)) and Unified Key Orchestrator (C(uko)), each public
    and private.
  - RV(kms_url) is the key management endpoint of O(endpoint_type), ready to pass as O(endpoint) to later tasks so they
    skip discovery.
  - Key Protect has neither GREP11 nor Unified Key Orchestrator; their endpoints are null for it.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
notes:
  - O(instance_id) is required; O(region) is not (the Resource Controller knows it).
  - "When O(endpoint) is set, nothing is asked: the module returns it as RV(kms_url) with RV(discovered=false). This keeps
    the module usable under C(module_defaults) that already carry an endpoint."
seealso:
  - module: ibm.hs_crypto.hs_crypto_iam_token
  - name: HPCS regions and endpoints
    description: The public and private endpoints of each region.
    link: https://cloud.ibm.com/docs/hs-crypto?topic=hs-crypto-regions
  - name: Key Protect regions and endpoints
    description: The public and private endpoints of Key Protect in each region.
    link: https://cloud.ibm.com/docs/key-protect?topic=key-protect-regions
"""

EXAMPLES = r"""
- name: Discover the endpoints of an instance
  ibm.hs_crypto.hs_crypto_endpoint_info:
    instance_id: 8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
  register: hpcs

- name: Use the private endpoint from here on (region is taken from the CRN)
  ibm.hs_crypto.hs_crypto_endpoint_info:
    instance_id: "crn:v1:bluemix:public:hs-crypto:us-south:a/b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21:8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b::"
    endpoint_type: private
    api_key: "{{ ibmcloud_api_key }}"
  register: hpcs_private

- name: Later tasks skip discovery
  module_defaults:
    group/ibm.hs_crypto.hs_crypto:
      instance_id: 8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b
      endpoint: "{{ hpcs.kms_url }}"
      api_key: "{{ ibmcloud_api_key }}"
  block:
    - name: Show the endpoint in use
      ansible.builtin.debug:
        msg: "Key management API at {{ hpcs.kms_url }}; GREP11 at {{ hpcs.endpoints.ep11.public }}"

- name: A Key Protect instance, known by its GUID alone (found through the Resource Controller)
  ibm.hs_crypto.hs_crypto_endpoint_info:
    instance_id: 5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d
    api_key: "{{ ibmcloud_api_key }}"
  register: key_protect

- name: Say which kind it is
  ansible.builtin.debug:
    msg: "{{ key_protect.service }} ({{ key_protect.plan or 'plan unknown' }}) at {{ key_protect.kms_url }}"
"""

RETURN = r"""
kms_url:
  description: Base URL of the key management API of O(endpoint_type) (or O(endpoint) when it was given).
  returned: success
  type: str
  sample: https://api.us-south.hs-crypto.cloud.ibm.com:8800
endpoints:
  description:
    - Every endpoint the broker lists, as full C(https://) URLs; a value is null when the broker lists none.
    - For Key Protect, its two key management URLs (C(ep11) and C(uko) null, as Key Protect has neither).
    - Empty when O(endpoint) was given.
  returned: success
  type: dict
  contains:
    kms:
      description: Key management API endpoints.
      type: dict
      contains:
        public:
          description: Public endpoint.
          type: str
          sample: https://api.us-south.hs-crypto.cloud.ibm.com:8800
        private:
          description: Private endpoint.
          type: str
          sample: https://api.private.us-south.hs-crypto.cloud.ibm.com:8800
    ep11:
      description: GREP11 API endpoints (C(public), C(private)).
      type: dict
      sample: {"public": "https://ep11.us-south.hs-crypto.cloud.ibm.com:8801", "private": null}
    uko:
      description: Unified Key Orchestrator endpoints (C(public), C(private)).
      type: dict
      sample: {"public": "https://uko.us-south.hs-crypto.cloud.ibm.com:8802", "private": null}
instance_id:
  description: GUID of the instance (from O(instance_id), a CRN reduced to its GUID).
  returned: success
  type: str
  sample: 8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b
region:
  description: Region of the instance, from O(region) or the CRN.
  returned: success
  type: str
  sample: us-south
service:
  description: The service of the instance - from O(service) or the CRN, else what discovery found.
  returned: success
  type: str
  sample: hs_crypto
discovered:
  description: Whether the endpoint was discovered (false when O(endpoint) was given).
  returned: success
  type: bool
  sample: true
source:
  description:
    - Where the endpoint came from - V(endpoint) (given), V(broker) (the HPCS broker), V(resource_controller) (the instance's
      Resource Controller record), or V(region) (the Key Protect Standard URL of the region, when the Resource Controller
      could not be read).
  returned: success
  type: str
  sample: resource_controller
plan:
  description:
    - The instance's plan when discovery could tell it - V(dedicated) for Key Protect Dedicated, V(tiered-pricing) for
      Key Protect Standard; null otherwise.
  returned: success
  type: str
  sample: dedicated
name:
  description: The instance's name, from its Resource Controller record (null when the record was not read).
  returned: success
  type: str
crn:
  description: The instance's CRN, from its Resource Controller record (null when the record was not read).
  returned: success
  type: str
correlation_id:
  description: Correlation id of the broker request, when the broker returned one.
  returned: always
  type: str
  sample: 5b7e6c2a-3f1d-4c8e-9a0b-1d2e3f4a5b6c
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule


def discover(module):
    connection = module.connection
    connection.require_instance()
    given = bool(module.params["endpoint"])
    module.exit_json(
        changed=False,
        kms_url=connection.kms_url(),
        endpoints={} if given else connection.endpoints(),
        instance_id=connection.instance.guid,
        region=connection.region,
        service=connection.service,
        plan=connection.plan,
        name=connection.record.name if connection.record is not None else None,
        crn=connection.record.crn if connection.record is not None else None,
        discovered=connection.discovers,
        source=connection.source,
    )


def main():
    module = HsCryptoModule()
    module.run(discover)


if __name__ == "__main__":
    main()
