#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_migration_plan
short_description: Plan and verify the move of a Hyper Protect Crypto Services instance to Key Protect
version_added: 0.1.0
description:
  - Reads a Hyper Protect Crypto Services instance (the source, the module's own connection options) and a Key Protect
    Standard or Dedicated instance (the target, O(target)) and returns what moving the source to the target takes - the
    first step of a migration, run again at the end (O(verify=true)) to check that everything arrived.
  - B(Read-only.) Both instances are read through a client that refuses anything but C(GET) and C(HEAD), so the module cannot
    change either; it writes no file. The role or playbook writes the files from the return values (RV(declaration) as
    host variables, RV(crkm) as the CSV of the CRKM tool, RV(report) as a Markdown file).
  - Each source key gets an action. A generated root key (active or pre-active) is V(create) - a new root key with the same
    name, aliases, description, key ring, expiration date, rotation and dual authorization policies; the IBM services that
    use it re-wrap their data keys through migration intents (RV(crkm)). An imported root key is V(import) - the same
    material, which you supply from Ansible Vault, is imported in the target. A standard key is V(copy) - its material is
    readable, so M(ibm.hs_crypto.hs_crypto_key_copy) copies it (RV(standard_keys)). Suspended, deactivated and deleted keys
    are V(skip) unless O(include_states) names their state; deleted keys are never moved (restore them first).
  - A source key's twin in the target is the live key holding any of its aliases; for a key without aliases, the one live key
    of the same name and type. A key without aliases whose name another moved key shares is a blocker (add aliases in the
    source). A twin found makes the key V(present), or V(mismatch) when its type, aliases, key ring, rotation or dual
    authorization differ from the plan; the plan can be run again at any point of the migration.
  - Instance policies are mapped to the target - dual authorization and metrics carried; the allowed network policy carried to
    Standard and dropped for Dedicated (use context-based restrictions); key creation and import access carried, except
    import-token enforcement, dropped for Dedicated and deferred on Standard until your material is imported (RV(plan.policy_notes)).
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.target
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs the same in check mode and returns the same results.
  diff_mode:
    support: N/A
    details: This module changes nothing.
options:
  include_states:
    description:
      - Move keys in these states too (by default only active and pre-active keys are moved). A suspended key's twin is
        declared disabled (C(enabled=false)); a deactivated key's twin is created without its past expiration date.
      - Deleted keys are never moved - restore a deleted key first.
    type: list
    elements: str
    choices: [suspended, deactivated]
    default: []
  kur_report:
    description:
      - Path of a JSON report of IBM's Key Usage Reporter (KUR). The C(associations) and C(service_usage) of the source
        instance's keys (the entries of C(result.kms_instances) whose C(crn) contains the source GUID) are added to the
        registrations the service lists; key ids the source does not have are ignored.
      - The file is checked before any request (it must exist and be a KUR report).
    type: path
  material_variable:
    description:
      - Name of the variable (a dictionary source key id -> base64 key material, kept in Ansible Vault) that the declaration
        of an imported root key takes its C(payload) from, as the literal text C({{ <material_variable>['<source key id>'] }}).
    type: str
    default: hs_crypto_migration_material
  verify:
    description:
      - Also compare the material of each standard key with its twin's (in memory, in constant time; the material is never
        returned or logged) and set RV(verified).
    type: bool
    default: false
notes:
  - Requests, source - the key listing (every state, every page), the key policies of each root key that is not deleted, the
    key rings, the instance policies and the registrations; target - the live keys and the policies of each root key twin;
    with O(verify=true), each standard key and its twin. All are C(GET) requests.
  - Root key material is never readable, so a root key cannot be compared with its twin (C(material=not comparable)); the
    data keys of each service are bound to the key id and move through migration intents.
  - When the target's plan is not known (O(target.endpoint) set without O(target.plan)), the target is treated as Key
    Protect Dedicated, the plan with the fewest features, and a warning says so.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key_copy
  - module: ibm.hs_crypto.hs_crypto_key
  - module: ibm.hs_crypto.hs_crypto_instance_policy
  - name: Migrating from Hyper Protect Crypto Services to Key Protect
    description: IBM's guide, with the services that support migration intents and the CRKM tool.
    link: https://cloud.ibm.com/docs/key-protect?topic=key-protect-migrate-st
"""

EXAMPLES = r"""
- name: Plan the move of the payments instance to Key Protect Dedicated
  ibm.hs_crypto.hs_crypto_migration_plan:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    target:
      instance_id: "{{ kp_dedicated_instance_id }}"
    kur_report: "{{ kur_report_file }}"  # the JSON report of IBM's Key Usage Reporter, if you have one
  register: migration

- name: Keep the report
  ansible.builtin.copy:
    content: "{{ migration.report }}"
    dest: "{{ migration_dir }}/plan.markdown"
    mode: "0600"

- name: Stop when the plan has blockers
  ansible.builtin.assert:
    that: migration.plan.blockers | length == 0
    fail_msg: "{{ migration.plan.blockers }}"

- name: After the migration, verify it
  ibm.hs_crypto.hs_crypto_migration_plan:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    target:
      instance_id: "{{ kp_dedicated_instance_id }}"
    verify: true
  register: check
  failed_when: not check.verified
"""

RETURN = r"""
plan:
  description:
    - The plan.
    - "C(keys) (read it as C(plan['keys'])): one entry per source key, in the listing's order, each with:"
    - C(source) - C(id), C(crn), C(name), C(aliases), C(type) (V(root) or V(standard)), C(imported), C(state), C(key_ring),
      C(rotation) (C(enabled), C(interval_month); null when none is set), C(dual_auth_delete), C(description),
      C(expiration_date).
    - C(registrations) - C(resource_crn), C(service) (the CRN's service; C(is:<resource type>) for VPC),
      C(prevent_key_deletion), C(intent_supported) (false for App ID, VPC File Storage, VPC Images and VPC VSI - recreate
      those resources with the Key Protect key), C(origin) (V(registration) or V(kur_report)).
    - C(usage) - the services the KUR report says use the key.
    - C(action) (V(create), V(import), V(copy), V(skip)), C(reason), C(status) (V(pending), V(present), V(mismatch),
      V(skipped), V(blocked)), C(target) (C(id) and C(crn) of the twin, or null), C(differences) (C(field), C(expected),
      C(found)), C(material) (with O(verify=true) - V(same), V(different) or V(missing) for standard keys, V(not comparable)
      for root keys; null otherwise).
  returned: success
  type: dict
  contains:
    source:
      description: The source instance - C(instance_id), C(crn) (from its keys' CRNs; null when it holds none), C(service).
      type: dict
    target:
      description: The target instance - C(instance_id), C(service) (V(key_protect)), C(plan) (V(dedicated) when unknown).
      type: dict
    key_rings:
      description: The source's key rings - C(id), C(keys) (keys not deleted), C(moved) (keys moved).
      type: list
      elements: dict
    policy_notes:
      description: What happens to each instance policy - C(policy), C(action) (V(carried), V(dropped), V(deferred)), C(reason), C(replacement).
      type: list
      elements: dict
    blockers:
      description: What must be fixed before the migration (for example keys without aliases that share a name).
      type: list
      elements: str
    follow_ups:
      description: What to do besides the declaration (material to provide, standard keys to copy, resources to recreate, policies to set later).
      type: list
      elements: str
declaration:
  description:
    - The target in the variables of the role P(ibm.hs_crypto.hs_crypto_instance#role) - C(hs_crypto_instance_id),
      C(hs_crypto_instance_service) (V(key_protect)), C(hs_crypto_instance_key_rings) (the non-default rings of moved keys),
      C(hs_crypto_instance_policies), C(hs_crypto_instance_keys) (the V(create) and V(import) keys that are not blocked; standard
      keys are not in it).
    - An imported key's C(payload) is the literal text C({{ <material_variable>['<source key id>'] }}); the material stays in your vault.
  returned: success
  type: dict
  sample:
    hs_crypto_instance_id: 7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f
    hs_crypto_instance_service: key_protect
    hs_crypto_instance_key_rings: [{id: payments}]
    hs_crypto_instance_policies: {dual_auth_delete: true, metrics: false}
    hs_crypto_instance_keys:
      - {name: payments-root, aliases: [payments-root], type: root, key_ring: payments, rotation: {enabled: true, interval_month: 3}}
standard_keys:
  description:
    - The standard keys to copy, as the O(ibm.hs_crypto.hs_crypto_key_copy#module:crypto_keys) of
      M(ibm.hs_crypto.hs_crypto_key_copy) - C(key_id) (the source key), C(key_ring).
  returned: success
  type: list
  elements: dict
crkm:
  description:
    - The rows of the CRKM tool's CSV (no header, C(sourceHpcsKeyCrn,targetKpDedicatedKeyCrn)) - C(source_crn), C(target_crn) - for
      the root keys that have registrations (or usage in the KUR report) and whose twin exists.
  returned: success
  type: list
  elements: dict
crkm_pending:
  description: How many such root keys have no twin yet.
  returned: success
  type: int
remaining:
  description:
    - The registrations still on source keys, by service - C(key_id), C(key_name), C(resource_crn), C(intent_supported), C(origin).
      They move when the services act on the CRKM CSV.
  returned: success
  type: dict
summary:
  description: Counts - C(keys), C(create), C(import), C(copy), C(skip), C(present), C(pending), C(mismatch), C(blocked), C(registrations_left).
  returned: success
  type: dict
verified:
  description:
    - With O(verify=true), whether every key that is not skipped is present without differences, every standard key's material
      is the same and there is no blocker. Null without O(verify).
  returned: success
  type: bool
report:
  description: The plan (or verification) as a Markdown document; never any key material.
  returned: success
  type: str
correlation_id:
  description: Correlation id of the last request sent to the source's key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule, target_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import ReadOnlyKmsClient
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._migration import (
    DEFAULT_MATERIAL_VARIABLE, INCLUDABLE_STATES, check_include_states, check_material_variable, load_kur_report, run_plan)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import DEDICATED_PLAN, HPCS, KEY_PROTECT

ARGUMENT_SPEC = dict(
    include_states=dict(type="list", elements="str", choices=list(INCLUDABLE_STATES), default=[]),
    kur_report=dict(type="path"),
    material_variable=dict(type="str", default=DEFAULT_MATERIAL_VARIABLE),
    verify=dict(type="bool", default=False),
    **target_argument_spec()
)


def not_key_protect(guid):
    return ConfigurationError(f"target: instance {guid} is a Hyper Protect Crypto Services instance; the target of a migration is a "
                              "Key Protect instance (Standard or Dedicated)")


def mask(module, value):
    """Defence in depth for material read in verify mode (it never reaches the result): Ansible masks it wherever it occurs.
    Values too short to be told from chance text (a few base64 characters) are left out, as masking them could damage the result."""
    if len(value) >= 12:
        module.no_log_values.add(value)


def plan(module):
    params = module.params
    include_states = check_include_states(params["include_states"])
    material_variable = check_material_variable(params["material_variable"])
    module.connection.require_instance()
    source_guid = module.connection.instance.guid
    target_guid = module.target.instance.guid
    if source_guid == target_guid:
        raise ConfigurationError(f"target.instance_id names the source instance ({source_guid}): the target must be another instance")
    if module.target.known_service == HPCS:
        raise not_key_protect(target_guid)
    kur = None
    if params["kur_report"]:
        kur, warnings = load_kur_report(params["kur_report"], source_guid)
        for warning in warnings:
            module.warn(warning)
    # Read-only by construction: nothing below can send anything but GET or HEAD to either instance.
    source_kms = ReadOnlyKmsClient(module.kms)
    target_kms = ReadOnlyKmsClient(module.target.kms)
    if module.target.known_service == HPCS:
        raise not_key_protect(target_guid)
    target_plan = module.target.plan or module.target.plan_hint
    if target_plan is None:
        module.warn(f"The plan of the target instance {target_guid} is unknown (set target.plan, or let discovery read the Resource "
                    "Controller): it is treated as Key Protect Dedicated, the plan with the fewest features.")
        target_plan = DEDICATED_PLAN
    source = {"instance_id": source_guid, "crn": None, "service": module.connection.known_service or module.connection.service}
    target = {"instance_id": target_guid, "service": KEY_PROTECT, "plan": target_plan}
    result = run_plan(source_kms, target_kms, source, target, include_states=include_states, material_variable=material_variable,
                      kur=kur, verify=params["verify"], secret=lambda value: mask(module, value))
    module.exit_json(changed=False, **result)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(plan)


if __name__ == "__main__":
    main()
