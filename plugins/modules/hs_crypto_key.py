#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_key
short_description: Manage a key of a Hyper Protect Crypto Services instance
version_added: 0.1.0
description:
  - Creates, imports, updates, deletes, restores and purges one root or standard key of an IBM Cloud Hyper Protect Crypto
    Services (or Key Protect) instance, idempotently.
  - "The key is found by O(key_id), else by any of O(aliases) (aliases are unique in an instance), else by its exact O(name)
    over every key of the instance. Names are not unique: when more than one live key has the name, the module fails and lists
    their ids. It never guesses and never creates a duplicate."
  - Options left out are never changed on the service. Attributes the service cannot change (O(type), O(name), O(description),
    O(expiration_date), O(payload)) fail with a diff when they differ; a key is never deleted and recreated.
  - A key created with aliases, a key ring and policies is one request.
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: No write request is sent; RV(key) is the predicted key (RV(key.id) is null for a key that would be created).
  diff_mode:
    support: full
    details: Before and after of the managed attributes; never key material.
options:
  state:
    description:
      - V(present) creates the key or brings the set attributes to their values.
      - "V(absent) deletes the key (a soft delete: it can be restored for 30 days). For a key under a dual authorization delete
        policy, the first run records this identity's approval and a run by another identity deletes it."
      - V(restored) restores a deleted key from 30 seconds after its deletion until 30 days after it (the service refuses
        an earlier restore with C(REQ_TOO_EARLY_ERR) and a later one with C(KEY_RESTORE_EXPIRED)). A key under dual
        authorization is only deleted once the second identity has run V(absent); before that it is not deleted, and
        there is nothing to restore.
      - V(purged) removes a deleted key for good, possible from 4 hours after its deletion.
    type: str
    choices: [present, absent, restored, purged]
    default: present
  key_id:
    description:
      - ID (UUID) or CRN of the key. Identifies an existing key; it cannot name a key to create.
    type: str
  name:
    description:
      - Name of the key, 2 to 90 characters without control characters. Required to create a key.
      - Used to find the key when neither O(key_id) nor O(aliases) find it; names need not be unique, so prefer aliases.
      - Cannot be changed once the key exists.
    type: str
  aliases:
    description:
      - Up to 5 aliases, each unique in the instance, 2 to 90 letters, digits, V(_) or V(-); not a UUID and not a reserved word
        (such as V(keys), V(policies), V(versions)).
      - Sent in the create request for a new key; on an existing key, missing aliases are added.
    type: list
    elements: str
  purge_aliases:
    description:
      - Remove aliases of the key that O(aliases) does not list.
    type: bool
    default: false
  type:
    description:
      - V(root) keys never leave the service and wrap other keys; V(standard) keys hold data the service returns.
      - Defaults to V(root) when a key is created. Cannot be changed.
    type: str
    choices: [root, standard]
  description:
    description:
      - Description of the key, 2 to 240 characters. Cannot be changed.
    type: str
  expiration_date:
    description:
      - RFC 3339 date after which the key is deactivated, for example V(2027-12-31T23:59:59Z). Cannot be changed.
    type: str
  key_ring:
    description:
      - Key ring of the key (2 to 100 letters, digits or V(-)); the ring must exist. V(default) is the ring of keys created
        without one.
      - An existing key in another ring is moved.
    type: str
  payload:
    description:
      - Base64 key material to import instead of letting the service generate it.
      - Root keys take 16, 24 or 32 bytes; standard keys up to 7,500 bytes.
      - With O(encrypted_nonce) and O(iv), the key material encrypted with the instance's import token (secure import).
      - Only used when the key is created; for an existing standard key a different payload is reported as a conflict.
        The service never returns root key material, so a different payload for an existing imported root key is not detected.
    type: str
  encrypted_nonce:
    description:
      - Secure import of a root key, the import token's nonce encrypted with the key material (base64).
    type: str
  iv:
    description:
      - Secure import of a root key, the initialization vector used to encrypt the nonce (base64).
    type: str
  encryption_algorithm:
    description:
      - Secure import of a root key, the algorithm the key material was encrypted with.
      - HPCS documents V(RSAES_OAEP_SHA_1); Key Protect defaults to V(RSAES_OAEP_SHA_256).
    type: str
    choices: [RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1]
  enabled:
    description:
      - V(false) suspends an active key (it can no longer wrap or unwrap); V(true) makes a suspended key active again.
      - A deactivated (expired) key cannot be enabled.
    type: bool
  rotation:
    description:
      - Automatic rotation policy of a root key.
    type: dict
    suboptions:
      enabled:
        description:
          - Whether the service rotates the key automatically. Defaults to V(true) when O(rotation.interval_month) is set.
        type: bool
      interval_month:
        description:
          - Months between rotations, 1 to 12.
        type: int
  dual_auth_delete:
    description:
      - V(true) puts the key under a dual authorization delete policy, so that deleting it needs two identities.
      - The policy cannot be disabled once enabled; V(false) on such a key fails.
    type: bool
  force:
    description:
      - With O(state=absent), delete a key that other cloud resources are registered with (unless a registration prevents it).
    type: bool
    default: false
  cancel_deletion:
    description:
      - With O(state=present), withdraw a pending dual authorization approval to delete the key.
    type: bool
    default: false
notes:
  - Requests per run, with O(iam_token) and O(endpoint) set (add one for IAM with only O(api_key), one for discovery without
    O(endpoint)) - an unchanged key found by O(key_id) or by alias is one request, by name one request per 5,000 keys; a new key
    is the lookup and one create request.
  - The secrets O(payload), O(encrypted_nonce) and O(iv) are never returned, logged or shown in diffs.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key_info
  - name: Key states
    description: What the states active, suspended, deactivated and destroyed mean.
    link: https://cloud.ibm.com/docs/hs-crypto?topic=hs-crypto-key-states
"""

EXAMPLES = r"""
- name: Manage keys with one set of connection options
  module_defaults:
    group/ibm.hs_crypto.hs_crypto:
      instance_id: "{{ hpcs_instance_id }}"
      region: us-south
      api_key: "{{ ibmcloud_api_key }}"
  block:
    - name: A root key with aliases, a key ring and a rotation policy (one create request)
      ibm.hs_crypto.hs_crypto_key:
        name: payments-root
        aliases: [payments-root, payments-kek]
        key_ring: payments
        description: Wraps the data keys of the payments service
        rotation:
          interval_month: 3
      register: root_key

    - name: See what a change would do without doing it
      ibm.hs_crypto.hs_crypto_key:
        aliases: [payments-root]
        enabled: false
      check_mode: true
      diff: true

    - name: Import a standard key
      ibm.hs_crypto.hs_crypto_key:
        name: legacy-secret
        type: standard
        payload: "{{ legacy_secret_b64 }}"
      no_log: true

    - name: Require two people to delete the key
      ibm.hs_crypto.hs_crypto_key:
        key_id: "{{ root_key.key.id }}"
        dual_auth_delete: true

    - name: Approve its deletion (under dual authorization this identity's approval only; the key stays active)
      ibm.hs_crypto.hs_crypto_key:
        aliases: [payments-root]
        state: absent

    - name: Delete it, as a second identity (the second approval deletes the key)
      ibm.hs_crypto.hs_crypto_key:
        aliases: [payments-root]
        state: absent
        api_key: "{{ second_approver_api_key }}"

    - name: Wait 30 seconds (a deleted key can be restored from 30 seconds after its deletion)
      ansible.builtin.pause:
        seconds: 30

    - name: Restore it (within 30 days of its deletion)
      ibm.hs_crypto.hs_crypto_key:
        key_id: "{{ root_key.key.id }}"
        state: restored
"""

RETURN = r"""
key:
  description:
    - The key as the service holds it after the run (predicted in check mode); null when it does not exist.
    - Never contains key material.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the key (null for a key that check mode would create).
      type: str
      sample: 02fd6835-6001-4482-a892-13bd2085f75d
    name:
      description: Name of the key.
      type: str
      sample: payments-root
    aliases:
      description: Aliases of the key.
      type: list
      elements: str
      sample: [payments-root]
    description:
      description: Description of the key.
      type: str
    type:
      description: V(root) or V(standard).
      type: str
      sample: root
    state:
      description: State name, one of V(pre_activation), V(active), V(suspended), V(deactivated), V(destroyed).
      type: str
      sample: active
    state_code:
      description: State number of the service (0, 1, 2, 3, 5).
      type: int
      sample: 1
    enabled:
      description: Whether the key is active.
      type: bool
    key_ring:
      description: Key ring of the key.
      type: str
      sample: default
    crn:
      description: CRN of the key.
      type: str
    extractable:
      description: Whether the service returns the key material (standard keys).
      type: bool
    imported:
      description: Whether the key material was imported.
      type: bool
    expiration_date:
      description: Expiration date, when set.
      type: str
    creation_date:
      description: Creation date.
      type: str
    created_by:
      description: IAM id of the creator.
      type: str
    last_update_date:
      description: Date of the last change.
      type: str
    last_rotate_date:
      description: Date of the last rotation, if any.
      type: str
    key_version:
      description: Current version of the key material (C(id), C(creation_date)).
      type: dict
    rotation:
      description: Rotation policy (C(enabled), C(interval_month)), null when the key has none.
      type: dict
    dual_auth_delete:
      description: Dual authorization delete policy (C(enabled), C(key_set_for_deletion), C(auth_expiration)).
      type: dict
    deleted:
      description: Whether the key is deleted.
      type: bool
    deletion_date:
      description: Deletion date of a deleted key.
      type: str
    deleted_by:
      description: IAM id that deleted the key.
      type: str
    restore_allowed:
      description: Whether a deleted key can still be restored.
      type: bool
    restore_expiration_date:
      description: Last date a deleted key can be restored.
      type: str
    purge_allowed:
      description: Whether a deleted key can be purged now.
      type: bool
    purge_allowed_from:
      description: Date from which a deleted key can be purged.
      type: str
    purge_scheduled_on:
      description: Date the service purges a deleted key by itself.
      type: str
    algorithm_type:
      description: Algorithm type as the service reports it.
      type: str
    algorithm_bit_size:
      description: Size of the key material in bits.
      type: int
    algorithm_mode:
      description: Algorithm mode as the service reports it.
      type: str
    nonactive_state_reason:
      description: The service's reason code for a key that is not active.
      type: int
actions:
  description: What the run did (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create]
adopted:
  description:
    - True when the key was found by its name while no key had the task's aliases, so this existing key came under
      management and got them (a warning says so too). False otherwise.
  returned: success
  type: bool
  sample: false
msg:
  description: Explanation of a two-person step (dual authorization), when there is one.
  returned: when relevant
  type: str
correlation_id:
  description: Correlation id of the last request sent to the key management API, for IBM support.
  returned: always
  type: str
  sample: 5b7e6c2a-3f1d-4c8e-9a0b-1d2e3f4a5b6c
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_service import KeyConflict, KeyService
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import KeySpec, key_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule

ARGUMENT_SPEC = key_argument_spec()


def converge(module):
    spec = KeySpec.from_params(module.params)
    service = KeyService(module.kms, check_mode=module.check_mode)
    try:
        outcome = service.converge(spec).result()
    except KeyConflict as exc:
        module.fail_from(exc, diff=exc.diff, **(exc.partial or {}))
    for warning in outcome["warnings"]:
        module.warn(warning)
    result = dict(changed=outcome["changed"], actions=outcome["actions"], key=outcome["key"], adopted=outcome["adopted"], diff=outcome["diff"])
    if outcome["msg"]:
        result["msg"] = outcome["msg"]
    module.exit_json(**result)


def main():
    module = HsCryptoModule(argument_spec=ARGUMENT_SPEC)
    module.run(converge)


if __name__ == "__main__":
    main()
