# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-instance KMS state: keys, aliases, key rings, instance policies, registrations, import token.

Every mutation happens under EmulatorState.lock; this class does no locking itself.
"""

from __future__ import annotations

import datetime

from .model import DEFAULT_RING, Key, KeyRing

NEVER = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)


class InstanceState:  # pylint: disable=too-many-instance-attributes
    """Keys, aliases, rings, policies, registrations, KMIP adapters and the import token of one instance."""

    def __init__(self, instance_id: str):
        self.instance_id = instance_id
        self.keys: dict = {}
        self.aliases: dict = {}
        self.rings: dict = {DEFAULT_RING: KeyRing(DEFAULT_RING)}
        self.policies: dict = {}
        self.import_token = None
        self.registrations: list = []
        self.kmip_adapters: dict = {}  # id -> kmip.KmipAdapter (Key Protect only)
        self._deleted: set = set()
        # The earliest moment a rotation policy rotates a key of the instance, and the count of policy changes it was
        # found at: until then, and while no key policy changes, a request has no key to rotate and skips the scan.
        self._rotation_due: tuple = (None, -1)

    def allowed_network(self) -> str:
        policy = self.policies.get('allowedNetwork') or {}
        if policy.get('enabled'):
            return (policy.get('attributes') or {}).get('allowed_network', 'public-and-private')
        return 'public-and-private'

    def add_key(self, key: Key) -> None:
        self.keys[key.id] = key
        for alias in key.aliases:
            self.aliases[alias] = key.id
            key.alias_meta.setdefault(alias, (key.created_by, key.creation_date))

    def add_alias(self, key: Key, alias: str, iam_id: str, now: datetime.datetime) -> None:
        key.aliases.append(alias)
        key.alias_meta[alias] = (iam_id, now)
        self.aliases[alias] = key.id
        key.last_update_date = now

    def remove_alias(self, key: Key, alias: str, now: datetime.datetime) -> None:
        key.aliases.remove(alias)
        key.alias_meta.pop(alias, None)
        self.aliases.pop(alias, None)
        key.last_update_date = now

    def mark_deleted(self, key: Key) -> None:
        self._deleted.add(key.id)

    def unmark_deleted(self, key: Key) -> None:
        self._deleted.discard(key.id)

    def key_registrations(self, key_id: str) -> list:
        return [reg for reg in self.registrations if reg.key_id == key_id]

    def drop_registrations(self, key_id: str) -> None:
        self.registrations = [reg for reg in self.registrations if reg.key_id != key_id]

    def purge(self, key_id: str) -> None:
        """Remove a key for good (its aliases become free, its registrations go)."""
        key = self.keys.pop(key_id, None)
        self._deleted.discard(key_id)
        self.drop_registrations(key_id)
        if key is not None:
            for alias in key.aliases:
                if self.aliases.get(alias) == key_id:
                    del self.aliases[alias]

    def purge_due(self, now: datetime.datetime) -> None:
        """Automatic purge of keys deleted 90 days ago or more."""
        for key_id in [k for k in self._deleted if self.keys[k].purge_due(now)]:
            self.purge(key_id)

    def tick(self, now: datetime.datetime) -> None:
        """Apply the time rules: automatic purge, automatic rotation by policy.

        Every request of the instance runs this, so the scan of the keys for a due rotation runs only when one may be
        due: the clock reached the earliest due moment found by the last scan, or a key policy changed since (a new or
        shorter interval; a rotation or a purge only makes the next one later). A key due but not active (it does not
        rotate) keeps the moment in the past, and every request scans, as before.
        """
        self.purge_due(now)
        due, changes = self._rotation_due
        if changes == Key.policy_changes and due is not None and now < due:
            return
        changes, earliest = Key.policy_changes, None
        for key in self.keys.values():
            if key.policies.get('rotation') is not None:
                key.auto_rotate(now)
                moment = key.rotation_due()
                if moment is not None and (earliest is None or moment < earliest):
                    earliest = moment
        self._rotation_due = (earliest or NEVER, changes)

    def find_key(self, ref: str, now: datetime.datetime) -> Key | None:
        """Look a key up by id (case-insensitive) or alias (case-sensitive)."""
        self.purge_due(now)
        key = self.keys.get(ref.lower())
        if key is None and ref in self.aliases:
            key = self.keys.get(self.aliases[ref])
        return key
