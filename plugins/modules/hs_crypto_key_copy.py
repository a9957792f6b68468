#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_copy
short_description: Copy standard keys from a Hyper Protect Crypto Services instance to another instance
version_added: 0.1.0
description:
  - Copies standard keys (their key material) from the source instance (the module's own connection options, usually Hyper
    Protect Crypto Services) to the O(target) instance (usually Key Protect), with their name, aliases, key ring, description
    and expiration date unless an entry overrides them.
  - The material is read from the source and imported into the target inside the module process. It never appears in the
    results, messages, warnings or diffs, and is never written to disk.
  - The target key is found by the entry's aliases, else by its exact name, as M(ibm.hs_crypto.hs_crypto_key) finds keys.
    When none exists it is created (with the same safety after a lost answer as M(ibm.hs_crypto.hs_crypto_key)). When one
    exists, its material is read and compared with the source's. The same material means the entry is unchanged (aliases it
    lacks are added). Other material makes the entry fail, and that key is never overwritten.
  - Root keys cannot be copied, because the service never returns root key material. Import the same material into the
    target with M(ibm.hs_crypto.hs_crypto_key) and O(ibm.hs_crypto.hs_crypto_key#module:payload), from the vault that holds it.
  - The entries are copied in the order given. One failing entry does not stop the others. Every entry gets its own result,
    and the task fails at the end when any entry failed, naming each one.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.target
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: The source keys and the target keys are read (with the target's material, to compare it). No write goes to either
      instance, and every result predicts its entry.
  diff_mode:
    support: full
    details: One before/after of the managed attributes (name, aliases, key ring, description, expiration date, state) per target
      key that changes or would change; never key material.
options:
  expected_key_rings:
    description:
      - Key rings of the target that an earlier task of the same run creates (the apply step of
        P(ibm.hs_crypto.hs_crypto_migration#role) creates them with P(ibm.hs_crypto.hs_crypto_instance#role)). In check mode
        that task created nothing, so keys going into these rings are predicted as if the rings existed. A real run checks
        every ring.
    type: list
    elements: str
    default: []
  crypto_keys:
    description:
      - The standard keys to copy, in order.
      - Every entry is checked before any request. A bad entry fails the task, naming C(crypto_keys[index].option) and the rule.
        Two entries must not name the same source key (the same key id, alias or CRN) or the same alias.
    type: list
    elements: dict
    required: true
    suboptions:
      key_id:
        description:
          - The source key, by its ID (UUID), one of its aliases, or its CRN (which must name the source instance).
        type: str
        required: true
      name:
        description:
          - The name of the target key. By default, the source key's name.
        type: str
      aliases:
        description:
          - The aliases of the target key. By default, the source key's aliases.
          - Aliases the target key lacks are added; other aliases it has are kept.
        type: list
        elements: str
      key_ring:
        description:
          - The key ring of the target key, which must exist in the target. By default, the source key's key ring.
        type: str
      description:
        description:
          - The description of the target key. By default, the source key's description.
        type: str
      expiration_date:
        description:
          - The expiration date of the target key (RFC 3339). By default, the source key's expiration date.
        type: str
notes:
  - The source instance is only read. The target gets one create request per copied key (an alias that an existing key lacks
    costs one request more).
  - Name, description and expiration date cannot change on an existing key. When the target key exists with other values, the
    entry fails with a diff, as in M(ibm.hs_crypto.hs_crypto_key).
  - Every key material read (of the source, and of an existing target key) is added to the values Ansible masks.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key
  - module: ibm.hs_crypto.hs_crypto_key_batch
  - module: ibm.hs_crypto.hs_crypto_key_rewrap
"""

EXAMPLES = r"""
- name: Copy the application secrets from HPCS to Key Protect
  ibm.hs_crypto.hs_crypto_key_copy:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    target:
      instance_id: "{{ key_protect_instance_id }}"
      region: us-south
      service: key_protect
    crypto_keys:
      - key_id: payments-hmac          # an alias of the source key
      - key_id: "{{ ledger_key_id }}"  # a key id or CRN of the source
        name: ledger-secret            # another name in the target
        aliases: [ledger-secret]
        key_ring: ledger
  register: copied

- name: Preview what a copy would do
  ibm.hs_crypto.hs_crypto_key_copy:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    target:
      instance_id: "{{ key_protect_instance_id }}"
      region: us-south
      service: key_protect
    crypto_keys: "{{ secrets_to_move }}"
  check_mode: true
  diff: true

- name: Report
  ansible.builtin.debug:
    msg: "{{ copied.summary.copied }} copied, {{ copied.summary.unchanged }} already there"
"""

RETURN = r"""
results:
  description: One result per entry of O(crypto_keys), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    item:
      description: The entry's O(crypto_keys[].key_id), as given.
      type: str
      sample: payments-hmac
    changed:
      description: Whether the target changed for this entry (or would, in check mode), also when it failed after a change.
      type: bool
    failed:
      description: Whether this entry failed.
      type: bool
    actions:
      description:
        - What was done to the target key, as RV(ibm.hs_crypto.hs_crypto_key#module:actions) (for example V(create), or
          V(add_alias:<alias>)).
      type: list
      elements: str
      sample: [create]
    material:
      description:
        - V(copied) when the target key was created with the source's material (or would be, in check mode). V(same) when the
          target key already held the same material. V(different) when it holds other material (the entry failed).
        - Null when the entry failed before the material was compared.
      type: str
      sample: copied
    key:
      description:
        - The target key, as RV(ibm.hs_crypto.hs_crypto_key#module:key), never with its material.
        - With RV(results[].material=different), the existing target key that holds other material. Null when the entry failed
          otherwise.
      type: dict
    source_key_id:
      description: The ID of the source key (null when it could not be read).
      type: str
      sample: 02fd6835-6001-4482-a892-13bd2085f75d
    msg:
      description: Why the entry failed, or a note about it (for example a target key that was adopted by its name).
      type: str
summary:
  description: Counts over all entries.
  returned: always
  type: dict
  contains:
    total:
      description: Entries processed.
      type: int
    copied:
      description: Keys created in the target with the source's material (or that would be, in check mode).
      type: int
    unchanged:
      description: Entries whose target key already held the same material (aliases may have been added).
      type: int
    failed:
      description: Entries that failed.
      type: int
  sample: {"total": 3, "copied": 2, "unchanged": 1, "failed": 0}
correlation_id:
  description: Correlation id of the last request sent to the source's key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule, target_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_transfer import KeyCopier, copy_summary, parse_copy_entries, protector

ARGUMENT_SPEC = dict(
    crypto_keys=dict(type="list", elements="dict", required=True, no_log=False, options=dict(
        key_id=dict(type="str", required=True),
        name=dict(type="str"),
        aliases=dict(type="list", elements="str"),
        key_ring=dict(type="str", no_log=False),
        description=dict(type="str"),
        expiration_date=dict(type="str"),
    )),
    expected_key_rings=dict(type="list", elements="str", default=[], no_log=False),
    **target_argument_spec()
)


def copy_keys(module):
    source_guid = module.connection.instance.guid if module.connection.instance else None
    entries = parse_copy_entries(module.params["crypto_keys"], source_guid)
    copier = KeyCopier(module.kms, module.target.kms, check_mode=module.check_mode, protect=protector(module), redact=module.redact,
                       expected_rings=module.params["expected_key_rings"])
    results = copier.copy_all(entries)
    summary = copy_summary(results)
    diff = module.item_diffs(results)
    module.exit_many(results, summary, any(result["changed"] for result in results), diff=diff)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(copy_keys)


if __name__ == "__main__":
    main()
