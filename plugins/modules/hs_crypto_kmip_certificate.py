#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_kmip_certificate
short_description: Add, replace or remove one client certificate of a KMIP adapter
version_added: 0.1.0
description:
  - Adds one client certificate to a KMIP adapter of a Key Protect instance, replaces it when its content changed (a renewed
    client certificate), or removes it, idempotently.
  - To keep an exact list of certificates, use O(ibm.hs_crypto.hs_crypto_kmip_adapter#module:certificates) with
    O(ibm.hs_crypto.hs_crypto_kmip_adapter#module:purge_certificates) instead.
  - With O(state=absent), the certificate is found by O(name), or by its content (O(certificate)) when no name is given.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: No write request is sent; the same reads are made and the same failures reported.
  diff_mode:
    support: full
    details: Before and after hold the certificate's name and SHA-256 fingerprint, never its content.
options:
  adapter:
    description: The KMIP adapter, by UUID or name.
    type: str
    required: true
  name:
    description: Name of the certificate, unique within the adapter; 2 to 40 letters, digits, V(-) or V(_), not a UUID.
    type: str
  certificate:
    description:
      - The client's X.509 certificate in PEM, checked before any request. Never its private key.
      - Required with O(state=present).
    type: str
  state:
    description: V(present) adds or replaces the certificate; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Requests per run, with O(iam_token) and O(endpoint) set - one to read the adapter, one listing of its certificates, one
    read per certificate when O(certificate) is given (the listing does not return contents), and the add or remove.
  - A new certificate can take up to 5 minutes before KMIP clients that use it are accepted (Key Protect documentation).
seealso:
  - module: ibm.hs_crypto.hs_crypto_kmip_adapter
  - module: ibm.hs_crypto.hs_crypto_kmip_adapter_info
"""

EXAMPLES = r"""
- name: Renew the client certificate of vCenter vc01 (replaced in place, under the same name)
  ibm.hs_crypto.hs_crypto_kmip_certificate:
    instance_id: "{{ kp_instance_id }}"
    region: us-south
    service: key_protect
    api_key: "{{ ibmcloud_api_key }}"
    adapter: vsphere-cluster-a
    name: vc01
    certificate: "{{ lookup('ansible.builtin.file', 'certs/vc01-2027.pem') }}"

- name: Remove a decommissioned vCenter's certificate
  ibm.hs_crypto.hs_crypto_kmip_certificate:
    instance_id: "{{ kp_instance_id }}"
    region: us-south
    service: key_protect
    api_key: "{{ ibmcloud_api_key }}"
    adapter: vsphere-cluster-a
    name: vc02
    state: absent
"""

RETURN = r"""
certificate:
  description: The certificate after the run (predicted in check mode); null when removed or absent.
  returned: always
  type: dict
  contains:
    id:
      description: UUID of the certificate (null in check mode for one that would be added).
      type: str
    name:
      description: Name of the certificate.
      type: str
    created_at:
      description: When it was registered.
      type: str
    created_by:
      description: Who registered it.
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate, as C(openssl x509 -fingerprint -sha256) prints it.
      type: str
actions:
  description: What the run did, or would do in check mode - C(add_certificate:<name>), C(replace_certificate:<name>), C(remove_certificate:<name>).
  returned: always
  type: list
  elements: str
correlation_id:
  description: Correlation id of the last request sent to the key management API, for IBM support.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._kmip import (
    KmipService, check_adapter_ref, converge_certificate, parse_certificate, require_key_protect)

ARGUMENT_SPEC = dict(
    adapter=dict(type="str", required=True),
    name=dict(type="str"),
    certificate=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def converge(module):
    params = module.params
    adapter = check_adapter_ref(params["adapter"])
    if params["certificate"] is not None:
        parse_certificate(params["certificate"], "certificate")
    kms = module.kms
    require_key_protect(module.connection)
    outcome = converge_certificate(KmipService(kms, check_mode=module.check_mode), adapter, name=params["name"],
                                   pem=params["certificate"], state=params["state"])
    module.exit_json(**outcome)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC, required_one_of=[("name", "certificate")],
                            required_if=[("state", "present", ("name", "certificate"))])
    module.run(converge)


if __name__ == "__main__":
    main()
