# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HPCS broker: ``GET /crypto_v2/instances/<instance_id>`` (endpoint discovery, reference 1.3).

Error body shape ``{"code", "message"}`` is the emulator's choice (the real one is unknown).
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request

from .context import bearer_token, current_state
from .tokens import TokenError

bp = Blueprint('broker', __name__)


def _error(status: int, code: str, message: str):
    response = jsonify({'code': code, 'message': message})
    response.status_code = status
    return response


def _netloc(url: str | None) -> str:
    return urlsplit(url).netloc if url else request.host


def _port(instance_id: str, salt: str) -> int:
    digest = hashlib.sha256(f'{salt}:{instance_id}'.encode()).digest()
    return 8000 + int.from_bytes(digest[:4], 'big') % 12000


@bp.route('/crypto_v2/instances/<instance_id>', methods=['GET'])
def instance_endpoints(instance_id: str):
    state = current_state()
    token = bearer_token()
    if token is None:
        return _error(401, 'UNAUTHORIZED', 'An Authorization header with a Bearer IAM access token is required')
    try:
        claims = state.tokens.check_access_token(token)
    except TokenError:
        return _error(401, 'UNAUTHORIZED', 'The IAM access token is invalid or expired')
    spec = state.config.instance(instance_id)
    if spec is None or spec['service'] != 'hs-crypto':  # the HPCS broker does not know Key Protect instances
        return _error(404, 'NOT_FOUND', f'Instance {instance_id} was not found')
    instance_id = instance_id.lower()
    if instance_id not in state.config.instances_for(claims['iam_id']):
        return _error(403, 'FORBIDDEN', f'The identity has no access to instance {instance_id}')
    region = spec['region']
    ep11_port, uko_port = _port(instance_id, 'ep11'), _port(instance_id, 'uko')
    return jsonify({
        'instance_id': instance_id,
        'kms': {'public': _netloc(state.endpoints.get('public')), 'private': _netloc(state.endpoints.get('private'))},
        'ep11': {'public': f'ep11.{region}.hs-crypto.emulator.test:{ep11_port}',
                 'private': f'ep11.private.{region}.hs-crypto.emulator.test:{ep11_port}'},
        'uko': {'public': f'uko.{region}.hs-crypto.emulator.test:{uko_port}',
                'private': f'uko.private.{region}.hs-crypto.emulator.test:{uko_port}'},
    })
