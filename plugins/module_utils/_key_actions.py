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
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_info import DatedKms, read_rotation_policy
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import (
    ENCRYPTION_ALGORITHMS, ROOT_KEY_SIZES, UUID_RE, check_alias, check_key_ring, decode_base64, format_rfc3339, key_reference_of,
    parse_key_id, parse_rfc3339)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import KeyFinder, is_deleted, key_result, key_type
from ansible_collections.ibm.hs_crypto.plugins.module_utils._safe_write import SafeWriter
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import run_all

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


# -- rotate a selection of keys -----------------------------------------------------------------------------------
SELECT_OPTIONS = ("older_than_days", "key_ring", "without_rotation_policy", "aliases", "all_root_keys")
SINGLE_KEY_SECRETS = ("payload", "encrypted_nonce", "iv", "encryption_algorithm")
MAX_SELECTION = 1000
ROTATABLE_SELECTED = (1,)  # a selection lists active root keys


class _NoMaterial:
    """The request of a rotation of a generated key: no body."""

    @staticmethod
    def body():
        return None


class BulkRotateRequest:
    """A rotation of several keys: ``crypto_keys`` (ids, CRNs or aliases, in order) or ``select`` (one listing of the active
    root keys matching every criterion given). Checked before any request."""

    def __init__(self, crypto_keys=None, select=None, older_than_days=None, instance_guid=None, **single):
        if crypto_keys is not None and select is not None:
            raise ConfigurationError("crypto_keys and select are mutually exclusive (a list of keys, or a selection)")
        if crypto_keys is None and select is None:
            raise ConfigurationError("one of crypto_keys or select is required")
        given = [name for name in SINGLE_KEY_SECRETS if single.get(name) is not None]
        if given:
            raise ConfigurationError(f"{', '.join(given)} rotate one imported key (with key_id or alias): not allowed with "
                                     f"{'crypto_keys' if crypto_keys is not None else 'select'}; imported keys are rotated one at a time")
        if older_than_days is not None and select is not None:
            raise ConfigurationError("older_than_days goes with key_id, alias or crypto_keys; with select, use select.older_than_days")
        self.older_than_days = _days(older_than_days, "older_than_days")
        self.crypto_keys = None
        self.select = None
        if crypto_keys is not None:
            self.crypto_keys = self._check_keys(crypto_keys, instance_guid)
        else:
            self.select = self._check_select(select)

    @classmethod
    def from_params(cls, params, instance_guid=None):
        """The request, or None when the task names one key (key_id or alias)."""
        if params.get("crypto_keys") is None and params.get("select") is None:
            return None
        return cls(crypto_keys=params.get("crypto_keys"), select=params.get("select"), older_than_days=params.get("older_than_days"),
                   instance_guid=instance_guid, **dict((name, params.get(name)) for name in SINGLE_KEY_SECRETS))

    @staticmethod
    def _check_keys(crypto_keys, instance_guid):
        if not isinstance(crypto_keys, list) or not crypto_keys:
            raise ConfigurationError("crypto_keys must be a non-empty list of key ids, key CRNs or aliases")
        if len(crypto_keys) > MAX_SELECTION:
            raise ConfigurationError(f"crypto_keys holds at most {int(MAX_SELECTION)} keys (got {len(crypto_keys)})")
        refs = []
        for index, item in enumerate(crypto_keys):
            option = f"crypto_keys[{int(index)}]"
            if not isinstance(item, str) or not item.strip():
                raise ConfigurationError(f"{option} must be a key id, a key CRN or an alias (got {shown(item)})")
            text = item.strip()
            label = f"key {text}" if text.startswith("crn:") or UUID_RE.match(text) else f"key with alias {text}"
            refs.append((item, key_reference_of(text, instance_guid, option), label))
        return refs

    @staticmethod
    def _check_select(select):
        if not isinstance(select, dict):
            raise ConfigurationError(f"select must be a dictionary of criteria ({', '.join(SELECT_OPTIONS)})")
        unknown = sorted(str(name) for name in select if name not in SELECT_OPTIONS)
        if unknown:
            raise ConfigurationError(f"select: unknown criteria {', '.join(unknown)}; expected {', '.join(SELECT_OPTIONS)}")
        checked = {"older_than_days": _days(select.get("older_than_days"), "select.older_than_days"), "key_ring": None, "aliases": None}
        if select.get("key_ring") is not None:
            checked["key_ring"] = check_key_ring(select["key_ring"], "select.key_ring")
        aliases = select.get("aliases")
        if aliases is not None:
            if not isinstance(aliases, list) or not aliases:
                raise ConfigurationError("select.aliases must be a non-empty list of aliases")
            checked["aliases"] = [check_alias(alias, f"select.aliases[{int(index)}]") for index, alias in enumerate(aliases)]
        for flag in ("without_rotation_policy", "all_root_keys"):
            value = select.get(flag)
            if value is not None and not isinstance(value, bool):
                raise ConfigurationError(f"select.{flag} must be true or false (got {shown(value)})")
            checked[flag] = bool(value)
        if not (checked["all_root_keys"] or checked["key_ring"] or checked["aliases"] or checked["without_rotation_policy"]
                or checked["older_than_days"] is not None):
            raise ConfigurationError("select names no criterion: give older_than_days, key_ring, without_rotation_policy or aliases, "
                                     "or all_root_keys=true to rotate every active root key")
        return checked


def _days(value, option):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AGE_DAYS):
        raise ConfigurationError(f"{option} must be a whole number of days from 0 to {int(MAX_AGE_DAYS)} (got {shown(value)})")
    return value


def _error_text(exc):
    text = str(exc)
    details = [f"HTTP {exc.status}"] if getattr(exc, "status", None) else []
    details += [code for code in getattr(exc, "codes", []) if code not in text]
    return f"{text} [{'; '.join(details)}]" if details else text


class BulkRotator:
    """Rotates several keys with the rules of one key; a key that fails does not stop the others.

    Ages and the service's once-per-hour rule are judged at the service's time (the ``Date`` header of its answers, else
    the local UTC time): for ``crypto_keys`` the time of each key's own read, for ``select`` the time of the listing.
    Check mode sends the same reads and no write, and predicts the same rotations, skips and failures.

    Three steps: the reads (each key, or the listing and the policy reads of ``without_rotation_policy``), then the
    decisions, one key after the other in the order given (so that a key named twice is rotated by its first item, as
    when everything ran in order), then the rotations. Reads and rotations of different keys go side by side,
    ``concurrency`` at a time (``_workers``); check mode sends one request at a time.
    """

    def __init__(self, kms, check_mode=False, sleep=None, clock=None, concurrency=1):
        self.dated = DatedKms(kms, clock)
        self.check_mode = check_mode
        self.rotator = KeyRotator(self.dated, check_mode=check_mode, sleep=sleep)
        self.finder = KeyFinder(self.dated)
        self.done = {}  # key id -> item that rotated it in this run
        self.concurrency = 1 if check_mode else concurrency

    def _each(self, work, items):
        return run_all(work, items, kms=self.dated, concurrency=self.concurrency)

    def run(self, request):
        if request.crypto_keys is not None:
            reads = self._each(lambda entry: self._read_listed(*entry), request.crypto_keys)
            decided = [failure or self._decide(entry[0], raw, now, request.older_than_days)
                       for entry, (raw, failure, now) in zip(request.crypto_keys, reads)]
        else:
            decided = self._selection(request.select)
        results = self._each(self._finish, decided)
        summary = {"total": len(results), "rotated": sum(1 for r in results if r["changed"]),
                   "skipped": sum(1 for r in results if r["skipped"]), "failed": sum(1 for r in results if r["failed"])}
        return results, summary

    def _read_listed(self, item, ref, label):
        raw, failure = self._read(item, ref, label)
        return raw, failure, self.dated.clock.now()

    def _selection(self, select):
        params = {"state": ",".join(str(s) for s in ROTATABLE_SELECTED), "extractable": "false"}
        listed = self.dated.list_all("keys", params=params, key_ring=select["key_ring"], context="Listing the root keys to rotate")
        now = self.dated.clock.fix()
        decided = []
        wanted = set(select["aliases"] or [])
        if wanted:
            held = set(alias for raw in listed for alias in (raw.get("aliases") or []) if isinstance(alias, str))
            for alias in select["aliases"]:
                if alias not in held:
                    decided.append(_entry(alias, None, failed=True, reason="not_found",
                                          msg=f"No active root key{' of key ring ' + select['key_ring'] if select['key_ring'] else ''} "
                                              f"has alias {alias}"))
            listed = [raw for raw in listed if wanted & set(raw.get("aliases") or [])]
        if select["older_than_days"] is not None:
            listed = [raw for raw in listed if self._due(raw, now, select["older_than_days"]) is None]
        if select["without_rotation_policy"]:
            has_policy = self._each(lambda raw: read_rotation_policy(self.dated, raw), listed)
            listed = [raw for raw, enabled in zip(listed, has_policy) if not enabled]
        for raw in listed:
            decided.append(self._decide(raw.get("id"), raw, now, None))
        return decided

    def _read(self, item, ref, label):
        try:
            raw = self.finder.get(ref, context=f"Reading {label}")
        except HsCryptoError as exc:
            return None, _entry(item, None, failed=True, reason="read_failed", msg=_error_text(exc))
        if raw is None:
            return None, _entry(item, None, failed=True, reason="not_found", msg=f"No {label} exists (or it was purged)")
        return raw, None

    @staticmethod
    def _due(raw, now, days):
        """None when the key's current version is at least ``days`` old at ``now``, else why it is not due."""
        since = parse_service_date(version_of(raw)["creation_date"], "keyVersion.creationDate")
        due = since + datetime.timedelta(days=days)
        if now >= due:
            return None
        return ("Key %s was not rotated: its current version is from %s, %d day(s) old; with older_than_days=%d it is due from %s."
                % (raw.get("id"), format_rfc3339(since), (now - since).days, days, format_rfc3339(due)))

    @staticmethod
    def _refusal(raw):
        """(reason, message) when the key cannot be rotated in a selection, else None."""
        key_id = raw.get("id")
        if key_type(raw) == "standard":
            return "standard_key", f"Key {key_id} is a standard key; only root keys can be rotated"
        if is_deleted(raw):
            return "deleted", f"Key {key_id} is deleted; restore it (hs_crypto_key state=restored) before rotating it"
        if raw.get("state") == 2:
            return "suspended", f"Key {key_id} is suspended; enable it (hs_crypto_key enabled=true) before rotating it"
        if raw.get("state") not in (1, 3):
            return "state", f"Key {key_id} is in state {raw.get('state')}; only active and deactivated keys can be rotated"
        if raw.get("imported"):
            return "imported", (f"Key {key_id} was imported: its rotation needs new key material, which a rotation of several keys does not carry; "
                                "rotate it on its own (key_id or alias, with payload)")
        return None

    def _decide(self, item, raw, now, older_than_days):
        """The item's final entry when it is not to be rotated (refused, skipped, failed), else ``_Rotation``."""
        key_id = raw.get("id")
        refusal = self._refusal(raw)
        if refusal:
            return _entry(item, raw, failed=True, reason=refusal[0], msg=refusal[1])
        if key_id in self.done:
            return _entry(item, raw, skipped=True, reason="already_rotated",
                          msg=f"Key {key_id} was already rotated by this run (item {self.done[key_id]})")
        if older_than_days is not None:
            try:
                why = self._due(raw, now, older_than_days)
            except HsCryptoError as exc:
                return _entry(item, raw, failed=True, reason="bad_answer", msg=_error_text(exc))
            if why:
                return _entry(item, raw, skipped=True, reason="not_due", msg=why)
        last = raw.get("lastRotateDate")
        try:
            too_soon = bool(last) and now < parse_service_date(last, "lastRotateDate") + ROTATION_PAUSE
        except HsCryptoError as exc:
            return _entry(item, raw, failed=True, reason="bad_answer", msg=_error_text(exc))
        if too_soon:
            return _entry(item, raw, skipped=True, reason="rotated_within_hour", msg=KeyRotator._too_soon(key_id, last))  # pylint: disable=protected-access
        self.done[key_id] = item
        return _Rotation(item, raw)

    def _finish(self, decided):
        """Rotate a key decided for rotation (predict it, in check mode); any other entry is final already."""
        if not isinstance(decided, _Rotation):
            return decided
        item, raw = decided.item, decided.raw
        if self.check_mode:
            predicted = dict(raw, lastRotateDate=None, keyVersion={"id": None, "creationDate": None})
            return _entry(item, predicted, changed=True, previous=version_of(raw))
        try:
            after = self.rotator._send(raw, _NoMaterial())  # pylint: disable=protected-access
        except HsCryptoError as exc:
            if exc.has_code("KEY_ROTATION_NOT_PERMITTED"):
                return _entry(item, raw, skipped=True, reason="rotated_within_hour", msg=_error_text(exc))
            return _entry(item, raw, failed=True, reason="rotation_failed", msg=_error_text(exc))
        return _entry(item, after, changed=True, previous=version_of(raw))


class _Rotation:
    """A key decided for rotation: what the item said, and the key as read."""

    def __init__(self, item, raw):
        self.item = item
        self.raw = raw


def _entry(item, raw, changed=False, skipped=False, failed=False, reason=None, msg=None, previous=None):
    key = key_result(raw) if raw is not None else None
    return {"item": item, "key_id": raw.get("id") if raw is not None else None, "changed": changed, "skipped": skipped,
            "failed": failed, "reason": reason, "msg": msg, "key": key, "previous_version": previous,
            "key_version": key["key_version"] if key and changed else None}


def bulk_result(results, summary):
    """The module result of a rotation of several keys (``failed`` is decided by the caller from ``summary``)."""
    rotated = [r for r in results if r["changed"]]
    return {
        "changed": bool(rotated),
        "results": results,
        "summary": summary,
        "diff": {"before": {"key_versions": dict((r["key_id"], (r["previous_version"] or {}).get("id")) for r in rotated)},
                 "after": {"key_versions": dict((r["key_id"], (r["key_version"] or {}).get("id") or NEW_VERSION) for r in rotated)}},
    }


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
