# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-memory KMS model: keys (with versions), key rings, per-instance state.

Every mutation happens under EmulatorState.lock; these classes do no locking themselves.
Later issues (rings, policies, rotation, wrap, import token, registrations) hang their
data off InstanceState / Key: the slots are already here.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime

from .clock import format_time

KEY_TYPE = 'application/vnd.ibm.kms.key+json'
DEFAULT_RING = 'default'

RESTORE_WINDOW = datetime.timedelta(days=30)
PURGE_ALLOWED_AFTER = datetime.timedelta(hours=4)
PURGE_SCHEDULED_AFTER = datetime.timedelta(days=90)

STATE_PREACTIVE, STATE_ACTIVE, STATE_SUSPENDED, STATE_DEACTIVATED, STATE_DESTROYED = 0, 1, 2, 3, 5
VALID_STATES = (0, 1, 2, 3, 5)


@dataclasses.dataclass
class KeyVersion:
    id: str
    creation_date: datetime.datetime
    material: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass
class KeyRing:
    id: str
    creation_date: datetime.datetime | None = None
    created_by: str | None = None

    def to_resource(self) -> dict:
        resource = {'id': self.id}
        if self.creation_date is not None:
            resource['creationDate'] = format_time(self.creation_date)
        if self.created_by is not None:
            resource['createdBy'] = self.created_by
        return resource


@dataclasses.dataclass(eq=False)
class Key:  # pylint: disable=too-many-instance-attributes
    id: str
    name: str
    extractable: bool
    imported: bool
    key_ring: str
    created_by: str
    creation_date: datetime.datetime
    versions: list = dataclasses.field(repr=False)
    bit_size: int = 256
    description: str | None = None
    expiration_date: datetime.datetime | None = None
    aliases: list = dataclasses.field(default_factory=list)
    tags: list = dataclasses.field(default_factory=list)
    state: int = STATE_ACTIVE
    last_update_date: datetime.datetime | None = None
    last_rotate_date: datetime.datetime | None = None
    deletion_date: datetime.datetime | None = None
    deleted_by: str | None = None
    dual_auth_delete: bool = False
    dual_auth_set_by: str | None = None
    dual_auth_expires: datetime.datetime | None = None
    rotation: dict | None = None
    policy_meta: dict = dataclasses.field(default_factory=dict)

    @property
    def material(self) -> bytes:
        return self.versions[-1].material

    @property
    def deleted(self) -> bool:
        return self.state == STATE_DESTROYED

    def state_at(self, now: datetime.datetime) -> int:
        """Current state; keys past their expirationDate are Deactivated (3)."""
        if self.state in (STATE_ACTIVE, STATE_SUSPENDED) and self.expiration_date is not None and now >= self.expiration_date:
            return STATE_DEACTIVATED
        return self.state

    def restore_allowed(self, now: datetime.datetime) -> bool:
        if not self.deleted:
            return False
        limit = self.deletion_date + RESTORE_WINDOW
        if self.expiration_date is not None:
            limit = min(limit, self.expiration_date)
        return now < limit

    def purge_due(self, now: datetime.datetime) -> bool:
        return self.deleted and now >= self.deletion_date + PURGE_SCHEDULED_AFTER

    def dual_auth_resource(self, now: datetime.datetime) -> dict:
        result = {'enabled': self.dual_auth_delete}
        if self.dual_auth_delete:
            pending = self.dual_auth_set_by is not None and self.dual_auth_expires is not None and now < self.dual_auth_expires
            result['keySetForDeletion'] = pending
            if pending:
                result['authExpiration'] = format_time(self.dual_auth_expires)
        return result

    def to_resource(self, crn_base: str, now: datetime.datetime, include_payload: bool = False) -> dict:
        """The key as the API shows it (camelCase field names of the reference, section 5)."""
        version = self.versions[-1]
        resource = {
            'type': KEY_TYPE,
            'id': self.id,
            'name': self.name,
            'aliases': list(self.aliases),
        }
        if self.description is not None:
            resource['description'] = self.description
        if self.tags:
            resource['tags'] = list(self.tags)
        resource.update({
            'state': self.state_at(now),
            'extractable': self.extractable,
            'crn': f'{crn_base}:key:{self.id}',
            'imported': self.imported,
            'keyRingID': self.key_ring,
        })
        if self.expiration_date is not None:
            resource['expirationDate'] = format_time(self.expiration_date)
        resource.update({
            'creationDate': format_time(self.creation_date),
            'createdBy': self.created_by,
            'algorithmType': 'Deprecated',
            'algorithmMetadata': {'bitLength': str(self.bit_size), 'mode': 'Deprecated'},
            'algorithmBitSize': self.bit_size,
            'algorithmMode': 'Deprecated',
            'lastUpdateDate': format_time(self.last_update_date or self.creation_date),
        })
        if self.last_rotate_date is not None:
            resource['lastRotateDate'] = format_time(self.last_rotate_date)
        resource['keyVersion'] = {'id': version.id, 'creationDate': format_time(version.creation_date)}
        resource['dualAuthDelete'] = self.dual_auth_resource(now)
        if self.rotation is not None:
            resource['rotation'] = dict(self.rotation)
        resource['deleted'] = self.deleted
        if self.deleted:
            resource.update({
                'deletionDate': format_time(self.deletion_date),
                'deletedBy': self.deleted_by,
                'restoreExpirationDate': format_time(self.deletion_date + RESTORE_WINDOW),
                'restoreAllowed': self.restore_allowed(now),
                'purgeAllowed': now >= self.deletion_date + PURGE_ALLOWED_AFTER,
                'purgeAllowedFrom': format_time(self.deletion_date + PURGE_ALLOWED_AFTER),
                'purgeScheduledOn': format_time(self.deletion_date + PURGE_SCHEDULED_AFTER),
            })
        elif include_payload and self.extractable:
            resource['payload'] = base64.b64encode(self.material).decode('ascii')
        return resource


class InstanceState:
    """Keys, aliases, rings and (later) policies of one HPCS instance."""

    def __init__(self, instance_id: str):
        self.instance_id = instance_id
        self.keys: dict = {}
        self.aliases: dict = {}
        self.rings: dict = {DEFAULT_RING: KeyRing(DEFAULT_RING)}
        self.policies: dict = {}
        self.import_token = None
        self.registrations: list = []
        self._deleted: set = set()

    def allowed_network(self) -> str:
        policy = self.policies.get('allowedNetwork') or {}
        if policy.get('enabled'):
            return (policy.get('attributes') or {}).get('allowed_network', 'public-and-private')
        return 'public-and-private'

    def add_key(self, key: Key) -> None:
        self.keys[key.id] = key
        for alias in key.aliases:
            self.aliases[alias] = key.id

    def mark_deleted(self, key: Key) -> None:
        self._deleted.add(key.id)

    def unmark_deleted(self, key: Key) -> None:
        self._deleted.discard(key.id)

    def purge(self, key_id: str) -> None:
        """Remove a key for good (its aliases become free)."""
        key = self.keys.pop(key_id, None)
        self._deleted.discard(key_id)
        if key is not None:
            for alias in key.aliases:
                if self.aliases.get(alias) == key_id:
                    del self.aliases[alias]

    def purge_due(self, now: datetime.datetime) -> None:
        """Automatic purge of keys deleted 90 days ago or more."""
        for key_id in [k for k in self._deleted if self.keys[k].purge_due(now)]:
            self.purge(key_id)

    def find_key(self, ref: str, now: datetime.datetime) -> Key | None:
        """Look a key up by id (case-insensitive) or alias (case-sensitive)."""
        self.purge_due(now)
        key = self.keys.get(ref.lower())
        if key is None and ref in self.aliases:
            key = self.keys.get(self.aliases[ref])
        return key
