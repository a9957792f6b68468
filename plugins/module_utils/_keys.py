# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Keys as the service holds them: lookup (by id, alias or exact name) and conversion to results.

Shared by ``hs_crypto_key`` and ``hs_crypto_key_info`` so both return the same
field names. Key material (``payload``) never leaves this file in a result.
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, HsCryptoError

KEY_MEDIA_TYPE = "application/vnd.ibm.kms.key+json"
POLICY_MEDIA_TYPE = "application/vnd.ibm.kms.policy+json"

STATE_NAMES = {0: "pre_activation", 1: "active", 2: "suspended", 3: "deactivated", 5: "destroyed"}
STATE_CODES = dict((name, code) for code, name in STATE_NAMES.items())
LIVE_STATES = (1, 2, 3)
DELETED = 5

# camelCase field of the service -> snake_case field of the result, in the order results list them.
KEY_FIELDS = (
    ("id", "id"), ("name", "name"), ("aliases", "aliases"), ("description", "description"),
    ("keyRingID", "key_ring"), ("crn", "crn"), ("extractable", "extractable"), ("imported", "imported"),
    ("expirationDate", "expiration_date"), ("creationDate", "creation_date"), ("createdBy", "created_by"),
    ("lastUpdateDate", "last_update_date"), ("lastRotateDate", "last_rotate_date"),
    ("deleted", "deleted"), ("deletionDate", "deletion_date"), ("deletedBy", "deleted_by"),
    ("restoreAllowed", "restore_allowed"), ("restoreExpirationDate", "restore_expiration_date"),
    ("purgeAllowed", "purge_allowed"), ("purgeAllowedFrom", "purge_allowed_from"), ("purgeScheduledOn", "purge_scheduled_on"),
    ("algorithmType", "algorithm_type"), ("algorithmBitSize", "algorithm_bit_size"), ("algorithmMode", "algorithm_mode"),
    ("nonactiveStateReason", "nonactive_state_reason"),
)
# Fields that are key material or import secrets: never copied into a result.
SECRET_FIELDS = frozenset(["payload", "encryptedNonce", "iv"])


def key_type(raw):
    return "standard" if raw.get("extractable") else "root"


def key_state(raw):
    return raw.get("state")


def is_deleted(raw):
    return _state(raw) == DELETED or raw.get("deleted") is True


def dual_auth(raw):
    value = raw.get("dualAuthDelete")
    return value if isinstance(value, dict) else {}


def rotation(raw):
    value = raw.get("rotation")
    return value if isinstance(value, dict) else {}


def _aliases(raw):
    value = raw.get("aliases")
    return [a for a in value if isinstance(a, str)] if isinstance(value, list) else []


def _state(raw):
    value = raw.get("state")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def key_result(raw):
    """The key as modules return it: snake_case, state as a name and a number, never key material.

    Tolerates a service answer with unexpected types (a field of the wrong type is returned as
    null or empty), so an odd answer can never end in a traceback.
    """
    if not isinstance(raw, dict):
        return None
    result = {}
    for camel, snake in KEY_FIELDS:
        result[snake] = raw.get(camel)
    result["aliases"] = _aliases(raw)
    result["key_ring"] = raw.get("keyRingID") or "default"
    result["type"] = key_type(raw)
    state = _state(raw)
    result["state"] = STATE_NAMES.get(state, "unknown")
    result["state_code"] = state
    result["enabled"] = state == 1
    version = raw.get("keyVersion") if isinstance(raw.get("keyVersion"), dict) else {}
    result["key_version"] = {"id": version.get("id"), "creation_date": version.get("creationDate")} if version else None
    rot = rotation(raw)
    result["rotation"] = {"enabled": bool(rot.get("enabled")), "interval_month": rot.get("interval_month")} if rot else None
    dual = dual_auth(raw)
    result["dual_auth_delete"] = {
        "enabled": bool(dual.get("enabled")),
        "key_set_for_deletion": bool(dual.get("keySetForDeletion")),
        "auth_expiration": dual.get("authExpiration"),
    }
    return result


def managed_view(raw):
    """The fields ``hs_crypto_key`` manages, for diffs (no dates the service sets, no material)."""
    if not isinstance(raw, dict):
        return {}
    rot = rotation(raw)
    return {
        "name": raw.get("name"),
        "type": key_type(raw),
        "description": raw.get("description"),
        "expiration_date": raw.get("expirationDate"),
        "aliases": sorted(_aliases(raw)),
        "key_ring": raw.get("keyRingID") or "default",
        "state": STATE_NAMES.get(_state(raw), "unknown"),
        "rotation": {"enabled": bool(rot.get("enabled")), "interval_month": rot.get("interval_month")} if rot else None,
        "dual_auth_delete": bool(dual_auth(raw).get("enabled")),
        "dual_auth_key_set_for_deletion": bool(dual_auth(raw).get("keySetForDeletion")),
    }


def checked_key(raw, context=None):
    """A key object from the service, or ``ApiError`` when it has no id: a malformed answer is never acted upon."""
    if raw is not None and not (isinstance(raw.get("id"), str) and raw["id"]):
        raise ApiError("%s: the service's answer holds a key without an id" % (context or "Reading a key"))
    return raw


def search_query(name):
    """A server-side search that finds every key named exactly ``name``, or None when no search can narrow it.

    The service's ``search`` is a case-insensitive substring match (``exact:`` makes it exact). It drops a
    trailing comma (clients send ``search=<value>,``) and may treat commas otherwise, so a name with a comma or
    surrounding blanks cannot be searched exactly: the longest comma-free run of it, stripped, is searched as a
    substring instead (every key with the name contains it), and the exact match is made here. A name with
    nothing searchable is matched over the whole listing.
    """
    if "," not in name and name == name.strip():
        return f"exact:name:escape:{name}"
    core = max((part.strip() for part in name.split(",")), key=len)
    return f"name:escape:{core}" if core else None


class AmbiguousKeyError(HsCryptoError):
    """More than one key matches a name: never guess."""


class AliasConflict(HsCryptoError):
    """The aliases of one task are held by different keys."""


class Resolution:
    """The key a ``present`` task designates (or None), and how it was found."""

    def __init__(self, key=None, adopted=False, held=None):
        self.key = key
        self.adopted = adopted  # found by name only, while the task also names aliases that no key has yet
        self.held = held or {}  # alias -> the key holding it


def approved_for_deletion(raw):
    return bool(dual_auth(raw).get("keySetForDeletion"))


def leave_out_approved(matches):
    """Of several live keys with one name, the ones not approved for deletion (a twin on its way out is not a candidate)."""
    if len(matches) < 2:
        return matches
    kept = [raw for raw in matches if not approved_for_deletion(raw)]
    return kept or matches


class KeyFinder:
    """Finds keys with as few requests as possible: one GET by id or alias, or one searched listing by name."""

    def __init__(self, kms):
        self.kms = kms

    def get(self, ref, context=None):
        """The key with id (or alias) ``ref``, deleted ones included; None when the service does not know it."""
        try:
            found = self.kms.request("GET", f"keys/{ref}", context=context).resource
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return checked_key(found, context)

    def by_name(self, name, states=LIVE_STATES):
        """Every key named exactly ``name`` in ``states`` (every page read)."""
        params = {"state": ",".join(str(s) for s in states)}
        query = search_query(name)
        if query:
            params["search"] = query
        context = f"Looking up keys named {name!r}"
        try:
            found = self.kms.list_all("keys", params=params, context=context)
        except ApiError as exc:
            if not exc.has_code("KEY_SEARCH_TOO_BROAD"):
                raise
            # The instance holds more keys than the service searches: read them all and match here.
            params.pop("search")
            found = self.kms.list_all("keys", params=params, context=context)
        return [checked_key(k, context) for k in found if k.get("name") == name and k.get("state") in states]

    def one_named(self, name, deleted=False):
        """The one key named ``name`` (live, or deleted when ``deleted``), None, or ``AmbiguousKeyError`` listing the ids."""
        matches = self.by_name(name, states=(DELETED,) if deleted else LIVE_STATES)
        if not deleted:
            matches = leave_out_approved(matches)
        if len(matches) > 1:
            raise AmbiguousKeyError(
                f"{len(matches)} {'deleted ' if deleted else ''}keys are named {name!r} ({', '.join(sorted(k.get('id') for k in matches))}); "
                "key names are not unique, so set key_id or aliases to say which one")
        return matches[0] if matches else None

    def resolve(self, spec):
        """The key a ``state=present`` task designates: by ``key_id``; else by its aliases, every one of which must
        belong to the same key (``AliasConflict`` otherwise, before any write); else by exact name (``adopted`` when
        the task names aliases no key holds: the key named so comes under management and gets them)."""
        if spec.key_id:
            return Resolution(self.get(spec.key_id, context=f"Reading {spec.label}"))
        held = {}
        for alias in spec.aliases or ():
            if any(alias in (raw.get("aliases") or ()) for raw in held.values()):
                held[alias] = next(raw for raw in held.values() if alias in (raw.get("aliases") or ()))
                continue
            found = self.get(alias, context=f"Reading the key with alias {alias}")
            if found is not None:
                held[alias] = found
        holders = {raw["id"]: raw for raw in held.values()}
        if len(holders) > 1:
            owners = "; ".join(f"{alias} belongs to key {raw['id']} ({raw.get('name')!r})" for alias, raw in held.items())
            raise AliasConflict(f"The aliases of this task belong to different keys: {owners}. An alias names one key; "
                                "change the task's aliases (or move the alias: remove it from the other key first).")
        if holders:
            return Resolution(next(iter(holders.values())), held=held)
        if spec.name:
            named = self.one_named(spec.name)
            if named is not None:
                return Resolution(named, adopted=bool(spec.aliases))
        return Resolution(None)

    def locate(self, spec, deleted=False):
        """The key ``spec`` designates for absent/restored/purged, or None: ``key_id``, else the first alias that
        resolves, else the exact name (live keys, or deleted ones when ``deleted``)."""
        if spec.key_id:
            return self.get(spec.key_id, context=f"Reading {spec.label}")
        found = self.by_aliases(spec.aliases or ())
        if found is not None:
            return found
        return self.one_named(spec.name, deleted=deleted) if spec.name else None

    def fetch(self, key_id):
        """The key as the service holds it now (a read-back after a change)."""
        return self.get(key_id, context=f"Reading key {key_id}")

    def by_aliases(self, aliases):
        """The key holding the first of ``aliases`` that resolves, or None."""
        for alias in aliases:
            found = self.get(alias, context=f"Reading the key with alias {alias}")
            if found is not None:
                return found
        return None
