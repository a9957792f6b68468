# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IBM Cloud Resource Controller, the two reads: ``GET /v2/resource_instances`` and ``GET /v2/resource_instances/<id>``.

Reference: key-protect-api.md section 2. Scoped to the account in the caller's token; every instance of that account
is listed whether or not the identity may read its keys. An identity whose API key has ``"resource_controller": false``
gets 403. Error bodies ``{error_code, message, status_code, transaction_id}``; 403/404/400 codes are the emulator's
choice (the reference has only a 401 example).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
import weakref
from urllib.parse import unquote

from flask import Blueprint, jsonify, request

from .clock import parse_rfc3339
from .config import PLAN_IDS, SERVICE_IDS
from .context import bearer_token, current_state
from .tokens import TokenError

bp = Blueprint('resource_controller', __name__, url_prefix='/v2/resource_instances')

DEFAULT_LIMIT = 100
MAX_LIMIT = 100
STATES = ('active', 'inactive', 'failed', 'pending_reclamation', 'provisioning', 'pre_provisioning', 'removed')
DEFAULT_STATES = ('active', 'provisioning')
FILTERS = ('guid', 'name', 'resource_group_id', 'resource_id', 'resource_plan_id', 'type', 'sub_type', 'state',
           'updated_from', 'updated_to')
CREATED_AT = '2026-01-05T09:00:00.000Z'


_STATES = weakref.WeakKeyDictionary()  # EmulatorState -> {guid: Resource Controller state other than active}
_STATES_LOCK = threading.Lock()


def set_instance_state(state, instance_id: str, value: str) -> None:
    """Make the Resource Controller report ``value`` as the state of a configured instance (tests: an instance being
    provisioned, or reclaimed); ``active`` restores the default. Kept, like the configuration, across a reset."""
    if value not in STATES:
        raise ValueError(f'state must be one of {", ".join(STATES)}')
    with _STATES_LOCK:
        states = _STATES.setdefault(state, {})
        if value == 'active':
            states.pop(instance_id.lower(), None)
        else:
            states[instance_id.lower()] = value


def instance_state(state, instance_id: str) -> str:
    with _STATES_LOCK:
        return _STATES.get(state, {}).get(instance_id.lower(), 'active')


class RcError(Exception):
    """A Resource Controller failure, rendered as ``{error_code, message, status_code, transaction_id}``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f'{status} {code}: {message}')
        self.status, self.code, self.message = status, code, message


def rc_error_body(status: int, code: str, message: str) -> dict:
    return {'error_code': code, 'message': message, 'status_code': status, 'transaction_id': f'bss-{uuid.uuid4().hex}'}


@bp.errorhandler(RcError)
def _rc_error(error: RcError):
    body = rc_error_body(error.status, error.code, error.message)
    response = jsonify(body)
    response.status_code = error.status
    response.headers['Transaction-Id'] = body['transaction_id']
    return response


def _caller(state) -> tuple:
    """(iam_id, account id) of the token; 401/403 in the Resource Controller's shape."""
    token = bearer_token()
    if token is None:
        raise RcError(401, 'RC-IamErrorResponse', 'Token is missing: send an Authorization header with a Bearer IAM '
                      'access token')
    try:
        claims = state.tokens.check_access_token(token)
    except TokenError as exc:
        raise RcError(401, 'RC-IamErrorResponse', 'Token is expired or invalid') from exc
    iam_id = claims['iam_id']
    account = (claims.get('account') or {}).get('bss') or state.config.identity_account(iam_id)
    if not state.config.resource_controller_access(iam_id):
        raise RcError(403, 'RC-IamAuthorizationFailed',
                      f'The identity {iam_id} is not authorized to read resource instances: it needs the Viewer role '
                      'on the resource group, or on the instance, in IAM (resource-controller.instance.retrieve)')
    return iam_id, account


def _endpoint(state, listener: str) -> str:
    url = state.endpoints.get(listener) or state.endpoints.get('public') or request.host_url
    return url.rstrip('/')


def instance_record(state, instance_id: str) -> dict:
    """The Resource Controller record of a configured instance."""
    spec = state.config.instance(instance_id)
    guid = instance_id.lower()
    account = state.config.instance_account(guid)
    crn = state.config.instance_crn(guid)
    plan_id = PLAN_IDS[spec['plan']]
    with state.lock:
        policy = state.instance(guid).policies.get('allowedNetwork') or {}
    parameters = {}
    if spec['plan'] == 'dedicated':  # the provisioning parameter (key-protect-api.md 1.2), echoed as RC records do
        parameters['crypto_units'] = len(spec['crypto_units'])
    if policy.get('enabled'):
        parameters['allowed_network'] = (policy.get('attributes') or {}).get('allowed_network', 'public-and-private')
    return {
        'id': crn,
        'guid': guid,
        'url': f'/v2/resource_instances/{guid}',
        'created_at': CREATED_AT,
        'updated_at': CREATED_AT,
        'created_by': 'IBMid-emulator',
        'updated_by': 'IBMid-emulator',
        'deleted_by': '',
        'restored_by': '',
        'scheduled_reclaim_by': '',
        'name': spec['name'],
        'region_id': spec['region'],
        'account_id': account,
        'reseller_channel_id': '',
        'resource_plan_id': plan_id,
        'resource_group_id': spec['resource_group_id'],
        'resource_group_crn': f'crn:v1:bluemix:public:resource-controller::a/{account}::resource-group:{spec["resource_group_id"]}',
        'target_crn': f'crn:v1:bluemix:public:globalcatalog::::deployment:{plan_id}:{spec["region"]}',
        'parameters': parameters,
        'allow_cleanup': False,
        'crn': crn,
        'state': instance_state(state, guid),
        'type': 'service_instance',
        'sub_type': spec['service'],
        'resource_id': SERVICE_IDS[spec['service']],
        'dashboard_url': f'/services/{spec["service"]}/{crn.replace(":", "%3A").replace("/", "%2F")}',
        'last_operation': {'type': 'create', 'state': 'succeeded', 'async': False,
                           'description': 'Completed create instance operation'},
        'resource_aliases_url': f'/v2/resource_instances/{guid}/resource_aliases',
        'resource_bindings_url': f'/v2/resource_instances/{guid}/resource_bindings',
        'resource_keys_url': f'/v2/resource_instances/{guid}/resource_keys',
        'plan_history': [{'resource_plan_id': plan_id, 'start_date': CREATED_AT}],
        'migrated': False,
        'extensions': {'endpoints': {'public': _endpoint(state, 'public'), 'private': _endpoint(state, 'private')}},
        'controlled_by': '',
        'locked': False,
    }


def _encode_start(offset: int, filters: dict, limit: int) -> str:
    raw = json.dumps({'o': offset, 'f': filters, 'l': limit}, separators=(',', ':'), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode('ascii')


def _decode_start(token: str) -> tuple:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + '=' * (-len(token) % 4)))
        offset, filters, limit = data['o'], data['f'], data['l']
        if not isinstance(offset, int) or offset < 0 or not isinstance(filters, dict) or not isinstance(limit, int):
            raise ValueError('bad token')
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise RcError(400, 'RC-BadRequest', 'The start parameter is not a valid paging token: take it from next_url') from exc
    return offset, filters, limit


def _limit(value: str | None, fallback: int) -> int:
    if value is None:
        return fallback
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise RcError(400, 'RC-BadRequest', f'The limit parameter must be an integer between 1 and {MAX_LIMIT}')
    return int(value)


def _check_filters(filters: dict) -> None:
    if filters.get('state') is not None and filters['state'] not in STATES:
        raise RcError(400, 'RC-BadRequest', f'The state parameter must be one of {", ".join(STATES)}')
    for name in ('updated_from', 'updated_to'):
        if filters.get(name) is not None and parse_rfc3339(filters[name]) is None:
            raise RcError(400, 'RC-BadRequest', f'The {name} parameter must be an RFC 3339 date')


def _matches(record: dict, filters: dict) -> bool:
    for name in ('guid', 'name', 'resource_group_id', 'resource_id', 'resource_plan_id', 'type', 'sub_type'):
        if filters.get(name) is not None and record[name] != filters[name]:
            return False
    if record['state'] not in ((filters['state'],) if filters.get('state') else DEFAULT_STATES):
        return False
    updated = parse_rfc3339(record['updated_at'])
    if filters.get('updated_from') and updated < parse_rfc3339(filters['updated_from']):
        return False
    if filters.get('updated_to') and updated > parse_rfc3339(filters['updated_to']):
        return False
    return True


@bp.route('', methods=['GET'])
def list_resource_instances():
    state = current_state()
    _iam_id, account = _caller(state)
    start = request.args.get('start') or None
    if start is not None:  # "when present other params are ignored" (the limit of the next page still applies)
        offset, filters, token_limit = _decode_start(start)
        limit = _limit(request.args.get('limit'), token_limit)
    else:
        offset = 0
        filters = {name: request.args[name] for name in FILTERS if request.args.get(name)}
        limit = _limit(request.args.get('limit'), DEFAULT_LIMIT)
    _check_filters(filters)
    records = [instance_record(state, instance_id) for instance_id in state.config.instances_in_account(account)]
    matching = [record for record in records if _matches(record, filters)]
    page = matching[offset:offset + limit]
    next_url = None
    if offset + limit < len(matching):
        next_url = f'/v2/resource_instances?start={_encode_start(offset + limit, filters, limit)}&limit={limit}'
    return jsonify({'rows_count': len(page), 'next_url': next_url, 'resources': page})


@bp.route('/<path:instance_id>', methods=['GET'])
def get_resource_instance(instance_id: str):
    state = current_state()
    _iam_id, account = _caller(state)
    ref = unquote(instance_id).strip()
    guid = ref.lower()
    if ref.startswith('crn:'):
        parts = ref.split(':')
        guid = parts[7].lower() if len(parts) >= 10 else ''
        if state.config.instance(guid) is not None and state.config.instance_crn(guid) != ref:
            guid = ''
    if state.config.instance(guid) is None or state.config.instance_account(guid) != account:
        raise RcError(404, 'RC-ResourceInstanceNotFound', f'Instance {ref} was not found')
    return jsonify(instance_record(state, guid))
