# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VPC instance metadata service: instance identity token, then an IAM token for a trusted profile (key-protect-api.md 6.2).

Served on the plain HTTP listener only, as the real service is (``http://169.254.169.254``), for the one virtual server
instance of the config (``vpc_instance``: its linked trusted profiles and its default one). Both API versions of the
reference: ``2022-03-01`` (``/instance_identity/v1/token``, ``/instance_identity/v1/iam_token``) and ``2025-08-26``
(``/identity/v1/token``, ``/identity/v1/iam_tokens``). Every call needs ``Metadata-Flavor: ibm``. Error codes and the
status of a refused profile are the emulator's choice (the reference gives the body shape ``{"errors": [...]}`` only).
"""

from __future__ import annotations

import datetime
import re
import uuid

from flask import Blueprint, jsonify, request

from .context import current_state
from .middleware import LISTENER_KEY
from .tokens import TokenError

bp = Blueprint('metadata', __name__)

OLD_VERSION = '2022-03-01'
NEW_VERSION = '2025-08-26'
IDENTITY_TYPE = 'instance_identity'
# IAM tokens issued for a compute resource carry this grant type (the one the cr-token exchange uses).
CR_TOKEN_GRANT = 'urn:ibm:params:oauth:grant-type:cr-token'
DEFAULT_IDENTITY_LIFETIME = 300
VERSION_RE = re.compile(r'^\d{4}-\d{2}-\d{2}$')


def metadata_error(status: int, code: str, message: str):
    response = jsonify({'errors': [{'code': code, 'message': message,
                                    'more_info': 'https://cloud.ibm.com/docs/vpc?topic=vpc-imd-about'}],
                        'trace': str(uuid.uuid4())})
    response.status_code = status
    return response


def _iso(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _check_request(minimum: str):
    """None when the listener, the Metadata-Flavor header and the version fit, else an error response."""
    if request.environ.get(LISTENER_KEY, 'http') != 'http':
        return metadata_error(404, 'not_found', 'The instance metadata service answers plain HTTP only')
    if request.headers.get('Metadata-Flavor', '').strip().lower() != 'ibm':
        return metadata_error(400, 'missing_metadata_flavor', 'The Metadata-Flavor header must be set to ibm')
    version = request.args.get('version', '')
    if not VERSION_RE.match(version):
        return metadata_error(400, 'missing_version', 'The version query parameter is required (a date, YYYY-MM-DD)')
    if version < minimum:
        return metadata_error(400, 'invalid_version', f'Version {version[:10]} is not supported on this path (at least {minimum})')
    return None


def _json_body():
    """The JSON object sent (an empty body is no object: {}), or None when it is not one."""
    if not request.get_data():
        return {}
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


@bp.route('/instance_identity/v1/token', methods=['PUT'], defaults={'minimum': OLD_VERSION})
@bp.route('/identity/v1/token', methods=['PUT'], defaults={'minimum': NEW_VERSION})
def identity_token(minimum):
    error = _check_request(minimum)
    if error is not None:
        return error
    body = _json_body()
    if body is None:
        return metadata_error(400, 'invalid_body', 'The request body must be a JSON object')
    lifetime = body.get('expires_in', DEFAULT_IDENTITY_LIFETIME)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 5 <= lifetime <= 3600:
        return metadata_error(400, 'invalid_expires_in', 'expires_in must be an integer from 5 to 3600 (seconds)')
    state = current_state()
    now = int(state.clock.timestamp())
    instance = state.config.vpc_instance()
    token = state.tokens.encode_jwt({'typ': IDENTITY_TYPE, 'sub': instance['id'], 'iat': now, 'exp': now + lifetime,
                                     'jti': str(uuid.uuid4())})
    return jsonify({'access_token': token, 'created_at': _iso(now), 'expires_at': _iso(now + lifetime), 'expires_in': lifetime})


@bp.route('/instance_identity/v1/iam_token', methods=['POST'], defaults={'minimum': OLD_VERSION})
@bp.route('/identity/v1/iam_tokens', methods=['POST'], defaults={'minimum': NEW_VERSION})
def iam_token(minimum):
    error = _check_request(minimum)
    if error is not None:
        return error
    state = current_state()
    auth = request.headers.get('Authorization', '')
    if not auth.lower().startswith('bearer '):
        return metadata_error(401, 'missing_authorization', 'An instance identity token is required (Authorization: Bearer)')
    try:
        claims = state.tokens.decode_jwt(auth[7:].strip())
    except TokenError:
        claims = {}
    if claims.get('typ') != IDENTITY_TYPE or not isinstance(claims.get('exp'), int) or claims['exp'] <= state.clock.timestamp():
        return metadata_error(401, 'invalid_token', 'The instance identity token is invalid or expired')
    body = _json_body()
    if body is None:
        return metadata_error(400, 'invalid_body', 'The request body must be a JSON object')
    instance = state.config.vpc_instance()
    selector = body.get('trusted_profile')
    if selector is None:
        profile_id = instance['default_profile']
        if profile_id is None:
            return metadata_error(400, 'no_default_trusted_profile', 'The instance has no default trusted profile: name one')
        profile = state.config.trusted_profile(profile_id=profile_id)
    else:
        if not isinstance(selector, dict) or len(selector) != 1 or not set(selector) <= {'id', 'crn'} \
                or not isinstance(next(iter(selector.values())), str):
            return metadata_error(400, 'invalid_trusted_profile', 'trusted_profile must hold exactly one of id or crn')
        profile = state.config.trusted_profile(profile_id=selector.get('id'), crn=selector.get('crn'))
        if profile is None or profile['id'] not in instance['profiles']:
            return metadata_error(400, 'invalid_trusted_profile', 'The trusted profile is not linked to this instance')
    issued = state.tokens.issue(profile['iam_id'], state.config.identity_account(profile['iam_id']), state.config.token_lifetime,
                                CR_TOKEN_GRANT)
    now = int(state.clock.timestamp())
    return jsonify({'access_token': issued['access_token'], 'created_at': _iso(now), 'expires_at': _iso(issued['expiration']),
                    'expires_in': issued['expires_in']})
