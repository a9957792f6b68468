#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_batch
short_description: Converge many keys of a Hyper Protect Crypto Services instance in one call
version_added: 0.1.0
description:
  - The batch form of M(ibm.hs_crypto.hs_crypto_key), in the spirit of package modules that take a list of names. Each entry
    of O(crypto_keys) takes the options of M(ibm.hs_crypto.hs_crypto_key) and follows the same rules (identity by key id,
    alias or exact name; unset means untouched; immutable attributes fail with a diff; check and diff mode).
  - Every key of the instance is read with one listing (one request per 5,000 keys); each entry is then found in that listing,
    so an unchanged key costs no request and a re-run of any number of keys is one listing.
  - Module start-up costs far more than a request, so converging N keys with this module instead of a loop of
    M(ibm.hs_crypto.hs_crypto_key) tasks saves N - 1 module runs.
  - One failing key does not stop the others; every key gets its own result, and the task fails after all of them were
    processed when any did.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.concurrency
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: No write request is sent; every result predicts its key.
  diff_mode:
    support: full
    details: One before/after per key that would change; never key material.
options:
  crypto_keys:
    description:
      - The desired keys. Two entries must not designate the same key (the same key id or alias, or the same name without
        key ids or aliases); this is checked before any request.
      - Every entry is checked before any request; a bad entry fails the task naming C(crypto_keys[index].option) and the rule.
    type: list
    elements: dict
    required: true
    suboptions:
      state:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:state).
        type: str
        choices: [present, absent, restored, purged]
        default: present
      key_id:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:key_id).
        type: str
      name:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:name).
        type: str
      aliases:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:aliases).
        type: list
        elements: str
      purge_aliases:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:purge_aliases).
        type: bool
        default: false
      type:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:type).
        type: str
        choices: [root, standard]
      description:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:description).
        type: str
      expiration_date:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:expiration_date).
        type: str
      key_ring:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:key_ring).
        type: str
      payload:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:payload). Secret.
        type: str
      encrypted_nonce:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:encrypted_nonce). Secret.
        type: str
      iv:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:iv). Secret.
        type: str
      encryption_algorithm:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:encryption_algorithm).
        type: str
        choices: [RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1]
      enabled:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:enabled).
        type: bool
      rotation:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:rotation).
        type: dict
        suboptions:
          enabled:
            description: See O(ibm.hs_crypto.hs_crypto_key#module:rotation.enabled).
            type: bool
          interval_month:
            description: See O(ibm.hs_crypto.hs_crypto_key#module:rotation.interval_month).
            type: int
      dual_auth_delete:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:dual_auth_delete).
        type: bool
      force:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:force).
        type: bool
        default: false
      cancel_deletion:
        description: See O(ibm.hs_crypto.hs_crypto_key#module:cancel_deletion).
        type: bool
        default: false
  validate_only:
    description:
      - Check every entry of O(crypto_keys) against the rules and return without sending any request or changing anything.
      - Useful before other tasks change anything, so that a bad key declaration stops the run first. (The role
        P(ibm.hs_crypto.hs_crypto_instance#role) checks all its variables on the controller with the filter
        P(ibm.hs_crypto.hs_crypto_check#filter) instead, which needs no module run.)
    type: bool
    default: false
  expected_key_rings:
    description:
      - Key rings that an earlier task of the same run creates, such as the key ring tasks of the role
        P(ibm.hs_crypto.hs_crypto_instance#role). In check mode that task created nothing, so keys going into these rings
        are predicted as if the rings existed, instead of failing because the ring is missing. A real run checks every ring.
    type: list
    elements: str
    default: []
notes:
  - Keys are converged side by side, O(concurrency) at a time, over one pool of keep-alive connections. The listing comes first;
    the steps of one key keep their order; the check for concurrent twins of keys created by name only comes after every
    create. RV(results) follows the order of O(crypto_keys).
seealso:
  - module: ibm.hs_crypto.hs_crypto_key
  - module: ibm.hs_crypto.hs_crypto_key_info
"""

EXAMPLES = r"""
- name: Converge the keys an inventory declares, in one module call
  ibm.hs_crypto.hs_crypto_key_batch:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    crypto_keys:
      - name: payments-root
        aliases: [payments-root]
        rotation:
          interval_month: 3
      - name: payments-archive-root
        aliases: [payments-archive]
        dual_auth_delete: true
      - name: retired-root
        aliases: [retired-root]
        state: absent
  register: converged

- name: Preview the same in CI
  ibm.hs_crypto.hs_crypto_key_batch:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    crypto_keys: "{{ declared_keys }}"
  check_mode: true
  diff: true

- name: Report
  ansible.builtin.debug:
    msg: "{{ converged.summary.created }} created, {{ converged.summary.changed }} changed, {{ converged.summary.unchanged }} unchanged"
"""

RETURN = r"""
results:
  description: One result per entry of O(crypto_keys), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    item:
      description: The entry's key id, first alias or name.
      type: str
      sample: payments-root
    state:
      description: The entry's O(crypto_keys[].state).
      type: str
      sample: present
    changed:
      description: Whether this key changed (or would, in check mode); also true for a key that failed after a change was made.
      type: bool
    failed:
      description: Whether converging this key failed.
      type: bool
    adopted:
      description: As RV(ibm.hs_crypto.hs_crypto_key#module:adopted) (absent for a key that failed).
      type: bool
      returned: when the key did not fail
    warnings:
      description: Warnings about this key (an adopted key, for example).
      type: list
      elements: str
      returned: when there are any
    actions:
      description: What was done to this key, as RV(ibm.hs_crypto.hs_crypto_key#module:actions), also when it failed afterwards.
      type: list
      elements: str
      sample: [create]
    key:
      description: The key after the run, as RV(ibm.hs_crypto.hs_crypto_key#module:key); null when it does not exist or failed.
      type: dict
    msg:
      description: Why this key failed, or the explanation of a two-person step.
      type: str
      returned: when relevant
    diff:
      description: Before and after of the managed attributes of this key.
      type: dict
summary:
  description: Counts over all entries.
  returned: always
  type: dict
  contains:
    total:
      description: Entries processed.
      type: int
    changed:
      description: Keys changed (or that would change).
      type: int
    unchanged:
      description: Keys already as declared.
      type: int
    failed:
      description: Keys that failed.
      type: int
    created:
      description: Keys created.
      type: int
    deleted:
      description: Keys deleted.
      type: int
  sample: {"total": 3, "changed": 1, "unchanged": 2, "failed": 0, "created": 1, "deleted": 0}
validated:
  description: With O(validate_only), the number of entries checked (all of them passed).
  returned: when O(validate_only=true)
  type: int
  sample: 12
correlation_id:
  description: Correlation id of the last request sent to the key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_batch import converge_all, parse_specs, summarize
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import key_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import concurrency_argument_spec, concurrency_of

ARGUMENT_SPEC = dict(
    crypto_keys=dict(type="list", elements="dict", required=True, no_log=False, options=key_argument_spec()),
    validate_only=dict(type="bool", default=False),
    expected_key_rings=dict(type="list", elements="str", default=[], no_log=False),
    **concurrency_argument_spec()
)


def converge(module):
    concurrency = concurrency_of(module.params)
    specs = parse_specs(module.params["crypto_keys"])
    if module.params["validate_only"]:
        module.exit_json(changed=False, results=[], summary=summarize([]), validated=len(specs))
    results = converge_all(module.kms, specs, check_mode=module.check_mode, redact=module.connection.redact,
                           expected_rings=module.params["expected_key_rings"], concurrency=concurrency)
    summary = summarize(results)
    diff = module.item_diffs(results)
    changed = any(result["changed"] for result in results)  # a key that failed after a change counts
    for result in results:
        for warning in result.get("warnings", ()):
            module.warn(f"{result['item']}: {warning}")
    module.exit_many(results, summary, changed, diff=diff)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(converge)


if __name__ == "__main__":
    main()
