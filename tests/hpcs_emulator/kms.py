# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS key routes: create/import, list/HEAD, get, metadata, patch (reference 4.1-4.4).

The KMS blueprint lives in routing.py; the other resources have their own modules
(lifecycle, actions, rotation, wrapping, aliases, keyrings, key_policies,
instance_policies, registrations, import_token).
"""

from __future__ import annotations

import os
import uuid

from flask import make_response, request

from .errors import KmsError, bad_body, invalid_state
from .import_token import unwrap_secure_import
from .instance_policies import check_create_access, instance_rotation
from .listing import parse_key_query, select_keys
from .model import DEFAULT_RING, KEY_TYPE, Key, KeyVersion
from .routing import WRITE_ENDPOINTS, KmsContext, bp, collection, kms_route, lookup_key, prefer_mode, ring_header
from .validation import canonical_fields, parse_key_create, read_json_body, single_resource, typed

__all__ = ['bp', 'WRITE_ENDPOINTS']

MINIMAL_FIELDS = ('type', 'id', 'name', 'crn', 'keyRingID')


def _create(ctx: KmsContext, overrides: bool):
    resource = single_resource(read_json_body(request, required=True), KEY_TYPE)
    spec = parse_key_create(resource, overrides, ctx.now)
    ring = ring_header(ctx) or DEFAULT_RING
    taken = [alias for alias in spec.aliases if alias in ctx.instance.aliases]
    if taken:
        raise KmsError(409, 'KEY_ALIAS_NOT_UNIQUE_ERR', f"The alias '{taken[0]}' already belongs to a key of this instance",
                       target=('field', 'aliases'))
    secure = spec.secure_import is not None
    imported = secure or spec.material is not None
    check_create_access(ctx.instance, spec.extractable, imported, secure)
    if secure:
        material = unwrap_secure_import(ctx, spec.secure_import)
    else:
        material = spec.material if imported else os.urandom(32)
    key_id = str(uuid.uuid4())
    key = Key(id=key_id, name=spec.name, extractable=spec.extractable, imported=imported, key_ring=ring,
              created_by=ctx.iam_id, creation_date=ctx.now, versions=[KeyVersion(key_id, ctx.now, material)],
              bit_size=len(material) * 8 if len(material) in (16, 24, 32) else 256,
              description=spec.description, expiration_date=spec.expiration_date, aliases=spec.aliases,
              tags=spec.tags, last_update_date=ctx.now)
    dual_auth = spec.dual_auth_delete
    if dual_auth is None and (ctx.instance.policies.get('dualAuthDelete') or {}).get('enabled'):
        dual_auth = True
    if dual_auth is not None:
        key.set_policy('dualAuthDelete', {'enabled': dual_auth}, ctx.iam_id, ctx.now)
    rotation = spec.rotation
    if rotation is None and not spec.extractable and not imported:
        rotation = instance_rotation(ctx.instance)  # the rotation instance policy (Key Protect) covers new root keys
    if rotation is not None:
        key.set_policy('rotation', rotation, ctx.iam_id, ctx.now)
    ctx.instance.add_key(key)
    if prefer_mode() == 'minimal':
        full = key.to_resource(ctx.crn_base, ctx.now)
        return collection([{name: full[name] for name in MINIMAL_FIELDS}], status=201)
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
    keys, extra = select_keys(ctx.instance, query, ring, ctx.now)
    if request.method == 'HEAD':
        response = make_response('', 200)
        response.headers['Content-Type'] = 'application/json'
        response.headers['Key-Total'] = str(len(keys))
        return response
    page = keys[query.offset:query.offset + query.limit]
    return collection([key.to_resource(ctx.crn_base, ctx.now) for key in page], **extra)


@kms_route('/keys/<key_id>', ['GET'], 'Key', 'retrieved')
def get_key(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    return collection([key.to_resource(ctx.crn_base, ctx.now, include_payload=True)])


@kms_route('/keys/<key_id>/metadata', ['GET'], 'Key metadata', 'retrieved')
def get_key_metadata(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    return collection([key.to_resource(ctx.crn_base, ctx.now)])


@kms_route('/keys/<key_id>', ['PATCH'], 'Key', 'updated', write=True)
def patch_key(ctx: KmsContext, key_id: str):
    """Move a key to another key ring: the body is ``{"keyRingID": "<ring>"}`` (any case), nothing else."""
    key = lookup_key(ctx, key_id)
    body = read_json_body(request, required=True)
    if not isinstance(body, dict):
        raise bad_body('the body must be a JSON object')
    fields = canonical_fields(body, ('keyRingID',))
    if 'keyRingID' not in fields:
        raise bad_body("only 'keyRingID' can be patched and it is missing")
    ring = typed(fields['keyRingID'], str, 'keyRingID')
    if key.deleted:
        raise invalid_state('a deleted key cannot be moved to another key ring')
    if ring not in ctx.instance.rings:
        raise KmsError(404, 'KEY_RING_NOT_FOUND_ERR', f"Key ring '{ring}' does not exist in this instance",
                       target=('field', 'keyRingID'))
    if ring != key.key_ring:
        key.key_ring = ring
        key.last_update_date = ctx.now
    return collection([key.to_resource(ctx.crn_base, ctx.now)])
