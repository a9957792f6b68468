# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Actions on one root key (https://cloud.ibm.com/apidocs/hs-crypto, "Keys"): rotate, and wrap/unwrap/rewrap of data keys.

``hs_crypto_key_rotate`` and ``hs_crypto_key_wrap`` build a request object here
(checked before any request, raising ``ConfigurationError`` naming the option
and the rule) and hand it to a service. Key material, plaintext, ciphertext and
AAD never appear in a message.
"""

import datetime
import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, HsCryptoError, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import (
    ENCRYPTION_ALGORITHMS, ROOT_KEY_SIZES, check_alias, decode_base64, format_rfc3339, parse_key_id, parse_rfc3339)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import KeyFinder, is_deleted, key_result, key_type
from ansible_collections.ibm.hs_crypto.plugins.module_utils._safe_write import SafeWriter

ROTATION_PAUSE = datetime.timedelta(hours=1)
NEW_VERSION = "(new version)"  # what a check-mode diff shows for the version a rotation would make
MAX_AGE_DAYS = 36500  # a century: beyond it the age condition means nothing (and dates overflow)
MAX_WRAP_PLAINTEXT = 4096  # base64 characters (https://cloud.ibm.com/apidocs/hs-crypto, "Wrap a key")
MAX_AAD_ITEMS = 126
MAX_AAD_LENGTH = 255
OPERATIONS = ("wrap", "unwrap", "rewrap")
NUMERIC_OFFSET_RE = re.compile(r"([+-]\d{2})(\d{2})$")


def key_reference(key_id=None, alias=None):
    """The path reference of one key (its UUID, or an alias) and how to name it in messages."""
    if key_id:
        ref = parse_key_id(key_id, alias_option="alias")
        return ref, f"key {ref}"
    if alias:
        return check_alias(alias, "alias"), f"key with alias {alias}"
    raise ConfigurationError("one of key_id or alias is required")


def parse_service_date(value, field):
    """A date the service sent (RFC 3339; a ``+0000`` offset as some answers carry it is accepted too)."""
    text = NUMERIC_OFFSET_RE.sub(r"\1:\2", (value or "").strip())
    try:
        return parse_rfc3339(text, field)
    except ConfigurationError:
        raise HsCryptoError(f"The service returned {field}={shown(value)}, which is not an RFC 3339 date")


def version_of(raw):
    """``{id, creation_date}`` of the key's current version (the key's own id and dates before its first rotation)."""
    version = raw.get("keyVersion") if isinstance(raw.get("keyVersion"), dict) else {}
    return {"id": version.get("id") or raw.get("id"),
            "creation_date": version.get("creationDate") or raw.get("lastRotateDate") or raw.get("creationDate")}


# -- rotate ----------------------------------------------------------------------------------------------------
class RotateRequest:
    """A rotation: which key, new key material for an imported key, and the age condition."""

    def __init__(self, key_id=None, alias=None, payload=None, encrypted_nonce=None, iv=None, encryption_algorithm=None,
                 older_than_days=None):
        self.ref, self.label = key_reference(key_id, alias)
        self.payload = payload
        self.encrypted_nonce = encrypted_nonce
        self.iv = iv
        self.encryption_algorithm = encryption_algorithm
        self.older_than_days = older_than_days
        self._check()

    @classmethod
    def from_params(cls, params):
        return cls(**dict((name, params.get(name)) for name in (
            "key_id", "alias", "payload", "encrypted_nonce", "iv", "encryption_algorithm", "older_than_days")))

    @property
    def secure_import(self):
        return bool(self.encrypted_nonce or self.iv)

    def _check(self):
        days = self.older_than_days
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_AGE_DAYS):
            raise ConfigurationError(f"older_than_days must be a whole number of days from 0 to {int(MAX_AGE_DAYS)} (got {shown(days)})")
        if self.encryption_algorithm is not None and self.encryption_algorithm not in ENCRYPTION_ALGORITHMS:
            raise ConfigurationError(f"encryption_algorithm must be one of {', '.join(ENCRYPTION_ALGORITHMS)}")
        if bool(self.encrypted_nonce) != bool(self.iv):
            raise ConfigurationError("encrypted_nonce and iv go together (a rotation with an import token needs both)")
        if self.secure_import:
            if not self.payload:
                raise ConfigurationError("encrypted_nonce and iv need payload (the new key material encrypted with the import "
                                         "token's public key)")
            decode_base64(self.encrypted_nonce, "encrypted_nonce")
            decode_base64(self.iv, "iv")
        elif self.encryption_algorithm is not None:
            raise ConfigurationError("encryption_algorithm is only used with encrypted_nonce and iv (rotation with an import token)")
        if self.payload is None:
            return
        material = decode_base64(self.payload, "payload")
        if not self.secure_import and len(material) not in ROOT_KEY_SIZES:
            raise ConfigurationError("payload: new root key material must be 16, 24 or 32 bytes (128, 192 or 256 bits), got %d bytes"
                                     % len(material))

    def body(self):
        if self.payload is None:
            return None
        body = {"payload": self.payload}
        if self.secure_import:
            body.update(encryptedNonce=self.encrypted_nonce, iv=self.iv)
            if self.encryption_algorithm:
                body["encryptionAlgorithm"] = self.encryption_algorithm
        return body


class KeyRotator:
    """Rotates a root key when asked (or when its current version is old enough); check mode predicts without writing."""

    def __init__(self, kms, check_mode=False, now=None, sleep=None):
        self.kms = kms
        self.check_mode = check_mode
        self.finder = KeyFinder(kms)
        self.writer = SafeWriter(kms, sleep=sleep)
        self._now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))

    def rotate(self, request):
        raw = self.finder.get(request.ref, context=f"Reading {request.label}")
        if raw is None:
            raise HsCryptoError(f"No {request.label} exists (or it was purged)")
        self._check_rotatable(raw, request)
        key_id = raw["id"]
        before = version_of(raw)
        outcome = {"changed": False, "rotated": False, "previous_version": None, "key_version": before, "msg": None,
                   "before": raw, "after": raw}
        now = self._now()
        if request.older_than_days is not None:
            since = parse_service_date(before["creation_date"], "keyVersion.creationDate")
            due = since + datetime.timedelta(days=request.older_than_days)
            if now < due:
                outcome["msg"] = ("Key %s was not rotated: its current version is from %s, %d day(s) old; with older_than_days=%d "
                                  "it is due from %s." % (key_id, format_rfc3339(since), (now - since).days,
                                                          request.older_than_days, format_rfc3339(due)))
                return outcome
        outcome.update(changed=True, rotated=True, previous_version=before)
        if self.check_mode:
            last = raw.get("lastRotateDate")
            if last and now < parse_service_date(last, "lastRotateDate") + ROTATION_PAUSE:
                raise HsCryptoError(self._too_soon(key_id, last))
            predicted = dict(raw, lastRotateDate=None, keyVersion={"id": None, "creationDate": None})
            outcome.update(after=predicted, key_version={"id": None, "creation_date": None})
            return outcome
        after = self._send(raw, request)
        outcome.update(after=after, key_version=version_of(after))
        return outcome

    @staticmethod
    def _check_rotatable(raw, request):
        key_id = raw.get("id")
        if key_type(raw) == "standard":
            raise HsCryptoError(f"Key {key_id} is a standard key; only root keys can be rotated")
        if is_deleted(raw):
            raise HsCryptoError(f"Key {key_id} is deleted; restore it (hs_crypto_key state=restored) before rotating it")
        if raw.get("state") == 2:
            raise HsCryptoError(f"Key {key_id} is suspended; enable it (hs_crypto_key enabled=true) before rotating it")
        if raw.get("imported") and request.payload is None:
            raise HsCryptoError(f"Key {key_id} was imported: rotating it needs new key material in payload (with encrypted_nonce and iv "
                                "for a rotation through an import token)")
        if not raw.get("imported") and request.payload is not None:
            raise HsCryptoError(f"Key {key_id} was generated by the service, which also generates its new material: payload, "
                                "encrypted_nonce and iv are only for imported keys")

    @staticmethod
    def _too_soon(key_id, last):
        allowed = format_rfc3339(parse_service_date(last, "lastRotateDate") + ROTATION_PAUSE)
        return (f"Key {key_id} was rotated at {last}; the service allows one rotation per hour, so it can be rotated again from {allowed}")

    def _send(self, raw, request):
        """Rotate through the safe writer: after a lost answer or a 5xx, a new key version means it happened; without one it
        is sent again (safe: the service refuses a second rotation within the hour, and that refusal is checked too)."""
        key_id = raw["id"]
        context = f"Rotating key {key_id}"

        def rotated():
            after = self.finder.get(key_id, context=f"Reading key {key_id} after its rotation")
            return after is not None and version_of(after)["id"] != version_of(raw)["id"], after

        try:
            written = self.writer.write(
                lambda: self.kms.request("POST", f"keys/{key_id}/actions/rotate", body=request.body(), key_ring=raw.get("keyRingID"),
                                         prefer="return=representation", context=context),
                rotated, context, conflict_may_be_done=True)
        except ApiError as exc:
            if exc.has_code("KEY_ROTATION_NOT_PERMITTED"):
                why = (self._too_soon(key_id, raw.get("lastRotateDate")) if raw.get("lastRotateDate") else
                       f"Key {key_id} was rotated less than an hour ago; the service allows one rotation per hour")
                exc.message = f"{why}. {exc.message}"
            raise
        after = written.resource("keyVersion", "state")
        if not after or "keyVersion" not in after or "state" not in after:
            after = self.writer.read(lambda: self.finder.get(key_id, context=f"Reading key {key_id} after its rotation"),
                                     f"Reading key {key_id} after its rotation")
        return after


def rotate_result(outcome):
    result = {
        "changed": outcome["changed"],
        "rotated": outcome["rotated"],
        "key": key_result(outcome["after"]),
        "previous_version": outcome["previous_version"],
        "key_version": outcome["key_version"],
        "diff": {"before": {"key_version": version_of(outcome["before"])["id"]},
                 "after": {"key_version": outcome["key_version"]["id"] or NEW_VERSION}},
    }
    if outcome["msg"]:
        result["msg"] = outcome["msg"]
    return result


# -- wrap, unwrap, rewrap ---------------------------------------------------------------------------------------
class WrapRequest:
    """One wrap, unwrap or rewrap, checked before any request (base64, sizes, which inputs go with which operation)."""

    def __init__(self, operation="wrap", key_id=None, alias=None, plaintext=None, ciphertext=None, aad=None):
        if operation not in OPERATIONS:
            raise ConfigurationError(f"operation must be one of {', '.join(OPERATIONS)}")
        self.operation = operation
        self.ref, self.label = key_reference(key_id, alias)
        self.plaintext = plaintext
        self.ciphertext = ciphertext
        self.aad = aad
        self._check()

    @classmethod
    def from_params(cls, params):
        return cls(**dict((name, params.get(name)) for name in ("operation", "key_id", "alias", "plaintext", "ciphertext", "aad")))

    def _check(self):
        if self.operation == "wrap":
            if self.ciphertext is not None:
                raise ConfigurationError("ciphertext is an input of operation=unwrap and operation=rewrap, not of wrap")
            if self.plaintext is not None:
                if not self.plaintext:
                    raise ConfigurationError("plaintext must not be empty; leave it out to have the service generate a data key")
                if len(self.plaintext) > MAX_WRAP_PLAINTEXT:
                    raise ConfigurationError("plaintext must be at most %d base64 characters (got %d)"
                                             % (MAX_WRAP_PLAINTEXT, len(self.plaintext)))
                decode_base64(self.plaintext, "plaintext")
        else:
            if self.plaintext is not None:
                raise ConfigurationError(f"plaintext is an input of operation=wrap only (operation={self.operation} takes ciphertext)")
            if not self.ciphertext:
                raise ConfigurationError(f"operation={self.operation} needs ciphertext (the wrapped data key a wrap returned)")
            decode_base64(self.ciphertext, "ciphertext")
        if self.aad is not None:
            if len(self.aad) > MAX_AAD_ITEMS:
                raise ConfigurationError(f"aad holds at most {int(MAX_AAD_ITEMS)} strings (got {len(self.aad)})")
            for index, item in enumerate(self.aad):
                if not isinstance(item, str) or len(item) > MAX_AAD_LENGTH:
                    raise ConfigurationError(f"aad[{int(index)}] must be a string of at most {int(MAX_AAD_LENGTH)} characters")

    def body(self):
        body = {}
        if self.operation == "wrap":
            if self.plaintext is not None:
                body["plaintext"] = self.plaintext
        else:
            body["ciphertext"] = self.ciphertext
        if self.aad:
            body["aad"] = list(self.aad)
        return body


def _version(value):
    return {"id": value.get("id")} if isinstance(value, dict) and value.get("id") else None


def run_wrap(kms, request):
    """Send the operation (a read on the service: safe to re-send) and return its outputs, null where not applicable."""
    context = f"{request.operation.capitalize()} with {request.label}"
    try:
        result = kms.request("POST", f"keys/{request.ref}/actions/{request.operation}", body=request.body(),
                             idempotent=True, context=context)
    except ApiError as exc:
        if exc.has_code("UNPROCESSABLE_CIPHERTEXT_ERR") or exc.status == 422:
            exc.message += (" (the ciphertext was not wrapped by this key, is damaged, or was wrapped with other aad; "
                            "unwrap and rewrap need exactly the aad given to wrap)")
        elif exc.has_code("KEY_ROOT_REQ_ERR"):
            exc.message += " (only root keys wrap data keys; this is a standard key)"
        elif exc.status == 404:
            exc.message += f" (no {request.label} exists, or it was purged)"
        raise
    answer = result.data if isinstance(result.data, dict) else {}
    # An answer without the output the operation exists for is a malformed answer, never a result of nulls.
    wanted = [field for field, needed in (("plaintext", request.operation == "unwrap" or (request.operation == "wrap" and request.plaintext is None)),
                                          ("ciphertext", request.operation in ("wrap", "rewrap"))) if needed]
    missing = [field for field in wanted if not (isinstance(answer.get(field), str) and answer[field])]
    if missing:
        raise result.malformed(f"has no {' and no '.join(missing)}", context)
    result = {
        "plaintext": answer.get("plaintext") if request.operation == "wrap" and request.plaintext is None else None,
        "ciphertext": None,
        "key_version": _version(answer.get("keyVersion")),
        "rewrapped_key_version": _version(answer.get("rewrappedKeyVersion")),
    }
    if request.operation == "unwrap":
        result["plaintext"] = answer.get("plaintext")
    if request.operation in ("wrap", "rewrap") or result["rewrapped_key_version"]:
        result["ciphertext"] = answer.get("ciphertext")
    return result
