#!/usr/bin/python
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: hs_crypto_iam_token
short_description: Obtain an IBM Cloud IAM access token from an API key or a trusted profile
version_added: 0.1.0
description:
  - Exchanges an IBM Cloud API key for an IAM access token, and returns the token with its expiry.
  - With a trusted profile instead (O(auth_type), see R(Trusted profiles,ansible_collections.ibm.hs_crypto.docsite.trusted_profiles)),
    the token is obtained with the compute-resource token of a pod or from the VPC instance metadata service.
  - Pass the token to later tasks as O(iam_token) (for example through C(module_defaults)) so that each task does not
    ask IAM again. Give O(api_key) along with it, and a task that meets an expired token obtains a fresh one.
  - "The task result contains the token. B(Set C(no_log: true) on the task), or the token is shown in the output
    and written to logs. Without it, the module warns."
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.common
  - ibm.hs_crypto.attributes
attributes:
  check_mode:
    support: full
    details: Obtaining a token changes nothing, so the module runs normally in check mode.
  diff_mode:
    support: N/A
    details: This module changes nothing.
notes:
  - O(api_key) or a trusted profile is required (a token alone cannot be renewed). The instance and endpoint options are
    accepted, so that C(module_defaults) for the action
    group fit this module, but they are not used.
  - The token is valid for the lifetime IAM gives it, one hour on IBM Cloud.
seealso:
  - module: ibm.hs_crypto.hs_crypto_endpoint_info
  - name: IBM Cloud IAM API keys
    description: Creating and managing API keys.
    link: https://cloud.ibm.com/docs/account?topic=account-userapikey
"""

EXAMPLES = r"""
- name: Obtain a token once
  ibm.hs_crypto.hs_crypto_iam_token:
    api_key: "{{ ibmcloud_api_key }}"
  register: iam
  no_log: true

- name: Use it for the rest of the play (the API key lets a long run renew it)
  ibm.hs_crypto.hs_crypto_endpoint_info:
    instance_id: "{{ hpcs_instance_id }}"
    region: us-south
    api_key: "{{ ibmcloud_api_key }}"
    iam_token: "{{ iam.iam_token }}"
  register: hpcs

- name: Show when the token expires (not the token itself)
  ansible.builtin.debug:
    msg: "Token for {{ iam.identity.iam_id }} expires at {{ iam.expires_at }}"
"""

RETURN = r"""
iam_token:
  description: The access token, to pass as O(iam_token) to later tasks. Secret.
  returned: success
  type: str
  sample: eyJraWQiOiIyMDI2MTEwMSIsImFsZyI6IlJTMjU2In0...
token_type:
  description: Token type, for the C(Authorization) header.
  returned: success
  type: str
  sample: Bearer
expires_in:
  description: Lifetime of the token in seconds, as IAM stated it.
  returned: success
  type: int
  sample: 3600
expiration:
  description: Expiry of the token, in seconds since the epoch.
  returned: success
  type: int
  sample: 1796230800
expires_at:
  description: Expiry of the token, as an RFC 3339 UTC date.
  returned: success
  type: str
  sample: "2026-11-26T18:20:00Z"
identity:
  description: Who the token is for, read from its claims.
  returned: success
  type: dict
  contains:
    iam_id:
      description: IAM id of the identity that owns the API key.
      type: str
      sample: IBMid-550000ABCD
    subject:
      description: Subject of the token.
      type: str
      sample: alice@example.com
    account_id:
      description: IBM Cloud account id.
      type: str
      sample: b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21
correlation_id:
  description: Not used by this module (IAM requests carry no KMS correlation id); always null.
  returned: always
  type: str
  sample: null
"""

import time

from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import HsCryptoModule


def obtain(module):
    module.connection.require_grant()
    token = module.connection.tokens.refresh()
    expires_in = token.expiration - token.issued_at if (token.expiration and token.issued_at) else None
    if not module.no_log:
        module.warn("This task returns a secret, an IAM access token, and has no 'no_log: true': set it on the task, or the token "
                    "is shown in the output and written to logs and to any callback or AWX job output.")
    module.exit_json(
        changed=False,
        iam_token=token.access_token,
        token_type=token.token_type,
        expires_in=expires_in,
        expiration=token.expiration,
        expires_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(token.expiration)) if token.expiration else None,
        identity=token.identity,
    )


def main():
    module = HsCryptoModule(mask_tokens=False)
    module.run(obtain, context="Could not obtain an IAM token")


if __name__ == "__main__":
    main()
