# -*- coding: utf-8 -*-
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Bring one key to its ``KeySpec`` (``state=present``): find it, create it, or reconcile it step by step.

Rules (docs/design-choices.md): unset options leave the service alone; immutable attributes that differ fail
with a diff, never delete-and-recreate; check mode makes the reads the real run makes, sends no write and
fails where the real run would; every write goes through ``SafeWriter`` (a lost answer is followed by a read,
never by a blind re-send); a failure after a write reports the changes made. ``absent``, ``restored`` and
``purged`` are in ``_key_lifecycle``; what only a batch needs is in ``_key_batch``.
"""

import copy
import threading
import time

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import envelope
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, HsCryptoError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import decode_base64, parse_rfc3339
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_steps import enabled_steps, plan
from ansible_collections.ibm.hs_crypto.plugins.module_utils._kmip import KmipService, adapter_result
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import (
    KEY_MEDIA_TYPE, KeyFinder, approved_for_deletion, is_deleted, key_result, key_type, managed_view)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._safe_write import SafeWriter, WriteOutcomeUnknown

REPRESENTATION = "return=representation"
# Creation dates have a resolution of one second: after this wait, a twin a run cannot see yet is strictly younger.
TWIN_SETTLE_SECONDS = 1.2
SECRET_CREATE_FIELDS = ("payload", "encryptedNonce", "iv", "encryptionAlgorithm")


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
        self.warnings = []
        self.adopted = False

    @property
    def changed(self):
        return bool(self.actions)

    def result(self):
        return {
            "changed": self.changed,
            "actions": list(self.actions),
            "key": key_result(self.after),
            "adopted": self.adopted,
            "diff": {"before": managed_view(self.before), "after": managed_view(self.after)},
            "msg": " ".join(self.messages) if self.messages else None,
            "warnings": list(self.warnings),
        }


def with_partial(exc, outcome):
    """Mark ``exc`` with the changes already made, so that the failure still reports ``changed`` and ``actions``."""
    if outcome.actions and getattr(exc, "partial", None) is None:
        exc.partial = {"changed": True, "actions": list(outcome.actions)}
    return exc


def _held(field, value):
    """A value of the service as messages print it: "no description" for nothing, never Python's ``None``."""
    if value is None or value == "":
        return f"no {field.replace('_', ' ')}"
    return repr(value)


class KeyService:
    """Applies key specs through a ``KmsClient``; ``check_mode`` sends reads only.

    ``finder`` answers lookups (one GET each, or a batch's index); ``network`` always asks the service (the
    read-backs of the lost-answer rule). ``learned``/``gone``/``after_create`` are hooks a batch overrides.
    """

    def __init__(self, kms, check_mode=False, finder=None, sleep=None, attempts=3):
        self.kms = kms
        self.check_mode = check_mode
        self.network = KeyFinder(kms)
        self.finder = finder or self.network
        self._sleep = sleep or time.sleep
        self.writer = SafeWriter(kms, attempts=attempts, sleep=self._sleep)
        self._rings = None
        self._rings_lock = threading.Lock()  # workers of a batch share the service: the rings are listed once
        # Key rings an earlier task of the same run creates: in check mode that task created nothing, so they count as there.
        self.expected_rings = frozenset()
        self._kmip_roots = None  # root key id -> the KMIP adapters bound to it (check mode: what a deletion would meet)
        self._kmip_lock = threading.Lock()

    def converge(self, spec):
        from ansible_collections.ibm.hs_crypto.plugins.module_utils import _key_lifecycle  # pylint: disable=import-outside-toplevel
        if spec.state == "present":
            return self.present(spec)
        return getattr(_key_lifecycle, spec.state)(self, spec)

    # -- hooks -------------------------------------------------------------------------------
    def learned(self, raw):
        """This run created or changed ``raw`` (nothing to do when every lookup asks the service)."""

    def gone(self, raw):
        """This run purged ``raw``."""

    def after_create(self, spec, outcome):
        """A key created by name only: settle concurrent twins now (a batch does it once for all its keys)."""
        self._sleep(TWIN_SETTLE_SECONDS)
        self.settle_twins(spec, outcome, self.network.by_name(spec.name))

    # -- reads ---------------------------------------------------------------------------------
    def read_back(self, key_id):
        """The key after a change, read with retries of its own (a failed read is not a failed write)."""
        return self.writer.read(lambda: self.finder.fetch(key_id), f"Reading key {key_id} after changing it")

    def kmip_adapters_of(self, key_id):
        """The KMIP adapters bound to root key ``key_id``, from one listing of the instance's adapters per run.

        Empty where the instance has no KMIP API (HPCS answers 404) or the identity may not list adapters (403): the
        real run then meets the service's own answer, as before.
        """
        with self._kmip_lock:
            if self._kmip_roots is None:
                try:
                    adapters = [adapter_result(raw) for raw in KmipService(self.kms).adapters() if isinstance(raw, dict)]
                except ApiError as exc:
                    if exc.status not in (403, 404):
                        raise
                    adapters = []
                self._kmip_roots = {}
                for adapter in adapters:
                    self._kmip_roots.setdefault(adapter["root_key_id"], []).append(adapter)
        return self._kmip_roots.get(key_id, [])

    def probe(self, key_id, shows):
        raw = self.network.get(key_id, context=f"Reading key {key_id}")
        return raw is not None and shows(raw), raw

    def require_ring(self, ring):
        """Refuse, before any write and in check mode alike, a key ring the instance does not have."""
        if not ring or ring == "default" or (self.check_mode and ring in self.expected_rings):
            return
        with self._rings_lock:
            if self._rings is None:
                rings = self.kms.list_all("key_rings", context="Listing the key rings of the instance")
                self._rings = {r.get("id") for r in rings if isinstance(r, dict)}
        if ring not in self._rings:
            raise HsCryptoError(f"Key ring {ring} does not exist in instance {self.kms.instance_id}: create it first "
                                f"(ibm.hs_crypto.hs_crypto_key_ring key_ring_id={ring}) or choose an existing key ring")

    # -- present -------------------------------------------------------------------------------
    def present(self, spec):
        found = self.finder.resolve(spec)
        current = found.key
        if current is None:
            if spec.key_id:
                raise HsCryptoError(f"{spec.label} does not exist (or was purged); key_id cannot name a key to create: give name instead")
            if not spec.name:
                raise HsCryptoError(f"No key has the alias(es) {', '.join(spec.aliases)}; name is required to create the key")
            try:
                return self.create(spec)
            except ApiError as exc:
                # A concurrent run may have made a key with one of these aliases since the lookup (the service then
                # refuses the create and nothing was made): that key is the one the task means.
                holder = self.network.by_aliases(spec.aliases) if exc.status in (400, 409) and spec.aliases else None
                if holder is None:
                    raise
                self.learned(holder)
                current = holder
        if is_deleted(current):
            raise HsCryptoError(self._deleted_message(spec, current, found.held))
        self.check_immutable(spec, current)
        outcome = self.update(spec, current)
        if found.adopted:
            outcome.adopted = True
            outcome.warnings.append(
                f"Key {current['id']} was found by its name {spec.name!r}: no key had the alias(es) {', '.join(spec.aliases)}, "
                "so this existing key comes under management and gets them (adopted).")
        return outcome

    @staticmethod
    def _deleted_message(spec, current, held):
        aliases = [alias for alias, raw in held.items() if raw.get("id") == current.get("id")]
        if aliases:
            subject = f"The alias{'es' if len(aliases) > 1 else ''} {', '.join(aliases)} of this task belong{'' if len(aliases) > 1 else 's'} " \
                      f"to key {current.get('id')}, which is deleted"
        else:
            subject = f"{spec.label} ({current.get('id')}) is deleted"
        purge = ", or purge it (state=purged) to free its aliases" if current.get("aliases") else ""
        return f"{subject}: restore it (state=restored) within 30 days of its deletion{purge}"

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
        held = managed_view(current)
        problems = [f"{field} (the key has {_held(field, held.get(field))}, the task wants {value!r})" for field, value in sorted(wanted.items())]
        if spec.payload is not None:
            if not current.get("imported"):
                problems.append("payload (the key material was generated by the service; it cannot be replaced)")
            elif key_type(current) == "standard" and not spec.secure_import:
                material = current.get("payload")
                if material is None:
                    material = (self.finder.fetch(current["id"]) or {}).get("payload")
                if material is not None and decode_base64(material, "payload") != decode_base64(spec.payload, "payload"):
                    problems.append("payload (the key holds other key material)")
        if problems:
            before = managed_view(current)
            raise KeyConflict(f"Key {current.get('id')} exists and these attributes cannot be changed: {'; '.join(problems)}. Keys are "
                              "never deleted and recreated by this module; delete the key explicitly, or change the task.",
                              diff={"before": before, "after": dict(before, **wanted)})

    @staticmethod
    def _same_moment(wanted, held):
        if not held:
            return False
        try:
            return parse_rfc3339(wanted, "expiration_date") == parse_rfc3339(held, "expirationDate")
        except HsCryptoError:
            return False

    # -- create --------------------------------------------------------------------------------
    def create(self, spec):
        self.require_ring(spec.key_ring)
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
        if self.check_mode:
            outcome.actions.append("create")
            outcome.after = self._predict_new(spec, resource)
            self._apply(outcome, outcome.after, enabled_steps(spec, outcome.after))
            return outcome
        outcome.after = self._send_create(spec, path, resource)
        outcome.actions.append("create")
        self.learned(outcome.after)
        try:
            if not spec.aliases:
                self.after_create(spec, outcome)
            self._apply(outcome, outcome.after, enabled_steps(spec, outcome.after))
        except HsCryptoError as exc:
            raise with_partial(exc, outcome)
        return outcome

    def _send_create(self, spec, path, resource):
        """Create once through the safe writer; the created key, read back when the answer did not hold it. Never None."""
        context = f"Creating {spec.label}"
        body = envelope(KEY_MEDIA_TYPE, [resource])

        def send():
            return self.kms.request("POST", path, body=body, key_ring=spec.key_ring, prefer=REPRESENTATION, context=context)

        def made():
            found = self.network.by_aliases(spec.aliases) if spec.aliases else (self.network.by_name(spec.name) or [None])[0]
            return found is not None, found

        written = self.writer.write(send, made, context)
        created = written.resource("id", "state")
        if created and created.get("id") and "state" in created:
            return created
        key_id = created.get("id") if isinstance(created, dict) else None
        again = self.writer.read(lambda: self.network.get(key_id) if key_id else made()[1], f"Reading {spec.label} after creating it")
        if again is None:
            error = WriteOutcomeUnknown(f"{context}: the service accepted the key but it cannot be read back yet; run the task "
                                        "again: it finds the key and does not create another")
            error.partial = {"changed": True, "actions": ["create"]}
            raise error
        return again

    def _predict_new(self, spec, resource):
        predicted = {k: v for k, v in resource.items() if k not in SECRET_CREATE_FIELDS}
        predicted.update({"id": None, "state": 1, "keyRingID": spec.key_ring or "default", "imported": spec.payload is not None,
                          "aliases": list(spec.aliases or []), "deleted": False})
        predicted.setdefault("dualAuthDelete", {"enabled": False})
        return predicted

    # -- concurrent twins ------------------------------------------------------------------------
    def settle_twins(self, spec, outcome, twins):
        """Make sure no concurrent run created the twin of a key this run created knowing only its name.

        The service keeps aliases unique, so keys with aliases cannot be created twice; names it does not guard.
        After a wait longer than the resolution of creation dates (so that any twin this run cannot see yet is
        strictly younger than its own key), every run that created a key named ``spec.name`` keeps the oldest live
        key of that name (creation date, then id). A run whose own new key is not that one deletes it (never another
        run's key) and adopts the oldest, bringing it to the spec. Under a dual authorization policy this identity
        cannot delete it alone: it sets it for deletion (the first approval) and says what a second identity must do;
        a key approved for deletion is no candidate for a name lookup while another key has the name
        (docs/reliability.md, "Concurrent runs").
        """
        created = outcome.after
        if len(twins) < 2 or not created or not created.get("id"):
            return
        oldest = min(twins, key=lambda raw: (raw.get("creationDate") or "", raw.get("id")))
        twin_id = created["id"]
        if oldest.get("id") == twin_id:
            return
        ring = created.get("keyRingID")
        context = f"Deleting key {twin_id}, created twice by concurrent runs"
        try:
            self.writer.write(lambda: self.kms.request("DELETE", f"keys/{twin_id}", key_ring=ring, context=context),
                              lambda: self.probe(twin_id, is_deleted), context)
            outcome.actions.append(f"delete_concurrent_twin:{twin_id}")
            outcome.messages.append(f"A concurrent run created key {oldest['id']} with the same name first; this run deleted its own "
                                    f"new key {twin_id} and uses {oldest['id']}.")
            self.gone(created)
        except ApiError as exc:
            if not exc.has_code("AUTHORIZATIONS_NOT_MET"):
                raise
            context = f"Approving the deletion of key {twin_id}, created twice by concurrent runs"
            self.writer.write(lambda: self.kms.request("POST", f"keys/{twin_id}/actions/setKeyForDeletion", key_ring=ring, context=context),
                              lambda: self.probe(twin_id, approved_for_deletion), context, conflict_may_be_done=True)
            outcome.actions.append(f"approve_deletion_of_concurrent_twin:{twin_id}")
            outcome.messages.append(
                f"A concurrent run created key {oldest['id']} with the same name first; this run uses it. Its own new key {twin_id} is "
                "under dual authorization, so this identity could only set it for deletion (the first approval, valid 7 days): "
                f"another identity must delete it (ibm.hs_crypto.hs_crypto_key key_id={twin_id} state=absent) within 7 days.")
            self.learned(self.read_back(twin_id))
        self.learned(oldest)
        self.check_immutable(spec, oldest)
        adopted = self.update(spec, oldest)
        outcome.actions.extend([f"adopt:{oldest['id']}"] + adopted.actions)
        outcome.after = adopted.after

    # -- update --------------------------------------------------------------------------------
    def update(self, spec, current):
        outcome = Outcome(current)
        steps = plan(spec, current)
        if any(step.ring_after for step in steps):
            self.require_ring(spec.key_ring)
        self._apply(outcome, current, steps)
        return outcome

    def _apply(self, outcome, current, steps):
        """Send ``steps`` to key ``current`` in order (check mode: predict them); then read the key back."""
        if not steps:
            return
        if self.check_mode:
            predicted = copy.deepcopy(current)
            for step in steps:
                step.predict(predicted)
                outcome.actions.append(step.action)
            outcome.after = predicted
            return
        key_id = current["id"]
        ring = current.get("keyRingID") or "default"  # the ring header names the ring the key is in when each step is sent
        try:
            for step in steps:
                context = f"Updating key {key_id} ({step.action})"
                self.writer.write(
                    lambda step=step, ring=ring, context=context: self.kms.request(
                        step.method, step.path, body=step.body, params=step.params, key_ring=ring, context=context),
                    lambda step=step: self.probe(key_id, step.shows), context, conflict_may_be_done=True)
                outcome.actions.append(step.action)
                ring = step.ring_after or ring
            outcome.after = self.read_back(key_id)
        except HsCryptoError as exc:
            raise with_partial(exc, outcome)
        self.learned(outcome.after)
