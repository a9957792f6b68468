#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_compliance_report
short_description: Write the JSON, HTML and JUnit reports of compliance results on the controller
version_added: 0.1.0
description:
  - Renders the results of M(ibm.hs_crypto.hs_crypto_compliance_info) - by default the registered variable
    C(hs_crypto_compliance_result) of every host of the play - into up to three files in O(dest) - C(<name>.json) (every
    result, for SIEMs and scripts), C(<name>.html) (a self-contained page for people - summary per instance, a findings
    table to filter and sort, charts - with no external resource) and C(<name>.junit.xml) (one test case per rule and
    instance, for CI).
  - The same renderings as the filters P(ibm.hs_crypto.hs_crypto_compliance_html#filter) and
    P(ibm.hs_crypto.hs_crypto_compliance_junit#filter). Use this action for an estate of many instances and keys - it
    reads the registered results as they were stored, where a template over them (C(hostvars) and a filter) costs
    Ansible a walk over every value each time; at 50 instances x 1,000 keys that was most of a minute and a half.
  - Runs on the controller only (it never connects to the host); run it once per play (C(run_once)). The role
    C(ibm.hs_crypto.hs_crypto_compliance) (and the playbook C(ibm.hs_crypto.compliance)) writes its reports with it.
  - A file is written only when its bytes or its mode differ (atomically - a temporary file in O(dest), then a rename),
    so a second run over the same results reports no change. Both renderings are deterministic.
  - Hosts without the variable, or whose result failed or was skipped, are left out (an unreachable instance has no
    result to report).
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: In check mode nothing is written; C(changed) and RV(files) tell what would be.
  diff_mode:
    support: none
    details: The reports are too large to show as a diff; RV(files) tells which would change.
  platform:
    platforms: posix
options:
  dest:
    description:
      - The directory the reports are written to, on the controller. It must exist.
    type: path
    required: true
  name:
    description:
      - The file name of the reports, without the suffix (C(.json), C(.html), C(.junit.xml)).
    type: str
    default: compliance
  formats:
    description:
      - Which reports to write, in this order.
    type: list
    elements: str
    choices: [json, html, junit]
    default: [json, html, junit]
  results:
    description:
      - The results to report - a list of M(ibm.hs_crypto.hs_crypto_compliance_info) results, or a dictionary
        inventory_hostname -> result (reported in host name order).
      - When not given, the variable O(var) of every host of the play, in play order.
    type: raw
  var:
    description:
      - The name of the registered variable read from each host of the play when O(results) is not given.
    type: str
    default: hs_crypto_compliance_result
  title:
    description:
      - The title of the HTML report. Default - C(ibm.hs_crypto compliance) and the evaluation time.
    type: str
  suite_name:
    description:
      - The name of the JUnit test suites' parent (C(testsuites name)).
    type: str
    default: ibm.hs_crypto compliance
  mode:
    description:
      - The permissions of the written files, an octal string such as V('0600') (the default - the reports name every key,
        its aliases and the instance's weaknesses).
    type: raw
    default: '0600'
seealso:
  - module: ibm.hs_crypto.hs_crypto_compliance_info
  - plugin: ibm.hs_crypto.hs_crypto_compliance_html
    plugin_type: filter
  - plugin: ibm.hs_crypto.hs_crypto_compliance_junit
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check each instance
  ibm.hs_crypto.hs_crypto_compliance_info:
    instance_id: "{{ hpcs_instance_id }}"
    api_key: "{{ ibmcloud_api_key }}"
  register: hs_crypto_compliance_result

- name: Write the three reports once, on the controller
  ibm.hs_crypto.hs_crypto_compliance_report:
    dest: "{{ reports_dir }}"
  run_once: true

- name: Only the JUnit file, from results gathered otherwise
  ibm.hs_crypto.hs_crypto_compliance_report:
    dest: "{{ reports_dir }}"
    name: nightly
    formats: [junit]
    results: "{{ nightly_results }}"
  run_once: true
"""

RETURN = r"""
files:
  description: The reports, in the order of O(formats) - C(format), C(path), C(bytes) and whether it was (or would be) written (C(changed)).
  returned: success
  type: list
  elements: dict
  sample:
    - {format: json, path: /srv/reports/compliance.json, bytes: 48211, changed: true}
    - {format: html, path: /srv/reports/compliance.html, bytes: 61873, changed: true}
    - {format: junit, path: /srv/reports/compliance.junit.xml, bytes: 9120, changed: false}
totals:
  description: Totals over the reported instances - C(instances), C(keys), C(findings) (not waived), C(waived) and C(by_severity) (not waived).
  returned: success
  type: dict
  sample:
    instances: 3
    keys: 1200
    findings: 14
    waived: 2
    by_severity: {critical: 0, high: 5, medium: 9, low: 0}
"""
