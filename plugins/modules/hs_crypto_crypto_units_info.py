#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_crypto_units_info
short_description: Read the crypto units of a Key Protect Dedicated instance
version_added: 0.1.0
description:
  - Returns the crypto units of an IBM Cloud Key Protect Dedicated instance and the state of each, in one request to the
    instance's own endpoint (C(GET /api/v1/cryptounits)).
  - An instance serves keys only once at least one of its units is C(kms-initialized) (RV(ready)); until then every key
    request fails (HTTP 503). Use RV(ready) to stop a play before it writes to an instance that is not initialized.
  - Initializing the units (claiming them, loading master keys, adding the KMS crypto user) needs IBM's native library and
    the administrators' key parts; do it with the Key Protect CLI plug-in or Terraform's C(ibm_kms_cryptounits).
  - Only Key Protect Dedicated instances have crypto units. An instance known to be another kind (Hyper Protect Crypto
    Services, or Key Protect with another plan, from its CRN, O(service) or endpoint discovery) is refused before any request
    to the instance; otherwise the instance's answer (HTTP 404) says so.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
notes:
  - Requests per run, with O(iam_token) and O(endpoint) set - one.
  - The states are C(reserved) (new), C(claimed), C(initialized), C(kms-authorized), C(kms-initialized) (ready) and
    C(maintenance) (IBM maintenance, at most one unit of an instance at a time); other states the service may report are
    returned as sent.
seealso:
  - module: ibm.hs_crypto.hs_crypto_endpoint_info
  - name: Crypto unit states
    description: What each state means and what initialization step comes next.
    link: https://cloud.ibm.com/docs/key-protect?topic=key-protect-crypto-unit-states
"""

EXAMPLES = r"""
- name: Read the crypto units of a Key Protect Dedicated instance
  ibm.hs_crypto.hs_crypto_crypto_units_info:
    instance_id: "{{ kp_dedicated_instance_crn }}"
    api_key: "{{ ibmcloud_api_key }}"
  register: units

- name: Stop before writing to an instance that cannot serve keys yet
  ansible.builtin.assert:
    that:
      - units.ready
    fail_msg: >-
      No crypto unit of {{ kp_dedicated_instance_crn }} is kms-initialized
      ({{ units.crypto_units | map(attribute='state') | join(', ') }}); initialize them with the Key Protect CLI first.

- name: Report units that are not ready
  ansible.builtin.debug:
    msg: "{{ item.id }} is {{ item.state }}"
  loop: "{{ units.crypto_units | rejectattr('state', 'equalto', 'kms-initialized') | list }}"
"""

RETURN = r"""
crypto_units:
  description: The instance's crypto units, in the order the service lists them.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: ID of the crypto unit.
      type: str
      sample: 6e0aead3-9d44-4c92-a4c4-f7a1ab415420
    state:
      description:
        - State of the unit - C(reserved), C(claimed), C(initialized), C(kms-authorized), C(kms-initialized) or
          C(maintenance), or another state the service reports.
      type: str
      sample: kms-initialized
    instance_id:
      description: The instance the unit belongs to, as the service reports it (null when it does not).
      type: str
      sample: c28a8939-3980-4697-a80c-50b1f8bbf160
  sample: [{id: 6e0aead3-9d44-4c92-a4c4-f7a1ab415420, state: kms-initialized, instance_id: c28a8939-3980-4697-a80c-50b1f8bbf160}]
initialized_count:
  description: How many units are C(kms-initialized).
  returned: success
  type: int
  sample: 2
ready:
  description: Whether at least one unit is C(kms-initialized), so the instance can serve keys.
  returned: success
  type: bool
  sample: true
correlation_id:
  description: Correlation id of the request, for IBM support.
  returned: always
  type: str
  sample: 5b7e6c2a-3f1d-4c8e-9a0b-1d2e3f4a5b6c
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._crypto_units import crypto_units_result, list_crypto_units
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import check_dedicated_only, of_connection


def read(module):
    kms = module.kms  # endpoint discovery first: a plan found there counts
    service, plan = of_connection(module.connection)
    check_dedicated_only(service, plan, "crypto_units", module.connection.instance.guid)
    module.exit_json(changed=False, **crypto_units_result(list_crypto_units(kms)))


def main():
    module = HsCryptoModule()
    module.run(read)


if __name__ == "__main__":
    main()
