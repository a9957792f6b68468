# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Key rings (https://cloud.ibm.com/apidocs/hs-crypto, "Key rings"): lookup, conversion and create/delete.

Shared by ``hs_crypto_key_ring`` and ``hs_crypto_key_ring_info``. The service
has no "get one ring" request, so a ring is found in the listing (every page).
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, HsCryptoError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import check_key_ring
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import is_deleted
from ansible_collections.ibm.hs_crypto.plugins.module_utils._safe_write import SafeWriter

DEFAULT_RING = "default"


def check_ring_id(value, option="key_ring_id", allow_default=False):
    """A ring id the service accepts: 2 to 100 of ``[a-zA-Z0-9-]``; ``default`` is reserved for create and delete."""
    if value is None:
        raise ConfigurationError(f"{option} is required")
    check_key_ring(value, option)
    if value == DEFAULT_RING and not allow_default:
        raise ConfigurationError(f"{option}: 'default' is the key ring every instance has; it is reserved and cannot be created or deleted")
    return value


def ring_result(raw):
    """A key ring as modules return it (the ``default`` ring has no creation date or creator)."""
    if raw is None:
        return None
    return {"id": raw.get("id"), "creation_date": raw.get("creationDate"), "created_by": raw.get("createdBy")}


def list_rings(kms):
    return kms.list_all("key_rings", context="Listing the key rings")


def find_ring(kms, ring_id):
    """The ring with exactly this id (ids are case-sensitive), or None."""
    for raw in list_rings(kms):
        if raw.get("id") == ring_id:
            return raw
    return None


class KeyRingService:
    """Creates and deletes key rings; ``check_mode`` sends reads only and predicts the outcome."""

    def __init__(self, kms, check_mode=False, sleep=None):
        self.kms = kms
        self.check_mode = check_mode
        self.writer = SafeWriter(kms, sleep=sleep)

    @staticmethod
    def _outcome(before, after):
        return {
            "changed": (before is None) != (after is None),
            "key_ring": ring_result(after),
            "diff": {"before": {"id": before["id"]} if before else {}, "after": {"id": after["id"]} if after else {}},
        }

    def present(self, ring_id):
        current = find_ring(self.kms, ring_id)
        if current is not None:
            return self._outcome(current, current)
        if self.check_mode:
            return self._outcome(None, {"id": ring_id})
        context = f"Creating key ring {ring_id}"

        def made():
            ring = find_ring(self.kms, ring_id)
            return ring is not None, ring

        # A ring created meanwhile (409) or an answer lost on the way: the ring may exist now; the writer looks again.
        written = self.writer.write(lambda: self.kms.request("POST", f"key_rings/{ring_id}", context=context), made, context,
                                    conflict_may_be_done=True)
        after = written.observed or self.writer.read(lambda: find_ring(self.kms, ring_id), f"Reading key ring {ring_id} after creating it")
        return self._outcome(None, after or {"id": ring_id})

    def absent(self, ring_id, force=False):
        current = find_ring(self.kms, ring_id)
        if current is None:
            return self._outcome(None, None)
        if self.check_mode:
            problem = self._blocker(ring_id, force)
            if problem:
                raise HsCryptoError(f"Key ring {ring_id} would not be deleted: {problem}")
            return self._outcome(current, None)
        try:
            self.kms.request("DELETE", f"key_rings/{ring_id}", params={"force": "true"} if force else None,
                             context=f"Deleting key ring {ring_id}")
        except ApiError as exc:
            if exc.status == 404:  # deleted meanwhile
                return self._outcome(None, None)
            if exc.status == 409:
                problem = self._blocker(ring_id, force)
                if problem:
                    exc.message = f"{exc.message} ({problem})"
            raise
        return self._outcome(current, None)

    def _blocker(self, ring_id, force):
        """Why the service would refuse to delete the ring, from the keys it holds (None when it would not)."""
        keys = self.kms.list_all("keys", params={"state": "1,2,3,5"}, key_ring=ring_id,
                                 context=f"Listing the keys of key ring {ring_id}")
        live = sorted(k.get("id") for k in keys if not is_deleted(k))
        if live:
            return ("it holds %d key(s) that are not deleted (%s): delete them or move them to another key ring first"
                    % (len(live), ", ".join(live)))
        if keys and not force:
            return (f"it holds {len(keys)} deleted key(s); force=true moves them to the 'default' key ring and deletes the ring")
        return None
