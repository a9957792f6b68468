# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""The instance's import token (https://cloud.ibm.com/apidocs/hs-crypto, "Import tokens"): create it, retrieve its public key and nonce.

An instance has at most one token; creating one replaces the previous one. The
token can only be read by retrieving it, and every retrieval uses up one of its
``max_allowed_retrievals``: both are changes, so check mode sends nothing.
"""

import base64
import binascii

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, shown

EXPIRATION_RANGE = (300, 86400)
RETRIEVALS_RANGE = (1, 500)
DEFAULT_EXPIRATION = 600
DEFAULT_RETRIEVALS = 1


def _check_range(value, option, bounds, unit=""):
    low, high = bounds
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"{option} must be a whole number from {int(low)} to {int(high)}{unit} (got {shown(value)})")
    return value


class ImportTokenRequest:
    """Create (``state=present``) and/or retrieve (``retrieve=true``), checked before any request."""

    def __init__(self, state=None, retrieve=False, expiration=None, max_allowed_retrievals=None):
        if state not in (None, "present"):
            raise ConfigurationError("state must be present")
        self.create = state == "present"
        self.retrieve = bool(retrieve)
        self.expiration = _check_range(expiration, "expiration", EXPIRATION_RANGE, " seconds")
        self.max_allowed_retrievals = _check_range(max_allowed_retrievals, "max_allowed_retrievals", RETRIEVALS_RANGE)
        if not (self.create or self.retrieve):
            raise ConfigurationError("nothing to do: set state=present to create an import token, retrieve=true to retrieve it, or both")
        if not self.create and (expiration is not None or max_allowed_retrievals is not None):
            raise ConfigurationError("expiration and max_allowed_retrievals are only used with state=present (they are set when a token "
                                     "is created)")

    @classmethod
    def from_params(cls, params):
        return cls(**dict((name, params.get(name)) for name in ("state", "retrieve", "expiration", "max_allowed_retrievals")))

    def body(self):
        body = {}
        if self.expiration is not None:
            body["expiration"] = self.expiration
        if self.max_allowed_retrievals is not None:
            body["maxAllowedRetrievals"] = self.max_allowed_retrievals
        return body


def token_result(raw):
    """Token metadata as modules return it (never the public key or nonce: those are returned beside it)."""
    if raw is None:
        return None
    return {
        "creation_date": raw.get("creationDate"),
        "expiration_date": raw.get("expirationDate"),
        "expiration": raw.get("expiration"),
        "max_allowed_retrievals": raw.get("maxAllowedRetrievals"),
        "remaining_retrievals": raw.get("remainingRetrievals"),
    }


def public_key_pem(payload):
    """The service sends the PEM public key base64-encoded; return the PEM text (or the value as sent if it is not base64)."""
    if not payload:
        return None
    try:
        return base64.b64decode(payload, validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return payload


def _explain_restricted(exc):
    """A Key Protect Dedicated instance refuses import tokens with 403 FEATURE_RESTRICTED_ERR: say what that means."""
    if exc.has_code("FEATURE_RESTRICTED_ERR"):
        exc.message += (" (the instance does not support import tokens: Key Protect Dedicated instances have no secure import; "
                        "a plain import over TLS works)")


def run_import_token(kms, request, check_mode=False):
    created = None
    retrieved = None
    if request.create:
        if check_mode:
            created = {"expiration": request.expiration or DEFAULT_EXPIRATION,
                       "maxAllowedRetrievals": request.max_allowed_retrievals or DEFAULT_RETRIEVALS}
            created["remainingRetrievals"] = created["maxAllowedRetrievals"] - (1 if request.retrieve else 0)
        else:
            try:
                answer = kms.request("POST", "import_token", body=request.body(), context="Creating an import token")
            except ApiError as exc:
                _explain_restricted(exc)
                raise
            created = answer.data
            if not isinstance(created, dict):
                raise answer.malformed("is not a JSON object", "Creating an import token")
    if request.retrieve and not check_mode:
        try:
            answer = kms.request("GET", "import_token", context="Retrieving the import token")
        except ApiError as exc:
            _explain_restricted(exc)
            if exc.has_code("IMPORT_TOKEN_EXPIRED_ERR") or exc.status == 409:
                exc.message += (" (there is no usable import token: none was created, it expired, or it was retrieved "
                                "max_allowed_retrievals times; create a new one with state=present)")
            if request.create:
                exc.partial = {"changed": True, "created": True}  # the token was created before the retrieval failed
            raise
        retrieved = answer.data
        if not (isinstance(retrieved, dict) and isinstance(retrieved.get("payload"), str) and isinstance(retrieved.get("nonce"), str)):
            raise answer.malformed("has no public key (payload) and nonce", "Retrieving the import token")
    token = retrieved if isinstance(retrieved, dict) else created if isinstance(created, dict) else None
    return {
        "changed": True,
        "created": request.create,
        "retrieved": request.retrieve,
        "import_token": token_result(token),
        "public_key": public_key_pem(retrieved.get("payload")) if isinstance(retrieved, dict) else None,
        "nonce": retrieved.get("nonce") if isinstance(retrieved, dict) else None,
    }
