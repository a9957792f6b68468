# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-memory KMS model: keys (with versions, aliases, policies), key rings, registrations.

The per-instance container is instance.InstanceState. Every mutation happens under
EmulatorState.lock; these classes do no locking themselves.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import os
import uuid

from .clock import format_time

KEY_TYPE = 'application/vnd.ibm.kms.key+json'
POLICY_TYPE = 'application/vnd.ibm.kms.policy+json'
DEFAULT_RING = 'default'

RESTORE_WINDOW = datetime.timedelta(days=30)
RESTORE_NOT_BEFORE = datetime.timedelta(seconds=30)
PURGE_ALLOWED_AFTER = datetime.timedelta(hours=4)
PURGE_SCHEDULED_AFTER = datetime.timedelta(days=90)
DUAL_AUTH_WINDOW = datetime.timedelta(days=7)
ROTATION_MONTH = datetime.timedelta(days=30)

STATE_PREACTIVE, STATE_ACTIVE, STATE_SUSPENDED, STATE_DEACTIVATED, STATE_DESTROYED = 0, 1, 2, 3, 5
VALID_STATES = (0, 1, 2, 3, 5)


@dataclasses.dataclass
class KeyVersion:
    id: str
    creation_date: datetime.datetime
    material: bytes = dataclasses.field(repr=False)

    def to_resource(self) -> dict:
        return {'id': self.id, 'creationDate': format_time(self.creation_date)}


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


@dataclasses.dataclass
class KeyPolicy:
    """A key-level policy: ``rotation`` ({enabled, interval_month?}) or ``dualAuthDelete`` ({enabled})."""

    kind: str
    id: str
    data: dict
    created_by: str
    creation_date: datetime.datetime
    updated_by: str
    last_update_date: datetime.datetime

    def to_resource(self, key_crn: str) -> dict:
        return {'id': self.id, 'crn': f'{key_crn}:policy:{self.id}', 'type': POLICY_TYPE, self.kind: dict(self.data),
                'createdBy': self.created_by, 'creationDate': format_time(self.creation_date),
                'updatedBy': self.updated_by, 'lastUpdateDate': format_time(self.last_update_date)}


@dataclasses.dataclass
class Registration:
    """A registration of a cloud resource with a root key (seeded through /_emulator/registrations)."""

    key_id: str
    resource_crn: str
    prevent_key_deletion: bool
    description: str
    created_by: str
    creation_date: datetime.datetime
    key_version: KeyVersion = dataclasses.field(repr=False)

    def to_resource(self, key) -> dict:
        return {'keyId': self.key_id, 'keyName': key.name, 'resourceCrn': self.resource_crn, 'createdBy': self.created_by,
                'creationDate': format_time(self.creation_date), 'updatedBy': self.created_by,
                'lastUpdated': format_time(self.creation_date), 'description': self.description,
                'preventKeyDeletion': self.prevent_key_deletion, 'keyVersion': self.key_version.to_resource()}


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
    alias_meta: dict = dataclasses.field(default_factory=dict, repr=False)
    tags: list = dataclasses.field(default_factory=list)
    state: int = STATE_ACTIVE
    last_update_date: datetime.datetime | None = None
    last_rotate_date: datetime.datetime | None = None
    deletion_date: datetime.datetime | None = None
    deleted_by: str | None = None
    dual_auth_set_by: str | None = None
    dual_auth_expires: datetime.datetime | None = None
    policies: dict = dataclasses.field(default_factory=dict)
    last_sync: datetime.datetime | None = None
    policy_changes = 0  # not a field: key policies set so far, by any key of any instance (InstanceState.tick)

    @property
    def material(self) -> bytes:
        return self.versions[-1].material

    @property
    def latest_version(self) -> KeyVersion:
        return self.versions[-1]

    def version(self, version_id: str) -> KeyVersion | None:
        return next((version for version in self.versions if version.id == version_id), None)

    @property
    def deleted(self) -> bool:
        return self.state == STATE_DESTROYED

    @property
    def dual_auth_delete(self) -> bool:
        policy = self.policies.get('dualAuthDelete')
        return bool(policy and policy.data.get('enabled'))

    @property
    def rotation(self) -> dict | None:
        policy = self.policies.get('rotation')
        return dict(policy.data) if policy else None

    def set_policy(self, kind: str, data: dict, iam_id: str, now: datetime.datetime) -> KeyPolicy:
        """Create or replace a key policy (the one path used by PUT policies and policy overrides)."""
        Key.policy_changes += 1  # the instances' next automatic rotation is to be found again (InstanceState.tick)
        policy = self.policies.get(kind)
        if policy is None:
            policy = self.policies[kind] = KeyPolicy(kind, str(uuid.uuid4()), dict(data), iam_id, now, iam_id, now)
        else:
            policy.data, policy.updated_by, policy.last_update_date = dict(data), iam_id, now
        self.last_update_date = now
        return policy

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

    def dual_auth_pending(self, now: datetime.datetime) -> bool:
        return self.dual_auth_set_by is not None and self.dual_auth_expires is not None and now < self.dual_auth_expires

    def rotate(self, material: bytes, now: datetime.datetime) -> KeyVersion:
        version = KeyVersion(str(uuid.uuid4()), now, material)
        self.versions.append(version)
        self.bit_size = len(material) * 8
        self.last_rotate_date = now
        self.last_update_date = max(self.last_update_date or now, now)  # automatic rotations are back-dated
        return version

    def rotation_due(self) -> datetime.datetime | None:
        """When the rotation policy rotates the key next (whatever its state then); None without an enabled policy."""
        policy = self.policies.get('rotation')
        if policy is None or not policy.data.get('enabled') or self.imported:
            return None
        return max(self.last_rotate_date or self.creation_date, policy.last_update_date) + ROTATION_MONTH * policy.data['interval_month']

    def auto_rotate(self, now: datetime.datetime) -> None:
        """Rotation policy: a new version every interval_month x 30 days (generated, active keys only)."""
        due = self.rotation_due()
        if due is None or due > now or self.state_at(now) != STATE_ACTIVE:
            return
        interval = ROTATION_MONTH * self.policies['rotation'].data['interval_month']
        while due <= now:
            self.rotate(os.urandom(32), due)
            due += interval

    def dual_auth_resource(self, now: datetime.datetime) -> dict:
        result = {'enabled': self.dual_auth_delete}
        if self.dual_auth_delete:
            pending = self.dual_auth_pending(now)
            result['keySetForDeletion'] = pending
            if pending:
                result['authExpiration'] = format_time(self.dual_auth_expires)
        return result

    def crn(self, crn_base: str) -> str:
        return f'{crn_base}:key:{self.id}'

    def to_resource(self, crn_base: str, now: datetime.datetime, include_payload: bool = False) -> dict:
        """The key as the API shows it (camelCase field names of the reference, section 5)."""
        resource = {'type': KEY_TYPE, 'id': self.id, 'name': self.name, 'aliases': list(self.aliases)}
        if self.description is not None:
            resource['description'] = self.description
        if self.tags:
            resource['tags'] = list(self.tags)
        resource.update({'state': self.state_at(now), 'extractable': self.extractable, 'crn': self.crn(crn_base),
                         'imported': self.imported, 'keyRingID': self.key_ring})
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
        resource['keyVersion'] = self.latest_version.to_resource()
        resource['dualAuthDelete'] = self.dual_auth_resource(now)
        if self.rotation is not None:
            resource['rotation'] = self.rotation
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
