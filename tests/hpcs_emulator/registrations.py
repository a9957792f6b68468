# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registrations: the two list routes (reference 4.8) and seeding them for tests.

Only other IBM services create registrations on the real service, so tests seed them with
``POST /_emulator/registrations`` (control.py calls ``seed``/``remove`` here).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from flask import request

from .errors import query_error
from .listing import arg, parse_bool, parse_int
from .model import Registration
from .routing import KmsContext, collection, kms_route, lookup_key, ring_header

REGISTRATION_TYPE = 'application/vnd.ibm.kms.registration+json'
REGISTRATION_CREATOR = 'iam-ServiceId-emulator-registrations'
SEED_FIELDS = ('instance_id', 'key_id', 'resource_crn', 'prevent_key_deletion', 'description')


class SeedError(ValueError):
    """A bad /_emulator/registrations request; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _crn_pattern(all_keys: bool):
    raw = arg(request.args, 'urlEncodedResourceCRNQuery')
    if raw is None:
        return None
    value = unquote(raw) if '%' in raw else raw
    if all_keys and '*' in ':'.join(value.split(':')[:8]):
        raise query_error('urlEncodedResourceCRNQuery', 'a URL-encoded CRN with * wildcards after its first 8 segments only')
    return re.compile('.*'.join(re.escape(part) for part in value.split('*')))


def _list(ctx: KmsContext, key):
    limit = parse_int(request.args, 'limit', 200, 1, 5000)
    offset = parse_int(request.args, 'offset', 0, 0, None)
    prevent = parse_bool(request.args, 'preventKeyDeletion')
    total_count = parse_bool(request.args, 'totalCount')
    pattern = _crn_pattern(key is None)
    ring = ring_header(ctx) if key is None else None
    keys = ctx.instance.keys
    selected = [reg for reg in ctx.instance.registrations
                if (key is None or reg.key_id == key.id)
                and (prevent is None or reg.prevent_key_deletion == prevent)
                and (pattern is None or pattern.fullmatch(reg.resource_crn))
                and (ring is None or keys[reg.key_id].key_ring == ring)]
    extra = {'totalCount': len(selected)} if total_count else {}
    page = selected[offset:offset + limit]
    return collection([reg.to_resource(keys[reg.key_id]) for reg in page], REGISTRATION_TYPE, **extra)


@kms_route('/keys/registrations', ['GET'], 'Registrations', 'retrieved')
def list_registrations(ctx: KmsContext):
    return _list(ctx, None)


@kms_route('/keys/<key_id>/registrations', ['GET'], 'Registrations', 'retrieved')
def list_key_registrations(ctx: KmsContext, key_id: str):
    return _list(ctx, lookup_key(ctx, key_id))


def seed(state, body) -> dict:
    """Add a registration: ``{instance_id, key_id (id or alias), resource_crn, prevent_key_deletion?, description?}``."""
    if not isinstance(body, dict) or set(body) - set(SEED_FIELDS):
        raise SeedError(f'body must be a JSON object with the fields {", ".join(SEED_FIELDS)}')
    for name in ('instance_id', 'key_id', 'resource_crn'):
        if not isinstance(body.get(name), str) or not body[name]:
            raise SeedError(f'"{name}" (string) is required')
    if not body['resource_crn'].startswith('crn:'):
        raise SeedError('"resource_crn" must be a CRN (crn:v1:...)')
    prevent = body.get('prevent_key_deletion', False)
    description = body.get('description', '')
    if not isinstance(prevent, bool) or not isinstance(description, str):
        raise SeedError('"prevent_key_deletion" must be a boolean and "description" a string')
    if state.config.instance(body['instance_id']) is None:
        raise SeedError(f'unknown instance {body["instance_id"]}', 404)
    with state.lock:
        now = state.clock.now().replace(microsecond=0)
        instance = state.instance(body['instance_id'])
        key = instance.find_key(body['key_id'], now)
        if key is None:
            raise SeedError(f'no key {body["key_id"]} in instance {body["instance_id"]}', 404)
        if key.extractable:
            raise SeedError('registrations protect root keys only; this is a standard key')
        if any(reg.resource_crn == body['resource_crn'] for reg in instance.key_registrations(key.id)):
            raise SeedError('this resource is already registered with the key')
        registration = Registration(key.id, body['resource_crn'], prevent, description, REGISTRATION_CREATOR, now,
                                    key.latest_version)
        instance.registrations.append(registration)
        return registration.to_resource(key)


def remove(state, body) -> int:
    """Remove registrations matching the optional ``instance_id``/``key_id``/``resource_crn``; return how many."""
    body = body or {}
    if not isinstance(body, dict) or set(body) - {'instance_id', 'key_id', 'resource_crn'}:
        raise SeedError('body must be empty or a JSON object with instance_id, key_id and/or resource_crn')
    wanted_instance = str(body.get('instance_id') or '').lower()
    removed = 0
    with state.lock:
        now = state.clock.now().replace(microsecond=0)
        for instance_id in state.config.instance_ids():
            if wanted_instance and wanted_instance != instance_id:
                continue
            instance = state.instance(instance_id)
            key = instance.find_key(body['key_id'], now) if body.get('key_id') else None

            def matches(reg, key=key) -> bool:
                if body.get('key_id') and (key is None or reg.key_id != key.id):
                    return False
                return body.get('resource_crn') in (None, reg.resource_crn)
            kept = [reg for reg in instance.registrations if not matches(reg)]
            removed += len(instance.registrations) - len(kept)
            instance.registrations = kept
    return removed
