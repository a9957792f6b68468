# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Converge many keys of one instance in one module call.

Every key of the instance (deleted ones included, until purged) is read with one
listing (one request per 5,000 keys) into a ``KeyIndex``; each desired key is
then found in the index with the single-key identity rules and converged by the
same ``KeyService`` as ``hs_crypto_key``. An unchanged key costs no request at
all, so a re-run of N keys is one listing whatever N is.
"""

import copy
import threading

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, HsCryptoError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_service import TWIN_SETTLE_SECONDS, KeyConflict, KeyService, with_partial
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import KeySpec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import LIVE_STATES, KeyFinder
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import run_lanes, transport_of

ALL_STATES = (0, 1, 2, 3, 5)


class KeyIndex:
    """Keys by id, alias and name, from one listing; kept current as the run changes keys.

    The alias and name maps are kept up to date on every change (not rebuilt): a run creating N keys looks each one up
    before creating it, and a rebuild per change would cost N x N.
    """

    def __init__(self, raws=()):
        self.by_id = {}
        self.by_alias = {}
        self.by_name = {}
        for raw in raws:
            self.put(raw)

    def put(self, raw):
        if not raw or not raw.get("id"):
            return
        key_id = raw["id"]
        old = self.by_id.get(key_id)
        if old is not None:
            self._unmap_aliases(key_id, old)
            if old.get("name") != raw.get("name"):
                self.by_name[old.get("name")].remove(key_id)
                self.by_name.setdefault(raw.get("name"), []).append(key_id)
        else:
            self.by_name.setdefault(raw.get("name"), []).append(key_id)
        self.by_id[key_id] = raw  # a key already listed keeps its place: messages list keys in the listing's order
        for alias in raw.get("aliases") or ():
            self.by_alias[alias] = key_id

    def drop(self, key_id):
        raw = self.by_id.pop(key_id, None)
        if raw is not None:
            self._unmap_aliases(key_id, raw)
            self.by_name[raw.get("name")].remove(key_id)

    def _unmap_aliases(self, key_id, raw):
        for alias in raw.get("aliases") or ():
            if self.by_alias.get(alias) == key_id:
                del self.by_alias[alias]

    def named(self, name, states):
        return [self.by_id[key_id] for key_id in self.by_name.get(name, ()) if self.by_id[key_id].get("state") in states]


class IndexedFinder(KeyFinder):
    """A ``KeyFinder`` that answers lookups from a ``KeyIndex`` instead of asking the service.

    Workers converging different keys share it: every read and change of the index holds its lock (requests do not).
    """

    def __init__(self, kms, index):
        super().__init__(kms)
        self.index = index
        self._lock = threading.RLock()

    def get(self, ref, context=None):
        with self._lock:
            key_id = ref if ref in self.index.by_id else self.index.by_alias.get(ref)
            return copy.deepcopy(self.index.by_id[key_id]) if key_id else None

    def by_name(self, name, states=LIVE_STATES):
        with self._lock:
            return [copy.deepcopy(raw) for raw in self.index.named(name, states)]

    def fetch(self, key_id):
        raw = super().get(key_id, context=f"Reading key {key_id}")
        self.remember(raw)
        return raw

    def remember(self, raw):
        if raw and raw.get("id"):
            with self._lock:
                self.index.put(copy.deepcopy(raw))

    def forget(self, raw):
        if raw and raw.get("id"):
            with self._lock:
                self.index.drop(raw["id"])


class BatchKeyService(KeyService):
    """A ``KeyService`` for many keys of one instance: lookups answered by an index built from one listing, kept
    current as the run changes keys, and the concurrent-twin check of keys created by name only made once for all
    of them (one wait, one listing) by ``settle_pending``."""

    def __init__(self, kms, index, check_mode=False, sleep=None):
        super().__init__(kms, check_mode=check_mode, finder=IndexedFinder(kms, index), sleep=sleep)
        self.pending_twins = []
        self._pending_lock = threading.Lock()

    def learned(self, raw):
        self.finder.remember(raw)

    def gone(self, raw):
        self.finder.forget(raw)

    def after_create(self, spec, outcome):
        with self._pending_lock:
            self.pending_twins.append((spec, outcome))

    def settle_pending(self):
        """Check every key this run created by name only for a concurrent twin (``KeyService.settle_twins``)."""
        pending, self.pending_twins = self.pending_twins, []
        if not pending:
            return {}
        self._sleep(TWIN_SETTLE_SECONDS)
        live = self.kms.list_all("keys", params={"state": "1,2,3"}, context="Listing keys to check for concurrent twins")
        failures = {}
        for spec, outcome in pending:
            try:
                self.settle_twins(spec, outcome, [raw for raw in live if raw.get("name") == spec.name])
            except HsCryptoError as exc:
                failures[id(outcome)] = with_partial(exc, outcome)
        return failures


def parse_specs(entries, names=None, problems=None):
    """Check every entry (``crypto_keys[i].<option>`` in messages) and that no two entries claim one key.

    Every problem of every entry is found, not the first one only. Without ``problems`` they are raised together in one
    ``ConfigurationError``; with a list, they are appended to it and the specs that passed are returned (the others are
    None). ``names`` says what messages call each entry, in the caller's terms (the hs_crypto_check filter passes
    ``hs_crypto_instance_keys[2] (payments-root)``); by default ``crypto_keys[i]``.
    """
    found = []
    specs = []
    names = names or [f"crypto_keys[{int(i)}]" for i in range(len(entries))]
    for i, entry in enumerate(entries):
        spec = KeySpec(**dict((f, entry.get(f)) for f in KeySpec.FIELDS))
        entry_problems = spec.problems(prefix=f"{names[i]}.")
        found.extend(entry_problems)
        specs.append(None if entry_problems else spec)
    claimed = {}
    for i, spec in enumerate(specs):
        if spec is None:
            continue
        claims = [("key_id", spec.key_id)] if spec.key_id else []
        claims += [("alias", alias) for alias in spec.aliases or ()]
        if not spec.key_id and spec.name:
            # A name is a fallback identity: a second entry with it would find the first entry's key by name.
            claims.append(("name", spec.name))
        for kind, value in claims:
            if (kind, value) in claimed:
                found.append(f"{names[claimed[(kind, value)]]} and {names[i]} both designate the {kind} {value!r}; each key may be "
                             "listed once (keys that share a name need their key_id in the list)")
                continue
            claimed[(kind, value)] = i
    if problems is not None:
        problems.extend(found)
        return specs
    if found:
        raise ConfigurationError("; ".join(found))
    return specs


def label(spec):
    return spec.key_id or (spec.aliases[0] if spec.aliases else spec.name)


def same_lane(specs, index):
    """The lane of each spec (``run_lanes``): specs that could meet one key converge one after another, in order.

    ``parse_specs`` already refuses two entries with one key id, alias or name; what it cannot see is the instance: an
    entry's alias held by a key whose name another entry gives, or a key id whose key has another entry's name. Every
    spec is joined with the keys of the listing it could resolve to (by id, alias or name) and with the names and
    aliases it would create; specs that share any of them share a lane. In practice almost every spec has its own.
    """
    parent = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    holders, named = {}, {}
    for raw in index.by_id.values():
        for alias in raw.get("aliases") or ():
            holders[alias] = raw["id"]
        named.setdefault(raw.get("name"), []).append(raw["id"])
    for position, spec in enumerate(specs):
        nodes = [("key", spec.key_id)] if spec.key_id else []
        nodes += [("alias", alias) for alias in spec.aliases or ()]
        nodes += [("key", holders[alias]) for alias in spec.aliases or () if alias in holders]
        if spec.name:
            nodes += [("name", spec.name)] + [("key", key_id) for key_id in named.get(spec.name, ())]
        for node in nodes:
            parent[find(node)] = find(("spec", position))
    return lambda position: find(("spec", position))


def converge_all(kms, specs, check_mode=False, redact=None, expected_rings=(), concurrency=1):
    """Converge every spec; a failing key is reported in its own result (with what was changed before it failed)
    and does not stop the others. ``expected_rings``: key rings an earlier task creates (they count in check mode).

    Keys are converged side by side, at most ``concurrency`` at once (``_workers``): the listing comes first, the
    steps of one key keep their order, entries that could meet the same key run one after another, and the twin check
    of created keys comes after every create. Check mode runs one key after another (it sends reads only).
    """
    listing = kms.list_all("keys", params={"state": ",".join(str(s) for s in ALL_STATES)}, context="Listing the keys of the instance")
    index = KeyIndex(listing)
    service = BatchKeyService(kms, index, check_mode=check_mode)
    service.expected_rings = frozenset(expected_rings or ())

    def converge(spec):
        item = {"item": label(spec), "state": spec.state}
        try:
            item["outcome"] = service.converge(spec)
        except HsCryptoError as exc:
            _failed(item, exc, redact)
        return item

    items = run_lanes(converge, specs, lane_of=same_lane(specs, index), concurrency=1 if check_mode else concurrency,
                      transport=transport_of(kms))
    # Keys created by name only: one wait and one listing for all of them (concurrent runs, see KeyService.settle_twins).
    failures = service.settle_pending()
    for item in items:
        outcome = item.pop("outcome", None)
        if outcome is None:
            continue
        if id(outcome) in failures:
            _failed(item, failures[id(outcome)], redact)
            continue
        result = outcome.result()
        item.update(failed=False, changed=result["changed"], actions=result["actions"], key=result["key"], diff=result["diff"],
                    adopted=result["adopted"])
        if result["msg"]:
            item["msg"] = result["msg"]
        if result["warnings"]:
            item["warnings"] = result["warnings"]
    return items


def _failed(item, exc, redact):
    """A key's failure as its result: what it had changed before (``partial``), the message, the diff or the error."""
    partial = getattr(exc, "partial", None) or {}
    item.update(failed=True, changed=bool(partial.get("changed")), actions=list(partial.get("actions") or []), key=None,
                msg=_text(exc, redact))
    if isinstance(exc, KeyConflict):
        item["diff"] = exc.diff
    else:
        item.update(error=exc.to_dict(), diff={"before": {}, "after": {}})


def _text(exc, redact):
    message = str(exc)
    if getattr(exc, "correlation_id", None):
        message += f" [correlation id {exc.correlation_id}]"
    return redact(message) if redact else message


def summarize(results):
    summary = {"total": len(results), "changed": 0, "unchanged": 0, "failed": 0, "created": 0, "deleted": 0}
    for result in results:
        if result["failed"]:
            summary["failed"] += 1
            continue
        summary["changed" if result["changed"] else "unchanged"] += 1
        if "create" in result["actions"]:
            summary["created"] += 1
        if "delete" in result["actions"]:
            summary["deleted"] += 1
    return summary
