# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    # The sign-in and connection options shared by the plugins that run on the controller (lookups, inventory).
    # The same options as the modules' (doc_fragments/common.py, module_utils/_base.py common_argument_spec), with the same
    # environment variables; Ansible variables named hs_crypto_<option> act like module_defaults for lookups.
    # Where two environment variables are listed, the LAST one set wins (Ansible's rule), so they are listed in the reverse
    # of the modules' order: the same variable wins for a module and for a plugin.
    DOCUMENTATION = r"""
options:
  api_key:
    description:
      - IBM Cloud API key, exchanged for an IAM access token.
      - This is a secret. It is never shown in output, errors or logs; keep it in a vault-encrypted variable or the environment.
      - With O(iam_token) too, a rejected or expired token is replaced by a fresh one obtained with the API key.
      - One of O(api_key), O(iam_token) or a trusted profile (O(auth_type)) is required.
      - Mutually exclusive with the trusted profile options unless O(auth_type) is set, which then decides.
      - When both E(IBMCLOUD_API_KEY) and E(IC_API_KEY) are set, E(IBMCLOUD_API_KEY) is used, as for the modules.
    type: str
    env:
      - name: IC_API_KEY
      - name: IBMCLOUD_API_KEY
    vars:
      - name: hs_crypto_api_key
  iam_token:
    description:
      - An IAM access token obtained earlier, for example with M(ibm.hs_crypto.hs_crypto_iam_token); a V(Bearer ) prefix is accepted.
      - This is a secret. It is never shown in output, errors or logs.
      - When both E(IBMCLOUD_IAM_TOKEN) and E(IC_IAM_TOKEN) are set, E(IBMCLOUD_IAM_TOKEN) is used, as for the modules.
    type: str
    env:
      - name: IC_IAM_TOKEN
      - name: IBMCLOUD_IAM_TOKEN
    vars:
      - name: hs_crypto_iam_token
  iam_url:
    description:
      - Base URL of the IAM token service.
      - If not set, V(https://iam.cloud.ibm.com).
      - When both E(HS_CRYPTO_IAM_URL) and E(IBMCLOUD_IAM_API_ENDPOINT) are set, E(HS_CRYPTO_IAM_URL) is used, as for the modules.
    type: str
    env:
      - name: IBMCLOUD_IAM_API_ENDPOINT
      - name: HS_CRYPTO_IAM_URL
    vars:
      - name: hs_crypto_iam_url
  auth_type:
    description:
      - Sign in with a trusted profile instead of an API key, as the modules do; see
        R(Trusted profiles,ansible_collections.ibm.hs_crypto.docsite.trusted_profiles).
      - V(container) - IAM's compute-resource-token grant, with the content of O(cr_token_file) (such as the service-account
        token projected into an OpenShift pod) and the trusted profile (O(iam_profile_id), O(iam_profile_name) and/or
        O(iam_profile_crn)).
      - V(vpc) - the VPC instance metadata service (O(metadata_url)) issues an IAM token for the trusted profile given by
        O(iam_profile_id) or O(iam_profile_crn), or for the virtual server's default trusted profile.
      - When not set, an API key is used when there is one, else V(container) when O(cr_token_file) or a profile option is set.
      - An expired or rejected token is replaced by a fresh one obtained the same way.
    type: str
    choices: [container, vpc]
    env:
      - name: HS_CRYPTO_AUTH_TYPE
    vars:
      - name: hs_crypto_auth_type
  cr_token_file:
    description:
      - File holding the compute-resource token, for O(auth_type=container); read again at every renewal. Its content is a
        secret, never shown.
      - If not set, the first of V(/var/run/secrets/tokens/vault-token), V(/var/run/secrets/tokens/sa-token) and
        V(/var/run/secrets/codeengine.cloud.ibm.com/compute-resource-token/token) that exists.
    type: path
    env:
      - name: CR_TOKEN_FILENAME
    vars:
      - name: hs_crypto_cr_token_file
  iam_profile_id:
    description:
      - ID of the trusted profile to sign in as (V(Profile-...)).
    type: str
    env:
      - name: IAM_PROFILE_ID
    vars:
      - name: hs_crypto_iam_profile_id
  iam_profile_name:
    description:
      - Name of the trusted profile to sign in as, with O(auth_type=container) only.
    type: str
    env:
      - name: IAM_PROFILE_NAME
    vars:
      - name: hs_crypto_iam_profile_name
  iam_profile_crn:
    description:
      - CRN of the trusted profile to sign in as; with O(auth_type=vpc), mutually exclusive with O(iam_profile_id).
    type: str
    env:
      - name: IAM_PROFILE_CRN
    vars:
      - name: hs_crypto_iam_profile_crn
  metadata_url:
    description:
      - Base URL of the VPC instance metadata service, for O(auth_type=vpc).
      - If not set, V(http://169.254.169.254).
    type: str
    env:
      - name: HS_CRYPTO_METADATA_URL
    vars:
      - name: hs_crypto_metadata_url
  metadata_version:
    description:
      - Version of the VPC instance metadata API (which decides its paths), for O(auth_type=vpc).
      - If not set, V(2022-03-01).
    type: str
    choices: ['2022-03-01', '2025-08-26']
    env:
      - name: VPC_IMS_VERSION
    vars:
      - name: hs_crypto_metadata_version
  resource_controller_url:
    description:
      - Base URL of the IBM Cloud Resource Controller.
      - If not set, V(https://resource-controller.cloud.ibm.com).
      - When both E(HS_CRYPTO_RESOURCE_CONTROLLER_URL) and E(IBMCLOUD_RESOURCE_CONTROLLER_API_ENDPOINT) are set,
        E(HS_CRYPTO_RESOURCE_CONTROLLER_URL) is used, as for the modules.
    type: str
    env:
      - name: IBMCLOUD_RESOURCE_CONTROLLER_API_ENDPOINT
      - name: HS_CRYPTO_RESOURCE_CONTROLLER_URL
    vars:
      - name: hs_crypto_resource_controller_url
  validate_certs:
    description:
      - Whether to verify the TLS certificates of the services.
      - Only set to V(false) for a test service you trust; prefer O(ca_path).
    type: bool
    default: true
    env:
      - name: HS_CRYPTO_VALIDATE_CERTS
    vars:
      - name: hs_crypto_validate_certs
  ca_path:
    description:
      - Path to a PEM bundle of CA certificates used to verify the services' certificates (a private CA).
    type: path
    env:
      - name: HS_CRYPTO_CA_PATH
    vars:
      - name: hs_crypto_ca_path
  timeout:
    description:
      - Seconds one request may take in all, retries and waits between them included (greater than 0, at most 3600).
    type: float
    default: 30
    env:
      - name: HS_CRYPTO_TIMEOUT
    vars:
      - name: hs_crypto_timeout
  retries:
    description:
      - How many times a request is sent again after a connection failure, a 429 or a 5xx answer (except 501), 0 to 10.
      - Waits grow exponentially with jitter; a C(Retry-After) header is honoured.
    type: int
    default: 4
    env:
      - name: HS_CRYPTO_RETRIES
    vars:
      - name: hs_crypto_retries
notes:
  - Options are taken, from the strongest, from the plugin's own arguments (or the inventory file), then the Ansible
    variables named in each option (for lookups; they act like C(module_defaults) for the modules, and can be
    vault-encrypted), then the environment.
"""
