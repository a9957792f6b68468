# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The KMS blueprint and what every KMS route shares: auth, the state lock, lookups, responses."""

from __future__ import annotations

import dataclasses
import datetime
import functools

from flask import Blueprint, g, jsonify, make_response, request

from .context import bearer_token, current_listener, current_state
from .errors import KmsError, bad_body, header_error, invalid_state, key_deleted, key_not_found, unauthorized
from .instance import InstanceState
from .model import KEY_TYPE, STATE_DESTROYED, Key
from .tokens import TokenError
from .validation import read_json_body

bp = Blueprint('kms', __name__, url_prefix='/api/v2')

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
    service: str = 'hs-crypto'
    plan: str = 'standard'

    @property
    def dedicated(self) -> bool:
        return self.plan == 'dedicated'


def _authorize(state, headers: tuple = ('Bluemix-Instance',)) -> tuple:
    """Check token, Bluemix-Instance header (or the first of ``headers`` sent) and access; return (iam_id, instance id)."""
    token = bearer_token()
    if token is None:
        raise unauthorized()
    try:
        claims = state.tokens.check_access_token(token)
    except TokenError as exc:
        raise unauthorized() from exc
    instance_id = next((value for value in (request.headers.get(name, '').strip().lower() for name in headers) if value), '')
    if not instance_id:
        raise header_error('bluemix-instance', 'the ID of an instance (the Bluemix-Instance header is required)')
    if not state.config.has_instance(instance_id) or instance_id not in state.config.instances_for(claims['iam_id']):
        raise KmsError(401, 'UNAUTHORIZED_ERR', 'The user does not have access to the specified resource',
                       target=('header', 'bluemix-instance'))
    return claims['iam_id'], instance_id


NO_UNITS_MESSAGE = 'no healthy upstream: no crypto units are in kms-initialized state at this time'


def check_units_ready(state, instance_id: str) -> None:
    """A Dedicated instance with no unit in ``kms-initialized`` answers 503 (KPDOC ts-initialization-issues.md)."""
    units = state.crypto_units(instance_id)
    if units is not None and not any(unit['state'] == 'kms-initialized' for unit in units):
        raise KmsError(503, None, NO_UNITS_MESSAGE, reasons=False)


def feature_restricted(feature: str) -> KmsError:
    """What a Dedicated instance answers for a feature it does not support (the emulator's choice, docs/emulator.md)."""
    return KmsError(403, 'FEATURE_RESTRICTED_ERR', f'{feature} is not supported for Key Protect Dedicated instances')


authorize = _authorize


def kms_route(rule: str, methods: list, resource: str, verb: str, write=False):
    """Register a KMS view: auth, instance resolution, the state lock, the time rules, the errorMsg context.

    ``write`` (bool or callable(environ) -> bool) is what the request log records: does the
    request ask for a state change?
    """
    def decorator(view):
        @functools.wraps(view)
        def wrapper(**kwargs):
            g.kms_op = (resource, verb)
            state = current_state()
            iam_id, instance_id = _authorize(state)
            spec = state.config.instance(instance_id)
            with state.lock:
                check_units_ready(state, instance_id)
                instance = state.instance(instance_id)
                if instance.allowed_network() == 'private-only' and current_listener() != 'private':
                    raise KmsError(401, 'UNAUTHORIZED_ERR', 'The instance accepts requests on its private endpoint only',
                                   target=('header', 'bluemix-instance'))
                now = state.clock.now().replace(microsecond=0)
                instance.tick(now)
                ctx = KmsContext(state, iam_id, instance_id, instance, state.crn_base(instance_id), now,
                                 service=spec['service'], plan=spec['plan'])
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


def flat(body: dict, status: int = 200):
    """A flat JSON body (wrap/unwrap/rewrap, import token)."""
    response = jsonify(body)
    response.status_code = status
    return response


def no_content(status: int = 204):
    response = make_response('', status)
    response.headers.pop('Content-Type', None)
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


def require_state(ctx: KmsContext, key: Key, allowed: tuple, action: str, gone: bool = False) -> int:
    """Refuse an action in the wrong state: 410 for a deleted key when ``gone``, else 409."""
    state = key.state_at(ctx.now)
    if state in allowed:
        return state
    if gone and state == STATE_DESTROYED:
        raise key_deleted()
    raise invalid_state(f'{action} is allowed in key state {" or ".join(str(s) for s in allowed)} only, the key is in state {state}')


def no_body() -> None:
    """Body-less actions accept no body, an empty body, ``null`` or ``{}``, whatever the Content-Type."""
    data = read_json_body(request, required=False)
    if data not in (None, {}):
        raise bad_body('this action takes no body')
