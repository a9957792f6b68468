# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""IBM Cloud IAM: exchange an API key for an access token, and keep it fresh.

The token is JWT-shaped; its ``exp``/``iat`` claims are read (not verified: the
service verifies it) to know when to refresh. A token given by the user is used
as long as it is valid; with an API key too, an expired or rejected token is
replaced by a fresh one.
"""

import base64
import json
import time

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, IamError, Redactor

DEFAULT_IAM_URL = "https://iam.cloud.ibm.com"
TOKEN_PATH = "/identity/token"
GRANT_TYPE_API_KEY = "urn:ibm:params:oauth:grant-type:apikey"


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


class TokenProvider:
    """Hands out the bearer token for requests and replaces it when needed.

    ``api_key`` only: a token is requested lazily and renewed near its expiry.
    ``iam_token`` only: it is used as given (a 401 is the caller's error).
    Both: the given token is used first; when it is expired or the service
    rejects it, a fresh one is obtained with the API key, once per request.
    """

    def __init__(self, transport, api_key=None, iam_token=None, iam_url=None, redactor=None, clock=None):
        if not api_key and not iam_token:
            raise ConfigurationError("Either api_key or iam_token is required to authenticate (set api_key, or the IBMCLOUD_API_KEY "
                                     "environment variable)")
        self.transport = transport
        self.api_key = api_key
        self.iam_url = (iam_url or DEFAULT_IAM_URL).rstrip("/")
        self.redact = redactor or Redactor()
        self.redact.add(api_key)
        self._clock = clock or time.time
        self._token = None
        self.requests_made = 0
        self.seen = []  # every access token used in this run, so callers can keep them out of output
        if iam_token:
            self._set(IamToken(strip_bearer(iam_token)))

    @property
    def can_refresh(self):
        return bool(self.api_key)

    def _set(self, token):
        self.redact.add(token.access_token)
        self.seen.append(token.access_token)
        self._token = token

    def token(self):
        """The current ``IamToken``, obtaining or renewing it when needed.

        A token given without an API key that cannot work (not an IAM access token, or expired by its own ``exp``
        claim) is refused here, before any request, as nothing could renew it.
        """
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
        """Exchange the API key for a new token."""
        if not self.api_key:
            raise ConfigurationError("The IAM token is expired or was rejected, and no api_key was given to obtain a new one")
        self._set(self.request_token())
        return self._token

    def request_token(self):
        url = self.iam_url + TOKEN_PATH
        self.requests_made += 1
        response = self.transport.send(
            "POST", url,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            data={"grant_type": GRANT_TYPE_API_KEY, "apikey": self.api_key},
            # Asking for a token changes nothing: re-sending it is safe.
            idempotent=True,
        )
        body = response.json()
        if not response.ok:
            raise self._error(response, body)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise IamError(f"IAM answered {response.status} without an access token", status=response.status,
                           correlation_id=response.correlation_id, method="POST", url=url)
        now = int(self._clock())
        expiration = _int_or_none(body.get("expiration"))
        expires_in = _int_or_none(body.get("expires_in"))
        if expiration is None and expires_in is not None:
            expiration = now + expires_in
        issued_at = expiration - expires_in if (expiration is not None and expires_in is not None) else None
        return IamToken(body["access_token"], expiration=expiration, issued_at=issued_at, token_type=body.get("token_type"))

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
