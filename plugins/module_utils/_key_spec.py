# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""The desired state of one key, checked before any request (the limits of https://cloud.ibm.com/apidocs/hs-crypto, "Keys").

``KeySpec.from_params`` takes the module's options (or one entry of a batch)
and raises ``ConfigurationError`` naming the option and the rule for anything
the service would refuse, so a bad playbook fails before it touches anything.
"""

import base64
import binascii
import datetime
import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._crn import key_crn_instance, parse_key_id  # noqa: F401 pylint: disable=unused-import
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, shown

KEY_STATES = ("present", "absent", "restored", "purged")
KEY_TYPES = ("root", "standard")
ENCRYPTION_ALGORITHMS = ("RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1")

MAX_ALIASES = 5
ALIAS_RE = re.compile(r"^[A-Za-z0-9_-]{2,90}\Z")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
RESERVED_ALIASES = frozenset(["allowed_ip", "key", "keys", "metadata", "policy", "policies", "registration", "registrations",
                              "ring", "rings", "rotate", "wrap", "unwrap", "rewrap", "version", "versions"])
KEY_RING_RE = re.compile(r"^[a-zA-Z0-9-]{2,100}\Z")
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ROOT_KEY_SIZES = (16, 24, 32)
MAX_STANDARD_KEY_BYTES = 7500
RFC3339_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})\Z")


def check_text(value, option, minimum, maximum):
    if not minimum <= len(value) <= maximum:
        raise ConfigurationError(f"{option} must be {int(minimum)} to {int(maximum)} characters long (got {len(value)})")
    if CONTROL_RE.search(value):
        raise ConfigurationError(f"{option} must not contain control characters (such as newlines or tabs)")
    return value


def check_alias(alias, option="aliases"):
    if not isinstance(alias, str):
        raise ConfigurationError(f"{option}: every alias must be a string")
    if UUID_RE.match(alias):
        raise ConfigurationError(f"{option}: {shown(alias)} looks like a key id (UUID); an alias must not have the form of a UUID")
    if not ALIAS_RE.match(alias):
        raise ConfigurationError(f"{option}: {shown(alias)} is not a valid alias: 2 to 90 characters, letters, digits, '_' and '-' only (no spaces)")
    if alias.lower() in RESERVED_ALIASES:
        raise ConfigurationError(f"{option}: {shown(alias)} is a reserved word and cannot be an alias (reserved: {', '.join(sorted(RESERVED_ALIASES))})")
    return alias


def check_key_ring(ring, option="key_ring"):
    if not KEY_RING_RE.match(ring or ""):
        raise ConfigurationError(f"{option}: {shown(ring)} is not a valid key ring id: 2 to 100 characters, letters, digits and '-' only")
    return ring


# parse_key_id and key_crn_instance live in _crn.py (shared with the CRN filters); imported above.


def check_key_crn_instance(value, instance_guid, option="key_id"):
    """Refuse a key CRN that names another instance than the one the task talks to (its UUID would find nothing there,
    or another key)."""
    named = key_crn_instance(value)
    if named is not None and instance_guid and named != instance_guid.lower():
        raise ConfigurationError(f"{option} is the CRN of a key of instance {named}, but instance_id is {instance_guid}: "
                                 "a key CRN must name the instance the task talks to (set instance_id to the key's instance, "
                                 "or give the key's UUID)")


def key_reference_of(text, instance_guid, option):
    """The path reference of a key named by its id, a key CRN (of this instance, when its GUID is known) or an alias:
    the key's UUID, or the alias. ``text`` is a non-empty, stripped string; messages name ``option``."""
    if text.startswith("crn:") or UUID_RE.match(text):
        if instance_guid:
            check_key_crn_instance(text, instance_guid, option)
        return parse_key_id(text, option, alias_option=option)
    return check_alias(text, option)


def parse_rfc3339(value, option):
    """A timezone-aware datetime from an RFC 3339 string, or ConfigurationError."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    match = RFC3339_RE.match((value or "").strip())
    if not match:
        raise ConfigurationError(f"{option} must be an RFC 3339 date such as 2027-01-31T23:59:59Z (got {shown(value)})")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    zone = match.group(8)
    try:
        if zone in ("Z", "z"):
            tz = datetime.timezone.utc
        else:
            sign = 1 if zone[0] == "+" else -1
            tz = datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        moment = datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        moment.astimezone(datetime.timezone.utc)  # a date at the edge of the calendar may not exist in UTC
    except (ValueError, OverflowError):
        raise ConfigurationError(f"{option}: {shown(value)} is not a real date, time or time zone offset (offsets are -23:59 to +23:59)")
    return moment


def format_rfc3339(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_base64(value, option):
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ConfigurationError(f"{option} must be base64-encoded (standard alphabet, with padding)")


def key_argument_spec():
    """The options of one key: hs_crypto_key's own, and the suboptions of each hs_crypto_key_batch entry."""
    return dict(
        state=dict(type="str", choices=list(KEY_STATES), default="present"),
        key_id=dict(type="str"),
        name=dict(type="str"),
        aliases=dict(type="list", elements="str"),
        purge_aliases=dict(type="bool", default=False),
        type=dict(type="str", choices=list(KEY_TYPES)),
        description=dict(type="str"),
        expiration_date=dict(type="str"),
        key_ring=dict(type="str", no_log=False),
        payload=dict(type="str", no_log=True),
        encrypted_nonce=dict(type="str", no_log=True),
        iv=dict(type="str", no_log=True),
        encryption_algorithm=dict(type="str", choices=list(ENCRYPTION_ALGORITHMS)),
        enabled=dict(type="bool"),
        rotation=dict(type="dict", options=dict(enabled=dict(type="bool"), interval_month=dict(type="int"))),
        dual_auth_delete=dict(type="bool"),
        force=dict(type="bool", default=False),
        cancel_deletion=dict(type="bool", default=False),
    )


class KeySpec:
    """One key as the user wants it. ``None`` means "not set": leave that attribute alone."""

    FIELDS = ("key_id", "name", "aliases", "purge_aliases", "type", "description", "expiration_date", "key_ring", "payload",
              "encrypted_nonce", "iv", "encryption_algorithm", "enabled", "rotation", "dual_auth_delete", "state", "force",
              "cancel_deletion")

    def __init__(self, **values):
        for field in self.FIELDS:
            setattr(self, field, values.get(field))
        self.state = self.state or "present"
        self.purge_aliases = bool(self.purge_aliases)
        self.force = bool(self.force)
        self.cancel_deletion = bool(self.cancel_deletion)

    @property
    def label(self):
        """How to name this key in messages (never secret)."""
        if self.key_id:
            return f"key {self.key_id}"
        if self.aliases:
            return f"key with alias {self.aliases[0]}"
        return f"key named {shown(self.name)}"

    @property
    def secure_import(self):
        return bool(self.encrypted_nonce or self.iv)

    @classmethod
    def from_params(cls, params, prefix=""):
        """Build and check a spec; ``prefix`` (e.g. ``keys[3].``) is put before option names in messages."""
        spec = cls(**dict((f, params.get(f)) for f in cls.FIELDS))
        spec.check(prefix)
        return spec

    def check(self, prefix=""):
        """Check every rule; all the problems found are reported together, in one ``ConfigurationError``."""
        problems = self.problems(prefix)
        if problems:
            raise ConfigurationError("; ".join(problems))
        return self

    def problems(self, prefix=""):
        """Every problem of this spec (messages naming ``prefix`` + the option and the rule); [] when there is none.

        Each rule is checked on its own, so one run reports all the mistakes of an entry, not the first one only.
        """
        def opt(name):
            return prefix + name

        found = []
        for rule in (self._check_state, self._check_key_id, self._check_texts, self._check_aliases, self._check_key_ring,
                     self._check_expiration, self._check_rotation, self._check_material, self._check_combinations):
            try:
                rule(opt)
            except ConfigurationError as exc:
                found.append(str(exc))
        return found

    def _check_state(self, opt):
        if self.state not in KEY_STATES:
            raise ConfigurationError(f"{opt('state')} must be one of {', '.join(KEY_STATES)}")

    def _check_key_id(self, opt):
        if self.key_id is not None:
            self.key_id = parse_key_id(self.key_id, opt("key_id"))

    def _check_texts(self, opt):
        problems = []
        for field, low, high in (("name", 2, 90), ("description", 2, 240)):
            if getattr(self, field) is not None:
                try:
                    check_text(getattr(self, field), opt(field), low, high)
                except ConfigurationError as exc:
                    problems.append(str(exc))
        if self.type is not None and self.type not in KEY_TYPES:
            problems.append(f"{opt('type')} must be one of {', '.join(KEY_TYPES)}")
        if problems:
            raise ConfigurationError("; ".join(problems))

    def _check_key_ring(self, opt):
        if self.key_ring is not None:
            check_key_ring(self.key_ring, opt("key_ring"))

    def _check_expiration(self, opt):
        if self.expiration_date is None:
            return
        moment = parse_rfc3339(self.expiration_date, opt("expiration_date"))
        self.expiration_date = format_rfc3339(moment)
        if self.state == "present" and moment <= datetime.datetime.now(datetime.timezone.utc):
            # The service refuses a past date (INVALID_FIELD_ERR); check mode must not predict a create it would refuse.
            raise ConfigurationError(f"{opt('expiration_date')} {self.expiration_date} is in the past: the service accepts only "
                                     "a future expiration date (leave expiration_date out of the task for a key that has expired)")

    def _check_combinations(self, opt):
        if self.state != "present" and not (self.key_id or self.aliases or self.name):
            raise ConfigurationError(f"state={self.state} needs {opt('key_id')}, {opt('aliases')} or {opt('name')} to find the key")
        if self.state == "present" and not (self.key_id or self.aliases or self.name):
            raise ConfigurationError(f"one of {opt('key_id')}, {opt('aliases')} or {opt('name')} is required")
        if self.cancel_deletion and self.state != "present":
            raise ConfigurationError(f"{opt('cancel_deletion')} is only valid with state=present")
        if self.purge_aliases and self.aliases is None:
            raise ConfigurationError(f"{opt('purge_aliases')} needs {opt('aliases')} (use aliases: [] to remove every alias)")

    def _check_aliases(self, opt):
        if self.aliases is None:
            return
        if len(self.aliases) > MAX_ALIASES:
            raise ConfigurationError(f"{opt('aliases')}: a key can have at most {int(MAX_ALIASES)} aliases (got {len(self.aliases)})")
        problems = []
        for alias in self.aliases:
            try:
                check_alias(alias, opt("aliases"))
            except ConfigurationError as exc:
                problems.append(str(exc))
        if len(set(self.aliases)) != len(self.aliases):
            problems.append(f"{opt('aliases')}: the same alias is listed twice")
        if problems:
            raise ConfigurationError("; ".join(problems))

    def _check_rotation(self, opt):
        if self.rotation is None:
            return
        rotation = dict(self.rotation)
        unknown = set(rotation) - set(["enabled", "interval_month"])
        if unknown:
            raise ConfigurationError(f"{opt('rotation')}: unknown field(s) {', '.join(sorted(unknown))}; expected enabled, interval_month")
        interval = rotation.get("interval_month")
        if interval is not None:
            if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= 12:
                raise ConfigurationError(f"{opt('rotation.interval_month')} must be a whole number of months from 1 to 12 (got {interval})")
        if rotation.get("enabled") is None and interval is None:
            raise ConfigurationError(f"{opt('rotation')} needs enabled or interval_month")
        if self.type == "standard":
            raise ConfigurationError(f"{opt('rotation')}: rotation policies apply to root keys only, and type is standard")
        self.rotation = dict((k, v) for k, v in rotation.items() if v is not None)

    def _check_material(self, opt):
        if self.encryption_algorithm is not None and self.encryption_algorithm not in ENCRYPTION_ALGORITHMS:
            raise ConfigurationError(f"{opt('encryption_algorithm')} must be one of {', '.join(ENCRYPTION_ALGORITHMS)}")
        if bool(self.encrypted_nonce) != bool(self.iv):
            raise ConfigurationError(f"{opt('encrypted_nonce')} and {opt('iv')} go together (secure import with an import token needs both)")
        if self.secure_import:
            if not self.payload:
                raise ConfigurationError(f"{opt('encrypted_nonce')} and {opt('iv')} need {opt('payload')} "
                                         "(the key material encrypted with the import token's public key)")
            if self.type == "standard":
                raise ConfigurationError(f"secure import ({opt('encrypted_nonce')}, {opt('iv')}) is for root keys only, and type is standard")
            decode_base64(self.encrypted_nonce, opt("encrypted_nonce"))
            decode_base64(self.iv, opt("iv"))
        elif self.encryption_algorithm is not None:
            raise ConfigurationError(f"{opt('encryption_algorithm')} is only used for secure import (with {opt('encrypted_nonce')} and {opt('iv')})")
        if self.payload is None:
            return
        material = decode_base64(self.payload, opt("payload"))
        if self.secure_import:
            return  # RSA-OAEP ciphertext: its size is the public key's, not the key's
        if self.type == "standard":
            if not 1 <= len(material) <= MAX_STANDARD_KEY_BYTES:
                raise ConfigurationError("%s: a standard key holds 1 to %d bytes of key material (got %d)"
                                         % (opt("payload"), MAX_STANDARD_KEY_BYTES, len(material)))
        elif len(material) not in ROOT_KEY_SIZES:
            raise ConfigurationError("%s: a root key must be 16, 24 or 32 bytes (128, 192 or 256 bits) of key material (got %d bytes)%s"
                                     % (opt("payload"), len(material), "" if self.type else "; set type=standard for other data"))
