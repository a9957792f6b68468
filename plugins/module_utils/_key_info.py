# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Reading keys for ``hs_crypto_key_info``: one key, or a filtered listing, plus optional detail per key."""

import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import check_alias, check_key_ring, check_text, parse_key_id
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import STATE_CODES, KeyFinder, key_result

MAX_SEARCH = 256
INCLUDES = ("policies", "versions", "registrations")


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


class KeyQuery:
    """Which keys to read, checked before any request."""

    def __init__(self, key_id=None, alias=None, name=None, search=None, key_states=None, type=None,  # pylint: disable=redefined-builtin
                 key_ring=None, include=None):
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

    @classmethod
    def from_params(cls, params):
        return cls(**dict((f, params.get(f)) for f in ("key_id", "alias", "name", "search", "key_states", "type", "key_ring", "include")))

    def accepts(self, raw, check_state=True):
        if check_state and raw.get("state") not in self.states:
            return False
        if self.type is not None and bool(raw.get("extractable")) != (self.type == "standard"):
            return False
        if self.key_ring is not None and (raw.get("keyRingID") or "default") != self.key_ring:
            return False
        return True


def read_keys(kms, query):
    finder = KeyFinder(kms)
    if query.key_id or query.alias:
        ref = query.key_id or query.alias
        found = finder.get(ref, context=f"Reading key {ref}")
        # One key asked for by id or alias is returned whatever its state (deleted included); type and key_ring still filter.
        raws = [found] if found is not None and query.accepts(found, check_state=False) else []
    elif query.name:
        raws = [k for k in finder.by_name(query.name, states=query.states) if query.accepts(k)]
    else:
        params = {"state": ",".join(str(s) for s in query.states)}
        if query.type is not None:
            params["extractable"] = "true" if query.type == "standard" else "false"
        if query.search:
            params["search"] = query.search
        raws = [k for k in kms.list_all("keys", params=params, key_ring=query.key_ring, context="Listing keys") if query.accepts(k)]
    results = []
    for raw in raws:
        result = key_result(raw)
        for item in query.include:
            result[item] = _detail(kms, raw, item)
        results.append(result)
    return results


def _detail(kms, raw, item):
    key_id = raw["id"]
    ring = raw.get("keyRingID")
    context = f"Reading the {item} of key {key_id}"
    if item == "policies":
        return snake_dict(kms.request("GET", f"keys/{key_id}/policies", key_ring=ring, context=context).resources)
    params = {"allKeyStates": "true"} if item == "versions" else None
    return snake_dict(kms.list_all(f"keys/{key_id}/{item}", params=params, key_ring=ring, context=context))
