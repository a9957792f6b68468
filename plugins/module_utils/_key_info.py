# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Reading keys for ``hs_crypto_key_info``: one key, or a filtered listing, plus optional detail per key.

The compliance filters (``expiring_within_days``, ``rotated_before_days``, ``without_rotation_policy``) measure
ages at the service's time: the HTTP ``Date`` header of its answers (``ServiceClock``), else the local UTC time.
Date terms are sent server-side in ``filter=`` (``prop=op:"RFC 3339"``, space-separated) and every key the
service returns is checked again here, so a looser server match never widens the result. ``state`` and
``extractable`` always travel as their own parameters, never inside ``filter`` (the service refuses both at once).
"""

import datetime
import email.utils
import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import KmsClient
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, HsCryptoError, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import (
    check_alias, check_key_ring, check_text, format_rfc3339, parse_key_id, parse_rfc3339)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import STATE_CODES, KeyFinder, key_result, key_type

MAX_SEARCH = 256
INCLUDES = ("policies", "versions", "registrations")
MAX_DAYS = 36500  # a century: beyond it an age condition means nothing (and dates overflow)
UTC = datetime.timezone.utc
NUMERIC_OFFSET_RE = re.compile(r"([+-]\d{2})(\d{2})$")


def snake(name):
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def snake_dict(value):
    """camelCase keys to snake_case, recursively (for shapes the service defines: policies, versions, registrations)."""
    if isinstance(value, dict):
        return dict((snake(k), snake_dict(v)) for k, v in value.items())
    if isinstance(value, list):
        return [snake_dict(v) for v in value]
    return value


# -- the service's time ---------------------------------------------------------------------------------------------
def header_date(headers):
    """The moment an HTTP ``Date`` header (RFC 7231, IMF-fixdate or the obsolete forms) names, or None."""
    if headers is None:
        return None
    try:
        value = headers.get("Date")
        if value is None and isinstance(headers, dict):
            value = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == "date"), None)
    except (AttributeError, TypeError):
        return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def service_date(value, field):
    """A date the service sent (RFC 3339; a ``+0000`` offset as some answers carry it is accepted too)."""
    text = NUMERIC_OFFSET_RE.sub(r"\1:\2", (value or "").strip()) if isinstance(value, str) else value
    try:
        return parse_rfc3339(text, field)
    except ConfigurationError:
        raise HsCryptoError(f"The service returned {field}={shown(value)}, which is not an RFC 3339 date")


class ServiceClock:
    """The service's time: the ``Date`` header of its latest answer, else (no answer carried one) the local UTC time."""

    def __init__(self, local=None):
        self.local = local or (lambda: datetime.datetime.now(UTC))
        self.seen = None
        self.fixed = None

    def observe(self, result):
        moment = header_date(getattr(result, "headers", None))
        if moment is not None:
            self.seen = moment
        return result

    @property
    def source(self):
        return "service" if self.seen is not None else "local"

    def now(self):
        return self.seen if self.seen is not None else self.local()

    def fix(self):
        """The time one evaluation uses throughout (taken at the first call, whole seconds as the service's dates)."""
        if self.fixed is None:
            self.fixed = self.now().replace(microsecond=0)
        return self.fixed


class DatedKms:
    """A KMS client (read-only or not) whose every answer sets ``clock`` to the service's time; all else is passed on."""

    def __init__(self, kms, clock=None):
        self._kms = kms
        self.clock = clock or ServiceClock()

    def __getattr__(self, name):
        return getattr(self._kms, name)

    def request(self, method, path, **kwargs):
        return self.clock.observe(self._kms.request(method, path, **kwargs))

    def list_all(self, path, **kwargs):
        # KmsClient.list_all pages through self.request: every page passes through the clock (and any read-only check).
        return KmsClient.list_all(self, path, **kwargs)


def check_days(value, option):
    """A whole number of days from 0 to MAX_DAYS, or ConfigurationError naming the option."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise ConfigurationError(f"{option} must be a whole number of days from 0 to {int(MAX_DAYS)} (got {shown(value)})")
    return value


def rotation_base(raw):
    """The date of the key's last rotation, else of its creation (RFC 3339 text as the service sent it), or None."""
    return raw.get("lastRotateDate") or raw.get("creationDate")


def rotation_enabled(policies):
    """Whether a key's policy resources (GET keys/{id}/policies) hold an enabled rotation policy."""
    for item in policies or []:
        rotation = item.get("rotation") if isinstance(item, dict) else None
        if isinstance(rotation, dict) and rotation.get("enabled") is True:
            return True
    return False


def read_rotation_policy(kms, raw, cache=None):
    """Whether the key has an enabled rotation policy: one ``GET keys/{id}/policies?policy=rotation`` (cached per key)."""
    key_id = raw["id"]
    if cache is not None and key_id in cache:
        return rotation_enabled(cache[key_id])
    policies = kms.request("GET", f"keys/{key_id}/policies", params={"policy": "rotation"}, key_ring=raw.get("keyRingID"),
                           context=f"Reading the rotation policy of key {key_id}").resources
    return rotation_enabled(policies)


class KeyQuery:
    """Which keys to read, checked before any request."""

    def __init__(self, key_id=None, alias=None, name=None, search=None, key_states=None, type=None,  # pylint: disable=redefined-builtin
                 key_ring=None, include=None, expiring_within_days=None, rotated_before_days=None, without_rotation_policy=None):
        self.key_id = parse_key_id(key_id, alias_option="alias") if key_id else None
        self.alias = check_alias(alias, "alias") if alias else None
        self.name = check_text(name, "name", 2, 90) if name else None
        if search is not None and not 1 <= len(search) <= MAX_SEARCH:
            raise ConfigurationError(f"search must be 1 to {int(MAX_SEARCH)} characters long")
        self.search = search
        states = key_states or ["active", "suspended", "deactivated"]
        unknown = [s for s in states if s not in STATE_CODES]
        if unknown:
            raise ConfigurationError(f"key_states: unknown state(s) {', '.join(unknown)}; expected {', '.join(sorted(STATE_CODES))}")
        self.states = sorted(set(STATE_CODES[s] for s in states))
        self.type = type
        self.key_ring = check_key_ring(key_ring) if key_ring else None
        self.include = list(include or [])
        self.expiring_within_days = check_days(expiring_within_days, "expiring_within_days")
        self.rotated_before_days = check_days(rotated_before_days, "rotated_before_days")
        if without_rotation_policy is not None and not isinstance(without_rotation_policy, bool):
            raise ConfigurationError(f"without_rotation_policy must be true or false (got {shown(without_rotation_policy)})")
        self.without_rotation_policy = bool(without_rotation_policy)
        if self.without_rotation_policy and self.type == "standard":
            raise ConfigurationError("without_rotation_policy selects root keys (only they have rotation policies): it cannot be "
                                     "combined with type=standard")

    @classmethod
    def from_params(cls, params):
        return cls(**dict((f, params.get(f)) for f in (
            "key_id", "alias", "name", "search", "key_states", "type", "key_ring", "include",
            "expiring_within_days", "rotated_before_days", "without_rotation_policy")))

    @property
    def dated(self):
        """Whether the query measures ages (and so needs the service's time)."""
        return self.expiring_within_days is not None or self.rotated_before_days is not None

    def accepts(self, raw, check_state=True):
        if check_state and raw.get("state") not in self.states:
            return False
        if self.type is not None and bool(raw.get("extractable")) != (self.type == "standard"):
            return False
        if self.key_ring is not None and (raw.get("keyRingID") or "default") != self.key_ring:
            return False
        if self.without_rotation_policy and key_type(raw) != "root":
            return False
        return True

    # The bounds, at the service's time ``now``; dates the service sends have whole seconds, and so do these.
    def expiring_bound(self, now):
        return _whole(now) + datetime.timedelta(days=self.expiring_within_days)

    def rotated_bound(self, now):
        return _whole(now) - datetime.timedelta(days=self.rotated_before_days)

    def dates_accept(self, raw, now):
        """The exact client-side check of the date filters (whatever the service matched)."""
        if self.expiring_within_days is not None:
            expiration = raw.get("expirationDate")
            if not expiration or service_date(expiration, "expirationDate") > self.expiring_bound(now):
                return False
        if self.rotated_before_days is not None:
            base = rotation_base(raw)
            if not base or service_date(base, "lastRotateDate" if raw.get("lastRotateDate") else "creationDate") >= self.rotated_bound(now):
                return False
        return True

    def filters(self, now):
        """The ``filter=`` values to list with: one listing, or two when ``rotated_before_days`` is set (a key never
        rotated has no lastRotateDate, so ``lastRotateDate=lt:`` cannot match it: the second listing asks for
        ``lastRotateDate=none`` with ``creationDate=lt:``). None: no filter."""
        common = []
        if self.expiring_within_days is not None:
            common.append(f'expirationDate=lte:"{format_rfc3339(self.expiring_bound(now))}"')
        if self.rotated_before_days is None:
            return [" ".join(common) or None]
        bound = format_rfc3339(self.rotated_bound(now))
        return [" ".join(common + [f'lastRotateDate=lt:"{bound}"']),
                " ".join(common + ["lastRotateDate=none", f'creationDate=lt:"{bound}"'])]


def _whole(moment):
    return moment.replace(microsecond=0)


def read_keys(kms, query, clock=None):
    """The keys ``query`` selects, as results. ``clock`` (a ``ServiceClock``) receives the service's time."""
    dated = DatedKms(kms, clock)
    finder = KeyFinder(dated)
    if query.key_id or query.alias:
        ref = query.key_id or query.alias
        found = finder.get(ref, context=f"Reading key {ref}")
        # One key asked for by id or alias is returned whatever its state (deleted included); type and key_ring still filter.
        raws = [found] if found is not None and query.accepts(found, check_state=False) else []
    elif query.name:
        raws = [k for k in finder.by_name(query.name, states=query.states) if query.accepts(k)]
    else:
        raws = _list(dated, query)
    if query.dated:
        now = dated.clock.fix()
        raws = [raw for raw in raws if query.dates_accept(raw, now)]
    cache = {}
    if query.without_rotation_policy:
        if "policies" in query.include:
            for raw in raws:  # the full policies are read anyway: one request per key, not two
                cache[raw["id"]] = _detail(dated, raw, "policies", snake_case=False)
        raws = [raw for raw in raws if not read_rotation_policy(dated, raw, cache)]
    results = []
    for raw in raws:
        result = key_result(raw)
        for item in query.include:
            cached = cache.get(raw.get("id")) if item == "policies" else None
            result[item] = snake_dict(cached) if cached is not None else _detail(dated, raw, item)
        results.append(result)
    return results


def _list(dated, query):
    params = {"state": ",".join(str(s) for s in query.states)}
    if query.type is not None:
        params["extractable"] = "true" if query.type == "standard" else "false"
    elif query.without_rotation_policy:
        params["extractable"] = "false"
    if query.search:
        params["search"] = query.search
    filters = [None]
    if query.dated:
        # The service's time before the bounds are computed: one HEAD (the key count) whose Date header gives it.
        dated.request("HEAD", "keys", params=params, key_ring=query.key_ring, context="Reading the service's time")
        filters = query.filters(dated.clock.fix())
    if len(filters) == 1:
        listing_params = dict(params, filter=filters[0]) if filters[0] else params
        return [raw for raw in dated.list_all("keys", params=listing_params, key_ring=query.key_ring, context="Listing keys")
                if query.accepts(raw)]
    merged = {}
    for value in filters:  # two listings (rotated before the bound, never rotated and created before it): disjoint sets
        for raw in dated.list_all("keys", params=dict(params, filter=value), key_ring=query.key_ring, context="Listing keys"):
            if query.accepts(raw):
                merged.setdefault(str(raw.get("id")), raw)
    return [merged[key_id] for key_id in sorted(merged)]  # back into the service's default order (by id)


def _detail(kms, raw, item, snake_case=True):
    key_id = raw["id"]
    ring = raw.get("keyRingID")
    context = f"Reading the {item} of key {key_id}"
    if item == "policies":
        resources = kms.request("GET", f"keys/{key_id}/policies", key_ring=ring, context=context).resources
        return snake_dict(resources) if snake_case else resources
    params = {"allKeyStates": "true"} if item == "versions" else None
    return snake_dict(kms.list_all(f"keys/{key_id}/{item}", params=params, key_ring=ring, context=context))
