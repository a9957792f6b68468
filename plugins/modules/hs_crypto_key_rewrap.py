#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key_rewrap
short_description: Move wrapped data keys from a root key of one instance to a root key of another
version_added: 0.1.0
description:
  - For applications that keep their data encryption keys (DEKs) wrapped by a root key of the source instance (the module's own
    connection options, usually Hyper Protect Crypto Services). Each wrapped key is unwrapped with O(items[].source_key) in the
    source and wrapped again with O(items[].target_key) in the O(target) instance (usually Key Protect).
  - The data key in the clear exists only in the module process, between the two requests. It never appears in the results,
    messages, warnings or logs, and is never written to disk.
  - A wrapped key comes from a file (O(items[].src)), and the result goes to O(items[].dest). Or it is given in
    O(items[].ciphertext), and the result is returned in RV(results[].ciphertext).
  - 'Each O(items[].dest) is written atomically (a temporary file in the same directory, then renamed), with mode C(0600), as
    JSON with the fields C(ciphertext) (the new wrapped key), C(key_id) (the target key ID), C(key_crn) (its CRN) and
    C(source_sha256) (the SHA-256 of the source ciphertext, in hexadecimal). A re-run skips an item, without any request, when
    its O(items[].dest) holds the SHA-256 of the current O(items[].src). A changed O(items[].src) is rewrapped again.'
  - One failing item (a ciphertext that the source key does not unwrap, a missing target key, a dest that cannot be written)
    does not stop the others. The task fails at the end when any item failed, listing them.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.target
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: The O(items[].src) and O(items[].dest) files are read to decide which items are done. No request of any kind is
      sent (not even the unwrap, which changes nothing), nothing is written, and the items that would be rewrapped are reported
      as V(would_rewrap).
  diff_mode:
    support: none
    details: The files hold wrapped keys; RV(results) says which are rewritten.
options:
  create_dirs:
    description:
      - Create the directory of a O(items[].dest) that does not exist yet (mode 0700), when the first file goes into it. In
        check mode nothing is created.
      - When false, a missing directory fails the task before any request.
    type: bool
    default: false
  items:
    description:
      - The wrapped data keys to move, in order.
      - Every item is checked before any request, and every O(items[].src) is read. A bad item fails the task, naming
        C(items[index].option) and the rule.
    type: list
    elements: dict
    required: true
    suboptions:
      src:
        description:
          - Path of a file holding a wrapped data key. The file holds either the base64 ciphertext (whitespace and line breaks
            are ignored), or JSON with a C(ciphertext) field (for example, a file this module wrote).
          - Exactly one of O(items[].src) and O(items[].ciphertext) is required.
        type: path
      ciphertext:
        description:
          - The wrapped data key (base64), instead of O(items[].src). The new wrapped key is returned in RV(results[].ciphertext).
        type: str
      dest:
        description:
          - Path of the file to write, required with O(items[].src). It must not be the O(items[].src) of any item, and two
            items must not have the same dest. Its directory must exist.
        type: path
      source_key:
        description:
          - The root key that wrapped the data key, in the source instance, by its ID (UUID), alias or CRN (which must name the
            source instance).
        type: str
        required: true
      target_key:
        description:
          - The root key to wrap the data key with, in the target instance, by its ID (UUID), alias or CRN (which must name the
            target instance). It must be an active root key.
          - When it is given as an ID or a CRN, an O(items[].dest) written with another target key is rewrapped again.
        type: str
        required: true
      aad:
        description:
          - Additional authenticated data the data key was wrapped with. The same list is used for the unwrap and for the new
            wrap. Up to 126 strings of at most 255 characters each.
        type: list
        elements: str
notes:
  - Per rewrapped item, one unwrap request to the source and one wrap request to the target. Each target key is also read once
    per run (for its ID and CRN).
  - The unwrap works with a deactivated source key, and with a ciphertext made by an older version of the source key.
  - O(items[].ciphertext) and O(items[].aad) are C(no_log) options. So that a short O(items[].aad) string cannot damage a
    returned ciphertext, an input value found inside an output is masked only in the echoed task arguments, as in
    M(ibm.hs_crypto.hs_crypto_key_wrap).
  - B(RV(results[].ciphertext) is a secret) for anyone with access to the target key. Put C(no_log) on a task that gives
    O(items[].ciphertext), or the module warns.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key_wrap
  - module: ibm.hs_crypto.hs_crypto_key_copy
"""

EXAMPLES = r"""
- name: Rewrap the application's data keys from an HPCS root key to a Key Protect root key
  ibm.hs_crypto.hs_crypto_key_rewrap:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    target:
      instance_id: "{{ key_protect_instance_id }}"
      region: us-south
      service: key_protect
    items:
      - src: "{{ wdek_dir }}/customer-1.wrapped"  # for example /srv/payments/keys
        dest: "{{ wdek_kp_dir }}/customer-1.json"  # for example /srv/payments/keys-kp
        source_key: payments-root
        target_key: payments-root-kp
      - src: "{{ wdek_dir }}/customer-2.wrapped"
        dest: "{{ wdek_kp_dir }}/customer-2.json"
        source_key: payments-root
        target_key: payments-root-kp
  register: moved

- name: Rewrap one data key held in a variable
  ibm.hs_crypto.hs_crypto_key_rewrap:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    target:
      instance_id: "{{ key_protect_instance_id }}"
      region: us-south
      service: key_protect
    items:
      - ciphertext: "{{ wrapped_dek }}"
        source_key: payments-root
        target_key: payments-root-kp
        aad: [payments, eu-de]
  register: rewrapped
  no_log: true

- name: Write the new wrapped key next to the data
  ansible.builtin.copy:
    content: "{{ rewrapped.results[0].ciphertext }}"
    dest: "{{ dek_file }}"  # for example /etc/payments/dek.wrapped
    mode: "0600"
  no_log: true
"""

RETURN = r"""
results:
  description: One result per entry of O(items), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    item:
      description: The item's O(items[].src), or its index in O(items) for an item given with O(items[].ciphertext).
      type: raw
      sample: /srv/app/keys/customer-1.wrapped
    status:
      description:
        - V(rewrapped) when the item was rewrapped. V(skipped) when O(items[].dest) already holds the rewrap of the current
          O(items[].src). V(would_rewrap) in check mode, when it would be rewrapped. V(failed) when it failed.
      type: str
      sample: rewrapped
    dest:
      description: The O(items[].dest) of the item (null for an item given with O(items[].ciphertext)).
      type: str
    target_key_id:
      description: The ID of the target key the data key is (or a skipped dest is) wrapped with; null when not known.
      type: str
    msg:
      description: What happened to the item, or why it failed.
      type: str
    ciphertext:
      description:
        - B(Secret.) The data key wrapped with the target key (base64), for an item given with O(items[].ciphertext). Null
          in check mode and when the item failed.
      type: str
      returned: for items given with O(items[].ciphertext)
summary:
  description: Counts over all items.
  returned: always
  type: dict
  contains:
    total:
      description: Items processed.
      type: int
    rewrapped:
      description: Items rewrapped (in check mode, items that would be).
      type: int
    skipped:
      description: Items whose dest was already done.
      type: int
    failed:
      description: Items that failed.
      type: int
  sample: {"total": 50, "rewrapped": 2, "skipped": 48, "failed": 0}
correlation_id:
  description: Correlation id of the last request sent to the source's key management API.
  returned: always
  type: str
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule, target_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_transfer import (
    Rewrapper, masked_arguments, parse_rewrap_items, protector, rewrap_summary)

ARGUMENT_SPEC = dict(
    items=dict(type="list", elements="dict", required=True, options=dict(
        src=dict(type="path"),
        ciphertext=dict(type="str", no_log=True),
        dest=dict(type="path"),
        source_key=dict(type="str", required=True, no_log=False),
        target_key=dict(type="str", required=True, no_log=False),
        aad=dict(type="list", elements="str", no_log=True),
    )),
    create_dirs=dict(type="bool", default=False),
    **target_argument_spec()
)
SECRET_SUBOPTIONS = {"items": ("ciphertext", "aad")}


def rewrap(module):
    source_guid = module.connection.instance.guid if module.connection.instance else None
    target_guid = module.target.instance.guid if module.target.instance else None
    items = parse_rewrap_items(module.params["items"], source_guid, target_guid, create_dirs=module.params["create_dirs"])
    rewrapper = Rewrapper(module.connection, module.target, check_mode=module.check_mode, protect=protector(module), redact=module.redact)
    results = rewrapper.rewrap_all(items)
    summary = rewrap_summary(results)
    changed = any(result["status"] in ("rewrapped", "would_rewrap") for result in results)
    extra = {}
    outputs = [result.get("ciphertext") for result in results]
    if any(outputs):
        if not module.no_log:
            module.warn("This task returns wrapped data keys (results[].ciphertext) and has no 'no_log: true': set it on the task, "
                        "or they are shown in the output and written to logs and to any callback or AWX job output.")
        # As hs_crypto_key_wrap: an input value (a short aad) found inside a returned ciphertext is not masked there.
        colliding = {value for value in module.no_log_values if any(value in text for text in outputs if text)}
        if colliding:
            module.no_log_values.difference_update(colliding)
            extra["invocation"] = {"module_args": masked_arguments(module.params, module.argument_spec, SECRET_SUBOPTIONS)}
    module.exit_many(results, summary, changed, noun="items", failed=lambda result: result["status"] == "failed", **extra)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(rewrap)


if __name__ == "__main__":
    main()
