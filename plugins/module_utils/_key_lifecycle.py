# -*- coding: utf-8 -*-
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""The end of a key's life: ``absent`` (delete, or the first approval of a dual authorization deletion),
``restored`` (within 30 days of the deletion) and ``purged`` (4 hours after it).

Each function takes the ``KeyService`` of the run (its finder, writer and check mode). What would stop the real
run stops check mode too, after the same reads: registrations that protect the key are read before a delete in
both modes.
"""

import copy

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, HsCryptoError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_service import REPRESENTATION, Outcome, with_partial
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import approved_for_deletion, dual_auth, is_deleted


def _predicted(current, **changes):
    predicted = copy.deepcopy(current)
    predicted.update(changes)
    return predicted


def registration_blocker(service, key_id, force):
    """Why the service would refuse to delete key ``key_id`` because of its registrations (None when it would not)."""
    registrations = [r for r in service.kms.list_all(f"keys/{key_id}/registrations", context=f"Listing the registrations of key {key_id}")
                     if isinstance(r, dict)]
    protecting = [r for r in registrations if r.get("preventKeyDeletion")]
    if protecting:
        return (f"Key {key_id} protects {', '.join(str(r.get('resourceCrn')) for r in protecting)} with preventKeyDeletion: "
                "it cannot be deleted, even with force=true, until that registration is removed")
    if registrations and not force:
        return (f"Key {key_id} is registered with {', '.join(str(r.get('resourceCrn')) for r in registrations)}: the service "
                "refuses to delete a key that protects cloud resources; force=true deletes it anyway (the resources lose access)")
    return None


def absent(service, spec):
    current = service.finder.locate(spec)
    outcome = Outcome(current)
    if current is None or is_deleted(current):
        return outcome
    key_id = current["id"]
    dual = dual_auth(current)
    ring = current.get("keyRingID")
    if dual.get("enabled") and not dual.get("keySetForDeletion"):
        outcome.messages.append(f"Key {key_id} is under dual authorization: this run {'would record' if service.check_mode else 'recorded'} "
                                "the first approval (valid 7 days). A second identity must run the same task to delete it.")
        outcome.actions.append("approve_deletion")
        if service.check_mode:
            outcome.after = _predicted(current, dualAuthDelete=dict(dual, keySetForDeletion=True))
            return outcome
        context = f"Key {key_id}: setKeyForDeletion"
        outcome.actions.pop()
        service.writer.write(lambda: service.kms.request("POST", f"keys/{key_id}/actions/setKeyForDeletion", key_ring=ring, context=context),
                             lambda: service.probe(key_id, approved_for_deletion), context,
                             conflict_may_be_done=True)
        outcome.actions.append("approve_deletion")
        try:
            outcome.after = service.read_back(key_id)
        except HsCryptoError as exc:
            raise with_partial(exc, outcome)
        return outcome
    blocker = registration_blocker(service, key_id, spec.force)
    if blocker:
        raise HsCryptoError(blocker)
    if service.check_mode:
        adapters = service.kmip_adapters_of(key_id) if current.get("extractable") is False else []
        if adapters:
            # The real run meets the service's refusal (docs/design-choices.md, KMIP adapters); the prediction reads the adapters.
            names = ", ".join(f"{adapter.get('name')} ({adapter.get('id')})" for adapter in adapters)
            raise HsCryptoError(f"Key {key_id} is the root key of KMIP adapter(s) {names}: the service refuses to delete it, even "
                                "with force=true; delete the adapter(s) first (ibm.hs_crypto.hs_crypto_kmip_adapter state=absent)")
        outcome.actions.append("delete")
        if approved_for_deletion(current):
            # Who gave the first approval is not in the key's record, so check mode cannot tell (docs/design-choices.md).
            outcome.messages.append(f"Key {key_id} is approved for deletion (until {dual.get('authExpiration') or 'unknown'}): the real run "
                                    "deletes it when this identity is not the one that approved it, and otherwise waits for another identity.")
        outcome.after = _predicted(current, state=5, deleted=True)
        return outcome
    context = f"Deleting key {key_id}"
    try:
        written = service.writer.write(
            lambda: service.kms.request("DELETE", f"keys/{key_id}", params={"force": "true"} if spec.force else None, key_ring=ring,
                                        prefer=REPRESENTATION, context=context),
            lambda: service.probe(key_id, is_deleted), context)
    except ApiError as exc:
        if exc.status == 410:
            # Deleted between the lookup and now: by this DELETE when the transport re-sent it after a lost answer (or,
            # rarely, by someone else at the same moment). The key went from live to deleted during this run: say so.
            outcome.actions.append("delete")
            outcome.after = service.read_back(key_id)
            return outcome
        if exc.has_code("AUTHORIZATIONS_NOT_MET"):
            outcome.messages.append(f"Key {key_id} waits for a second approval: it was approved for deletion (until "
                                    f"{dual.get('authExpiration') or 'unknown'}) by this identity, or the approval expired; another "
                                    "identity must run the task to delete it.")
            return outcome
        if exc.has_code("PROTECTED_RESOURCE_ERR") or exc.has_code("PREV_KEY_DEL_ERR"):
            # A registration made since it was read: say which.
            exc.message = f"{exc.message}. {registration_blocker(service, key_id, spec.force) or ''}".rstrip(". ") + "."
        raise
    outcome.actions.append("delete")
    outcome.after = written.resource("id", "state") or service.read_back(key_id)
    service.learned(outcome.after)
    return outcome


def restored(service, spec):
    current = service.finder.locate(spec, deleted=True)
    if current is None and not spec.key_id:
        current = service.finder.locate(spec)  # an alias or name may belong to a key that is not deleted at all
    if current is None:
        raise HsCryptoError(f"{spec.label} was not found (a purged key cannot be restored)")
    outcome = Outcome(current)
    if not is_deleted(current):
        return outcome
    key_id = current["id"]
    if current.get("restoreAllowed") is False:
        raise HsCryptoError(f"Key {key_id} cannot be restored any more: a key can be restored within 30 days of its deletion "
                            f"(until {current.get('restoreExpirationDate') or 'unknown'}) and only before its expiration date "
                            f"({current.get('expirationDate') or 'none'})")
    outcome.actions.append("restore")
    if service.check_mode:
        outcome.after = _predicted(current, state=1, deleted=False)
        return outcome
    outcome.actions.pop()
    context = f"Restoring key {key_id}"
    try:
        written = service.writer.write(
            lambda: service.kms.request("POST", f"keys/{key_id}/restore", key_ring=current.get("keyRingID"), context=context),
            lambda: service.probe(key_id, lambda raw: not is_deleted(raw)), context, conflict_may_be_done=True)
    except ApiError as exc:
        if exc.has_code("REQ_TOO_EARLY_ERR"):
            exc.message = (f"{exc.message} (key {key_id} was deleted at {current.get('deletionDate')}; the service restores a key "
                           "from 30 seconds after its deletion: run the task again a little later)")
        raise
    outcome.actions.append("restore")
    try:
        outcome.after = written.resource("id", "state") or service.read_back(key_id)
    except HsCryptoError as exc:
        raise with_partial(exc, outcome)
    service.learned(outcome.after)
    return outcome


def purged(service, spec):
    current = service.finder.locate(spec, deleted=True)
    outcome = Outcome(current)
    if current is None:
        live = None if spec.key_id else service.finder.locate(spec)
        if live is None:
            return outcome  # purged already, or never existed
        current = live
    key_id = current["id"]
    if not is_deleted(current):
        raise HsCryptoError(f"Key {key_id} is not deleted; delete it first (state=absent): it can be purged 4 hours after deletion")
    if current.get("purgeAllowed") is False:
        allowed = current.get("purgeAllowedFrom") or "4 hours after deletion"
        raise HsCryptoError(f"Key {key_id} cannot be purged yet: purging is possible from {allowed} (4 hours after its deletion)")
    outcome.after = None
    if service.check_mode:
        outcome.actions.append("purge")
        return outcome
    context = f"Purging key {key_id}"
    try:
        service.writer.write(
            lambda: service.kms.request("DELETE", f"keys/{key_id}/purge", prefer=REPRESENTATION, key_ring=current.get("keyRingID"),
                                        context=context),
            lambda: (service.network.get(key_id, context=f"Reading key {key_id}") is None, None), context)
    except ApiError as exc:
        if exc.status == 404:  # purged meanwhile
            service.gone(current)
            return outcome
        if exc.has_code("REQ_TOO_EARLY_ERR"):
            exc.message = f"{exc.message} (purging is possible from {current.get('purgeAllowedFrom')})"
        raise
    outcome.actions.append("purge")
    service.gone(current)
    return outcome
