# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotate a root key and list its versions (reference 4.7, 4.8, 6).

Automatic rotation by a rotation policy happens in model.Key.auto_rotate, run by the
routing layer on every KMS request.
"""

from __future__ import annotations

import datetime
import os

from flask import request

from .clock import format_time
from .errors import KmsError, bad_body, invalid_state, root_required
from .import_token import unwrap_secure_import
from .instance_policies import check_token_enforced
from .listing import parse_bool, parse_int
from .model import STATE_ACTIVE, STATE_DEACTIVATED, Key
from .routing import KmsContext, collection, kms_route, lookup_key, no_content, prefer_mode, require_state
from .validation import canonical_fields, parse_material, read_json_body

VERSION_TYPE = 'application/vnd.ibm.kms.key.version+json'
ROTATION_PAUSE = datetime.timedelta(hours=1)
ROTATE_FIELDS = ('payload', 'encryptedNonce', 'iv', 'encryptionAlgorithm')


def do_rotate(ctx: KmsContext, key: Key):
    body = read_json_body(request, required=False)
    if body is not None and not isinstance(body, dict):
        raise bad_body('the body must be a JSON object')
    fields = canonical_fields(body or {}, ROTATE_FIELDS)
    if key.extractable:
        raise root_required('a standard key cannot be rotated')
    require_state(ctx, key, (STATE_ACTIVE, STATE_DEACTIVATED), 'rotate')
    if key.last_rotate_date is not None and ctx.now < key.last_rotate_date + ROTATION_PAUSE:
        raise KmsError(409, 'KEY_ROTATION_NOT_PERMITTED', 'A key can be rotated once per hour: this key can be rotated '
                       f'again from {format_time(key.last_rotate_date + ROTATION_PAUSE)}')
    given = [name for name in ROTATE_FIELDS if fields.get(name) is not None]
    if not key.imported:
        if given:
            raise KmsError(400, 'INVALID_QUERY_PARAM_ERR', "'payload' must be: provided only if key is imported",
                           target=('field', given[0]))
        material = os.urandom(32)
    else:
        if fields.get('payload') is None:
            raise KmsError(400, 'KEY_PAYLOAD_REQ_ERR', 'An imported key is rotated with new key material: payload is required',
                           target=('field', 'payload'))
        material, secure = parse_material(fields, extractable=False)
        if secure is None:
            check_token_enforced(ctx.instance)
        else:
            material = unwrap_secure_import(ctx, secure)
    key.rotate(material, ctx.now)
    if prefer_mode() == 'representation':
        return collection([key.to_resource(ctx.crn_base, ctx.now)])
    return no_content()


@kms_route('/keys/<key_id>/actions/rotate', ['POST'], 'Key', 'rotated', write=True)
def rotate_key(ctx: KmsContext, key_id: str):
    return do_rotate(ctx, lookup_key(ctx, key_id))


@kms_route('/keys/<key_id>/versions', ['GET'], 'Key versions', 'retrieved')
def list_key_versions(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    limit = parse_int(request.args, 'limit', 200, 1, 5000)
    offset = parse_int(request.args, 'offset', 0, 0, None)
    total_count = parse_bool(request.args, 'totalCount')
    all_states = parse_bool(request.args, 'allKeyStates')
    if key.state_at(ctx.now) != STATE_ACTIVE and not all_states:
        raise invalid_state('the versions of a key that is not active are listed with allKeyStates=true only')
    versions = list(reversed(key.versions))
    extra = {'totalCount': len(versions)} if total_count else {}
    return collection([version.to_resource() for version in versions[offset:offset + limit]], VERSION_TYPE, **extra)
