# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMIP management API of Key Protect: adapters, client certificates, KMIP objects (key-protect-api.md section 4).

Only Key Protect instances (Standard, cross-region, Dedicated) have it; on an HPCS instance every route answers like
an unknown route. KMIP objects are made by KMIP clients over the KMIP protocol, which the emulator does not speak, so
tests create them with ``POST /_emulator/kmip_objects`` (control.py calls ``seed_objects`` here). No source publishes
KMIP reason codes (section 4, open question 3): the codes below are the emulator's, listed in docs/emulator.md.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import secrets
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from flask import request

from .clock import format_time
from .errors import KmsError, field_error, query_error
from .listing import arg, parse_bool, parse_int
from .model import STATE_ACTIVE
from .registrations import SeedError
from .routing import KmsContext, collection, kms_route, no_content
from .validation import UUID_RE, canonical_fields, read_json_body, single_resource, typed

ADAPTER_TYPE = 'application/vnd.ibm.kms.kmip_adapter+json'
CERTIFICATE_TYPE = 'application/vnd.ibm.kms.kmip_client_certificate+json'
OBJECT_TYPE = 'application/vnd.ibm.kms.kmip_object+json'
PROFILE_NATIVE = 'native_1.0'
NAME_RE = re.compile(r'^[A-Za-z0-9_-]{2,40}\Z')
NAME_RULE = 'a string of 2 to 40 characters [A-Za-z0-9_-] that is not a UUID'
PEM_RE = re.compile(r'^\s*-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$')
MAX_DESCRIPTION = 240
MAX_ADAPTERS = 200
MAX_CERTIFICATES = 200
DEFAULT_LIMIT = 100
MAX_ADAPTER_LIMIT = 200
MAX_OBJECT_LIMIT = 5000
MAX_SEED_COUNT = 10000
DEFAULT_OBJECT_STATES = (1, 2, 3, 4)
OBJECT_ACTIVE, OBJECT_COMPROMISED, OBJECT_DESTROYED, OBJECT_DESTROYED_COMPROMISED = 2, 4, 5, 6
OBJECT_STATES = (1, 2, 3, 4, 5, 6)
SYMMETRIC_KEY = 2
# A new certificate may need up to 5 minutes before KMIP authentication with it succeeds (KPDOC kmip.md).
REGISTRATION_DELAY = datetime.timedelta(seconds=300)
KMIP_CLIENT = 'kmip-client'


@dataclasses.dataclass(eq=False)
class KmipCertificate:
    id: str
    name: str
    pem: str = dataclasses.field(repr=False)
    fingerprint: bytes = dataclasses.field(repr=False)
    created_at: datetime.datetime
    created_by: str

    def to_resource(self, with_certificate: bool = False) -> dict:
        resource = {'id': self.id, 'name': self.name, 'created_at': format_time(self.created_at), 'created_by': self.created_by}
        if with_certificate:
            resource['certificate'] = self.pem
        return resource


@dataclasses.dataclass(eq=False)
class KmipObject:  # pylint: disable=too-many-instance-attributes
    id: str
    state: int
    created_at: datetime.datetime
    created_by_cert: str
    created_by: str
    updated_at: datetime.datetime
    updated_by_cert: str | None
    updated_by: str
    destroyed_at: datetime.datetime | None = None
    destroyed_by_cert: str | None = None
    destroyed_by: str | None = None

    @property
    def destroyed(self) -> bool:
        return self.state in (OBJECT_DESTROYED, OBJECT_DESTROYED_COMPROMISED)

    def destroy(self, now: datetime.datetime, by: str, by_cert: str | None) -> None:
        """Destroyed (5), or Destroyed Compromised (6) for a Compromised object; the key material is crypto-erased."""
        self.state = OBJECT_DESTROYED_COMPROMISED if self.state == OBJECT_COMPROMISED else OBJECT_DESTROYED
        self.destroyed_at = self.updated_at = now
        self.destroyed_by = self.updated_by = by
        self.destroyed_by_cert = self.updated_by_cert = by_cert

    def to_resource(self) -> dict:
        resource = {'id': self.id, 'kmip_object_type': SYMMETRIC_KEY, 'state': self.state, 'created_at': format_time(self.created_at),
                    'created_by_kmip_client_cert_id': self.created_by_cert, 'created_by': self.created_by,
                    'updated_at': format_time(self.updated_at), 'updated_by_kmip_client_cert_id': self.updated_by_cert,
                    'updated_by': self.updated_by, 'recoverable': not self.destroyed}
        if self.destroyed:
            resource.update({'destroyed_at': format_time(self.destroyed_at), 'destroyed_by_kmip_client_cert_id': self.destroyed_by_cert,
                             'destroyed_by': self.destroyed_by})
        return resource


@dataclasses.dataclass(eq=False)
class KmipAdapter:  # pylint: disable=too-many-instance-attributes
    id: str
    name: str
    description: str
    crk_id: str
    created_at: datetime.datetime
    created_by: str
    updated_at: datetime.datetime
    updated_by: str
    certificates: dict = dataclasses.field(default_factory=dict, repr=False)
    objects: dict = dataclasses.field(default_factory=dict, repr=False)

    def touch(self, now: datetime.datetime, iam_id: str) -> None:
        """``updated_at`` also moves when the adapter's certificates change (NODE)."""
        self.updated_at, self.updated_by = now, iam_id

    def live_objects(self) -> list:
        return [obj for obj in self.objects.values() if not obj.destroyed]

    def find_certificate(self, ref: str) -> KmipCertificate | None:
        cert = self.certificates.get(ref.lower())
        return cert if cert is not None else next((c for c in self.certificates.values() if c.name == ref), None)

    def to_resource(self) -> dict:
        return {'id': self.id, 'profile': PROFILE_NATIVE, 'profile_data': {'crk_id': self.crk_id}, 'name': self.name,
                'description': self.description, 'created_at': format_time(self.created_at), 'created_by': self.created_by,
                'updated_at': format_time(self.updated_at), 'updated_by': self.updated_by}


def adapters_of(instance) -> dict:
    """The adapters of an InstanceState (id -> KmipAdapter); ``state.reset`` drops them with the instance."""
    return instance.kmip_adapters


def bound_adapters(instance, key_id: str) -> list:
    """Adapters whose root key is ``key_id``: lifecycle.py refuses to delete that key."""
    return [adapter for adapter in adapters_of(instance).values() if adapter.crk_id == key_id]


def _ordered(items) -> list:
    return sorted(items, key=lambda item: (item.created_at, item.id))


def _page(items: list, max_limit: int):
    """Apply ``limit``/``offset``/``totalCount``: return (page, extra metadata)."""
    limit = parse_int(request.args, 'limit', DEFAULT_LIMIT, 1, max_limit)
    offset = parse_int(request.args, 'offset', 0, 0, None)
    extra = {'totalCount': len(items)} if parse_bool(request.args, 'totalCount') else {}
    return items[offset:offset + limit], extra


def _random_name(prefix: str, taken) -> str:
    while True:
        name = f'{prefix}{secrets.token_hex(4)}'
        if name not in taken:
            return name


def _name(value, taken, prefix: str) -> str:
    if value is None:
        return _random_name(prefix, taken)
    typed(value, str, 'name')
    if not NAME_RE.match(value) or UUID_RE.match(value):
        raise field_error('name', NAME_RULE)
    return value


def _require_kmip(ctx: KmsContext) -> None:
    """HPCS's KMS API has no KMIP adapters: answer exactly as for an unknown route."""
    if ctx.service != 'kms':
        raise KmsError(404, 'NOT_FOUND_ERR', f'No route matches {request.method} {request.path}', resource='Resource', verb='found')


def _adapter(ctx: KmsContext, ref: str) -> KmipAdapter:
    """An adapter of the instance by id (case-insensitive) or name; 404 otherwise. Checks the service first."""
    _require_kmip(ctx)
    adapters = adapters_of(ctx.instance)
    adapter = adapters.get(ref.lower()) or next((a for a in adapters.values() if a.name == ref), None)
    if adapter is None:
        raise KmsError(404, 'KMIP_ADAPTER_NOT_FOUND_ERR', f"KMIP adapter '{ref}' does not exist in this instance",
                       target=('path_param', 'id'), resource='KMIP adapter', verb='found')
    return adapter


def _resolve_crk(ctx: KmsContext, crk_ref) -> str:
    """The id of the adapter's root key: an Active root key of this instance, given by id or alias."""
    if not isinstance(crk_ref, str) or not crk_ref:
        raise field_error('crk_id', 'the ID or alias of an Active root key of this instance (required for profile native_1.0)')
    key = ctx.instance.find_key(crk_ref, ctx.now)
    if key is None or key.extractable:
        raise KmsError(400, 'KMIP_CRK_INVALID_ERR', f"'{crk_ref}' is not a root key of this instance", target=('field', 'crk_id'))
    state = key.state_at(ctx.now)
    if state != STATE_ACTIVE:
        raise KmsError(409, 'KMIP_CRK_NOT_ACTIVE_ERR', f'The root key must be Active (state 1) to be bound to a KMIP adapter; '
                       f'it is in state {state}', target=('field', 'crk_id'))
    if key.expiration_date is not None and not parse_bool(request.args, 'allowExpiringKey'):
        raise KmsError(400, 'KMIP_CRK_EXPIRING_ERR', 'The root key has an expiration date: use allowExpiringKey=true to bind it '
                       'to a KMIP adapter anyway', target=('field', 'crk_id'))
    return key.id


@kms_route('/kmip_adapters', ['POST'], 'KMIP adapter', 'created', write=True)
def create_kmip_adapter(ctx: KmsContext):
    _require_kmip(ctx)
    resource = canonical_fields(single_resource(read_json_body(request, required=True), ADAPTER_TYPE),
                                ('profile', 'profile_data', 'name', 'description'))
    if resource.get('profile') != PROFILE_NATIVE:
        raise field_error('profile', f"'{PROFILE_NATIVE}'")
    adapters = adapters_of(ctx.instance)
    taken = {adapter.name for adapter in adapters.values()}
    name = _name(resource.get('name'), taken, 'kmip_adapter_')
    description = resource.get('description')
    description = '' if description is None else typed(description, str, 'description')
    if len(description) > MAX_DESCRIPTION:
        raise field_error('description', f'a string of at most {MAX_DESCRIPTION} characters')
    profile_data = resource.get('profile_data')
    profile_data = canonical_fields(typed(profile_data, dict, 'profile_data'), ('crk_id',)) if profile_data is not None else {}
    crk_id = _resolve_crk(ctx, profile_data.get('crk_id'))
    if name in taken:
        raise KmsError(409, 'KMIP_ADAPTER_NAME_CONFLICT_ERR', f"A KMIP adapter named '{name}' already exists in this instance",
                       target=('field', 'name'))
    if len(adapters) >= MAX_ADAPTERS:
        raise KmsError(400, 'KMIP_ADAPTER_QUOTA_ERR', f'An instance can have at most {MAX_ADAPTERS} KMIP adapters')
    adapter = KmipAdapter(str(uuid.uuid4()), name, description, crk_id, ctx.now, ctx.iam_id, ctx.now, ctx.iam_id)
    adapters[adapter.id] = adapter
    return collection([adapter.to_resource()], ADAPTER_TYPE, status=201)


@kms_route('/kmip_adapters', ['GET'], 'KMIP adapters', 'retrieved')
def list_kmip_adapters(ctx: KmsContext):
    _require_kmip(ctx)
    adapters = _ordered(adapters_of(ctx.instance).values())
    crk_ref = arg(request.args, 'crk_id')
    if crk_ref is not None:
        key = ctx.instance.find_key(crk_ref, ctx.now)
        crk_id = key.id if key is not None else crk_ref.lower()
        adapters = [adapter for adapter in adapters if adapter.crk_id == crk_id]
    page, extra = _page(adapters, MAX_ADAPTER_LIMIT)
    return collection([adapter.to_resource() for adapter in page], ADAPTER_TYPE, **extra)


@kms_route('/kmip_adapters/<adapter_id>', ['GET'], 'KMIP adapter', 'retrieved')
def get_kmip_adapter(ctx: KmsContext, adapter_id: str):
    return collection([_adapter(ctx, adapter_id).to_resource()], ADAPTER_TYPE)


@kms_route('/kmip_adapters/<adapter_id>', ['DELETE'], 'KMIP adapter', 'deleted', write=True)
def delete_kmip_adapter(ctx: KmsContext, adapter_id: str):
    """Refused while KMIP objects in states 1-4 remain (the API doc's rule); its certificates and objects go with it."""
    adapter = _adapter(ctx, adapter_id)
    live = adapter.live_objects()
    if live:
        raise KmsError(409, 'KMIP_ADAPTER_NOT_EMPTY_ERR', f"KMIP adapter '{adapter.name}' still has {len(live)} KMIP object(s) "
                       'in states 1-4: delete them first (force=true for Active objects)')
    del adapters_of(ctx.instance)[adapter.id]
    return no_content()


def _certificate_fingerprint(pem) -> bytes:
    rule = 'an X.509 certificate in PEM format (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)'
    if not isinstance(pem, str) or not PEM_RE.match(pem):
        raise field_error('certificate', rule)
    try:
        cert = x509.load_pem_x509_certificate(pem.encode('ascii'))
    except ValueError as exc:
        raise field_error('certificate', rule) from exc
    return cert.fingerprint(hashes.SHA256())


def _region_has_certificate(ctx: KmsContext, fingerprint: bytes) -> bool:
    """A certificate can be registered once per region, across all adapters of all instances there (KPDOC kmip.md)."""
    config = ctx.state.config
    region = config.instance(ctx.instance_id)['region']
    for instance_id in config.instance_ids():
        spec = config.instance(instance_id)
        if spec['service'] != 'kms' or spec['region'] != region:
            continue
        for adapter in adapters_of(ctx.state.instance(instance_id)).values():
            if any(cert.fingerprint == fingerprint for cert in adapter.certificates.values()):
                return True
    return False


def _certificate(adapter: KmipAdapter, ref: str) -> KmipCertificate:
    cert = adapter.find_certificate(ref)
    if cert is None:
        raise KmsError(404, 'KMIP_CERT_NOT_FOUND_ERR', f"KMIP client certificate '{ref}' does not exist in this KMIP adapter",
                       target=('path_param', 'id'), resource='KMIP client certificate', verb='found')
    return cert


@kms_route('/kmip_adapters/<adapter_id>/certificates', ['POST'], 'KMIP client certificate', 'created', write=True)
def create_kmip_certificate(ctx: KmsContext, adapter_id: str):
    adapter = _adapter(ctx, adapter_id)
    resource = canonical_fields(single_resource(read_json_body(request, required=True), CERTIFICATE_TYPE), ('name', 'certificate'))
    taken = {cert.name for cert in adapter.certificates.values()}
    name = _name(resource.get('name'), taken, 'kmip_cert_')
    fingerprint = _certificate_fingerprint(resource.get('certificate'))
    if name in taken:
        raise KmsError(409, 'KMIP_CERT_NAME_CONFLICT_ERR', f"A client certificate named '{name}' already exists in this KMIP adapter",
                       target=('field', 'name'))
    if len(adapter.certificates) >= MAX_CERTIFICATES:
        raise KmsError(400, 'KMIP_CERT_QUOTA_ERR', f'A KMIP adapter can have at most {MAX_CERTIFICATES} client certificates')
    if _region_has_certificate(ctx, fingerprint):
        raise KmsError(409, 'KMIP_CERT_IN_USE_ERR', 'This certificate is already registered with a KMIP adapter in this region: '
                       'a certificate can belong to one adapter per region', target=('field', 'certificate'))
    cert = KmipCertificate(str(uuid.uuid4()), name, resource['certificate'], fingerprint, ctx.now, ctx.iam_id)
    adapter.certificates[cert.id] = cert
    adapter.touch(ctx.now, ctx.iam_id)
    return collection([cert.to_resource()], CERTIFICATE_TYPE, status=201)


@kms_route('/kmip_adapters/<adapter_id>/certificates', ['GET'], 'KMIP client certificates', 'retrieved')
def list_kmip_certificates(ctx: KmsContext, adapter_id: str):
    adapter = _adapter(ctx, adapter_id)
    page, extra = _page(_ordered(adapter.certificates.values()), MAX_ADAPTER_LIMIT)
    return collection([cert.to_resource() for cert in page], CERTIFICATE_TYPE, **extra)


@kms_route('/kmip_adapters/<adapter_id>/certificates/<cert_id>', ['GET'], 'KMIP client certificate', 'retrieved')
def get_kmip_certificate(ctx: KmsContext, adapter_id: str, cert_id: str):
    cert = _certificate(_adapter(ctx, adapter_id), cert_id)
    return collection([cert.to_resource(with_certificate=True)], CERTIFICATE_TYPE)


@kms_route('/kmip_adapters/<adapter_id>/certificates/<cert_id>', ['DELETE'], 'KMIP client certificate', 'deleted', write=True)
def delete_kmip_certificate(ctx: KmsContext, adapter_id: str, cert_id: str):
    adapter = _adapter(ctx, adapter_id)
    cert = _certificate(adapter, cert_id)
    del adapter.certificates[cert.id]
    adapter.touch(ctx.now, ctx.iam_id)
    return no_content()


def _object_states() -> set:
    raw = arg(request.args, 'state')
    if raw is None:
        return set(DEFAULT_OBJECT_STATES)
    rule = 'a comma-separated list of KMIP object states from 1 to 6 without spaces'
    if not re.fullmatch(r'\d(,\d)*', raw):
        raise query_error('state', rule)
    states = {int(item) for item in raw.split(',')}
    if not states <= set(OBJECT_STATES):
        raise query_error('state', rule)
    return states


def _object(adapter: KmipAdapter, object_id: str) -> KmipObject:
    obj = adapter.objects.get(object_id.lower())
    if obj is None:
        raise KmsError(404, 'KMIP_OBJECT_NOT_FOUND_ERR', f"KMIP object '{object_id}' does not exist in this KMIP adapter",
                       target=('path_param', 'id'), resource='KMIP object', verb='found')
    return obj


@kms_route('/kmip_adapters/<adapter_id>/kmip_objects', ['GET'], 'KMIP objects', 'retrieved')
def list_kmip_objects(ctx: KmsContext, adapter_id: str):
    adapter = _adapter(ctx, adapter_id)
    states = _object_states()
    page, extra = _page(_ordered(obj for obj in adapter.objects.values() if obj.state in states), MAX_OBJECT_LIMIT)
    return collection([obj.to_resource() for obj in page], OBJECT_TYPE, **extra)


@kms_route('/kmip_adapters/<adapter_id>/kmip_objects/<object_id>', ['GET'], 'KMIP object', 'retrieved')
def get_kmip_object(ctx: KmsContext, adapter_id: str, object_id: str):
    return collection([_object(_adapter(ctx, adapter_id), object_id).to_resource()], OBJECT_TYPE)


@kms_route('/kmip_adapters/<adapter_id>/kmip_objects/<object_id>', ['DELETE'], 'KMIP object', 'deleted', write=True)
def delete_kmip_object(ctx: KmsContext, adapter_id: str, object_id: str):
    """Active objects need force=true (KPDOC kmip.md, releases.md); a REST delete names no client certificate."""
    obj = _object(_adapter(ctx, adapter_id), object_id)
    force = parse_bool(request.args, 'force') or False
    if obj.destroyed:
        raise KmsError(410, 'KMIP_OBJECT_DESTROYED_ERR', f'The KMIP object has already been destroyed (state {obj.state})')
    if obj.state == OBJECT_ACTIVE and not force:
        raise KmsError(409, 'KMIP_OBJECT_ACTIVE_ERR', 'The KMIP object is Active (state 2): use force=true to delete it anyway')
    obj.destroy(ctx.now, ctx.iam_id, None)
    return no_content()


SEED_FIELDS = ('instance_id', 'adapter', 'certificate', 'count', 'state')


def _seed_int(body: dict, name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SeedError(f'"{name}" must be an integer from {low} to {high}')
    return value


def seed_objects(state, body) -> list:
    """Create KMIP objects as a KMIP client with a registered certificate would; return their ids.

    Body ``{instance_id, adapter (id or name), certificate (id or name), count (1..10000, default 1), state (1..6, default 2)}``.
    Refused (409) while the certificate is younger than the registration delay on the emulator clock.
    """
    if not isinstance(body, dict) or set(body) - set(SEED_FIELDS):
        raise SeedError(f'body must be a JSON object with the fields {", ".join(SEED_FIELDS)}')
    for name in ('instance_id', 'adapter', 'certificate'):
        if not isinstance(body.get(name), str) or not body[name]:
            raise SeedError(f'"{name}" (string) is required')
    count = _seed_int(body, 'count', 1, 1, MAX_SEED_COUNT)
    object_state = _seed_int(body, 'state', OBJECT_ACTIVE, 1, 6)
    spec = state.config.instance(body['instance_id'])
    if spec is None:
        raise SeedError(f'unknown instance {body["instance_id"]}', 404)
    if spec['service'] != 'kms':
        raise SeedError(f'instance {body["instance_id"]} is not a Key Protect instance: it has no KMIP adapters', 404)
    with state.lock:
        now = state.clock.now().replace(microsecond=0)
        adapters = adapters_of(state.instance(body['instance_id']))
        ref = body['adapter']
        adapter = adapters.get(ref.lower()) or next((a for a in adapters.values() if a.name == ref), None)
        if adapter is None:
            raise SeedError(f'no KMIP adapter {ref} in instance {body["instance_id"]}', 404)
        cert = adapter.find_certificate(body['certificate'])
        if cert is None:
            raise SeedError(f'no client certificate {body["certificate"]} in KMIP adapter {adapter.name}', 404)
        ready = cert.created_at + REGISTRATION_DELAY
        if now < ready:
            raise SeedError(f'client certificate {cert.name} was registered less than {int(REGISTRATION_DELAY.total_seconds())} s ago: '
                            f'KMIP clients can authenticate with it from {format_time(ready)}', 409)
        ids = []
        for _number in range(count):
            obj = KmipObject(str(uuid.uuid4()), object_state, now, cert.id, KMIP_CLIENT, now, cert.id, KMIP_CLIENT)
            if obj.destroyed:
                obj.destroyed_at, obj.destroyed_by_cert, obj.destroyed_by = now, cert.id, KMIP_CLIENT
            adapter.objects[obj.id] = obj
            ids.append(obj.id)
        return ids
