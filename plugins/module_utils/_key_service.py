# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Converge one key to its ``KeySpec``: create, reconcile, delete, restore, purge.

Rules (design.md "Behaviour rules"): unset options leave the service alone;
immutable attributes that differ fail with a diff, never delete-and-recreate;
check mode sends no write and predicts the result; a lost answer to a create is
followed by a new lookup before anything is sent again.
"""

import copy
import time

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import envelope
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, HsCryptoError, TransportError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import MAX_ALIASES, decode_base64, parse_rfc3339
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import (
    KEY_MEDIA_TYPE, POLICY_MEDIA_TYPE, KeyFinder, dual_auth, is_deleted, key_result, key_type, managed_view, rotation)

REPRESENTATION = "return=representation"
# Creation dates have a resolution of one second: after this wait, a twin a run cannot see yet is strictly younger.
TWIN_SETTLE_SECONDS = 1.2


class KeyConflict(HsCryptoError):
    """The key exists with an attribute that cannot be changed; carries the before/after diff."""

    def __init__(self, message, diff=None):
        super().__init__(message)
        self.diff = diff


class Outcome:
    """What converging one key did (or would do, in check mode)."""

    def __init__(self, before=None):
        self.before = before
        self.after = before
        self.actions = []
        self.messages = []

    @property
    def changed(self):
        return bool(self.actions)

    def result(self):
        return {
            "changed": self.changed,
            "actions": list(self.actions),
            "key": key_result(self.after),
            "diff": {"before": managed_view(self.before), "after": managed_view(self.after)},
            "msg": " ".join(self.messages) if self.messages else None,
        }


class KeyService:
    """Applies key specs through a ``KmsClient``; ``check_mode`` sends reads only."""

    def __init__(self, kms, check_mode=False, finder=None, sleep=None, attempts=3, defer_twin_check=False):
        self.kms = kms
        self.check_mode = check_mode
        # Keys created by name only are checked for concurrent twins; a batch defers that to settle_pending().
        self.defer_twin_check = defer_twin_check
        self.pending_twins = []
        # ``finder`` answers lookups (one GET each, or an index built from one listing for a batch);
        # ``network`` always asks the service, for the look-again after a failed create.
        self.network = KeyFinder(kms)
        self.finder = finder or self.network
        self._sleep = sleep or time.sleep
        self.attempts = attempts

    def converge(self, spec):
        handler = {"present": self.present, "absent": self.absent, "restored": self.restored, "purged": self.purged}[spec.state]
        return handler(spec)

    # -- present -----------------------------------------------------------------------
    def present(self, spec):
        # In check mode nothing can be learnt from a refused create, so every alias is looked up first.
        current = self.finder.locate(spec, thorough=self.check_mode or not spec.name)
        if current is None:
            if spec.key_id:
                raise HsCryptoError(f"{spec.label} does not exist (or was purged); key_id cannot name a key to create: give name instead")
            if not spec.name:
                raise HsCryptoError(f"No key has the alias(es) {', '.join(spec.aliases)}; name is required to create the key")
            try:
                return self.create(spec)
            except ApiError as exc:
                # An alias held by another key makes the service refuse the create (nothing was made): that key is
                # the one the task means. Ask the service, not an index: a concurrent run may have just made it.
                holder = self.network.by_aliases(spec.aliases) if exc.status in (400, 409) and spec.aliases else None
                if holder is None:
                    raise
                self.finder.remember(holder)
                current = holder
        if is_deleted(current):
            purge = ", or purge it (state=purged) to free its aliases" if current.get("aliases") else ""
            raise HsCryptoError(f"{spec.label} ({current.get('id')}) is deleted; use state=restored to restore it within 30 days "
                                f"of its deletion{purge}")
        self.check_immutable(spec, current)
        return self.update(spec, current)

    def check_immutable(self, spec, current):
        wanted = {}
        if spec.type is not None and spec.type != key_type(current):
            wanted["type"] = spec.type
        if spec.name is not None and spec.name != current.get("name"):
            wanted["name"] = spec.name
        if spec.description is not None and spec.description != current.get("description"):
            wanted["description"] = spec.description
        if spec.expiration_date is not None and not self._same_moment(spec.expiration_date, current.get("expirationDate")):
            wanted["expiration_date"] = spec.expiration_date
        problems = [f"{field} (the service has {managed_view(current).get(field)!r}, the task wants {value!r})"
                    for field, value in sorted(wanted.items())]
        if spec.payload is not None:
            if not current.get("imported"):
                problems.append("payload (the key material was generated by the service; it cannot be replaced)")
            elif key_type(current) == "standard" and not spec.secure_import:
                material = current.get("payload")
                if material is None:
                    material = self.finder.fetch(current["id"]).get("payload")
                if material is not None and decode_base64(material, "payload") != decode_base64(spec.payload, "payload"):
                    problems.append("payload (the key holds other key material)")
        if problems:
            before = managed_view(current)
            after = dict(before, **wanted)
            raise KeyConflict("Key {} exists and these attributes cannot be changed: {}. Keys are never deleted and recreated "
                              "by this module; delete the key explicitly, or change the task.".format(current.get("id"), "; ".join(problems)),
                              diff={"before": before, "after": after})

    @staticmethod
    def _same_moment(wanted, held):
        if not held:
            return False
        try:
            return parse_rfc3339(wanted, "expiration_date") == parse_rfc3339(held, "expirationDate")
        except HsCryptoError:
            return False

    def create(self, spec):
        outcome = Outcome(None)
        kind = spec.type or "root"
        resource = {"type": KEY_MEDIA_TYPE, "name": spec.name, "extractable": kind == "standard"}
        for option, field in (("description", "description"), ("expiration_date", "expirationDate"), ("payload", "payload"),
                              ("encrypted_nonce", "encryptedNonce"), ("iv", "iv"), ("encryption_algorithm", "encryptionAlgorithm")):
            if getattr(spec, option) is not None:
                resource[field] = getattr(spec, option)
        if spec.aliases:
            resource["aliases"] = list(spec.aliases)
        path = "keys"
        if spec.rotation is not None or spec.dual_auth_delete:
            path = "keys_with_policy_overrides"
            if spec.rotation is not None:
                resource["rotation"] = dict({"enabled": True}, **spec.rotation)
            if spec.dual_auth_delete:
                resource["dualAuthDelete"] = {"enabled": True}
        outcome.actions.append("create")
        if self.check_mode:
            outcome.after = self._predict_new(spec, resource)
        else:
            outcome.after = self._send_create(spec, path, resource)
            if not spec.aliases:
                if self.defer_twin_check:
                    self.pending_twins.append((spec, outcome))
                else:
                    self._sleep(TWIN_SETTLE_SECONDS)
                    self._settle(spec, outcome, self.network.by_name(spec.name))
        if spec.enabled is False:
            outcome.actions.append("disable")
            if self.check_mode:
                outcome.after["state"] = 2
            else:
                self._action(outcome.after, "disable", lambda raw: raw.get("state") == 2)
                outcome.after = self.finder.fetch(outcome.after["id"])
        return outcome

    def _send_create(self, spec, path, resource):
        """Create once; if the answer is lost, look the key up again before sending anything else."""
        body = envelope(KEY_MEDIA_TYPE, [resource])
        attempt = 0
        while True:
            attempt += 1
            try:
                result = self.kms.request("POST", path, body=body, key_ring=spec.key_ring, prefer=REPRESENTATION,
                                          context=f"Creating {spec.label}")
                try:
                    created = result.resource
                except ApiError:
                    created = None  # made, but the answer is not the key: read it back below
                if not created or "id" not in created or "state" not in created:
                    created = self.network.get(created["id"]) if created and created.get("id") else self.network.locate(spec)
                self.finder.remember(created)
                return created
            except (TransportError, ApiError) as exc:
                if isinstance(exc, ApiError) and not (exc.status >= 500 and exc.status != 501):
                    raise
                if attempt >= self.attempts:
                    raise
                # Give the service a moment, then ask whether the key was made before sending anything again.
                self._sleep(min(0.5 * 2 ** (attempt - 1), 5.0))
                found = self.network.locate(spec)
                if found is not None:
                    self.finder.remember(found)
                    return found

    def settle_pending(self):
        """Check, with one wait and one listing, every key this run created by name only (see ``_settle``)."""
        if not self.pending_twins:
            return
        self._sleep(TWIN_SETTLE_SECONDS)
        live = self.kms.list_all("keys", params={"state": "1,2,3"}, context="Listing keys to check for concurrent twins")
        for spec, outcome in self.pending_twins:
            self._settle(spec, outcome, [raw for raw in live if raw.get("name") == spec.name])
        self.pending_twins = []

    def _settle(self, spec, outcome, twins):
        """Make sure no concurrent run created the twin of a key this run created knowing only its name.

        The service keeps aliases unique, so keys with aliases cannot be created twice; names it does not
        guard. After a wait longer than the resolution of creation dates (so that any twin this run cannot
        see yet is strictly younger than its own key), every run that created a key named ``spec.name``
        keeps the oldest live key of that name (creation date, then id). A run whose own new key is not that
        one deletes it (never another run's key) and adopts the oldest, bringing it to the spec.
        """
        created = outcome.after
        if len(twins) < 2 or not created or not created.get("id"):
            return
        oldest = min(twins, key=lambda raw: (raw.get("creationDate") or "", raw.get("id")))
        if oldest.get("id") == created["id"]:
            return
        self._change(created["id"], is_deleted, "DELETE", f"keys/{created['id']}", key_ring=created.get("keyRingID"),
                     context=f"Deleting key {created['id']}, created twice by concurrent runs")
        self.finder.forget(created)
        self.finder.remember(oldest)
        self.check_immutable(spec, oldest)
        adopted = self.update(spec, oldest)
        outcome.actions.extend(["delete_concurrent_twin", f"adopt:{oldest['id']}"] + adopted.actions)
        outcome.after = adopted.after
        outcome.messages.append("A concurrent run created key {} with the same name first; this run deleted its own new key {} "
                                "and uses {}.".format(oldest["id"], created["id"], oldest["id"]))

    def _predict_new(self, spec, resource):
        predicted = dict((k, v) for k, v in resource.items() if k not in ("payload", "encryptedNonce", "iv", "encryptionAlgorithm"))
        predicted.update({"id": None, "state": 1, "keyRingID": spec.key_ring or "default", "imported": spec.payload is not None,
                          "aliases": list(spec.aliases or []), "deleted": False})
        predicted.setdefault("dualAuthDelete", {"enabled": False})
        return predicted

    def update(self, spec, current):
        outcome = Outcome(current)
        predicted = copy.deepcopy(current)
        ring = current.get("keyRingID") or "default"
        key_id = current["id"]
        steps = []  # (action, method, path, body, params, apply-to-prediction)

        if spec.aliases is not None:
            have = list(current.get("aliases") or [])
            remove = [a for a in have if a not in spec.aliases] if spec.purge_aliases else []
            add = [a for a in spec.aliases if a not in have]
            if len(have) - len(remove) + len(add) > MAX_ALIASES:
                raise HsCryptoError("Key %s has the aliases %s; adding %s would exceed %d aliases (set purge_aliases=true to replace them)"
                                    % (key_id, ", ".join(have), ", ".join(add), MAX_ALIASES))
            for alias in remove:
                steps.append((f"remove_alias:{alias}", "DELETE", f"keys/{key_id}/aliases/{alias}", None, None,
                              lambda raw, alias=alias: alias not in (raw.get("aliases") or [])))
            for alias in add:
                steps.append((f"add_alias:{alias}", "POST", f"keys/{key_id}/aliases/{alias}", None, None,
                              lambda raw, alias=alias: alias in (raw.get("aliases") or [])))
            predicted["aliases"] = [a for a in have if a not in remove] + add

        if spec.key_ring is not None and spec.key_ring != ring:
            steps.append(("move_key_ring", "PATCH", f"keys/{key_id}", {"keyRingID": spec.key_ring}, None,
                          lambda raw: (raw.get("keyRingID") or "default") == spec.key_ring))
            predicted["keyRingID"] = spec.key_ring

        if spec.rotation is not None:
            if key_type(current) == "standard":
                raise HsCryptoError(f"Key {key_id} is a standard key; rotation policies apply to root keys only")
            held = rotation(current)
            wanted = {"enabled": spec.rotation.get("enabled", True if spec.rotation.get("interval_month") else held.get("enabled", False))}
            interval = spec.rotation.get("interval_month", held.get("interval_month"))
            if interval is not None:
                wanted["interval_month"] = interval
            if bool(held.get("enabled")) != wanted["enabled"] or (interval is not None and held.get("interval_month") != interval):
                steps.append(("set_rotation_policy", "PUT", f"keys/{key_id}/policies",
                              envelope(POLICY_MEDIA_TYPE, [{"type": POLICY_MEDIA_TYPE, "rotation": wanted}]), {"policy": "rotation"},
                              lambda raw, wanted=wanted: all(rotation(raw).get(k) == v for k, v in wanted.items())))
                predicted["rotation"] = wanted

        dual = dual_auth(current)
        if spec.dual_auth_delete is True and not dual.get("enabled"):
            steps.append(("enable_dual_auth_delete", "PUT", f"keys/{key_id}/policies",
                          envelope(POLICY_MEDIA_TYPE, [{"type": POLICY_MEDIA_TYPE, "dualAuthDelete": {"enabled": True}}]),
                          {"policy": "dualAuthDelete"}, lambda raw: bool(dual_auth(raw).get("enabled"))))
            predicted["dualAuthDelete"] = dict(dual, enabled=True)
        elif spec.dual_auth_delete is False and dual.get("enabled"):
            raise HsCryptoError(f"Key {key_id} has a dual authorization delete policy; once enabled it cannot be disabled")

        if spec.cancel_deletion and dual.get("keySetForDeletion"):
            steps.append(("cancel_deletion_approval", "POST", f"keys/{key_id}/actions/unsetKeyForDeletion", None, None,
                          lambda raw: not dual_auth(raw).get("keySetForDeletion")))
            predicted["dualAuthDelete"] = dict(predicted.get("dualAuthDelete") or {}, keySetForDeletion=False)
            predicted["dualAuthDelete"].pop("authExpiration", None)

        if spec.enabled is not None:
            state = current.get("state")
            if spec.enabled and state == 2:
                steps.append(("enable", "POST", f"keys/{key_id}/actions/enable", None, None, lambda raw: raw.get("state") == 1))
                predicted["state"] = 1
            elif not spec.enabled and state == 1:
                steps.append(("disable", "POST", f"keys/{key_id}/actions/disable", None, None, lambda raw: raw.get("state") == 2))
                predicted["state"] = 2
            elif spec.enabled and state == 3:
                raise HsCryptoError(f"Key {key_id} is deactivated (its expiration date {current.get('expirationDate')} has passed) and cannot be enabled")

        for action, method, path, body, params, done in steps:
            outcome.actions.append(action)
            if self.check_mode:
                continue
            # The ring header always names the ring the key is in when the request is sent.
            self._change(key_id, done, method, path, body=body, params=params, key_ring=ring,
                         context=f"Updating key {key_id} ({action})")
            if action == "move_key_ring":
                ring = spec.key_ring
        if outcome.actions:
            outcome.after = predicted if self.check_mode else self.finder.fetch(key_id)
        return outcome

    def _action(self, raw, action, done):
        self._change(raw["id"], done, "POST", f"keys/{raw['id']}/actions/{action}", key_ring=raw.get("keyRingID"),
                     context=f"Key {raw['id']}: {action}")

    def _change(self, key_id, done, method, path, **kwargs):
        """Send one change to key ``key_id``; ``done(raw)`` tells whether the key shows it.

        When the answer is lost, the service fails (5xx), or a re-sent change meets
        a conflict (409, e.g. enabling a key a lost answer already enabled), the
        key is read again: if the change is there, it was made; if not, it is sent
        once more (a conflict is reported). Nothing is ever applied twice blindly.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.kms.request(method, path, **kwargs)
            except (TransportError, ApiError) as exc:
                conflict = isinstance(exc, ApiError) and exc.status == 409
                if isinstance(exc, ApiError) and not conflict and not (exc.status >= 500 and exc.status != 501):
                    raise
                current = self.network.get(key_id)
                if current is not None and done(current):
                    return None
                if conflict or attempt >= self.attempts:
                    raise
                self._sleep(min(0.5 * 2 ** (attempt - 1), 5.0))

    # -- absent --------------------------------------------------------------------------
    def absent(self, spec):
        current = self.finder.locate(spec)
        outcome = Outcome(current)
        if current is None or is_deleted(current):
            return outcome
        key_id = current["id"]
        dual = dual_auth(current)
        if dual.get("enabled") and not dual.get("keySetForDeletion"):
            outcome.actions.append("approve_deletion")
            outcome.messages.append(f"Key {key_id} is under dual authorization: this run recorded the first approval (valid 7 days). "
                                    "A second identity must run the same task to delete it.")
            if self.check_mode:
                outcome.after = self._predicted(current, dualAuthDelete=dict(dual, keySetForDeletion=True))
            else:
                self._action(current, "setKeyForDeletion", lambda raw: bool(dual_auth(raw).get("keySetForDeletion")))
                outcome.after = self.finder.fetch(key_id)
            return outcome
        outcome.actions.append("delete")
        if self.check_mode:
            if dual.get("enabled"):
                outcome.messages.append(f"Key {key_id} is approved for deletion; it will be deleted if this run's identity is not "
                                        "the one that approved it.")
            outcome.after = self._predicted(current, state=5, deleted=True)
            return outcome
        try:
            result = self.kms.request("DELETE", f"keys/{key_id}", params={"force": "true"} if spec.force else None,
                                      key_ring=current.get("keyRingID"), prefer=REPRESENTATION, context=f"Deleting key {key_id}")
        except ApiError as exc:
            if exc.status == 410:  # deleted meanwhile (or our earlier attempt's answer was lost)
                outcome.after = self.finder.fetch(key_id)
                return outcome
            if exc.has_code("AUTHORIZATIONS_NOT_MET"):
                outcome.actions = []
                until = dual.get("authExpiration") or "unknown"
                outcome.messages.append(f"Key {key_id} waits for a second approval: it was approved for deletion (until {until}) by this "
                                        "identity or the approval expired; another identity must run the task to delete it.")
                return outcome
            if exc.has_code("PROTECTED_RESOURCE_ERR") or exc.has_code("PREV_KEY_DEL_ERR"):
                raise self._blocked_by_registrations(key_id, exc)
            raise
        outcome.after = result.resource or self.finder.fetch(key_id)
        self.finder.remember(outcome.after)
        return outcome

    def _blocked_by_registrations(self, key_id, exc):
        try:
            registrations = self.kms.list_all(f"keys/{key_id}/registrations")
        except HsCryptoError:
            registrations = []
        names = [f"{r.get('resourceCrn')}{' (prevents deletion)' if r.get('preventKeyDeletion') else ''}"
                 for r in registrations if isinstance(r, dict)]
        hint = ("force=true deletes a key whose registrations allow it" if exc.has_code("PROTECTED_RESOURCE_ERR")
                else "a registration with preventKeyDeletion blocks deletion even with force=true; remove it first")
        exc.message = f"{exc.message}. Registered resources: {', '.join(names) or '(could not list them)'}; {hint}"
        return exc

    # -- restored / purged --------------------------------------------------------------
    def restored(self, spec):
        current = self.finder.locate(spec, deleted=True)
        if current is None and not spec.key_id:
            current = self.finder.locate(spec)  # an alias or name may belong to a key that is not deleted at all
        if current is None:
            raise HsCryptoError(f"{spec.label} was not found (a purged key cannot be restored)")
        outcome = Outcome(current)
        if not is_deleted(current):
            return outcome
        outcome.actions.append("restore")
        if self.check_mode:
            outcome.after = self._predicted(current, state=1, deleted=False)
            return outcome
        result = self._change(current["id"], lambda raw: not is_deleted(raw), "POST", f"keys/{current['id']}/restore",
                              key_ring=current.get("keyRingID"), context=f"Restoring key {current['id']}")
        restored = result.resource if result is not None else None
        outcome.after = restored if restored and "state" in restored else self.finder.fetch(current["id"])
        self.finder.remember(outcome.after)
        return outcome

    def purged(self, spec):
        current = self.finder.locate(spec, deleted=True)
        outcome = Outcome(current)
        if current is None:
            live = None if spec.key_id else self.finder.locate(spec)
            if live is not None:
                current = live
            else:
                return outcome  # purged already, or never existed
        if not is_deleted(current):
            raise HsCryptoError(f"Key {current['id']} is not deleted; delete it first (state=absent): it can be purged 4 hours after deletion")
        if current.get("purgeAllowed") is False:
            allowed = current.get('purgeAllowedFrom') or '4 hours after deletion'
            raise HsCryptoError(f"Key {current['id']} cannot be purged yet: purging is possible from {allowed} (4 hours after its deletion)")
        outcome.actions.append("purge")
        outcome.after = None
        if self.check_mode:
            return outcome
        try:
            self.kms.request("DELETE", f"keys/{current['id']}/purge", prefer=REPRESENTATION, key_ring=current.get("keyRingID"),
                             context=f"Purging key {current['id']}")
        except ApiError as exc:
            if exc.status == 404:
                self.finder.forget(current)
                return outcome
            if exc.has_code("REQ_TOO_EARLY_ERR"):
                exc.message = f"{exc.message} (purging is possible from {current.get('purgeAllowedFrom')})"
            raise
        self.finder.forget(current)
        return outcome

    @staticmethod
    def _predicted(current, **changes):
        predicted = copy.deepcopy(current)
        predicted.update(changes)
        return predicted
