# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""IBM Cloud IAM: obtain an access token, and keep it fresh.

Three ways (grants) to obtain one: an API key; a compute-resource token (a file,
such as the service-account token projected into an OpenShift or IKS pod) plus a
trusted profile; the VPC instance metadata service (an instance identity token,
exchanged for a trusted profile's IAM token). The token is JWT-shaped; its
``exp``/``iat`` claims are read (not verified: the service verifies it) to know
when to refresh. A token given by the user is used as long as it is valid; with
a grant too, an expired or rejected token is replaced by a fresh one.
"""

import base64
import json
import os
import threading
import time

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, IamError, Redactor, TransportError

DEFAULT_IAM_URL = "https://iam.cloud.ibm.com"
TOKEN_PATH = "/identity/token"
GRANT_TYPE_API_KEY = "urn:ibm:params:oauth:grant-type:apikey"
GRANT_TYPE_CR_TOKEN = "urn:ibm:params:oauth:grant-type:cr-token"
# Where IBM's SDK core looks for a compute-resource token when no file is named, in this order.
DEFAULT_CR_TOKEN_FILES = (
    "/var/run/secrets/tokens/vault-token",
    "/var/run/secrets/tokens/sa-token",
    "/var/run/secrets/codeengine.cloud.ibm.com/compute-resource-token/token",
)
DEFAULT_METADATA_URL = "http://169.254.169.254"
# VPC instance metadata API versions and their paths: (identity token, IAM token).
METADATA_PATHS = {
    "2022-03-01": ("/instance_identity/v1/token", "/instance_identity/v1/iam_token"),
    "2025-08-26": ("/identity/v1/token", "/identity/v1/iam_tokens"),
}
DEFAULT_METADATA_VERSION = "2022-03-01"
IDENTITY_TOKEN_LIFETIME = 300
MAX_CR_TOKEN_SIZE = 64 * 1024


def decode_jwt_claims(token):
    """The claims of a JWT-shaped token, or ``{}`` when it is not one."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except (ValueError, TypeError, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def strip_bearer(token):
    """Accept ``Bearer eyJ...`` as printed by ``ibmcloud iam oauth-tokens`` as well as the bare token."""
    token = (token or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token


class IamToken:
    """An access token with its lifetime (``expiration``/``issued_at`` are epoch seconds or None)."""

    def __init__(self, access_token, expiration=None, issued_at=None, token_type="Bearer"):
        self.access_token = access_token
        self.token_type = token_type or "Bearer"
        claims = decode_jwt_claims(access_token)
        self.claims = claims
        self.expiration = expiration if expiration is not None else _int_or_none(claims.get("exp"))
        self.issued_at = issued_at if issued_at is not None else _int_or_none(claims.get("iat"))

    @property
    def identity(self):
        """Non-secret facts about who the token is for."""
        account = self.claims.get("account")
        return {
            "iam_id": self.claims.get("iam_id"),
            "subject": self.claims.get("sub"),
            "account_id": account.get("bss") if isinstance(account, dict) else None,
        }

    def needs_refresh(self, now=None):
        """True once 80 % of the lifetime has passed (at most 60 s before expiry); False when the expiry is unknown."""
        if self.expiration is None:
            return False
        now = time.time() if now is None else now
        lifetime = (self.expiration - self.issued_at) if self.issued_at else 3600
        margin = min(60.0, 0.2 * max(lifetime, 0))
        return now >= self.expiration - margin

    def expired(self, now=None):
        if self.expiration is None:
            return False
        now = time.time() if now is None else now
        return now >= self.expiration


def format_epoch(seconds):
    """Epoch seconds as RFC 3339 UTC (``2026-12-01T04:39:38Z``); the number itself when it is out of range."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    except (OverflowError, ValueError, OSError):
        return f"{seconds} (epoch seconds)"


def _int_or_none(value):
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _token_from_body(body, now):
    """An ``IamToken`` from a token answer (IAM's ``expiration``/``expires_in``, or VPC's ``expires_in``)."""
    expiration = _int_or_none(body.get("expiration"))
    expires_in = _int_or_none(body.get("expires_in"))
    if expiration is None and expires_in is not None:
        expiration = now + expires_in
    issued_at = expiration - expires_in if (expiration is not None and expires_in is not None) else None
    return IamToken(body["access_token"], expiration=expiration, issued_at=issued_at, token_type=body.get("token_type"))


class ApiKeyGrant:
    """IAM's API-key grant."""

    name = "api_key"

    def __init__(self, api_key):
        self.api_key = api_key

    def secrets(self):
        return [self.api_key]

    def request_token(self, provider):
        return provider.iam_form({"grant_type": GRANT_TYPE_API_KEY, "apikey": self.api_key})


class ComputeResourceGrant:
    """IAM's compute-resource-token grant: the token file's content plus a trusted profile (id, name and/or CRN).

    The file is read at every exchange, as a projected service-account token is rotated by the platform. The fields
    given are sent as they are (IBM's SDK core sends ``profile_id``/``profile_name``; the IBM Cloud CLI's SDK also
    ``profile_crn``: docs/design-choices.md, "Trusted profiles").
    """

    name = "container"

    def __init__(self, cr_token_file=None, profile_id=None, profile_name=None, profile_crn=None, exists=None, reader=None):
        # The profile is checked when a token is asked for (before any request), not here: a check of each option on its
        # own (the role's hs_crypto_check) must not find auth_type=container wrong because the profile is another option.
        self.cr_token_file = cr_token_file
        self.profile = {"profile_id": profile_id, "profile_name": profile_name, "profile_crn": profile_crn}
        self._exists = exists or os.path.isfile
        self._read = reader or _read_token_file
        self.last_cr_token = None

    def token_file(self):
        """The file named, else the first of IBM's default locations that exists."""
        if self.cr_token_file:
            return self.cr_token_file
        for path in DEFAULT_CR_TOKEN_FILES:
            if self._exists(path):
                return path
        raise ConfigurationError(
            "No compute-resource token file: set cr_token_file (environment CR_TOKEN_FILENAME) to the file holding it, such as "
            f"the projected service-account token of the pod; none of the default locations exists ({', '.join(DEFAULT_CR_TOKEN_FILES)})")

    def secrets(self):
        return [self.last_cr_token] if self.last_cr_token else []

    def check(self):
        if not any(self.profile.values()):
            raise ConfigurationError(
                "A trusted profile is required to sign in with a compute-resource token: set iam_profile_id, iam_profile_name or "
                "iam_profile_crn (environment IAM_PROFILE_ID, IAM_PROFILE_NAME or IAM_PROFILE_CRN)")

    def request_token(self, provider):
        self.check()
        cr_token = self._read(self.token_file())
        self.last_cr_token = cr_token
        provider.redact.add(cr_token)
        form = {"grant_type": GRANT_TYPE_CR_TOKEN, "cr_token": cr_token}
        form.update((field, value) for field, value in self.profile.items() if value)
        return provider.iam_form(form)


def _read_token_file(path):
    """The token in ``path``, stripped; an error names the file, never its content."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CR_TOKEN_SIZE + 1)
    except OSError as exc:
        raise ConfigurationError(f"cr_token_file {path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_CR_TOKEN_SIZE:
        raise ConfigurationError(f"cr_token_file {path}: larger than {MAX_CR_TOKEN_SIZE} bytes, not a compute-resource token")
    try:
        token = raw.decode("utf-8").strip()
    except UnicodeError:
        raise ConfigurationError(f"cr_token_file {path}: not text (a compute-resource token is a JWT)") from None
    if not token:
        raise ConfigurationError(f"cr_token_file {path}: the file is empty (the platform has not written the token yet?)")
    return token


class VpcInstanceGrant:
    """The VPC instance metadata flow: an instance identity token, then an IAM token for a trusted profile.

    The profile is given by id or by CRN (at most one); with neither, the metadata service uses the instance's
    default trusted profile. Each renewal asks the metadata service again (two requests).
    """

    name = "vpc"

    def __init__(self, metadata_url=None, version=None, profile_id=None, profile_crn=None, profile_name=None):
        if profile_name:
            raise ConfigurationError("iam_profile_name is not accepted by the VPC instance metadata service: give iam_profile_id or "
                                     "iam_profile_crn, or neither for the instance's default trusted profile")
        if profile_id and profile_crn:
            raise ConfigurationError("iam_profile_id and iam_profile_crn are mutually exclusive with auth_type=vpc (the metadata "
                                     "service takes one trusted profile, by id or by CRN)")
        self.version = version or DEFAULT_METADATA_VERSION
        if self.version not in METADATA_PATHS:
            raise ConfigurationError(f"metadata_version must be one of {', '.join(METADATA_PATHS)} (got {self.version[:40]})")
        self.metadata_url = (metadata_url or DEFAULT_METADATA_URL).rstrip("/")
        self.profile_id = profile_id
        self.profile_crn = profile_crn
        self.last_identity_token = None

    def secrets(self):
        return [self.last_identity_token] if self.last_identity_token else []

    def _url(self, step):
        return self.metadata_url + METADATA_PATHS[self.version][step]

    def request_token(self, provider):
        url = self._url(0)
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Metadata-Flavor": "ibm"}
        identity = self._call(provider, "PUT", url, headers, {"expires_in": IDENTITY_TOKEN_LIFETIME}, "an instance identity token")
        self.last_identity_token = identity["access_token"]
        provider.redact.add(self.last_identity_token)
        url = self._url(1)
        headers = dict(headers, Authorization=f"Bearer {self.last_identity_token}")
        body = None
        if self.profile_id:
            body = {"trusted_profile": {"id": self.profile_id}}
        elif self.profile_crn:
            body = {"trusted_profile": {"crn": self.profile_crn}}
        answer = self._call(provider, "POST", url, headers, body, "an IAM token for the trusted profile")
        return _token_from_body(answer, int(provider.clock()))

    def _call(self, provider, method, url, headers, body, what):
        provider.requests_made += 1
        try:
            response = provider.transport.send(method, url, headers=headers, params={"version": self.version}, json_body=body,
                                               idempotent=True)
        except TransportError as exc:
            raise TransportError(
                f"{exc.message}. The VPC instance metadata service ({self.metadata_url}) answers only on a VPC virtual server whose "
                "metadata service is enabled (auth_type=vpc); elsewhere use auth_type=container or an API key",
                method=method, url=url, correlation_id=exc.correlation_id) from None
        answer = response.json()
        if not response.ok:
            code = message = None
            errors = answer.get("errors") if isinstance(answer, dict) else None
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                code, message = errors[0].get("code"), errors[0].get("message")
            message = provider.redact(message) if isinstance(message, str) and message else f"HTTP {response.status}"
            code = provider.redact(code) if isinstance(code, str) and code else None
            text = f"The VPC instance metadata service refused to issue {what}: {message}" + (f" ({code})" if code else "")
            trace = answer.get("trace") if isinstance(answer, dict) and isinstance(answer.get("trace"), str) else None
            raise IamError(text, status=response.status, reasons=[{"code": code, "message": message}] if code else [],
                           correlation_id=trace or response.correlation_id, method=method, url=url)
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str) or not answer["access_token"]:
            raise IamError(f"The VPC instance metadata service answered {response.status} without {what}", status=response.status,
                           correlation_id=response.correlation_id, method=method, url=url)
        return answer


class TokenProvider:
    """Hands out the bearer token for requests and replaces it when needed.

    A grant (``api_key``, or ``grant``: a ``ComputeResourceGrant`` or ``VpcInstanceGrant``) only: a token is requested
    lazily and renewed near its expiry. ``iam_token`` only: it is used as given (a 401 is the caller's error).
    Both: the given token is used first; when it is expired or the service rejects it, a fresh one is obtained with
    the grant, once per request.
    """

    def __init__(self, transport, api_key=None, iam_token=None, iam_url=None, redactor=None, clock=None, grant=None):
        if grant is None and api_key:
            grant = ApiKeyGrant(api_key)
        if grant is None and not iam_token:
            raise ConfigurationError("Either api_key or iam_token is required to authenticate (set api_key, or the IBMCLOUD_API_KEY "
                                     "environment variable), or a trusted profile (auth_type, iam_profile_id, cr_token_file)")
        self.transport = transport
        self.grant = grant
        self.api_key = grant.api_key if isinstance(grant, ApiKeyGrant) else None
        self.iam_url = (iam_url or DEFAULT_IAM_URL).rstrip("/")
        self.redact = redactor or Redactor()
        self.redact.add(self.api_key)
        self._clock = clock or time.time
        self._token = None
        # Workers of one module share the provider: one of them obtains or renews the token, the others wait for it.
        self._lock = threading.RLock()
        self.requests_made = 0
        self.seen = []  # every access token used in this run, so callers can keep them out of output
        if iam_token:
            self._set(IamToken(strip_bearer(iam_token)))

    @property
    def can_refresh(self):
        return self.grant is not None

    def clock(self):
        return self._clock()

    def secrets(self):
        """The sign-in secrets other than access tokens (API key, compute-resource token, instance identity token)."""
        return [value for value in (self.grant.secrets() if self.grant is not None else []) if value]

    def _set(self, token):
        self.redact.add(token.access_token)
        self.seen.append(token.access_token)
        self._token = token

    def token(self):
        """The current ``IamToken``, obtaining or renewing it when needed.

        A token given without a grant that cannot work (not an IAM access token, or expired by its own ``exp``
        claim) is refused here, before any request, as nothing could renew it.
        """
        with self._lock:
            if self._token is None or (self.can_refresh and self._token.needs_refresh(self._clock())):
                self.refresh()
            elif not self.can_refresh:
                self._check_usable(self._token)
            return self._token

    def _check_usable(self, token):
        if not token.claims:
            raise ConfigurationError(
                "iam_token is not an IAM access token (IBM Cloud IAM access tokens are JWTs: three base64url parts separated by "
                "dots, as 'ibmcloud iam oauth-tokens' prints them), and no api_key was given to obtain one: give api_key "
                "(or IBMCLOUD_API_KEY), or a current access token")
        if token.expired(self._clock()):
            raise ConfigurationError(
                f"iam_token expired at {format_epoch(token.expiration)} (its exp claim), and no api_key was given to obtain "
                "a new one: give api_key (or IBMCLOUD_API_KEY) along with the token, or a fresh token")

    def authorization(self):
        token = self.token()
        return f"Bearer {token.access_token}"

    def refresh(self):
        """Obtain a new token with the grant (API key, compute-resource token or instance metadata)."""
        if self.grant is None:
            raise ConfigurationError("The IAM token is expired or was rejected, and no api_key was given to obtain a new one")
        with self._lock:
            self._set(self.request_token())
            return self._token

    def refresh_rejected(self, authorization):
        """A request sent with ``authorization`` got a 401: renew the token, unless another worker already did."""
        with self._lock:
            if self._token is None or f"Bearer {self._token.access_token}" == authorization:
                self.refresh()

    def request_token(self):
        return self.grant.request_token(self)

    def iam_form(self, form):
        """POST a grant's form to IAM's token endpoint; the ``IamToken`` it answers with."""
        url = self.iam_url + TOKEN_PATH
        self.requests_made += 1
        response = self.transport.send(
            "POST", url,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            data=form,
            # Asking for a token changes nothing: re-sending it is safe.
            idempotent=True,
        )
        body = response.json()
        if not response.ok:
            raise self._error(response, body)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise IamError(f"IAM answered {response.status} without an access token", status=response.status,
                           correlation_id=response.correlation_id, method="POST", url=url)
        return _token_from_body(body, int(self._clock()))

    def _error(self, response, body):
        code = message = request_id = None
        if isinstance(body, dict):
            code = body.get("errorCode")
            message = body.get("errorMessage")
            context = body.get("context")
            if isinstance(context, dict) and isinstance(context.get("requestId"), str):
                request_id = context.get("requestId")
        if not isinstance(message, str) or not message:
            message = f"HTTP {response.status}"
        code = self.redact(code) if isinstance(code, str) and code else None
        reasons = [{"code": code, "message": self.redact(message)}] if code else []
        text = f"IAM refused to issue a token: {self.redact(message)}"
        if code:
            text += f" ({code})"
        return IamError(text, status=response.status, reasons=reasons,
                        correlation_id=request_id or response.correlation_id,
                        method="POST", url=self.iam_url + TOKEN_PATH)
