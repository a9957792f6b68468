# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Moving secret material from a source instance to a target instance, inside one module process.

``hs_crypto_key_copy`` copies standard keys (their payload) with ``copy_all``; ``hs_crypto_key_rewrap`` unwraps data
keys at the source and wraps them with a target key with ``rewrap_all``. Key material and plaintext data keys are
held in memory only as long as one entry needs them: they never reach a result, a message, a warning, a diff or a
file, and each value read is handed to ``protect`` (the module masks it and both connections redact it) as a second
line of defence. Bad input is refused before any request (``ConfigurationError`` naming ``option[index].field`` and
the rule); an entry that fails later gets its own result and does not stop the others.
"""

import copy
import hashlib
import hmac
import json
import os
import tempfile

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import ReadOnlyKmsClient
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, HsCryptoError, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_actions import WrapRequest, run_wrap
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_service import KeyConflict, KeyService
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import (
    MAX_ALIASES, UUID_RE, KeySpec, check_alias, check_key_crn_instance, check_key_ring, check_text, decode_base64, format_rfc3339,
    parse_key_id, parse_rfc3339)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import (
    STATE_NAMES, KeyFinder, is_deleted, key_result, key_type, managed_view)

COPY_OVERRIDES = ("name", "aliases", "key_ring", "description", "expiration_date")
DEST_MODE = 0o600
NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


# -- shared ------------------------------------------------------------------------------------------------------
def key_ref(value, option, instance_guid=None):
    """``(path reference, label)`` of a key given as a UUID, a key CRN (of ``instance_guid``) or an alias."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{option} is required and must not be empty (a key id, alias or key CRN)")
    text = value.strip()
    if text.startswith("crn:") or UUID_RE.match(text):
        check_key_crn_instance(text, instance_guid, option)
        ref = parse_key_id(text, option)
        return ref, f"key {ref}"
    check_alias(text, option)
    return text, f"key with alias {text}"


def failure_text(exc, redact=None):
    """An error as one line for a per-entry result: the message and the correlation id, scrubbed."""
    message = str(exc)
    if getattr(exc, "correlation_id", None):
        message += f" [correlation id {exc.correlation_id}]"
    return redact(message) if redact else message


def protector(module):
    """``protect(value)`` for a module with a target: the value (key material, a plaintext data key) is masked in every
    output (Ansible's ``no_log`` values) and scrubbed from every message of both connections."""
    def protect(value):
        if value:
            module.no_log_values.add(value)
            for connection in module.connections:
                connection.redact.add(value)
    return protect


def _redact(redact, text):
    return redact(text) if redact else text


# -- hs_crypto_key_copy ------------------------------------------------------------------------------------------
class CopyEntry:
    """One entry of ``crypto_keys``: the source key reference and the overrides, checked before any request."""

    def __init__(self, index, entry, source_guid=None):
        self.index = index
        self.name = f"crypto_keys[{int(index)}]"
        self.given = entry.get("key_id")
        self.item = self.given.strip() if isinstance(self.given, str) else self.given
        self.overrides = dict((field, entry.get(field)) for field in COPY_OVERRIDES)
        self.problems = []
        try:
            self.ref, self.label = key_ref(self.given, f"{self.name}.key_id", source_guid)
        except ConfigurationError as exc:
            self.ref = self.label = None
            self.problems.append(str(exc))
        self._check_overrides()

    def opt(self, field):
        return f"{self.name}.{field}"

    def _check_overrides(self):
        values = self.overrides
        checks = []
        if values["name"] is not None:
            checks.append(lambda: check_text(values["name"], self.opt("name"), 2, 90))
        if values["description"] is not None:
            checks.append(lambda: check_text(values["description"], self.opt("description"), 2, 240))
        if values["key_ring"] is not None:
            checks.append(lambda: check_key_ring(values["key_ring"], self.opt("key_ring")))
        if values["aliases"] is not None:
            checks.append(self._check_aliases)
        if values["expiration_date"] is not None:
            checks.append(self._check_expiration)
        for check in checks:
            try:
                check()
            except ConfigurationError as exc:
                self.problems.append(str(exc))

    def _check_aliases(self):
        aliases = self.overrides["aliases"]
        if len(aliases) > MAX_ALIASES:
            raise ConfigurationError(f"{self.opt('aliases')}: a key can have at most {int(MAX_ALIASES)} aliases (got {len(aliases)})")
        for alias in aliases:
            check_alias(alias, self.opt("aliases"))
        if len(set(aliases)) != len(aliases):
            raise ConfigurationError(f"{self.opt('aliases')}: the same alias is listed twice")

    def _check_expiration(self):
        moment = parse_rfc3339(self.overrides["expiration_date"], self.opt("expiration_date"))
        # KeySpec's own rule (a future date) is applied to the final spec; normalize here so duplicates compare.
        self.overrides["expiration_date"] = format_rfc3339(moment)

    def spec(self, source):
        """The target key: the source key's name, aliases, ring, description and expiration unless overridden."""
        values = self.overrides
        aliases = values["aliases"] if values["aliases"] is not None else list(source.get("aliases") or [])
        spec = KeySpec(state="present", type="standard", payload=source["payload"],
                       name=values["name"] if values["name"] is not None else source.get("name"),
                       aliases=aliases or None,
                       key_ring=values["key_ring"] if values["key_ring"] is not None else (source.get("keyRingID") or "default"),
                       description=values["description"] if values["description"] is not None else source.get("description"),
                       expiration_date=values["expiration_date"] if values["expiration_date"] is not None else source.get("expirationDate"))
        spec.check(prefix=f"{self.name} (from source key {source.get('id')}): ")
        return spec


def parse_copy_entries(entries, source_guid=None):
    """Every entry checked (all problems reported together), and no source key or alias claimed twice."""
    parsed = [CopyEntry(index, entry or {}, source_guid) for index, entry in enumerate(entries or [])]
    problems = [problem for entry in parsed for problem in entry.problems]
    if not parsed:
        problems.append("crypto_keys must list at least one key")
    claimed = {}
    for entry in parsed:
        claims = [("source key", entry.ref)] if entry.ref else []
        claims += [("alias", alias) for alias in entry.overrides["aliases"] or ()]
        for kind, value in claims:
            if (kind, value) in claimed:
                problems.append(f"{claimed[(kind, value)].name} and {entry.name} both name the {kind} {value!r}; each key may be listed once")
                continue
            claimed[(kind, value)] = entry
    if problems:
        raise ConfigurationError("; ".join(problems))
    return parsed


class _Resolved(KeyFinder):
    """A ``KeyFinder`` whose first ``resolve`` answers with the resolution the copy already made (no second lookup)."""

    def __init__(self, kms, resolution):
        super().__init__(kms)
        self._resolution = resolution

    def resolve(self, spec):
        resolution, self._resolution = self._resolution, None
        return resolution if resolution is not None else super().resolve(spec)


def _same_material(first, second):
    """Constant-time comparison of two base64 payloads (as bytes)."""
    return hmac.compare_digest(decode_base64(first, "payload"), decode_base64(second, "payload"))


class KeyCopier:
    """Copies standard keys from ``source`` (read only) to ``target`` with ``KeyService`` (check mode: no write)."""

    def __init__(self, source_kms, target_kms, check_mode=False, protect=None, redact=None, sleep=None, expected_rings=()):
        self.expected_rings = frozenset(expected_rings or ())
        self.source = ReadOnlyKmsClient(source_kms)
        self.target = ReadOnlyKmsClient(target_kms) if check_mode else target_kms
        self.check_mode = check_mode
        self.protect = protect or (lambda value: None)
        self.redact = redact
        self.sleep = sleep
        self.source_finder = KeyFinder(self.source)
        self.target_finder = KeyFinder(self.target)

    def copy_all(self, entries):
        results = []
        seen_sources = {}
        claimed = {}
        for entry in entries:
            result = {"item": entry.item, "changed": False, "failed": False, "actions": [], "material": None, "key": None,
                      "source_key_id": None, "msg": None, "diff": {"before": {}, "after": {}}}
            try:
                self._copy(entry, result, seen_sources, claimed)
            except HsCryptoError as exc:
                partial = getattr(exc, "partial", None) or {}
                result.update(failed=True, changed=bool(partial.get("changed")), msg=failure_text(exc, self.redact))
                result["actions"] = list(partial.get("actions") or result["actions"])
                if isinstance(exc, KeyConflict) and exc.diff:
                    result["diff"] = exc.diff
                if not isinstance(exc, ConfigurationError) and getattr(exc, "status", None):
                    result["error"] = exc.to_dict()
            results.append(result)
        return results

    def _copy(self, entry, result, seen_sources, claimed):
        source = self.source_finder.get(entry.ref, context=f"Reading {entry.label} in the source instance")
        if source is None:
            raise HsCryptoError(f"No {entry.label} exists in the source instance (or it was purged)")
        key_id = source["id"]
        result["source_key_id"] = key_id
        if key_id in seen_sources:
            raise ConfigurationError(f"{entry.name} names source key {key_id}, which {seen_sources[key_id]} copies already; "
                                     "each key may be listed once")
        seen_sources[key_id] = entry.name
        if key_type(source) != "standard":
            raise HsCryptoError(f"Source key {key_id} is a root key: root key material is never readable, so it cannot be copied; "
                                "use hs_crypto_key with payload from your vault to import the same material in the target")
        if is_deleted(source) or source.get("state") != 1:
            state = STATE_NAMES.get(source.get("state"), "deleted" if is_deleted(source) else "unknown")
            raise HsCryptoError(f"Source key {key_id} is not active (state {state}): only active keys are copied")
        payload = source.get("payload")
        if not isinstance(payload, str) or not payload:
            raise HsCryptoError(f"The source instance returned standard key {key_id} without its payload; it cannot be copied")
        self.protect(payload)
        spec = entry.spec(source)
        self._claim(entry, spec, claimed)
        resolution = self.target_finder.resolve(spec)
        twin = resolution.key
        converge_spec = spec
        if twin is None:
            result["material"] = "copied"
        elif not is_deleted(twin) and key_type(twin) == "standard":
            held = twin.get("payload")
            if held is None:
                held = (self.target_finder.get(twin["id"], context=f"Reading key {twin['id']} in the target instance") or {}).get("payload")
            if not isinstance(held, str):
                raise HsCryptoError(f"The target instance returned standard key {twin['id']} without its payload; it cannot be compared")
            self.protect(held)
            if not _same_material(payload, held):
                result["material"] = "different"
                view = managed_view(twin)
                result["key"] = key_result(twin)
                result["diff"] = {"before": view, "after": view}
                raise HsCryptoError(f"Key {twin['id']} of the target instance, which {spec.label} designates, holds other material; "
                                    "it is never overwritten. Give this entry other aliases or another name, or delete that key first")
            result["material"] = "same"
            converge_spec = copy.copy(spec)
            converge_spec.payload = None  # the material is already there: only names, aliases and the ring are converged
        service = KeyService(self.target, check_mode=self.check_mode, finder=_Resolved(self.target, resolution), sleep=self.sleep)
        service.expected_rings = self.expected_rings
        outcome = service.converge(converge_spec).result()
        result.update(changed=outcome["changed"], actions=outcome["actions"], key=outcome["key"], diff=outcome["diff"])
        messages = [message for message in [outcome["msg"]] + outcome["warnings"] if message]
        if messages:
            result["msg"] = " ".join(messages)

    @staticmethod
    def _claim(entry, spec, claimed):
        """Two entries must not land on one target key (e.g. two source keys with one name, and no aliases)."""
        claims = [("alias", alias) for alias in spec.aliases or ()]
        if not spec.aliases:
            claims.append(("name", spec.name))
        for kind, value in claims:
            if (kind, value) in claimed:
                raise ConfigurationError(f"{entry.name} would copy to the target key with the {kind} {value!r}, which "
                                         f"{claimed[(kind, value)]} copies to already; give the entries distinct aliases or names")
        for claim in claims:
            claimed[claim] = entry.name


def copy_summary(results):
    summary = {"total": len(results), "copied": 0, "unchanged": 0, "failed": 0}
    for result in results:
        if result["failed"]:
            summary["failed"] += 1
        elif result["material"] == "copied":
            summary["copied"] += 1
        else:
            summary["unchanged"] += 1
    return summary


# -- hs_crypto_key_rewrap ----------------------------------------------------------------------------------------
def source_sha256(ciphertext):
    """The fingerprint a written file keeps of the ciphertext it came from (SHA-256 of its base64 text)."""
    return hashlib.sha256(ciphertext.encode("ascii")).hexdigest()


def read_wrapped(path, option):
    """The ciphertext a file holds: base64 text, or JSON with a ``ciphertext`` field (what this module writes)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigurationError(f"{option}: {shown(path)} cannot be read ({exc.strerror or exc})")
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigurationError(f"{option}: {shown(path)} is not text (base64, or JSON with a ciphertext field, is expected)")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigurationError(f"{option}: {shown(path)} is not valid JSON")
        ciphertext = data.get("ciphertext") if isinstance(data, dict) else None
        if not isinstance(ciphertext, str) or not ciphertext:
            raise ConfigurationError(f"{option}: the JSON in {shown(path)} has no ciphertext field (a string) holding the wrapped key")
        text = ciphertext
    ciphertext = "".join(text.split())
    if not ciphertext:
        raise ConfigurationError(f"{option}: {shown(path)} is empty")
    decode_base64(ciphertext, f"{option} ({shown(path)})")
    return ciphertext


class RewrapItem:
    """One entry of ``items``, checked (and its ``src`` read) before any request."""

    def __init__(self, index, entry, source_guid=None, target_guid=None, create_dirs=False):
        self.index = index
        self.create_dirs = create_dirs
        self.name = f"items[{int(index)}]"
        self.src = entry.get("src")
        self.dest = entry.get("dest")
        self.aad = entry.get("aad")
        self.ciphertext = entry.get("ciphertext")
        self.problems = []
        self.source = self.target = (None, None)
        self.sha256 = None
        self.target_id = None  # the target key's UUID when the task gives it (a UUID or a CRN)
        self._check(entry, source_guid, target_guid)

    @property
    def is_file(self):
        return self.src is not None

    @property
    def item(self):
        return self.src if self.is_file else self.index

    def opt(self, field):
        return f"{self.name}.{field}"

    def _problem(self, check):
        try:
            return check()
        except ConfigurationError as exc:
            self.problems.append(str(exc))
            return None

    def _check(self, entry, source_guid, target_guid):
        self.source = self._problem(lambda: key_ref(entry.get("source_key"), self.opt("source_key"), source_guid)) or (None, None)
        self.target = self._problem(lambda: key_ref(entry.get("target_key"), self.opt("target_key"), target_guid)) or (None, None)
        if self.target[0] and UUID_RE.match(self.target[0]):
            self.target_id = self.target[0]
        if (self.src is None) == (self.ciphertext is None):
            self.problems.append(f"{self.name} needs exactly one of src (a file holding the wrapped key) or ciphertext")
            return
        if self.is_file:
            self._check_file_item()
        else:
            if self.dest is not None:
                self.problems.append(f"{self.opt('dest')} goes with {self.opt('src')} only; the new ciphertext of an item given "
                                     "with ciphertext is returned in results")
            self._problem(lambda: decode_base64(self.ciphertext, self.opt("ciphertext")))
            self.sha256 = source_sha256(self.ciphertext) if not self.problems else None
        if self.source[0] and not self.problems:
            self._problem(self._check_wrap_inputs)

    def _check_file_item(self):
        if not self.src:
            self.problems.append(f"{self.opt('src')} must not be empty")
            return
        if not self.dest:
            self.problems.append(f"{self.opt('dest')} is required with {self.opt('src')} (the file the rewrapped key is written to)")
        self.ciphertext = self._problem(lambda: read_wrapped(self.src, self.opt("src")))
        if self.ciphertext is not None:
            self.sha256 = source_sha256(self.ciphertext)
        if not self.dest:
            return
        if os.path.realpath(self.dest) == os.path.realpath(self.src):
            self.problems.append(f"{self.opt('dest')} is {self.opt('src')} ({shown(self.src)}); write the rewrapped key to another file")
            return
        parent = os.path.dirname(os.path.abspath(self.dest))
        if not os.path.isdir(parent) and not (self.create_dirs and not os.path.exists(parent)):
            self.problems.append(f"{self.opt('dest')}: the directory {shown(parent)} does not exist")
        elif os.path.isdir(self.dest):
            self.problems.append(f"{self.opt('dest')}: {shown(self.dest)} is a directory; give the path of a file")

    def _check_wrap_inputs(self):
        try:
            self.unwrap_request()
        except ConfigurationError as exc:
            raise ConfigurationError(f"{self.name}: {exc}")

    def _request(self, operation, ref, **kwargs):
        if UUID_RE.match(ref):
            return WrapRequest(operation, key_id=ref, aad=self.aad, **kwargs)
        return WrapRequest(operation, alias=ref, aad=self.aad, **kwargs)

    def unwrap_request(self):
        return self._request("unwrap", self.source[0], ciphertext=self.ciphertext)

    def wrap_request(self, plaintext, target_id):
        return self._request("wrap", target_id, plaintext=plaintext)


def parse_rewrap_items(items, source_guid=None, target_guid=None, create_dirs=False):
    """Every item checked (all problems reported together); no dest twice, no dest that is another item's src.

    ``create_dirs``: a dest whose directory does not exist yet is accepted (``write_atomic`` creates it, mode 0700).
    """
    parsed = [RewrapItem(index, entry or {}, source_guid, target_guid, create_dirs) for index, entry in enumerate(items or [])]
    problems = [problem for item in parsed for problem in item.problems]
    if not parsed:
        problems.append("items must list at least one data key")
    dests = {}
    srcs = dict((os.path.realpath(item.src), item) for item in parsed if item.src)
    for item in parsed:
        if not (item.is_file and item.dest):
            continue
        real = os.path.realpath(item.dest)
        if real in dests:
            problems.append(f"{dests[real].opt('dest')} and {item.opt('dest')} are the same file ({shown(item.dest)}); each item "
                            "needs a dest of its own")
        else:
            dests[real] = item
        other = srcs.get(real)
        if other is not None and other is not item:
            problems.append(f"{item.opt('dest')} is the src of {other.name} ({shown(item.dest)}); a run must not overwrite what it reads")
    if problems:
        raise ConfigurationError("; ".join(problems))
    return parsed


def read_done(item):
    """The dest file of ``item`` when it already holds the rewrap of the current src (``None`` when it does not).

    ``OSError`` when it exists and cannot be read.
    """
    try:
        with open(item.dest, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("ciphertext"), str) or not data["ciphertext"]:
        return None
    if not hmac.compare_digest(str(data.get("source_sha256") or ""), item.sha256):
        return None
    if item.target_id and data.get("key_id") != item.target_id:
        return None  # wrapped with another target key than the task names now
    return data


def write_atomic(path, content, mode=DEST_MODE):
    """Write ``content`` (str) to ``path``: a temporary file in the same directory, flushed, then ``os.replace``."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            handle = None
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if handle is not None:
            os.close(handle)
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class Rewrapper:
    """Unwraps at the source and wraps at the target, item by item (check mode: no request at all).

    ``source`` and ``target`` are the two ``Connection`` objects: their clients are only built (which may mean discovery
    requests) when an item needs them, so a run where every item is skipped, and check mode, send nothing at all.
    """

    def __init__(self, source, target, check_mode=False, protect=None, redact=None):
        self._source = source
        self._target = target
        self.check_mode = check_mode
        self.protect = protect or (lambda value: None)
        self.redact = redact
        self._target_keys = {}

    @property
    def source(self):
        return self._source.kms

    @property
    def target(self):
        return self._target.kms

    def rewrap_all(self, items):
        results = []
        for item in items:
            result = {"item": item.item, "status": None, "dest": item.dest, "target_key_id": item.target_id, "msg": None}
            if not item.is_file:
                result["ciphertext"] = None
            try:
                self._rewrap(item, result)
            except (HsCryptoError, OSError) as exc:
                result["status"] = "failed"
                if isinstance(exc, OSError):
                    result["msg"] = _redact(self.redact, f"{item.name}: {exc.strerror or exc} ({shown(exc.filename or item.dest)})")
                else:
                    result["msg"] = f"{item.name}: {failure_text(exc, self.redact)}"
                    if getattr(exc, "status", None):
                        result["error"] = exc.to_dict()
            results.append(result)
        return results

    def _rewrap(self, item, result):
        if item.is_file:
            done = read_done(item)
            if done is not None:
                result.update(status="skipped", target_key_id=done.get("key_id"),
                              msg=f"{item.dest} already holds the rewrap of the current {item.src}")
                return
        if self.check_mode:
            result.update(status="would_rewrap", msg="would be rewrapped (check mode sends no request)")
            return
        target = self._target_key(item)
        result["target_key_id"] = target["id"]
        unwrapped = run_wrap(self.source, item.unwrap_request())
        plaintext = unwrapped["plaintext"]
        self.protect(plaintext)
        wrapped = run_wrap(self.target, item.wrap_request(plaintext, target["id"]))
        del plaintext, unwrapped
        ciphertext = wrapped["ciphertext"]
        if item.is_file:
            record = {"ciphertext": ciphertext, "key_id": target["id"], "key_crn": target.get("crn"), "source_sha256": item.sha256}
            write_atomic(item.dest, json.dumps(record, indent=2, sort_keys=True) + "\n")
            result.update(status="rewrapped", msg=f"rewrapped from {item.source[1]} into {item.dest}")
        else:
            result.update(status="rewrapped", ciphertext=ciphertext, msg=f"rewrapped from {item.source[1]}")

    def _target_key(self, item):
        """The target key (its id and CRN), read once per key the task names; it must be an active root key."""
        ref, label = item.target
        if ref not in self._target_keys:
            try:
                raw = KeyFinder(self.target).get(ref, context=f"Reading {label} in the target instance")
            except ApiError as exc:
                self._target_keys[ref] = exc
                raise
            if raw is None:
                error = HsCryptoError(f"No {label} exists in the target instance (or it was purged)")
            elif key_type(raw) != "root":
                error = HsCryptoError(f"Target {label} ({raw['id']}) is a standard key; only root keys wrap data keys")
            elif raw.get("state") != 1:
                error = HsCryptoError(f"Target {label} ({raw['id']}) is not active (state {STATE_NAMES.get(raw.get('state'), 'unknown')}); "
                                      "only an active root key wraps")
            else:
                error = None
            self._target_keys[ref] = error or {"id": raw["id"], "crn": raw.get("crn")}
        found = self._target_keys[ref]
        if isinstance(found, Exception):
            raise found
        return found


def rewrap_summary(results):
    summary = {"total": len(results), "rewrapped": 0, "skipped": 0, "failed": 0}
    for result in results:
        status = result["status"]
        summary["rewrapped" if status in ("rewrapped", "would_rewrap") else status] += 1
    return summary


def masked_arguments(params, argument_spec, secret_suboptions):
    """The task's arguments with every ``no_log`` value replaced (``secret_suboptions``: list option -> secret fields)."""
    masked = copy.deepcopy(params)
    for name, spec in argument_spec.items():
        if masked.get(name) is None:
            continue
        if spec.get("no_log"):
            masked[name] = NO_LOG_PLACEHOLDER
            continue
        suboptions = spec.get("options") or {}
        secret = set(secret_suboptions.get(name, ())) | set(field for field, sub in suboptions.items() if sub.get("no_log"))
        values = masked[name] if isinstance(masked[name], list) else [masked[name]]
        for value in values:
            if isinstance(value, dict):
                for field in secret:
                    if value.get(field) is not None:
                        value[field] = NO_LOG_PLACEHOLDER
    return masked
