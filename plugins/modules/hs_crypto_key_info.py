#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_info
short_description: Read the keys of a Hyper Protect Crypto Services instance
version_added: 0.1.0
description:
  - Returns one key (by O(key_id), O(alias) or exact O(name)) or a filtered listing of the keys of an instance, with every page
    read.
  - Keys carry the same fields as the RV(ibm.hs_crypto.hs_crypto_key#module:key) result of M(ibm.hs_crypto.hs_crypto_key).
    Key material is never returned.
  - A listing is one request per 5,000 keys; O(include) adds requests per key, only when asked.
  - "Compliance filters: O(expiring_within_days), O(rotated_before_days) and O(without_rotation_policy) replace the Jinja
    written over a full listing. They combine with each other and with O(key_states), O(type), O(key_ring), O(search), O(name),
    O(key_id) and O(alias): a key is returned only when it matches every option given."
  - Ages are measured at the service's time, the HTTP C(Date) header of its answer (the local UTC time when no answer carries
    one); RV(evaluated_at) returns the time used. Date conditions are sent to the service in its C(filter) parameter and every key
    it returns is checked again by the module, so the result is exact even where the service matches more loosely.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
options:
  key_id:
    description:
      - ID (UUID) or CRN of one key. Deleted keys are returned too, until they are purged.
    type: str
  alias:
    description:
      - An alias of one key.
    type: str
  name:
    description:
      - Exact name of the keys to return (names need not be unique), among the keys in O(key_states).
    type: str
  search:
    description:
      - Server-side search in names and aliases (case-insensitive substring; the service's prefixes such as C(exact:),
        C(alias:), C(name:) and C(not:) are passed on).
    type: str
  key_states:
    description:
      - States of the keys to list, or to match by O(name). V(destroyed) lists deleted keys.
      - A key asked for by O(key_id) or O(alias) is returned whatever its state.
    type: list
    elements: str
    choices: [pre_activation, active, suspended, deactivated, destroyed]
    default: [active, suspended, deactivated]
  type:
    description:
      - Only root or only standard keys.
    type: str
    choices: [root, standard]
  key_ring:
    description:
      - Only the keys of this key ring.
    type: str
  include:
    description:
      - Extra detail to read for every key returned, one request per key and item.
      - V(policies) adds RV(crypto_keys[].policies), V(versions) adds RV(crypto_keys[].versions), V(registrations) adds
        RV(crypto_keys[].registrations).
    type: list
    elements: str
    choices: [policies, versions, registrations]
    default: []
  expiring_within_days:
    description:
      - Only keys with an expiration date at most this many days after the service's time (V(0) - expiring now or already
        expired). Keys without an expiration date never match.
      - Keys already past their expiration date are deactivated; they are returned while O(key_states) holds V(deactivated) (the
        default). Set O(key_states=[active]) for the keys that are still to expire.
      - "Server-side: C(filter=expirationDate=lte:\"<RFC 3339>\"), plus an exact check here. Cost: one C(HEAD /keys) first, to read
        the service's time, when listing."
    type: int
  rotated_before_days:
    description:
      - Only keys whose last rotation (C(lastRotateDate), or C(creationDate) for a key never rotated) is more than this many days
        before the service's time.
      - "Server-side: two listings, C(filter=lastRotateDate=lt:\"<RFC 3339>\") and C(filter=lastRotateDate=none
        creationDate=lt:\"<RFC 3339>\") (a key never rotated has no C(lastRotateDate), which C(lt:) cannot match), merged and
        ordered by id, plus an exact check here. Cost: one C(HEAD /keys), then the pages of both listings."
      - With O(key_id), O(alias) or O(name) the check is made on the key(s) read, without further requests.
    type: int
  without_rotation_policy:
    description:
      - Only root keys without an enabled automatic rotation policy (standard keys are left out; not allowed with O(type=standard)).
      - "Cost: the listing asks for root keys only (C(extractable=false)); then one C(GET /keys/{id}/policies?policy=rotation)
        per key kept by the other options (the policy is not part of a listing). With O(include=policies) the full policies read
        for the result serve instead, so no key is read twice."
    type: bool
    default: false
notes:
  - O(key_id), O(alias), O(name) and O(search) are mutually exclusive.
  - C(state) and C(extractable) are always sent as their own parameters, never inside C(filter) (the service refuses them in both).
seealso:
  - module: ibm.hs_crypto.hs_crypto_key
"""

EXAMPLES = r"""
- name: Every live key of the instance
  ibm.hs_crypto.hs_crypto_key_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
  register: all_keys

- name: One key by alias, with its versions
  ibm.hs_crypto.hs_crypto_key_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    alias: payments-root
    include: [versions]
  register: payments

- name: Deleted root keys of one key ring
  ibm.hs_crypto.hs_crypto_key_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    key_states: [destroyed]
    type: root
    key_ring: payments
  register: deleted

- name: Active keys that expire within 30 days
  ibm.hs_crypto.hs_crypto_key_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    key_states: [active]
    expiring_within_days: 30
  register: expiring

- name: Root keys not rotated for 90 days and with no rotation policy
  ibm.hs_crypto.hs_crypto_key_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    type: root
    rotated_before_days: 90
    without_rotation_policy: true
  register: stale

- name: Show the names
  ansible.builtin.debug:
    msg: "{{ all_keys.crypto_keys | map(attribute='name') | list }}"
"""

RETURN = r"""
crypto_keys:
  description:
    - The keys found, with the fields of the RV(ibm.hs_crypto.hs_crypto_key#module:key) result of M(ibm.hs_crypto.hs_crypto_key).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ID of the key.
      type: str
    name:
      description: Name of the key.
      type: str
    aliases:
      description: Aliases of the key.
      type: list
      elements: str
    type:
      description: V(root) or V(standard).
      type: str
    state:
      description: State name.
      type: str
    state_code:
      description: State number.
      type: int
    key_ring:
      description: Key ring of the key.
      type: str
    policies:
      description: The key's policies as the service returns them (snake_case), with O(include=policies).
      type: list
      elements: dict
      returned: when O(include) has V(policies)
    versions:
      description: Versions of the key material, newest first (C(id), C(creation_date)), with O(include=versions).
      type: list
      elements: dict
      returned: when O(include) has V(versions)
    registrations:
      description: Cloud resources registered with the key (snake_case), with O(include=registrations).
      type: list
      elements: dict
      returned: when O(include) has V(registrations)
count:
  description: Number of keys returned.
  returned: always
  type: int
  sample: 3
evaluated_at:
  description:
    - The service's time the date filters were measured at (RFC 3339, UTC), from the HTTP C(Date) header of its answer, else the
      local UTC time; null when no date filter was given.
  returned: always
  type: str
  sample: "2026-04-01T02:00:00Z"
correlation_id:
  description: Correlation id of the last request sent to the key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import ReadOnlyKmsClient
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_info import KeyQuery, ServiceClock, read_keys
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import format_rfc3339
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import STATE_CODES
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule

ARGUMENT_SPEC = dict(
    key_id=dict(type="str"),
    alias=dict(type="str"),
    name=dict(type="str"),
    search=dict(type="str"),
    key_states=dict(type="list", elements="str", choices=sorted(STATE_CODES), default=["active", "suspended", "deactivated"]),
    type=dict(type="str", choices=["root", "standard"]),
    key_ring=dict(type="str", no_log=False),
    include=dict(type="list", elements="str", choices=["policies", "versions", "registrations"], default=[]),
    expiring_within_days=dict(type="int"),
    rotated_before_days=dict(type="int"),
    without_rotation_policy=dict(type="bool", default=False),
)


def read(module):
    query = KeyQuery.from_params(module.params)
    clock = ServiceClock()
    crypto_keys = read_keys(ReadOnlyKmsClient(module.kms), query, clock=clock)
    evaluated_at = format_rfc3339(clock.fixed) if clock.fixed is not None else None
    module.exit_json(changed=False, crypto_keys=crypto_keys, count=len(crypto_keys), evaluated_at=evaluated_at)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC,
                            mutually_exclusive=[("key_id", "alias", "name", "search")])
    module.run(read)


if __name__ == "__main__":
    main()
