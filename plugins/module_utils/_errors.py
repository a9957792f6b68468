# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Typed errors raised by the REST client.

The client never talks to Ansible: it raises these, and the module layer turns
them into one failure shape (see ``module_base.HsCryptoModule.fail_from``).
Every message that leaves this file has been passed through a ``Redactor`` by
the code that built it, so no secret the client knows about can reach a user.
"""

REDACTED = "********"
SHOWN_LIMIT = 60


def shown(value, limit=SHOWN_LIMIT):
    """A user's value as a message echoes it: quoted, control characters escaped, and clipped when long."""
    text = repr(value)
    if len(text) > limit:
        text = f"{text[:limit]}... ({int(len(value) if hasattr(value, '__len__') else len(text))} characters)"
    return text


class Redactor:
    """Remembers secret values and removes them from text.

    The client registers the API key and every token it sends; anything it puts
    in an exception message is scrubbed first. Secrets shorter than four
    characters are ignored (replacing them would mangle ordinary words).
    """

    def __init__(self, secrets=None):
        self._secrets = set()
        for value in secrets or ():
            self.add(value)

    def add(self, value):
        if value and len(value) >= 4:
            self._secrets.add(value)

    def __call__(self, text):
        if text is None:
            return None
        if not isinstance(text, str):
            text = str(text)
        # Longest first, so a secret containing another is removed whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class HsCryptoError(Exception):
    """Base class of every error the collection's client raises.

    ``partial`` is set (``{"changed": True, "actions": [...]}``) when the error came after writes that were made:
    the failure must still report them.
    """

    partial = None

    def __init__(self, message, status=None, reasons=None, correlation_id=None, method=None, url=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.reasons = list(reasons or [])
        self.correlation_id = correlation_id
        self.method = method
        self.url = url

    @property
    def codes(self):
        """Reason codes of the service, e.g. ``['KEY_NOT_FOUND_ERR']``."""
        return [r.get("code") for r in self.reasons if isinstance(r, dict) and r.get("code")]

    def has_code(self, code):
        return code in self.codes

    def to_dict(self):
        """The structured part of a failure result (no message: the caller adds context)."""
        return {
            "status": self.status,
            "reasons": self.reasons,
            "codes": self.codes,
            "correlation_id": self.correlation_id,
            "method": self.method,
            "url": self.url,
        }

    def __str__(self):
        return self.message


class ConfigurationError(HsCryptoError):
    """The options given cannot work (raised before any request is sent)."""


class TransportError(HsCryptoError):
    """The service could not be reached: connection refused, timeout, TLS failure."""


class ApiError(HsCryptoError):
    """The service answered with an error status (KMS, broker or IAM)."""

    @property
    def is_not_found(self):
        return self.status == 404

    @property
    def is_unauthorized(self):
        return self.status in (401, 403)


class IamError(ApiError):
    """IAM refused to issue a token (bad API key, bad request)."""
