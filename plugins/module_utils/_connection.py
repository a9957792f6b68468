# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""From the common options to a ready client: validation, token provider, discovery, KMS client.

Nothing here imports Ansible: ``Connection`` takes the common options as a
plain dict, checks them (raising ``ConfigurationError`` naming the option and
the rule, before any request) and builds every part lazily, so a module that
only needs a token never asks the broker, and one given ``endpoint`` never does.
"""

import os
import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import AuthorizedSender, KmsClient
from ansible_collections.ibm.hs_crypto.plugins.module_utils._discovery import (
    CRN_SERVICE_OF, ENDPOINT_TYPES, HPCS_REGIONS, KEY_PROTECT_REGIONS, SERVICE_OF_CRN, broker_url_for, check_region,
    RESOURCE_CONTROLLER_URL, discover_endpoints, key_protect_endpoints, parse_instance_id, read_instance_record)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, Redactor, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import normalize_service
from ansible_collections.ibm.hs_crypto.plugins.module_utils._iam import (
    ApiKeyGrant, ComputeResourceGrant, METADATA_PATHS, TokenProvider, VpcInstanceGrant)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import RetryPolicy, Transport

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# The VPC instance metadata service answers plain http on these hosts (https only with secure metadata access on).
METADATA_HTTP_HOSTS = ("169.254.169.254", "api.metadata.cloud.ibm.com")
AUTH_TYPES = ("container", "vpc")
TRUSTED_PROFILE_OPTIONS = ("cr_token_file", "iam_profile_id", "iam_profile_name", "iam_profile_crn")
TRUSTED_PROFILE_ENV = {"cr_token_file": "CR_TOKEN_FILENAME", "iam_profile_id": "IAM_PROFILE_ID", "iam_profile_name": "IAM_PROFILE_NAME",
                       "iam_profile_crn": "IAM_PROFILE_CRN"}
URL_RE = re.compile(r"^(https?)://([^/?#\s]+)(/[^?#\s]*)?\Z")
MAX_TIMEOUT = 3600
MAX_RETRIES = 10


HOST_PORT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?\Z")


def check_url(value, option, http_hosts=LOOPBACK_HOSTS):
    """An https URL (http only for a loopback host, as in local tests); returned without a trailing slash."""
    match = URL_RE.match(value or "")
    if not match:
        raise ConfigurationError(f"{option} must be a URL such as https://host[:port] (got {shown(value)})")
    scheme, netloc = match.group(1), match.group(2)
    if "@" in netloc:
        raise ConfigurationError(f"{option} must not contain credentials")
    host = HOST_PORT_RE.match(netloc)
    if not host or (host.group(2) is not None and not 1 <= int(host.group(2)) <= 65535):
        raise ConfigurationError(f"{option}: {shown(netloc)} is not a valid host[:port] (a host name or address, and a port from 1 to 65535)")
    hostname = host.group(1)
    if scheme == "http" and hostname not in http_hosts and hostname not in LOOPBACK_HOSTS:
        allowed = "a loopback host such as 127.0.0.1" if http_hosts == LOOPBACK_HOSTS else f"{', '.join(http_hosts)} or a loopback host"
        raise ConfigurationError(f"{option} must use https:// (plain http is only accepted for {allowed})")
    return value.rstrip("/")


def host_of(url):
    """The host of a URL, without its port (an IPv6 address keeps its brackets, as the transport names it)."""
    netloc = url.split("://", 1)[-1].split("/", 1)[0]
    match = HOST_PORT_RE.match(netloc)
    return match.group(1) if match else netloc


class Connection:
    """The common options, checked, and the clients built from them on demand."""

    def __init__(self, options, sleep=None, rng=None):
        self.options = options
        self.redact = Redactor([options.get("api_key"), options.get("iam_token")])
        self.grant = None
        self._sleep = sleep
        self._rng = rng
        self._transport = None
        self._tokens = None
        self._sender = None
        self._endpoints = None
        self._kms = None
        self.last_correlation_id = None
        self.record = None  # the Resource Controller's record of the instance, when discovery read it
        self.plan = None
        self.source = "endpoint" if options.get("endpoint") else None  # where the endpoint came from, once known
        self.warnings = []
        self._check()

    # -- validation -----------------------------------------------------------------
    def _check(self):
        opts = self.options
        timeout = opts.get("timeout")
        if timeout is not None and not 0 < timeout <= MAX_TIMEOUT:
            raise ConfigurationError(f"timeout must be greater than 0 and at most {int(MAX_TIMEOUT)} seconds (got {timeout})")
        retries = opts.get("retries")
        if retries is not None and not 0 <= retries <= MAX_RETRIES:
            raise ConfigurationError(f"retries must be between 0 and {int(MAX_RETRIES)} (got {retries})")
        for option in ("endpoint", "iam_url", "broker_url", "resource_controller_url"):
            if opts.get(option):
                opts[option] = check_url(opts[option], option)
        if (opts.get("endpoint") or "").endswith("/api/v2"):
            # A common copy-and-paste: the base URL is wanted; the client adds /api/v2 itself.
            opts["endpoint"] = opts["endpoint"][:-len("/api/v2")]
        if opts.get("endpoint_type") and opts["endpoint_type"] not in ENDPOINT_TYPES:
            raise ConfigurationError(f"endpoint_type must be one of {', '.join(ENDPOINT_TYPES)}")
        ca_path = opts.get("ca_path")
        if ca_path and not os.path.isfile(ca_path):
            raise ConfigurationError(f"ca_path {shown(ca_path)} is not a readable file (a PEM bundle of CA certificates is expected)")
        if opts.get("region"):
            check_region(opts["region"])
        self.grant = self._grant()
        self.instance = None
        if opts.get("instance_id"):
            self.instance = parse_instance_id(opts["instance_id"])
            if self.instance.region and opts.get("region") and self.instance.region != opts["region"]:
                raise ConfigurationError(f"region {shown(opts['region'])} conflicts with the region {shown(self.instance.region)} in the instance_id CRN")
        # broker_url is not used for Key Protect (it has no broker); it is not refused either, as it often comes from
        # the environment (HS_CRYPTO_BROKER_URL) of playbooks that manage both services.
        self.service = self._service()
        # The service as far as the options tell (None: unknown until discovery reads the Resource Controller).
        self.known_service = self.options.get("service") or (SERVICE_OF_CRN.get(self.instance.service) if self.instance else None)

    @property
    def auth_type(self):
        """How this connection signs in: ``api_key``, ``container``, ``vpc``, or ``iam_token`` (a token given, nothing to renew it)."""
        if self.grant is not None:
            return self.grant.name
        return "iam_token" if self.options.get("iam_token") else None

    def _grant(self):
        """The grant that obtains and renews tokens (docs/design-choices.md, "Trusted profiles").

        ``auth_type`` decides when set (an API key, say from the environment, is then not used); else an API key, else a
        compute-resource token when a token file or a profile is named. The VPC flow is only used when asked for, as it
        needs nothing else (the instance's default profile).
        """
        opts = self.options
        auth_type = opts.get("auth_type")
        if auth_type is not None and auth_type not in AUTH_TYPES:
            raise ConfigurationError(f"auth_type must be one of {', '.join(AUTH_TYPES)} (got {shown(auth_type)})")
        if opts.get("metadata_url"):
            opts["metadata_url"] = check_url(opts["metadata_url"], "metadata_url", http_hosts=METADATA_HTTP_HOSTS)
        version = opts.get("metadata_version")
        if version and version not in METADATA_PATHS:
            raise ConfigurationError(f"metadata_version must be one of {', '.join(METADATA_PATHS)} (got {shown(version)})")
        crn = opts.get("iam_profile_crn")
        if crn and not (crn.startswith("crn:v1:") and ":profile:" in crn):
            raise ConfigurationError(f"iam_profile_crn must be a trusted profile CRN, crn:v1:<cname>:<ctype>:iam-identity::a/<account>::"
                                     f"profile:<profile id> (got {shown(crn)})")
        profile_options = [name for name in TRUSTED_PROFILE_OPTIONS if opts.get(name)]
        if auth_type is None and opts.get("api_key") and profile_options:
            # Options come from the task, module_defaults and the environment alike (Ansible applies the environment
            # fallbacks before its own mutually_exclusive check), so the choice is asked for rather than guessed.
            raise ConfigurationError(
                f"api_key and {profile_options[0]} are mutually exclusive: sign in with an API key, or with a trusted profile; "
                "set auth_type (container or vpc) to use the trusted profile (an API key is then not used), or leave out "
                f"{profile_options[0]} (environment {TRUSTED_PROFILE_ENV[profile_options[0]]})")
        if auth_type is not None and opts.get("api_key"):
            self.warnings.append(f"auth_type is {auth_type}: the api_key (given, or from IBMCLOUD_API_KEY or IC_API_KEY) is not used")
        if auth_type is None:
            if opts.get("api_key"):
                return ApiKeyGrant(opts["api_key"])
            if opts.get("iam_token"):
                return None
            if any(opts.get(name) for name in TRUSTED_PROFILE_OPTIONS):
                auth_type = "container"
            else:
                return None
        if auth_type == "container":
            return ComputeResourceGrant(cr_token_file=opts.get("cr_token_file"), profile_id=opts.get("iam_profile_id"),
                                        profile_name=opts.get("iam_profile_name"), profile_crn=crn)
        return VpcInstanceGrant(metadata_url=opts.get("metadata_url"), version=version, profile_id=opts.get("iam_profile_id"),
                                profile_crn=crn, profile_name=opts.get("iam_profile_name"))

    def _service(self):
        """``service`` as given, else the one the instance CRN names, else hs_crypto; a contradiction is an error."""
        given = self.options["service"] = normalize_service(self.options.get("service"))
        named = SERVICE_OF_CRN.get(self.instance.service) if self.instance is not None else None
        if given and named and given != named:
            raise ConfigurationError(f"service {given} conflicts with the instance_id CRN, which names the service {CRN_SERVICE_OF[named]} ({named})")
        return given or named or "hs_crypto"

    def require_instance(self):
        """Fail early when the instance-scoped options are missing."""
        if self.instance is None:
            raise ConfigurationError("instance_id is required (the GUID or CRN of the HPCS instance; environment HS_CRYPTO_INSTANCE_ID)")
        if self.route == "broker" and not self.options.get("broker_url") and self.region in KEY_PROTECT_REGIONS:
            # Its broker host does not exist: say so before any request rather than report a DNS failure.
            raise ConfigurationError(
                f"Hyper Protect Crypto Services is not offered in region {self.region}, only Key Protect is; for a Key Protect "
                f"instance set service: key_protect (or give its CRN, which names the service kms). HPCS regions: {', '.join(HPCS_REGIONS)}")

    def require_api_key(self):
        if not self.options.get("api_key"):
            raise ConfigurationError("api_key is required (an IBM Cloud API key; environment IBMCLOUD_API_KEY or IC_API_KEY)")

    def require_grant(self):
        """Fail early unless a token can be obtained: an API key or a trusted profile (a token alone cannot be renewed)."""
        if self.grant is None:
            raise ConfigurationError("api_key is required (an IBM Cloud API key; environment IBMCLOUD_API_KEY or IC_API_KEY), or a "
                                     "trusted profile (auth_type container with cr_token_file and iam_profile_id, iam_profile_name or "
                                     "iam_profile_crn; or auth_type vpc) to obtain a token")

    @property
    def region(self):
        found = self.record.region if self.record is not None else None
        return self.options.get("region") or (self.instance.region if self.instance else None) or found

    @property
    def resource_controller_url(self):
        return self.options.get("resource_controller_url") or RESOURCE_CONTROLLER_URL

    @property
    def route(self):
        """How the endpoint is found (docs/design-choices.md, "Discovery order"): ``endpoint`` (given), ``broker`` (an HPCS
        instance, or a ``broker_url`` given; a broker that does not know an instance of unknown service hands over to the
        Resource Controller), or ``resource_controller`` (Key Protect, and an instance of unknown service)."""
        if self.options.get("endpoint"):
            return "endpoint"
        if self.known_service == "key_protect":
            return "resource_controller"
        if self.known_service == "hs_crypto" or self.options.get("broker_url"):
            return "broker"
        return "resource_controller"

    # -- parts, built when first used ------------------------------------------------
    @property
    def transport(self):
        if self._transport is None:
            retries = self.options.get("retries")
            policy = RetryPolicy(retries=4 if retries is None else retries, rng=self._rng)
            self._transport = Transport(validate_certs=self.options.get("validate_certs", True),
                                        ca_path=self.options.get("ca_path"),
                                        timeout=self.options.get("timeout") or 30.0,
                                        retry_policy=policy, sleep=self._sleep)
        return self._transport

    @property
    def tokens(self):
        if self._tokens is None:
            self._tokens = TokenProvider(self.transport, iam_token=self.options.get("iam_token"), iam_url=self.options.get("iam_url"),
                                         redactor=self.redact, grant=self.grant)
        return self._tokens

    def tokens_seen(self):
        """Every access token this connection used (none when it never authenticated)."""
        return list(self._tokens.seen) if self._tokens is not None else []

    def secrets_seen(self):
        """The sign-in secrets read during the run (compute-resource token, instance identity token), never to be shown."""
        return self._tokens.secrets() if self._tokens is not None else []

    @property
    def sender(self):
        if self._sender is None:
            self._sender = AuthorizedSender(self.transport, self.tokens)
        return self._sender

    @property
    def broker_url(self):
        return self.options.get("broker_url") or broker_url_for(self.region)

    @property
    def discovers(self):
        """Whether the endpoint is discovered (through the HPCS broker or the Resource Controller), not given."""
        return not self.options.get("endpoint")

    def endpoints(self):
        """All endpoints of the instance, discovered once (one request, cached) along ``route``."""
        self.require_instance()
        if self._endpoints is None:
            if self.route == "broker":
                try:
                    self._endpoints, self.last_correlation_id = discover_endpoints(self.sender, self.broker_url, self.instance.guid)
                    self.known_service = self.service = "hs_crypto"
                    self.source = "broker"
                except ApiError as exc:
                    if exc.status != 404 or self.known_service is not None:
                        raise
                    # Not an HPCS instance the broker knows, and nothing said which service it is: ask the Resource Controller.
                    self._endpoints = self._from_resource_controller()
            else:
                self._endpoints = self._from_resource_controller()
        return self._endpoints

    def _from_resource_controller(self):
        guid = self.instance.guid
        try:
            record, self.last_correlation_id = read_instance_record(self.sender, self.resource_controller_url, guid)
        except ApiError as exc:
            if exc.status in (401, 403) and self.known_service == "key_protect" and self.region:
                self.warnings.append(
                    f"The Resource Controller refused to describe instance {guid} (HTTP {exc.status}): its endpoint is taken from the "
                    f"region as for Key Protect Standard ({self.region}). For a Key Protect Dedicated instance give endpoint, or grant "
                    "the identity the Viewer role on the instance.")
                self.source = "region"
                return key_protect_endpoints(self.region)
            if exc.status in (401, 403) and self.known_service is None and self.region:
                # Nothing said which service it is and the Resource Controller may not be read: HPCS's broker may know it.
                endpoints, self.last_correlation_id = discover_endpoints(self.sender, self.broker_url, guid)
                self.known_service = self.service = "hs_crypto"
                self.source = "broker"
                return endpoints
            raise
        if self.options.get("service") and record.service != self.options["service"]:
            raise ConfigurationError(f"service {self.options['service']} conflicts with the Resource Controller, which says instance {guid} "
                                     f"is a {CRN_SERVICE_OF[record.service]} instance ({record.service})")
        given_region = self.options.get("region") or (self.instance.region if self.instance else None)
        if given_region and record.region and given_region != record.region:
            raise ConfigurationError(f"region {given_region} conflicts with the Resource Controller, which says instance {guid} is in {record.region}")
        self.record = record
        self.known_service = self.service = record.service
        self.plan = record.plan
        self.source = "resource_controller"
        endpoints = record.endpoints()
        if endpoints is not None:
            return endpoints
        if record.service == "hs_crypto":
            endpoints, self.last_correlation_id = discover_endpoints(self.sender, self.broker_url, guid)
            self.source = "broker"
            return endpoints
        if record.plan != "dedicated" and record.region:
            self.source = "region"
            return key_protect_endpoints(record.region)
        raise ConfigurationError(f"The Resource Controller's record of instance {guid} holds no endpoints (extensions.endpoints); "
                                 "give endpoint (the instance's key management URL)")

    @property
    def endpoint_type(self):
        return self.options.get("endpoint_type") or "public"

    def kms_url(self):
        """``endpoint`` when given, else the kms URL of ``endpoint_type``: discovered, or Key Protect's for the region."""
        if self.options.get("endpoint"):
            return self.options["endpoint"]
        url = self.endpoints()["kms"].get(self.endpoint_type)
        if not url:  # (Key Protect always has both)
            other = "private" if self.endpoint_type == "public" else "public"
            raise ConfigurationError(f"The broker lists no {self.endpoint_type} kms endpoint for instance {self.instance.guid}; "
                                     f"try endpoint_type={other}")
        if self.endpoint_type == "private":
            # So that a failure to reach it says where a private endpoint can be reached from, whatever its name.
            self.transport.private_hosts.add(host_of(url))
        return url

    @property
    def kms(self):
        if self._kms is None:
            self.require_instance()
            self._kms = KmsClient(self.sender, self.kms_url(), self.instance.guid)
        return self._kms

    @property
    def correlation_id(self):
        """Correlation id of the last request sent to the KMS API (or the broker)."""
        if self._kms is not None and self._kms.last_correlation_id:
            return self._kms.last_correlation_id
        return self.last_correlation_id
