# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM token endpoint: ``POST /identity/token`` (and the ``/oidc/token`` alias).

Grants: API key, refresh token, and compute-resource token + trusted profile (key-protect-api.md 6.1; the profile by
``profile_id``, ``profile_name`` and/or ``profile_crn``, all given must name the same profile, which must trust the
compute resource). Error codes other than BXNIM0415E and BXNIM0109E are the emulator's choice (docs/emulator.md).
"""

from __future__ import annotations

import threading
import uuid

from flask import Blueprint, jsonify, request

from .context import current_state
from .middleware import LOG_EXTRA_KEY
from .tokens import APIKEY_GRANT, REFRESH_GRANT, TokenError

CR_TOKEN_GRANT = 'urn:ibm:params:oauth:grant-type:cr-token'


bp = Blueprint('iam', __name__)


def _iam_time(now) -> str:
    return now.strftime('%d.%m.%Y %H:%M:%S:') + f'{now.microsecond // 1000:03d} GMT'


def iam_error(status: int, code: str, message: str, details: str):
    now = current_state().clock.now()
    body = {
        'errorCode': code,
        'errorMessage': message,
        'errorDetails': details,
        'context': {
            'requestId': str(uuid.uuid4()),
            'requestType': 'incoming.Identity_Token',
            'userAgent': request.headers.get('User-Agent', ''),
            'url': request.base_url,
            'host': request.host,
            'instanceId': 'iamid-emulator',
            'threadId': format(threading.get_ident(), 'x'),
            'clientIp': request.remote_addr or '',
            'startTime': _iam_time(now),
            'endTime': _iam_time(now),
            'elapsedTime': '0',
            'locale': 'en_US',
            'clusterName': 'emulator',
        },
    }
    response = jsonify(body)
    response.status_code = status
    return response


@bp.route('/identity/token', methods=['POST'])
@bp.route('/oidc/token', methods=['POST'])
def token():
    state = current_state()
    form = request.form  # Basic auth (client id/secret), if any, is accepted and ignored.
    grant_type = form.get('grant_type', '').strip()
    request.environ[LOG_EXTRA_KEY] = {'grant_type': grant_type[:100]}
    if not grant_type:
        return iam_error(400, 'BXNIM0109E', 'Property missing or empty. Property: grant_type',
                         'The form parameter grant_type is required.')
    if grant_type == APIKEY_GRANT:
        api_key = form.get('apikey', '').strip()
        if not api_key:
            return iam_error(400, 'BXNIM0109E', 'Property missing or empty. Property: apikey',
                             'The form parameter apikey is required for this grant type.')
        identity = state.config.identity_for_api_key(api_key)
        if identity is None:
            return iam_error(400, 'BXNIM0415E', 'Provided API key could not be found',
                             'The API key is not known to this IAM service.')
        iam_id = identity['iam_id']
    elif grant_type == REFRESH_GRANT:
        refresh_token = form.get('refresh_token', '').strip()
        if not refresh_token:
            return iam_error(400, 'BXNIM0109E', 'Property missing or empty. Property: refresh_token',
                             'The form parameter refresh_token is required for this grant type.')
        try:
            claims = state.tokens.check_refresh_token(refresh_token)
        except TokenError:
            return iam_error(400, 'BXNIM0407E', 'Provided refresh token is invalid or expired',
                             'The refresh token could not be verified.')
        iam_id = claims['iam_id']
        if not state.config.identity_exists(iam_id):
            return iam_error(400, 'BXNIM0407E', 'Provided refresh token is invalid or expired',
                             'The identity of the refresh token no longer exists.')
    elif grant_type == CR_TOKEN_GRANT:
        iam_id, error = _cr_token_identity(state, form)
        if error is not None:
            return error
    else:
        return iam_error(400, 'BXNIM0308E', f'Grant type is not supported. Grant type: {grant_type[:100]}',
                         f'Supported grant types: {APIKEY_GRANT}, {REFRESH_GRANT}, {CR_TOKEN_GRANT}.')
    body = state.tokens.issue(iam_id, state.config.identity_account(iam_id), state.config.token_lifetime, grant_type)
    response = jsonify(body)
    response.headers['Cache-Control'] = 'no-store'
    return response


def _cr_token_identity(state, form):
    """(iam_id, None) for a valid compute-resource token and a profile that trusts it, else (None, error response)."""
    cr_token = form.get('cr_token', '').strip()
    if not cr_token:
        return None, iam_error(400, 'BXNIM0109E', 'Property missing or empty. Property: cr_token',
                               'The form parameter cr_token is required for this grant type.')
    selectors = {name: form.get(field, '').strip() or None
                 for name, field in (('profile_id', 'profile_id'), ('name', 'profile_name'), ('crn', 'profile_crn'))}
    if not any(selectors.values()):
        return None, iam_error(400, 'BXNIM0109E', 'Property missing or empty. Property: profile_id, profile_name or profile_crn',
                               'A trusted profile (profile_id, profile_name or profile_crn) is required for this grant type.')
    resource = state.config.compute_resource(cr_token)
    if resource is None:
        return None, iam_error(400, 'BXNIM0492E', 'Provided compute resource token is invalid',
                               'The compute resource token could not be verified.')
    profile = state.config.trusted_profile(**selectors)
    if profile is None:
        shown = ', '.join(f'{name}={value[:120]}' for name, value in selectors.items() if value)
        return None, iam_error(400, 'BXNIM0486E', f'Trusted profile could not be found. Profile: {shown}',
                               'No trusted profile of the account matches the given profile_id, profile_name and profile_crn.')
    if profile['id'] not in resource['profiles']:
        return None, iam_error(400, 'BXNIM0487E', f'Compute resource is not trusted by the profile. Profile: {profile["id"]}',
                               'The trusted profile has no trust relationship with this compute resource.')
    return profile['iam_id'], None
