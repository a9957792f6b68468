# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    # The options every module of ibm.hs_crypto accepts (module_utils/_base.py common_argument_spec).
    DOCUMENTATION = r"""
options:
  instance_id:
    description:
      - GUID of the Hyper Protect Crypto Services (or Key Protect) instance.
      - An instance CRN is accepted too; it is reduced to its GUID, and its region is used when O(region) is not set.
      - If not set, the value of the E(HS_CRYPTO_INSTANCE_ID) environment variable is used.
    type: str
  region:
    description:
      - Region of the instance, for example V(us-south); used to reach the HPCS broker for endpoint discovery.
      - Not needed when O(endpoint) or O(broker_url) is set, when O(instance_id) is a CRN, or when the endpoint is found
        through the Resource Controller (which knows the region).
      - If not set, the value of the E(IBMCLOUD_REGION) or E(IC_REGION) environment variable is used.
    type: str
  endpoint:
    description:
      - Base URL of the key management API, for example V(https://api.us-south.hs-crypto.cloud.ibm.com:8000).
      - When set, endpoint discovery is skipped, for either service (see O(service)).
      - A trailing V(/api/v2) is removed; the client adds it.
      - Must use V(https://); plain V(http://) is accepted only for a loopback host (local tests).
      - If not set, the value of the E(HS_CRYPTO_ENDPOINT) or E(IBMCLOUD_KP_API_ENDPOINT) environment variable is used.
    type: str
  endpoint_type:
    description:
      - Which endpoint discovery returns for the key management API (for Key Protect, which of its two URLs).
      - V(private) needs a connection to the IBM Cloud private network.
      - If not set, the value of the E(HS_CRYPTO_ENDPOINT_TYPE) environment variable is used.
    type: str
    choices: [public, private]
    default: public
  service:
    description:
      - The service of the instance, which decides how its key management endpoint is found when O(endpoint) is not set
        (one request in every case).
      - V(hs_crypto) - Hyper Protect Crypto Services; the endpoint is discovered through the HPCS broker of the region
        (through the Resource Controller when the region is not known).
      - V(key_protect) - IBM Key Protect (Standard, cross-region or Dedicated), which has no broker; the endpoint is read
        from the instance's Resource Controller record (C(extensions.endpoints)), which also tells a Dedicated instance.
        When the identity may not read the Resource Controller, the Key Protect Standard URL of the region is used, with a
        warning (V(https://<region>.kms.cloud.ibm.com), or V(https://private.<region>.kms.cloud.ibm.com) with
        O(endpoint_type=private)); a Dedicated instance then needs O(endpoint).
      - When not set, the service that a CRN in O(instance_id) names (C(hs-crypto) or C(kms)). Not known at all (a bare GUID),
        the HPCS broker of O(region) is asked when a region is known, and the Resource Controller otherwise or when the
        broker does not know the instance. A O(service) that contradicts the CRN or the Resource Controller is an error.
      - The words inventories use are accepted too - V(hpcs) and V(hs-crypto) mean V(hs_crypto); V(kms), V(key-protect),
        V(keyprotect) and V(kp) mean V(key_protect).
      - If not set, the value of the E(HS_CRYPTO_SERVICE) environment variable is used.
    type: str
  api_key:
    description:
      - IBM Cloud API key, exchanged for an IAM access token.
      - With O(iam_token) too, a rejected or expired token is replaced by a fresh one obtained with the API key.
      - If not set, the value of the E(IBMCLOUD_API_KEY) or E(IC_API_KEY) environment variable is used.
      - One of O(api_key), O(iam_token) or a trusted profile (O(auth_type)) is required.
      - Mutually exclusive with the trusted profile options (O(cr_token_file), O(iam_profile_id), O(iam_profile_name),
        O(iam_profile_crn)) unless O(auth_type) is set, which then decides (the API key is not used, with a warning).
    type: str
  iam_token:
    description:
      - An IAM access token obtained earlier, for example with M(ibm.hs_crypto.hs_crypto_iam_token); a V(Bearer ) prefix is accepted.
      - Reusing one token across tasks saves a request to IAM per task.
      - If not set, the value of the E(IBMCLOUD_IAM_TOKEN) or E(IC_IAM_TOKEN) environment variable is used.
    type: str
  iam_url:
    description:
      - Base URL of the IAM token service.
      - If not set, the value of the E(HS_CRYPTO_IAM_URL) or E(IBMCLOUD_IAM_API_ENDPOINT) environment variable is used,
        else V(https://iam.cloud.ibm.com).
    type: str
  auth_type:
    description:
      - Sign in with a trusted profile instead of an API key; see
        R(Trusted profiles,ansible_collections.ibm.hs_crypto.docsite.trusted_profiles).
      - V(container) - IAM's compute-resource-token grant. The compute-resource token (the content of O(cr_token_file),
        such as the service-account token projected into an OpenShift or IBM Cloud Kubernetes Service pod) and the trusted
        profile (O(iam_profile_id), O(iam_profile_name) and/or O(iam_profile_crn), at least one) are exchanged for an IAM
        access token. The file is read again at every renewal, as the platform rotates it.
      - V(vpc) - the VPC instance metadata service of a virtual server (O(metadata_url)) issues an instance identity
        token, then an IAM access token for the trusted profile given by O(iam_profile_id) or O(iam_profile_crn), or for
        the instance's default trusted profile when neither is set.
      - When not set, an API key is used when there is one, else V(container) when O(cr_token_file) or a profile
        option is set. V(vpc) is only used when asked for.
      - As with an API key, an expired or rejected token (also one given in O(iam_token)) is replaced by a fresh one obtained
        the same way.
      - If not set, the value of the E(HS_CRYPTO_AUTH_TYPE) environment variable is used.
    type: str
    choices: [container, vpc]
  cr_token_file:
    description:
      - File holding the compute-resource token, for O(auth_type=container). Its content is a secret, never shown.
      - If not set, the value of the E(CR_TOKEN_FILENAME) environment variable is used (the name IBM's SDKs read), else the
        first of V(/var/run/secrets/tokens/vault-token), V(/var/run/secrets/tokens/sa-token) and
        V(/var/run/secrets/codeengine.cloud.ibm.com/compute-resource-token/token) that exists.
    type: path
  iam_profile_id:
    description:
      - ID of the trusted profile to sign in as (V(Profile-...)), with O(auth_type=container) or O(auth_type=vpc).
      - If not set, the value of the E(IAM_PROFILE_ID) environment variable is used.
    type: str
  iam_profile_name:
    description:
      - Name of the trusted profile to sign in as, with O(auth_type=container) only (the VPC metadata service takes an id
        or a CRN).
      - If not set, the value of the E(IAM_PROFILE_NAME) environment variable is used.
    type: str
  iam_profile_crn:
    description:
      - CRN of the trusted profile to sign in as (V(crn:v1:bluemix:public:iam-identity::a/<account>::profile:<id>)).
      - With O(auth_type=vpc), mutually exclusive with O(iam_profile_id). With O(auth_type=container) it is sent to IAM as
        the IBM Cloud CLI sends it, with any id or name given too.
      - If not set, the value of the E(IAM_PROFILE_CRN) environment variable is used.
    type: str
  metadata_url:
    description:
      - Base URL of the VPC instance metadata service, for O(auth_type=vpc).
      - Plain V(http://) is accepted for V(169.254.169.254), V(api.metadata.cloud.ibm.com) and loopback hosts; use
        V(https://api.metadata.cloud.ibm.com) when the instance has secure metadata access on.
      - If not set, the value of the E(HS_CRYPTO_METADATA_URL) environment variable is used, else V(http://169.254.169.254).
    type: str
  metadata_version:
    description:
      - Version of the VPC instance metadata API, which also decides its paths, for O(auth_type=vpc).
      - V(2022-03-01) uses C(/instance_identity/v1/token) and C(/instance_identity/v1/iam_token); V(2025-08-26) uses
        C(/identity/v1/token) and C(/identity/v1/iam_tokens).
      - If not set, the value of the E(VPC_IMS_VERSION) environment variable is used (the name IBM's SDKs read), else
        V(2022-03-01).
    type: str
    choices: ['2022-03-01', '2025-08-26']
  broker_url:
    description:
      - Base URL of the HPCS broker used for endpoint discovery.
      - If not set, the value of the E(HS_CRYPTO_BROKER_URL) or E(IBMCLOUD_HPCS_API_ENDPOINT) environment variable is used,
        else V(https://<region>.broker.hs-crypto.cloud.ibm.com).
    type: str
  resource_controller_url:
    description:
      - Base URL of the IBM Cloud Resource Controller, which discovery reads the instance's record from
        (C(GET /v2/resource_instances/<guid>)).
      - If not set, the value of the E(HS_CRYPTO_RESOURCE_CONTROLLER_URL) or E(IBMCLOUD_RESOURCE_CONTROLLER_API_ENDPOINT)
        environment variable is used, else V(https://resource-controller.cloud.ibm.com).
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificates of IAM, the broker, the Resource Controller and the key management API.
      - Only set to V(false) for a test service you trust; prefer O(ca_path).
      - If not set, the value of the E(HS_CRYPTO_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - Path to a PEM bundle of CA certificates used to verify the services' certificates (a private CA).
      - If not set, the value of the E(HS_CRYPTO_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds one request may take in all, retries and waits between them included (greater than 0, at most 3600).
      - A service that does not answer makes the task fail after this time, with a message that says so.
      - If not set, the value of the E(HS_CRYPTO_TIMEOUT) environment variable is used.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is sent again after a connection failure, a 429 or a 5xx answer (except 501), 0 to 10.
      - Waits grow exponentially with jitter; a C(Retry-After) header is honoured.
      - Requests that change something are only re-sent when the service certainly did not act on them.
      - If not set, the value of the E(HS_CRYPTO_RETRIES) environment variable is used.
    type: int
    default: 4
notes:
  - All modules of this collection are in the action group C(ibm.hs_crypto.hs_crypto), so the connection options can be set once
    for a play with C(module_defaults) and C(group/ibm.hs_crypto.hs_crypto).
"""
