#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_compliance_info
short_description: Check a Hyper Protect Crypto Services or Key Protect instance against compliance rules
version_added: 0.1.0
description:
  - Reads one instance (its keys, key policies, instance policies, registrations and, for Key Protect Dedicated, crypto
    units) and checks it against a table of rules taken from the CIS IBM Cloud Foundations Benchmark (8.1.1 automatic
    rotation, 8.1.2 high availability) and IBM Security and Compliance Center goals (3000230, 3000231, 3000234, 3000235,
    3000510, 3000542, 3000543, 3000544), plus operational rules (expiring keys, inactive keys that still protect
    resources, the end of support of Hyper Protect Crypto Services).
  - "The rules, in the order results list them: V(rotation-enabled) (generated active root keys rotate automatically; high),
    V(rotation-interval) (at most C(max_interval_month) months, default 12; medium), V(rotation-overdue) (generated active root
    keys were rotated - C(lastRotateDate), else C(creationDate) - within their interval, else C(max_interval_month), plus
    C(grace_days), default 7; medium), V(imported-rotated) (imported active root keys got new material within C(max_age_days),
    default 365; medium), V(instance-dual-auth) (high), V(key-dual-auth) (active and suspended root keys; medium),
    V(expiring-keys) (active keys expiring within C(days), default 30; medium), V(inactive-key-registrations) (suspended,
    deactivated or deleted keys that still have registrations; critical), V(private-only) (allowedNetwork C(private-only), or
    on Key Protect an enabled allowedIP policy; high), V(high-availability) (Key Protect Standard in us-south, jp-tok or eu-de
    uses the cross-region-resiliency plan; low), V(import-token-enforced) (medium), V(metrics-enabled) (low),
    V(dedicated-units-initialized) (high), V(hpcs-end-of-support) (every HPCS instance; critical when fewer than
    C(critical_days), default 90, are left before 2027-03-28, else high), V(waiver-expired) (medium)."
  - B(Read-only.) The instance is read through a client that refuses anything but C(GET) and C(HEAD); the module runs the
    same in check mode. Ages are measured at the service's time, the C(Date) header of its first answer (else the local
    UTC time), returned as RV(evaluated_at).
  - A rule that cannot apply to the instance (a Key Protect rule on HPCS, a plan that is not known, policies that could not
    be read) is V(not_applicable) with the reason; nothing is guessed.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.concurrency
  - ibm.hs_crypto.attributes
  - ibm.hs_crypto.attributes.info_module
options:
  rules:
    description:
      - Rule id -> C(enabled) (bool), C(severity) (V(critical), V(high), V(medium), V(low)) and C(params) (a dictionary of the
        rule's params, whole numbers), merged over the rule table's defaults.
      - Params - V(rotation-interval) C(max_interval_month) (1-12); V(rotation-overdue) C(max_interval_month) (1-12) and
        C(grace_days); V(imported-rotated) C(max_age_days); V(expiring-keys) C(days); V(hpcs-end-of-support) C(critical_days).
      - Unknown rule ids, settings and params, and bad values, are refused before any request, naming C(rules.<id>...) and the rule.
      - A severity set here applies to every finding of the rule (for V(hpcs-end-of-support) and V(waiver-expired), whose
        findings otherwise take a severity of their own).
    type: dict
    default: {}
  waivers:
    description:
      - Accepted exceptions. Each is a dictionary with C(rule) (required; any rule but V(waiver-expired)), C(key) (a key id
        or alias; omit it to waive every finding of the rule, which a rule that checks the instance requires), C(instance_id)
        (optional; when given it must be this instance, its GUID or CRN), C(reason) (required, non-empty) and C(expires)
        (required, an RFC 3339 date such as V(2026-12-31), which holds through that day in UTC, or a date-time).
      - A waiver waives the findings it matches until it expires; then it waives nothing and is a finding of
        V(waiver-expired) itself, of the severity of the findings it waived (of the rule's severity when it matched none).
      - A waiver that matches no finding is returned in RV(unused_waivers); it is not an error.
    type: list
    elements: dict
    default: []
  plan:
    description:
      - The Key Protect plan of the instance, for when discovery cannot tell (an explicit O(endpoint), or a plan id the
        Resource Controller reports that the collection does not know). When discovery knows the plan, a different value is
        refused. Without either, the rules that depend on the plan are V(not_applicable).
    type: str
    choices: [tiered-pricing, cross-region-resiliency, dedicated]
notes:
  - Requests - for Key Protect Dedicated, the crypto units (C(GET /api/v1/cryptounits)); the key listing (states 0, 1, 2, 3 and
    5, every page); the policies of each active or suspended root key (skipped when V(rotation-enabled), V(rotation-interval),
    V(rotation-overdue) and V(key-dual-auth) are all disabled); the instance policies; the registrations (one listing, every page).
    All are C(GET) requests. A Dedicated instance without a C(kms-initialized) unit cannot answer key requests, so only its units
    are read and the other rules are V(not_applicable).
  - Listing key and instance policies needs the Manager role. When the instance policies are refused (HTTP 403), the rules that
    read them are V(not_applicable) with the reason.
  - V(high-availability) - the key management API has no high availability setting; SCC marked goal 3000231 as met by default,
    and the only documented choice is the cross-region-resiliency plan (offered in us-south, jp-tok and eu-de). Taking the plan as
    the test is an inference.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key_info
  - module: ibm.hs_crypto.hs_crypto_instance_policy_info
  - module: ibm.hs_crypto.hs_crypto_migration_plan
  - name: Key Protect high availability and disaster recovery
    description: The cross-region-resiliency plan.
    link: https://cloud.ibm.com/docs/key-protect?topic=key-protect-ha-dr
"""

EXAMPLES = r"""
- name: Check the payments instance
  ibm.hs_crypto.hs_crypto_compliance_info:
    instance_id: "{{ kp_instance_id }}"
    api_key: "{{ ibmcloud_api_key }}"
    rules:
      rotation-interval:
        params:
          max_interval_month: 3
      metrics-enabled:
        enabled: false
      expiring-keys:
        severity: high
        params:
          days: 60
    waivers:
      - rule: rotation-enabled
        key: legacy-hsm-root
        reason: Bound to an on-premises HSM; rotated with it every quarter (CHG-1234)
        expires: "2026-12-31"
  register: compliance

- name: Fail on open high or critical findings
  ansible.builtin.assert:
    that:
      - compliance.summary.by_severity.critical == 0
      - compliance.summary.by_severity.high == 0
    fail_msg: "{{ compliance.findings | rejectattr('waived') | map(attribute='message') | list }}"
"""

RETURN = r"""
instance:
  description:
    - The instance checked - C(instance_id), C(crn) (from the Resource Controller, the O(instance_id) CRN or the keys' CRNs; null when
      none tells), C(service) (V(hs_crypto) or V(key_protect); null when unknown), C(plan) (V(tiered-pricing),
      V(cross-region-resiliency), V(dedicated); null for HPCS or when unknown), C(region), C(name) (the Resource Controller's
      name of the instance, null when it was not read).
  returned: success
  type: dict
evaluated_at:
  description: The time the rules were evaluated at (RFC 3339, UTC) - the service's C(Date) header, else the local time.
  returned: success
  type: str
  sample: "2026-06-01T12:00:00Z"
rules:
  description:
    - Every rule, in table order - C(id), C(title), C(severity) (as configured), C(scope) (V(key) or V(instance)), C(benchmarks)
      (list of strings such as C(CIS IBM Cloud Foundations 8.1.1), C(SCC 3000230 (Key Protect))), C(params) (the values used),
      C(enabled), C(status) (V(pass), V(fail), V(waived) - every finding waived, V(not_applicable), V(disabled)), C(reason)
      (why V(not_applicable) or V(disabled), else null), C(checked) (keys checked, or 1 for the instance; the number of
      waivers for V(waiver-expired)), C(failed) (findings not waived), C(waived) (findings waived).
  returned: success
  type: list
  elements: dict
findings:
  description:
    - One entry per failed check, waived ones included, in rule order - C(rule), C(title), C(severity), C(scope),
      C(instance_id), C(key_id), C(key_name), C(key_aliases), C(key_ring) (the key fields null or empty for instance
      findings), C(message), C(observed), C(expected), C(waived), C(waiver) (C(reason) and C(expires) of the waiver, or null).
  returned: success
  type: list
  elements: dict
summary:
  description:
    - C(keys) (keys evaluated), C(rules_checked) (rules that ran - V(pass), V(fail) or V(waived)), C(rules_failed),
      C(findings) (not waived), C(waived), C(by_severity) (C(critical), C(high), C(medium), C(low) - findings not waived),
      C(compliant_share) (checks passed, waived ones counted as passed, over all checks of the rules that ran, 0 to 1 with 4
      decimals; null when no check ran).
    - "The module also returns the list of keys evaluated as C(keys) (read it as C(result['keys'])), for charts of key age
      against rotation interval: per key C(id), C(name), C(aliases), C(type) (V(root) or V(standard)), C(imported), C(state)
      (V(pre_activation), V(active), V(suspended), V(deactivated), V(deleted)), C(key_ring), C(creation_date), C(last_rotate_date),
      C(expiration_date), C(rotation_enabled) and C(rotation_interval_month) (from the key policies; null when they were not
      read), C(days_since_rotation) (root keys; days since C(last_rotate_date), else C(creation_date)), C(registrations) (count)."
  returned: success
  type: dict
  sample:
    keys: 12
    rules_checked: 11
    rules_failed: 3
    findings: 5
    waived: 1
    by_severity: {critical: 0, high: 2, medium: 3, low: 0}
    compliant_share: 0.8571
unused_waivers:
  description: The waivers (C(rule), C(key), C(instance_id), C(reason), C(expires)) that have not expired and matched no finding.
  returned: success
  type: list
  elements: dict
correlation_id:
  description: Correlation id of the last request sent to the key management API.
  returned: always
  type: str
"""

import datetime

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule
from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import ReadOnlyKmsClient
from ansible_collections.ibm.hs_crypto.plugins.module_utils._compliance import (
    PLANS, DatedClient, check_plan, evaluate, parse_rules, parse_waivers, read_estate)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._crypto_units import list_crypto_units
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import DEDICATED_PLAN, HPCS, KEY_PROTECT
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import concurrency_argument_spec, concurrency_of

ARGUMENT_SPEC = dict(
    rules=dict(type="dict", default={}),
    waivers=dict(type="list", elements="dict", default=[]),
    plan=dict(type="str", choices=list(PLANS)),
    **concurrency_argument_spec()
)


def instance_crn(key_crn):
    """The instance CRN (``...:<guid>::``) a key CRN belongs to, or None."""
    segments = key_crn.split(":") if isinstance(key_crn, str) else []
    if len(segments) != 10 or segments[0] != "crn":
        return None
    return ":".join(segments[:8] + ["", ""])


def service_and_plan(connection, plan_option):
    """``(service, plan, plan_reason)`` after discovery, the ``plan`` option filling in what discovery could not tell."""
    guid = connection.instance.guid
    service, plan = connection.known_service, connection.plan
    record = connection.record
    if plan_option is not None:
        if service == HPCS:
            raise ConfigurationError(f"plan: instance {guid} is a Hyper Protect Crypto Services instance; plan names a Key Protect plan")
        if plan is not None and plan != plan_option:
            raise ConfigurationError(f"plan {plan_option} conflicts with the Resource Controller, which says instance {guid} uses the {plan} plan")
        return service or KEY_PROTECT, plan_option, None
    if service != KEY_PROTECT or plan is not None:
        return service, plan, None
    if record is not None and record.plan_id:
        return service, None, f"the Resource Controller names plan id {record.plan_id} for instance {guid}, which the collection does not know"
    return service, None, f"the plan of Key Protect instance {guid} is unknown (the Resource Controller was not read)"


def check(module):
    params = module.params
    connection = module.connection
    connection.require_instance()
    guid = connection.instance.guid
    # Everything the user wrote is checked before any request.
    concurrency = concurrency_of(params)
    config = parse_rules(params["rules"])
    waivers = parse_waivers(params["waivers"], guid)
    plan_option = check_plan(params["plan"])
    kms = module.kms  # discovery (Resource Controller or HPCS broker), when the endpoint is not given; no key request yet
    service, plan, plan_reason = service_and_plan(connection, plan_option)
    # Read-only by construction: nothing below can send anything but GET or HEAD.
    client = DatedClient(ReadOnlyKmsClient(kms))

    def read_units():
        return list_crypto_units(kms)  # one GET beside the key management API

    estate = read_estate(client, config, read_units if service == KEY_PROTECT and plan == DEDICATED_PLAN else None,
                         concurrency=concurrency)
    now = client.service_date or datetime.datetime.now(datetime.timezone.utc)
    record = connection.record
    crn = record.crn if record is not None else None
    given = connection.options.get("instance_id") or ""
    if crn is None and given.startswith("crn:"):
        crn = given
    if crn is None:
        crn = next((instance_crn(raw.get("crn")) for raw in estate["keys"] if instance_crn(raw.get("crn"))), None)
    instance = {"instance_id": guid, "crn": crn, "service": service, "plan": plan if service != HPCS else None,
                "region": connection.region, "name": record.name if record is not None else None, "plan_reason": plan_reason}
    result = evaluate(estate, instance, config, waivers, now)
    module.exit_json(changed=False, **result)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(check)


if __name__ == "__main__":
    main()
