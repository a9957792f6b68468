#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_kmip_adapter
short_description: Manage a KMIP adapter of a Key Protect instance and its client certificates
version_added: 0.1.0
description:
  - Creates or deletes one KMIP adapter of an IBM Key Protect instance (Standard, cross-region or Dedicated), and keeps the
    client certificates it trusts, idempotently. VMware vSphere and vSAN encryption reach Key Protect through a KMIP adapter.
  - An adapter is bound to one active root key (O(root_key)) and trusts the client certificates registered with it; the KMIP
    clients then create KMIP objects (symmetric keys) under it. Objects are read and deleted with
    M(ibm.hs_crypto.hs_crypto_kmip_object).
  - An adapter is found by O(adapter_id), else by O(name) (unique in the instance). The service cannot change an adapter,
    so a root key, description or profile that differs fails with a diff; the adapter is never deleted and created again.
  - Deleting an adapter that still holds KMIP objects fails with their count, unless O(delete_objects=true) asks for them to
    be deleted first, over every page of the listing; active objects need O(force=true) too.
  - Hyper Protect Crypto Services instances have no KMIP management API (HPCS offers KMIP for VMware separately, until
    2026-12-31); the module says so when the service answers that the routes do not exist.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.concurrency
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details:
      - No write request is sent; the reads of a real run are made, and the task fails where the real run would (a root key
        that is not active, the limits, objects left without O(delete_objects)).
  diff_mode:
    support: full
    details: Before and after hold the adapter's name, profile, root key, description and the names of its certificates.
options:
  name:
    description:
      - Name of the adapter, unique in the instance; 2 to 40 letters, digits, V(-) or V(_), not a UUID.
      - Required to create an adapter.
    type: str
  adapter_id:
    description:
      - UUID of an existing adapter. With O(name) too, the adapter must have that name.
    type: str
  root_key:
    description:
      - The root key the adapter is bound to - its id, its CRN or one of its aliases. It must be an active root key of the
        same instance. Required to create an adapter; when the adapter exists, it must be bound to this key.
    type: str
  profile:
    description: The adapter's profile; V(native_1.0) is the only one the service has.
    type: str
    choices: [native_1.0]
    default: native_1.0
  description:
    description:
      - Description of the adapter, up to 240 characters. When the adapter exists, it must have this description.
    type: str
  certificates:
    description:
      - Client certificates the adapter trusts, by name. A certificate that is missing is added; one whose content changed (a
        renewed client certificate) replaces the registered one of that name. Certificates not listed are kept, unless
        O(purge_certificates=true).
      - Every entry is checked before any request - names, the PEM, duplicates and the limit of 200 per adapter.
      - A new certificate can take up to 5 minutes before KMIP clients that use it are accepted (Key Protect documentation).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the certificate, unique within the adapter; 2 to 40 letters, digits, V(-) or V(_), not a UUID.
        type: str
        required: true
      certificate:
        description:
          - The client's X.509 certificate in PEM (C(-----BEGIN CERTIFICATE-----)). Never its private key.
          - A certificate can be registered with one adapter of a region only.
        type: str
        required: true
  purge_certificates:
    description:
      - Remove the registered certificates that O(certificates) does not list, making the list exact. Needs O(certificates)
        (V([]) removes every certificate).
    type: bool
    default: false
  state:
    description: V(present) creates the adapter and converges its certificates; V(absent) deletes it (and its certificates).
    type: str
    choices: [present, absent]
    default: present
  delete_objects:
    description:
      - With O(state=absent), delete the adapter's KMIP objects first (every page), then the adapter. Without it, an adapter
        holding objects is not deleted. Deleting an object erases its key material - what it encrypted becomes unreadable.
    type: bool
    default: false
  force:
    description:
      - With O(delete_objects=true), delete active objects too (the service refuses to delete active objects otherwise).
    type: bool
    default: false
  expected_root_keys:
    description:
      - Aliases of root keys that an earlier task of the same run creates, such as the keys of the role
        P(ibm.hs_crypto.hs_crypto_instance#role). In check mode that task created nothing, so an adapter bound to one of them
        is predicted as if the key existed, instead of failing because it is missing. A real run reads every key.
    type: list
    elements: str
    default: []
notes:
  - Requests per run, with O(iam_token) and O(endpoint) set - one to read the adapter; to create, one to read the root key, one
    listing of the adapters (the limit of 200), the create; with O(certificates), the listing of the certificates and one read
    per certificate (the listing does not return their content), then one request per certificate added or removed;
    O(state=absent) adds the listing of the objects, and one request per object deleted.
  - The names and limits are those of the Key Protect documentation and API; KMIP adapters need the Manager or
    KmipAdapterManager role on the instance.
seealso:
  - module: ibm.hs_crypto.hs_crypto_kmip_adapter_info
  - module: ibm.hs_crypto.hs_crypto_kmip_object
  - module: ibm.hs_crypto.hs_crypto_key
"""

EXAMPLES = r"""
- name: Set up Key Protect for a vSphere cluster
  module_defaults:
    group/ibm.hs_crypto.hs_crypto:
      instance_id: "{{ kp_instance_id }}"
      region: us-south
      service: key_protect
      api_key: "{{ ibmcloud_api_key }}"
  block:
    - name: The root key the adapter is bound to
      ibm.hs_crypto.hs_crypto_key:
        name: vsphere-cluster-a-root
        aliases: [vsphere-cluster-a]

    - name: An adapter for the cluster, trusting its two vCenter client certificates
      ibm.hs_crypto.hs_crypto_kmip_adapter:
        name: vsphere-cluster-a
        root_key: vsphere-cluster-a
        description: vCenter vc01 and vc02 of cluster A
        certificates:
          - name: vc01
            certificate: "{{ lookup('ansible.builtin.file', 'certs/vc01.pem') }}"
          - name: vc02
            certificate: "{{ lookup('ansible.builtin.file', 'certs/vc02.pem') }}"
        purge_certificates: true
      register: adapter

    - name: Show the adapter's id (vCenter asks for it when the key provider is added)
      ansible.builtin.debug:
        msg: "{{ adapter.adapter.id }}"

    - name: Retire the adapter, deleting the keys vSphere created under it
      ibm.hs_crypto.hs_crypto_kmip_adapter:
        name: old-cluster
        state: absent
        delete_objects: true
        force: true
"""

RETURN = r"""
adapter:
  description: The adapter after the run (predicted in check mode); null when it does not exist.
  returned: always
  type: dict
  contains:
    id:
      description: UUID of the adapter (null in check mode for an adapter that would be created).
      type: str
      sample: 5ac3d1f0-0b7e-4f8e-9a4d-0c5e1c6b7a90
    name:
      description: Name of the adapter.
      type: str
      sample: vsphere-cluster-a
    profile:
      description: Profile of the adapter.
      type: str
      sample: native_1.0
    root_key_id:
      description: Id of the root key the adapter is bound to.
      type: str
      sample: 02fd6835-6001-4482-a892-13bd2085f75d
    description:
      description: Description of the adapter.
      type: str
    created_at:
      description: When the adapter was created.
      type: str
    created_by:
      description: Who created it.
      type: str
    updated_at:
      description: When the adapter or its certificates last changed.
      type: str
    updated_by:
      description: Who last changed it.
      type: str
    certificates:
      description: The client certificates it trusts (id, name, created_at, created_by, and fingerprint_sha256 when read).
      type: list
      elements: dict
actions:
  description:
    - What the run did, or would do in check mode, in order - C(create), C(add_certificate:<name>), C(replace_certificate:<name>),
      C(remove_certificate:<name>), C(delete_objects:<count>), C(delete).
  returned: always
  type: list
  elements: str
  sample: [create, "add_certificate:vc01", "add_certificate:vc02"]
correlation_id:
  description: Correlation id of the last request sent to the key management API, for IBM support.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import concurrency_argument_spec, concurrency_of
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import KeyFinder
from ansible_collections.ibm.hs_crypto.plugins.module_utils._kmip import (
    PROFILES, AdapterSpec, KmipConflict, KmipService, converge_adapter, require_key_protect)

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    adapter_id=dict(type="str"),
    root_key=dict(type="str", no_log=False),
    profile=dict(type="str", choices=list(PROFILES), default=PROFILES[0]),
    description=dict(type="str"),
    certificates=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        certificate=dict(type="str", required=True),
    )),
    purge_certificates=dict(type="bool", default=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    delete_objects=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    expected_root_keys=dict(type="list", elements="str", default=[], no_log=False),
    **concurrency_argument_spec()
)


def converge(module):
    concurrency = concurrency_of(module.params)
    instance = module.connection.instance
    spec = AdapterSpec(module.params, instance_guid=instance.guid if instance is not None else None)
    kms = module.kms  # discovery, when the endpoint is not given: it tells an HPCS instance from a Key Protect one
    require_key_protect(module.connection)
    service = KmipService(kms, check_mode=module.check_mode, concurrency=concurrency)
    try:
        outcome = converge_adapter(service, KeyFinder(kms), spec)
    except KmipConflict as exc:
        module.fail_from(exc, diff=exc.diff)
    module.exit_json(changed=outcome["changed"], actions=outcome["actions"], adapter=outcome["adapter"], diff=outcome["diff"])


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC, required_one_of=[("name", "adapter_id")])
    module.run(converge)


if __name__ == "__main__":
    main()
