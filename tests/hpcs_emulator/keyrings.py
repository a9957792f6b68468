# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key rings: ``GET /api/v2/key_rings``, ``POST``/``DELETE /api/v2/key_rings/<id>`` (reference 4.9, 7).

Moving a key between rings is ``PATCH /keys/<id>`` (kms.py).
"""

from __future__ import annotations

from flask import request

from .errors import KmsError, path_error
from .listing import parse_bool, parse_int
from .model import DEFAULT_RING, STATE_DESTROYED, KeyRing
from .routing import KmsContext, collection, kms_route, no_body, no_content
from .validation import RING_RE

RING_TYPE = 'application/vnd.ibm.kms.key_ring+json'
MAX_RINGS = 50  # created rings; `default` is not counted
DEFAULT_RING_LIMIT = 100


def _not_found(ring_id: str) -> KmsError:
    return KmsError(404, 'KEY_RING_NOT_FOUND_ERR', f"Key ring '{ring_id}' does not exist in this instance",
                    target=('path_param', 'key_ring_id'))


@kms_route('/key_rings', ['GET'], 'Key rings', 'retrieved')
def list_key_rings(ctx: KmsContext):
    limit = parse_int(request.args, 'limit', DEFAULT_RING_LIMIT, 1, 5000)
    offset = parse_int(request.args, 'offset', 0, 0, None)
    total_count = parse_bool(request.args, 'totalCount')
    rings = list(ctx.instance.rings.values())
    extra = {'totalCount': len(rings)} if total_count else {}
    return collection([ring.to_resource() for ring in rings[offset:offset + limit]], RING_TYPE, **extra)


@kms_route('/key_rings/<ring_id>', ['POST'], 'Key ring', 'created', write=True)
def create_key_ring(ctx: KmsContext, ring_id: str):
    no_body()
    if ring_id == DEFAULT_RING:
        raise path_error('key_ring_id', "an ID other than 'default', which is reserved")
    if not RING_RE.match(ring_id):
        raise path_error('key_ring_id', 'a string of 2 to 100 characters [a-zA-Z0-9-]')
    if ring_id in ctx.instance.rings:
        raise KmsError(409, 'KEY_RING_CONFLICT_ERR', f"Key ring '{ring_id}' already exists in this instance",
                       target=('path_param', 'key_ring_id'))
    if len(ctx.instance.rings) - 1 >= MAX_RINGS:
        raise KmsError(400, 'KEY_RING_QUOTA_ERR', f'An instance can have at most {MAX_RINGS} key rings besides the '
                       'default one')
    ctx.instance.rings[ring_id] = KeyRing(ring_id, ctx.now, ctx.iam_id)
    return no_content(201)


@kms_route('/key_rings/<ring_id>', ['DELETE'], 'Key ring', 'deleted', write=True)
def delete_key_ring(ctx: KmsContext, ring_id: str):
    force = parse_bool(request.args, 'force') or False
    if ring_id == DEFAULT_RING:
        raise path_error('key_ring_id', "an ID other than 'default': the default key ring cannot be deleted")
    if ring_id not in ctx.instance.rings:
        raise _not_found(ring_id)
    keys = [key for key in ctx.instance.keys.values() if key.key_ring == ring_id]
    live = [key for key in keys if key.state_at(ctx.now) != STATE_DESTROYED]
    if live:
        raise KmsError(409, 'KEY_RING_NOT_EMPTY_ERR', f"Key ring '{ring_id}' holds {len(live)} key(s) that are not "
                       'deleted: delete them or move them to another key ring first')
    if keys and not force:
        raise KmsError(409, 'KEY_RING_NOT_EMPTY_ERR', f"Key ring '{ring_id}' holds {len(keys)} deleted key(s): use "
                       "force=true to move them to the 'default' key ring and delete the ring")
    for key in keys:
        key.key_ring = DEFAULT_RING
    del ctx.instance.rings[ring_id]
    return no_content()
