#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_kmip_object
short_description: Delete KMIP objects of a KMIP adapter
version_added: 0.1.0
description:
  - Deletes KMIP objects (the symmetric keys that KMIP clients such as vSphere created under a KMIP adapter of a Key Protect
    instance) - the ones listed in O(object_ids), or every live object of the adapter with O(all_objects=true), over every page
    of the listing.
  - KMIP objects are created by KMIP clients only; the key management API reads and deletes them. Deleting one erases its key
    material, permanently - what it encrypted becomes unreadable. Objects already destroyed are left alone.
  - The service refuses to delete active objects; O(force=true) deletes them too. Without it, nothing is deleted when any
    object to delete is active, and the task says how many are.
  - Objects are listed and read with M(ibm.hs_crypto.hs_crypto_kmip_adapter_info).
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.concurrency
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: No write request is sent; the listing is read and the same refusal (active objects without O(force)) reported.
  diff_mode:
    support: full
    details: Before and after hold the ids of the adapter's live objects that the run deletes.
options:
  adapter:
    description: The KMIP adapter, by UUID or name.
    type: str
    required: true
  object_ids:
    description:
      - UUIDs of the objects to delete. An id the adapter does not know fails the task before anything is deleted.
      - Mutually exclusive with O(all_objects).
    type: list
    elements: str
  all_objects:
    description: Delete every live object of the adapter (states pre-active, active, deactivated and compromised).
    type: bool
    default: false
  force:
    description: Delete active objects too.
    type: bool
    default: false
  state:
    description: Only V(absent) - objects are created by KMIP clients, never through this API.
    type: str
    choices: [absent]
    default: absent
notes:
  - Requests per run, with O(iam_token) and O(endpoint) set - one to read the adapter, the listing of its live objects (one
    request per 5,000 objects), and one request per object deleted.
seealso:
  - module: ibm.hs_crypto.hs_crypto_kmip_adapter_info
  - module: ibm.hs_crypto.hs_crypto_kmip_adapter
"""

EXAMPLES = r"""
- name: Delete the keys a decommissioned cluster left under its adapter, active ones included
  ibm.hs_crypto.hs_crypto_kmip_object:
    instance_id: "{{ kp_instance_id }}"
    region: us-south
    service: key_protect
    api_key: "{{ ibmcloud_api_key }}"
    adapter: old-cluster
    all_objects: true
    force: true
  register: deleted

- name: Say how many keys were deleted
  ansible.builtin.debug:
    msg: "{{ deleted.deleted | length }} KMIP object(s) deleted"
"""

RETURN = r"""
deleted:
  description: The objects the run deleted (would delete, in check mode), as they were before.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: UUID of the object.
      type: str
    type:
      description: Object type (V(symmetric_key)).
      type: str
    state:
      description: State before the deletion - V(pre_active), V(active), V(deactivated) or V(compromised).
      type: str
    created_by_certificate_id:
      description: The client certificate of the KMIP client that created it.
      type: str
adapter:
  description: Id and name of the adapter.
  returned: always
  type: dict
correlation_id:
  description: Correlation id of the last request sent to the key management API, for IBM support.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import concurrency_argument_spec, concurrency_of
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import UUID_RE
from ansible_collections.ibm.hs_crypto.plugins.module_utils._kmip import (
    KmipService, check_adapter_ref, delete_objects, object_result, require_key_protect)

ARGUMENT_SPEC = dict(
    adapter=dict(type="str", required=True),
    object_ids=dict(type="list", elements="str"),
    all_objects=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    state=dict(type="str", choices=["absent"], default="absent"),
    **concurrency_argument_spec()
)


def converge(module):
    params = module.params
    concurrency = concurrency_of(params)
    adapter_ref = check_adapter_ref(params["adapter"])
    ids = params["object_ids"]
    if ids is not None and params["all_objects"]:
        raise ConfigurationError("object_ids and all_objects=true exclude each other: list the objects, or delete them all")
    if ids is not None:
        if not ids:
            raise ConfigurationError("object_ids must list at least one object id (all_objects=true deletes every object)")
        for index, value in enumerate(ids):
            if not isinstance(value, str) or not UUID_RE.match(value):
                raise ConfigurationError(f"object_ids[{int(index)}] must be a KMIP object's UUID (got {value!r})")
    elif not params["all_objects"]:
        raise ConfigurationError("one of object_ids or all_objects=true is required")
    kms = module.kms
    require_key_protect(module.connection)
    service = KmipService(kms, check_mode=module.check_mode, concurrency=concurrency)
    adapter, targets = delete_objects(service, adapter_ref, ids, force=params["force"])
    module.exit_json(changed=bool(targets), deleted=[object_result(raw) for raw in targets],
                     adapter={"id": adapter.get("id"), "name": adapter.get("name")},
                     diff={"before": {"objects": sorted(raw["id"] for raw in targets)}, "after": {"objects": []}})


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(converge)


if __name__ == "__main__":
    main()
