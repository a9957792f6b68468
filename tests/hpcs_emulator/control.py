# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control endpoints for tests under ``/_emulator/`` (no auth, never logged, never faulted)."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request

from .clock import format_time, parse_rfc3339
from .config import CRYPTO_UNIT_STATES, ConfigError
from .context import current_state
from .faults import FaultError
from .kmip import seed_objects as seed_kmip_objects
from .registrations import SeedError, remove as remove_registrations, seed as seed_registration

bp = Blueprint('control', __name__, url_prefix='/_emulator')


def _bad(message: str, status: int = 400):
    response = jsonify({'error': message})
    response.status_code = status
    return response


def _body(required: bool = True):
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {} if not required else None
    try:
        return json.loads(raw)
    except ValueError:
        return None


@bp.route('/health', methods=['GET'])
def health():
    return jsonify({'ok': True})


@bp.route('/reset', methods=['POST'])
def reset():
    body = _body(required=False)
    if not isinstance(body, dict):
        return _bad('body must be empty or a JSON object')
    current_state().reset(revoke_tokens=bool(body.get('revoke_tokens', False)))
    return jsonify({'ok': True})


@bp.route('/requests', methods=['GET'])
def requests_log():
    since = request.args.get('since', '0')
    if not since.isdigit():
        return _bad('since must be a non-negative integer')
    log = current_state().requests
    return jsonify({'last_seq': log.last_seq, 'requests': log.entries(int(since))})


@bp.route('/requests', methods=['DELETE'])
def clear_requests():
    current_state().requests.clear()
    return jsonify({'ok': True})


@bp.route('/counters', methods=['GET'])
def counters():
    return jsonify(current_state().requests.counters())


@bp.route('/faults', methods=['POST'])
def add_faults():
    body = _body()
    if not isinstance(body, dict):
        return _bad('body must be a JSON object {"rules": [...]}')
    try:
        ids = current_state().faults.add(body.get('rules'))
    except FaultError as exc:
        return _bad(str(exc))
    response = jsonify({'ids': ids})
    response.status_code = 201
    return response


@bp.route('/faults', methods=['GET'])
def list_faults():
    return jsonify({'rules': current_state().faults.list()})


@bp.route('/faults', methods=['DELETE'])
def clear_faults():
    current_state().faults.clear()
    return jsonify({'ok': True})


@bp.route('/faults/<rule_id>', methods=['DELETE'])
def delete_fault(rule_id: str):
    if not current_state().faults.remove(rule_id):
        return _bad(f'no fault rule {rule_id}', 404)
    return jsonify({'ok': True})


def _clock_body():
    clock = current_state().clock
    return jsonify({'now': format_time(clock.now()), 'offset': round(clock.offset, 3)})


@bp.route('/clock', methods=['GET'])
def get_clock():
    return _clock_body()


@bp.route('/clock', methods=['POST'])
def move_clock():
    body = _body()
    clock = current_state().clock
    if not isinstance(body, dict) or len(set(body) & {'advance', 'set'}) != 1 or set(body) - {'advance', 'set'}:
        return _bad('body must be {"advance": seconds} or {"set": "<RFC 3339>"}')
    if 'advance' in body:
        seconds = body['advance']
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            return _bad('advance must be a number of seconds')
        clock.advance(seconds)
    else:
        when = parse_rfc3339(body['set'])
        if when is None:
            return _bad('set must be an RFC 3339 timestamp')
        clock.set(when)
    return _clock_body()


@bp.route('/config', methods=['GET'])
def get_config():
    return jsonify(current_state().config.to_dict())


@bp.route('/config', methods=['POST'])
def update_config():
    body = _body()
    try:
        current_state().config.update(body)
    except ConfigError as exc:
        return _bad(str(exc))
    return jsonify(current_state().config.to_dict())


@bp.route('/registrations', methods=['POST'])
def add_registration():
    try:
        resource = seed_registration(current_state(), _body())
    except SeedError as exc:
        return _bad(str(exc), exc.status)
    response = jsonify(resource)
    response.status_code = 201
    return response


@bp.route('/registrations', methods=['DELETE'])
def clear_registrations():
    body = _body(required=False)
    if body is None:
        return _bad('body must be empty or a JSON object')
    try:
        removed = remove_registrations(current_state(), body)
    except SeedError as exc:
        return _bad(str(exc), exc.status)
    return jsonify({'ok': True, 'removed': removed})


@bp.route('/kmip_objects', methods=['POST'])
def add_kmip_objects():
    """KMIP objects exist only through the KMIP protocol, which the emulator does not speak: tests make them here."""
    try:
        ids = seed_kmip_objects(current_state(), _body())
    except SeedError as exc:
        return _bad(str(exc), exc.status)
    response = jsonify({'objects': ids})
    response.status_code = 201
    return response


@bp.route('/crypto_units', methods=['POST'])
def set_crypto_units():
    """``{"instance_id": "<Dedicated instance>", "states": ["kms-initialized", "reserved", ...]}``: one state per unit."""
    body = _body()
    if not isinstance(body, dict) or set(body) != {'instance_id', 'states'}:
        return _bad('body must be {"instance_id": "<id>", "states": ["<state>", ...]}')
    states = body['states']
    if not isinstance(states, list) or not all(isinstance(s, str) and s in CRYPTO_UNIT_STATES for s in states):
        return _bad(f'states must be a list of: {", ".join(CRYPTO_UNIT_STATES)}')
    state = current_state()
    instance_id = body['instance_id']
    if not isinstance(instance_id, str) or state.config.instance(instance_id) is None:
        return _bad(f'no instance {instance_id}', 404)
    try:
        units = state.set_crypto_unit_states(instance_id, states)
    except ValueError as exc:
        return _bad(str(exc))
    return jsonify({'instance_id': instance_id.lower(), 'crypto_units': units})


@bp.route('/crypto_units', methods=['GET'])
def get_crypto_units():
    instance_id = request.args.get('instance_id', '')
    units = current_state().crypto_units(instance_id) if instance_id else None
    if units is None:
        return _bad('instance_id must name a Key Protect Dedicated instance', 404)
    return jsonify({'instance_id': instance_id.lower(), 'crypto_units': units})
