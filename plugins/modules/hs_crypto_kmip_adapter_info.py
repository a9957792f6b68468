#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_kmip_adapter_info
short_description: Read the KMIP adapters of a Key Protect instance, their client certificates and KMIP objects
version_added: 0.1.0
description:
  - Lists the KMIP adapters of an IBM Key Protect instance (every page), or reads one by O(name) or O(adapter_id); optionally
    only those bound to one root key (O(root_key)).
  - With O(include), adds each adapter's client certificates (with their SHA-256 fingerprints when C(certificate_content) is
    included) and its KMIP objects (in the states of O(object_states)), every page.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
options:
  name:
    description: Read the adapter with this name only.
    type: str
  adapter_id:
    description: Read the adapter with this UUID only.
    type: str
  root_key:
    description: Only the adapters bound to this root key - its id, CRN or one of its aliases.
    type: str
  include:
    description:
      - V(certificates) - the client certificates of each adapter (one listing per adapter).
      - V(certificate_content) - the certificates with their SHA-256 fingerprints (one more read per certificate).
      - V(objects) - the KMIP objects of each adapter (one listing per adapter, every page).
    type: list
    elements: str
    choices: [certificates, certificate_content, objects]
    default: []
  object_states:
    description: With V(objects) in O(include), the states of the objects to list.
    type: list
    elements: str
    choices: [pre_active, active, deactivated, compromised, destroyed, destroyed_compromised]
    default: [pre_active, active, deactivated, compromised]
notes:
  - Requests per run, with O(iam_token) and O(endpoint) set - the listing of the adapters (one request per 200), or one read
    for O(name) or O(adapter_id); then per adapter what O(include) asks for.
seealso:
  - module: ibm.hs_crypto.hs_crypto_kmip_adapter
  - module: ibm.hs_crypto.hs_crypto_kmip_object
"""

EXAMPLES = r"""
- name: Read the cluster's adapter with its certificates and active KMIP objects
  ibm.hs_crypto.hs_crypto_kmip_adapter_info:
    instance_id: "{{ kp_instance_id }}"
    region: us-south
    service: key_protect
    api_key: "{{ ibmcloud_api_key }}"
    name: vsphere-cluster-a
    include: [certificate_content, objects]
    object_states: [active]
  register: kmip

- name: Show which vCenter created how many keys
  ansible.builtin.debug:
    msg: "{{ kmip.adapters[0].objects | groupby('created_by_certificate_id') | map('first') | list }}"
"""

RETURN = r"""
adapters:
  description: The adapters, as M(ibm.hs_crypto.hs_crypto_kmip_adapter) returns one, with C(certificates) and C(objects) when included.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: UUID of the adapter.
      type: str
    name:
      description: Name of the adapter.
      type: str
    root_key_id:
      description: Id of the root key it is bound to.
      type: str
    certificates:
      description: Its client certificates (id, name, created_at, created_by; fingerprint_sha256 with C(certificate_content)).
      type: list
      elements: dict
    objects:
      description:
        - Its KMIP objects - id, type (V(symmetric_key)), state, state_code, recoverable, created_at, created_by,
          created_by_certificate_id (the KMIP client's certificate), updated_at, destroyed_at.
      type: list
      elements: dict
correlation_id:
  description: Correlation id of the last request sent to the key management API, for IBM support.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import UUID_RE
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import KeyFinder
from ansible_collections.ibm.hs_crypto.plugins.module_utils._kmip import (
    OBJECT_STATE_CODES, KmipService, adapter_result, check_name, require_key_protect, root_key_reference)

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    adapter_id=dict(type="str"),
    root_key=dict(type="str", no_log=False),
    include=dict(type="list", elements="str", choices=["certificates", "certificate_content", "objects"], default=[]),
    object_states=dict(type="list", elements="str", choices=list(OBJECT_STATE_CODES),
                       default=["pre_active", "active", "deactivated", "compromised"]),
)


def read(module):
    params = module.params
    if params["name"] is not None:
        check_name(params["name"], "name")
    if params["adapter_id"] is not None and not UUID_RE.match(params["adapter_id"]):
        raise ConfigurationError(f"adapter_id must be the adapter's UUID (got {params['adapter_id']!r}); to find it by name use name")
    instance = module.connection.instance
    root_ref = root_key_reference(params["root_key"], instance.guid if instance else None) if params["root_key"] is not None else None
    if not params["object_states"]:
        raise ConfigurationError("object_states must name at least one state")
    kms = module.kms
    require_key_protect(module.connection)
    service = KmipService(kms)
    root_id = None
    if root_ref is not None:
        root = KeyFinder(kms).get(root_ref, context=f"Reading the root key {root_ref}")
        if root is None:
            module.exit_json(changed=False, adapters=[])
        root_id = root["id"]
    ref = params["adapter_id"] or params["name"]
    if ref is not None:
        found = service.adapter(ref)
        adapters = [found] if found is not None and (root_id is None or (found.get("profile_data") or {}).get("crk_id") == root_id) else []
    else:
        adapters = service.adapters(root_id)
    include = set(params["include"])
    states = [OBJECT_STATE_CODES[name] for name in params["object_states"]]
    result = []
    for raw in adapters:
        certificates = objects = None
        if include & {"certificates", "certificate_content"}:
            certificates = service.certificates(raw["id"], with_content="certificate_content" in include)
        if "objects" in include:
            objects = service.objects(raw["id"], states)
        result.append(adapter_result(raw, certificates, objects))
    module.exit_json(changed=False, adapters=result)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("name", "adapter_id")])
    module.run(read)


if __name__ == "__main__":
    main()
