# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    # The target instance of a module that talks to two instances (module_utils/_base.py target_argument_spec).
    DOCUMENTATION = r"""
options:
  target:
    description:
      - The second instance, the one keys move to (usually Key Protect Standard or Dedicated). The module's own connection
        options (O(instance_id), O(endpoint), ...) describe the source instance.
      - Options not set here are taken from the module's own options - the credentials (O(api_key), O(iam_token), the
        trusted profile) unless the target names credentials of its own, and the transport (O(iam_url),
        O(resource_controller_url), O(ca_path), O(validate_certs), O(timeout), O(retries)). The instance's identity
        (O(target.instance_id), O(target.region), O(target.endpoint), O(target.endpoint_type), O(target.service)) is never
        taken from the source.
    type: dict
    required: true
    suboptions:
      instance_id:
        description: GUID or CRN of the target instance.
        type: str
        required: true
      region:
        description: Region of the target instance, for endpoint discovery.
        type: str
      endpoint:
        description: Base URL of the target's key management API; skips discovery.
        type: str
      endpoint_type:
        description: Which endpoint discovery returns.
        type: str
        choices: [public, private]
      service:
        description: The target's service (V(key_protect) or V(hs_crypto), with the same spellings as O(service)).
        type: str
      plan:
        description:
          - The target's Key Protect plan, when discovery cannot read it from the Resource Controller (an explicit
            O(target.endpoint) skips the Resource Controller). When it stays unknown, the target is treated as
            V(dedicated), the plan with the fewest features, and a warning says so.
        type: str
        choices: [tiered-pricing, cross-region-resiliency, dedicated]
      api_key:
        description: API key of an identity with access to the target (when not set, the module's O(api_key)).
        type: str
      iam_token:
        description: IAM access token for the target (when not set, the module's).
        type: str
      iam_url:
        description: Base URL of IAM for the target (when not set, the module's O(iam_url)).
        type: str
      auth_type:
        description: Trusted profile sign-in for the target (V(container) or V(vpc)).
        type: str
        choices: [container, vpc]
      cr_token_file:
        description: Compute-resource token file, for O(target.auth_type=container).
        type: path
      iam_profile_id:
        description: Trusted profile ID for the target.
        type: str
      iam_profile_name:
        description: Trusted profile name for the target.
        type: str
      iam_profile_crn:
        description: Trusted profile CRN for the target.
        type: str
      resource_controller_url:
        description: Base URL of the Resource Controller for the target (when not set, the module's).
        type: str
      ca_path:
        description: PEM bundle of CA certificates for the target (when not set, the module's O(ca_path)).
        type: path
"""
