# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS API key routes under ``/api/v2`` (reference sections 3-8)."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
import uuid

from flask import Blueprint, g, jsonify, make_response, request

from .context import bearer_token, current_listener, current_state
from .errors import KmsError, header_error, key_not_found, unauthorized
from .listing import parse_bool, parse_int, parse_key_query, select_keys
from .model import DEFAULT_RING, KEY_TYPE, STATE_DESTROYED, InstanceState, Key, KeyVersion
from .tokens import TokenError
from .validation import parse_key_create, read_json_body, single_resource

bp = Blueprint('kms', __name__, url_prefix='/api/v2')

REGISTRATION_TYPE = 'application/vnd.ibm.kms.registration+json'

# (endpoint, method) -> bool or callable(environ) -> bool; read by the request log.
WRITE_ENDPOINTS: dict = {}


@dataclasses.dataclass
class KmsContext:
    state: object
    iam_id: str
    instance_id: str
    instance: InstanceState
    crn_base: str
    now: datetime.datetime


def _authorize(state) -> tuple:
    """Check token, Bluemix-Instance header and access; return (iam_id, instance id)."""
    token = bearer_token()
    if token is None:
        raise unauthorized()
    try:
        claims = state.tokens.check_access_token(token)
    except TokenError as exc:
        raise unauthorized() from exc
    instance_id = request.headers.get('Bluemix-Instance', '').strip().lower()
    if not instance_id:
        raise header_error('bluemix-instance', 'the ID of an instance (the Bluemix-Instance header is required)')
    if state.config.instance(instance_id) is None or instance_id not in state.config.instances_for(claims['iam_id']):
        raise KmsError(401, 'UNAUTHORIZED_ERR', 'The user does not have access to the specified resource',
                       target=('header', 'bluemix-instance'))
    return claims['iam_id'], instance_id


def kms_route(rule: str, methods: list, resource: str, verb: str, write=False):
    """Register a KMS view: auth, instance resolution, the state lock, the errorMsg context."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(**kwargs):
            g.kms_op = (resource, verb)
            state = current_state()
            iam_id, instance_id = _authorize(state)
            with state.lock:
                instance = state.instance(instance_id)
                if instance.allowed_network() == 'private-only' and current_listener() != 'private':
                    raise KmsError(401, 'UNAUTHORIZED_ERR', 'The instance accepts requests on its private endpoint only',
                                   target=('header', 'bluemix-instance'))
                now = state.clock.now().replace(microsecond=0)
                ctx = KmsContext(state, iam_id, instance_id, instance, state.crn_base(instance_id), now)
                return view(ctx, **kwargs)
        bp.add_url_rule(rule, view.__name__, wrapper, methods=methods)
        for method in methods:
            WRITE_ENDPOINTS[(f'kms.{view.__name__}', method)] = write
        return wrapper
    return decorator


def collection(resources: list, collection_type: str = KEY_TYPE, status: int = 200, **metadata):
    body = {'metadata': dict({'collectionType': collection_type, 'collectionTotal': len(resources)}, **metadata),
            'resources': resources}
    response = jsonify(body)
    response.status_code = status
    return response


def prefer_mode() -> str | None:
    for token in request.headers.get('Prefer', '').replace(';', ',').split(','):
        token = token.strip().lower().replace(' ', '')
        if token in ('return=minimal', 'return=representation'):
            return token.split('=', 1)[1]
    return None


def ring_header(ctx: KmsContext, required_to_exist: bool = True) -> str | None:
    ring = request.headers.get('X-Kms-Key-Ring', '').strip() or None
    if ring is not None and required_to_exist and ring not in ctx.instance.rings:
        raise KmsError(404, 'KEY_RING_NOT_FOUND_ERR', f"Key ring '{ring}' does not exist in this instance",
                       target=('header', 'x-kms-key-ring'))
    return ring


def lookup_key(ctx: KmsContext, key_ref: str) -> Key:
    """Find a key by id or alias (X-Kms-Key-Ring, when sent, must be the key's ring)."""
    key = ctx.instance.find_key(key_ref, ctx.now)
    ring = ring_header(ctx, required_to_exist=False)
    if key is None or (ring is not None and key.key_ring != ring):
        raise key_not_found()
    return key


def _check_create_access(ctx: KmsContext, extractable: bool, imported: bool) -> None:
    policy = ctx.instance.policies.get('keyCreateImportAccess') or {}
    if not policy.get('enabled'):
        return
    attributes = policy.get('attributes') or {}
    kind = ('import_' if imported else 'create_') + ('standard_key' if extractable else 'root_key')
    if not attributes.get(kind, True):
        raise KmsError(409, 'KEY_CREATE_IMPORT_ACCESS_ERR',
                       f'The instance policy keyCreateImportAccess does not allow this request ({kind} is false)')


def _create(ctx: KmsContext, overrides: bool):
    resource = single_resource(read_json_body(request, required=True), KEY_TYPE)
    spec = parse_key_create(resource, overrides, ctx.now)
    ring = ring_header(ctx) or DEFAULT_RING
    taken = [alias for alias in spec.aliases if alias in ctx.instance.aliases]
    if taken:
        raise KmsError(409, 'KEY_ALIAS_NOT_UNIQUE_ERR', f"The alias '{taken[0]}' already belongs to a key of this instance",
                       target=('field', 'aliases'))
    if spec.secure_import is not None:
        # Secure import through an import token arrives with the import-token issue.
        raise KmsError(409, 'IMPORT_TOKEN_EXPIRED_ERR', 'No import token exists for this instance: create one first')
    imported = spec.material is not None
    _check_create_access(ctx, spec.extractable, imported)
    material = spec.material if imported else os.urandom(32)
    key_id = str(uuid.uuid4())
    dual_auth = spec.dual_auth_delete
    if dual_auth is None:
        dual_auth = bool((ctx.instance.policies.get('dualAuthDelete') or {}).get('enabled'))
    key = Key(id=key_id, name=spec.name, extractable=spec.extractable, imported=imported, key_ring=ring,
              created_by=ctx.iam_id, creation_date=ctx.now, versions=[KeyVersion(key_id, ctx.now, material)],
              bit_size=len(material) * 8 if len(material) in (16, 24, 32) else 256,
              description=spec.description, expiration_date=spec.expiration_date, aliases=spec.aliases,
              tags=spec.tags, last_update_date=ctx.now, dual_auth_delete=dual_auth, rotation=spec.rotation)
    if spec.rotation is not None or spec.dual_auth_delete is not None:
        key.policy_meta = {'createdBy': ctx.iam_id, 'creationDate': ctx.now}
    ctx.instance.add_key(key)
    if prefer_mode() == 'minimal':
        full = key.to_resource(ctx.crn_base, ctx.now)
        return collection([{name: full[name] for name in ('type', 'id', 'name', 'crn', 'keyRingID')}], status=201)
    return collection([key.to_resource(ctx.crn_base, ctx.now, include_payload=True)], status=201)


@kms_route('/keys', ['POST'], 'Key', 'created', write=True)
def create_key(ctx: KmsContext):
    return _create(ctx, overrides=False)


@kms_route('/keys_with_policy_overrides', ['POST'], 'Key', 'created', write=True)
def create_key_with_policy_overrides(ctx: KmsContext):
    return _create(ctx, overrides=True)


@kms_route('/keys', ['GET', 'HEAD'], 'Keys', 'retrieved')
def list_keys(ctx: KmsContext):
    query = parse_key_query(request.args)
    ring = ring_header(ctx)
    ctx.instance.purge_due(ctx.now)
    keys, extra = select_keys(ctx.instance, query, ring, ctx.now)
    if request.method == 'HEAD':
        response = make_response('', 200)
        response.headers['Content-Type'] = 'application/json'
        response.headers['Key-Total'] = str(len(keys))
        return response
    page = keys[query.offset:query.offset + query.limit]
    return collection([key.to_resource(ctx.crn_base, ctx.now) for key in page], **extra)


def _registrations(ctx: KmsContext, key: Key | None):
    parse_int(request.args, 'limit', 200, 1, 5000)
    parse_int(request.args, 'offset', 0, 0, None)
    parse_bool(request.args, 'preventKeyDeletion')
    total_count = parse_bool(request.args, 'totalCount')
    if key is None:
        ring_header(ctx)
    # Registrations are created by other IBM services only; none exist yet in the emulator.
    resources = [reg for reg in ctx.instance.registrations if key is None or reg.get('keyId') == key.id]
    extra = {'totalCount': len(resources)} if total_count else {}
    return collection(resources, REGISTRATION_TYPE, **extra)


@kms_route('/keys/registrations', ['GET'], 'Registrations', 'retrieved')
def list_registrations(ctx: KmsContext):
    return _registrations(ctx, None)


@kms_route('/keys/<key_id>/registrations', ['GET'], 'Registrations', 'retrieved')
def list_key_registrations(ctx: KmsContext, key_id: str):
    return _registrations(ctx, lookup_key(ctx, key_id))


@kms_route('/keys/<key_id>', ['GET'], 'Key', 'retrieved')
def get_key(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    return collection([key.to_resource(ctx.crn_base, ctx.now, include_payload=True)])


@kms_route('/keys/<key_id>/metadata', ['GET'], 'Key metadata', 'retrieved')
def get_key_metadata(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    return collection([key.to_resource(ctx.crn_base, ctx.now)])


@kms_route('/keys/<key_id>', ['DELETE'], 'Key', 'deleted', write=True)
def delete_key(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    force = parse_bool(request.args, 'force') or False
    if key.deleted:
        raise KmsError(410, 'KEY_DELETED_ERR', 'The key has already been deleted and is no longer available')
    registrations = [reg for reg in ctx.instance.registrations if reg.get('keyId') == key.id]
    if any(reg.get('preventKeyDeletion') for reg in registrations):
        raise KmsError(409, 'PREV_KEY_DEL_ERR', 'The key is protecting a resource with a retention policy and cannot be deleted')
    if registrations and not force:
        raise KmsError(409, 'PROTECTED_RESOURCE_ERR', 'The key is protecting one or more cloud resources: use force=true to delete it')
    if key.dual_auth_delete:
        pending = key.dual_auth_set_by is not None and key.dual_auth_expires is not None and ctx.now < key.dual_auth_expires
        if not pending or key.dual_auth_set_by == ctx.iam_id:
            raise KmsError(409, 'AUTHORIZATIONS_NOT_MET',
                           'The key requires two authorizations: another user must set it for deletion first')
    key.state = STATE_DESTROYED
    key.deletion_date = ctx.now
    key.deleted_by = ctx.iam_id
    key.last_update_date = ctx.now
    key.dual_auth_set_by = key.dual_auth_expires = None
    ctx.instance.mark_deleted(key)
    if prefer_mode() == 'representation':
        return collection([key.to_resource(ctx.crn_base, ctx.now)])
    return _no_content()


def _no_content():
    response = make_response('', 204)
    response.headers.pop('Content-Type', None)
    return response
