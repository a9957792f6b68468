# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance policies ``/api/v2/instance/policies`` (reference 4.10) and their enforcement on key creation.

Stored per instance as ``policies[<type>] = {enabled, attributes?, createdBy, creationDate,
updatedBy, lastUpdated}``. Every instance has dualAuthDelete, allowedNetwork,
keyCreateImportAccess and metrics; Key Protect (``kms``) instances also have ``rotation`` and
``allowedIP`` (key-protect-api.md section 3) and ``GET /api/v2/instance/allowed_ip_port``.
``allowedNetwork`` is enforced in routing.kms_route; ``allowedIP`` is stored, never enforced.
Dedicated instances refuse ``allowedNetwork`` writes (403 FEATURE_RESTRICTED_ERR).
"""

from __future__ import annotations

import ipaddress

from flask import request

from .clock import format_time
from .errors import KmsError, bad_body, field_error, query_error
from .listing import arg
from .model import POLICY_TYPE
from .routing import KmsContext, collection, feature_restricted, kms_route, no_content
from .validation import canonical_fields, collection_resources, read_json_body, typed

POLICY_TYPES = ('dualAuthDelete', 'allowedNetwork', 'keyCreateImportAccess', 'metrics')
KP_POLICY_TYPES = POLICY_TYPES + ('rotation', 'allowedIP')
ALLOWED_IP_PORT = 15008
ALLOWED_IP_PORT_TYPE = 'application/vnd.ibm.kms.allowed_ip_metadata+json'
MAX_ALLOWED_IPS = 1000
NETWORKS = ('public-and-private', 'private-only')
ACCESS_DEFAULTS = {'create_root_key': True, 'create_standard_key': True, 'import_root_key': True,
                   'import_standard_key': True, 'enforce_token': False}


def policy_types(ctx: KmsContext) -> tuple:
    return KP_POLICY_TYPES if ctx.service == 'kms' else POLICY_TYPES


def instance_rotation(instance) -> dict | None:
    """The key rotation policy the ``rotation`` instance policy gives new root keys, or None."""
    policy = instance.policies.get('rotation') or {}
    if not policy.get('enabled'):
        return None
    return {'enabled': True, 'interval_month': policy['attributes']['interval_month']}


def check_create_access(instance, extractable: bool, imported: bool, secure: bool) -> None:
    """Enforce ``keyCreateImportAccess`` on a create/import: 409 KEY_CREATE_IMPORT_ACCESS_ERR."""
    policy = instance.policies.get('keyCreateImportAccess') or {}
    if not policy.get('enabled'):
        return
    attributes = dict(ACCESS_DEFAULTS, **(policy.get('attributes') or {}))
    kind = ('import_' if imported else 'create_') + ('standard_key' if extractable else 'root_key')
    if not attributes[kind]:
        raise KmsError(409, 'KEY_CREATE_IMPORT_ACCESS_ERR',
                       f'The instance policy keyCreateImportAccess does not allow this request ({kind} is false)')
    if imported and not secure:
        check_token_enforced(instance)


def check_token_enforced(instance) -> None:
    """``enforce_token``: key material may only arrive through an import token (create and rotate)."""
    policy = instance.policies.get('keyCreateImportAccess') or {}
    if policy.get('enabled') and (policy.get('attributes') or {}).get('enforce_token'):
        raise KmsError(409, 'KEY_CREATE_IMPORT_ACCESS_ERR', 'The instance policy keyCreateImportAccess requires an import '
                       'token for key material (enforce_token is true)')


def _policy_param(types: tuple) -> str | None:
    value = arg(request.args, 'policy')
    if value is not None and value not in types:
        raise query_error('policy', 'one of ' + ', '.join(types))
    return value


def _resource(policy_type: str, stored: dict) -> dict:
    data = {'enabled': bool(stored.get('enabled'))}
    if stored.get('attributes') is not None:
        data['attributes'] = dict(stored['attributes'])
    resource = {}
    for name in ('creationDate', 'createdBy', 'updatedBy', 'lastUpdated'):
        if stored.get(name) is not None:
            value = stored[name]
            resource[name] = value if isinstance(value, str) else format_time(value)
    resource.update({'policy_type': policy_type, 'policy_data': data})
    return resource


def _rotation_attributes(enabled: bool, value):
    """``{"interval_month": 1..12}``: required when enabled, refused when disabled (an empty object is tolerated)."""
    if not enabled:
        if value not in (None, {}):
            raise field_error('interval_month', 'omitted when the rotation policy is disabled')
        return None
    if value is None:
        raise field_error('attributes', 'provided when the rotation policy is enabled')
    fields = canonical_fields(typed(value, dict, 'attributes'), ('interval_month',))
    if fields.get('interval_month') is None:
        raise field_error('interval_month', 'provided when the rotation policy is enabled')
    interval = typed(fields['interval_month'], int, 'interval_month')
    if not 1 <= interval <= 12:
        raise field_error('interval_month', 'an integer between 1 and 12 (inclusive)')
    return {'interval_month': interval}


def _check_cidr(value) -> str:
    if not isinstance(value, str) or '/' not in value:
        raise field_error('allowed_ip', 'a list of 1 to 1000 IPv4 or IPv6 CIDR strings, e.g. "192.0.2.0/24"')
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise field_error('allowed_ip', f'a list of 1 to 1000 IPv4 or IPv6 CIDR strings ({value!r} is not one)') from exc
    return value


def _allowed_ip_attributes(enabled: bool, value):
    """``{"allowed_ip": [CIDR, ...]}`` (1..1000) when enabled; when disabled any attributes are dropped (GO sends ``{}``)
    and a GET shows ``{"allowed_ip": []}`` like the GO client's fixture."""
    if not enabled:
        if value is not None:
            typed(value, dict, 'attributes')
        return {'allowed_ip': []}
    if value is None:
        raise field_error('attributes', 'provided when the allowedIP policy is enabled')
    fields = canonical_fields(typed(value, dict, 'attributes'), ('allowed_ip',))
    subnets = fields.get('allowed_ip')
    if not isinstance(subnets, list) or not 1 <= len(subnets) <= MAX_ALLOWED_IPS:
        raise field_error('allowed_ip', 'a list of 1 to 1000 IPv4 or IPv6 CIDR strings, e.g. "192.0.2.0/24"')
    return {'allowed_ip': [_check_cidr(subnet) for subnet in subnets]}


def _attributes(policy_type: str, enabled: bool, value):
    """Attributes are required when enabled and absent when disabled (allowedNetwork tolerates them)."""
    if policy_type in ('dualAuthDelete', 'metrics'):
        if value is not None:
            raise bad_body("json: unknown field 'attributes'")
        return None
    if policy_type == 'rotation':
        return _rotation_attributes(enabled, value)
    if policy_type == 'allowedIP':
        return _allowed_ip_attributes(enabled, value)
    if value is None:
        if enabled:
            raise field_error('attributes', f'provided when the {policy_type} policy is enabled')
        return None
    attributes = typed(value, dict, 'attributes')
    if policy_type == 'allowedNetwork':
        fields = canonical_fields(attributes, ('allowed_network',))
        if not enabled:
            return None  # the Go client always sends the attribute (legacy requirement); dropped
        if fields.get('allowed_network') not in NETWORKS:
            raise field_error('allowed_network', ' or '.join(NETWORKS))
        return {'allowed_network': fields['allowed_network']}
    fields = canonical_fields(attributes, tuple(ACCESS_DEFAULTS))
    if not enabled:
        raise field_error('attributes', f'omitted when the {policy_type} policy is disabled')
    return {name: typed(fields[name], bool, name) if fields.get(name) is not None else default
            for name, default in ACCESS_DEFAULTS.items()}


def _parse(resource: dict, types: tuple) -> tuple:
    fields = canonical_fields(resource, ('policy_type', 'policy_data'))
    policy_type = fields.get('policy_type')
    if policy_type not in types:
        raise field_error('policy_type', 'one of ' + ', '.join(types))
    if fields.get('policy_data') is None:
        raise field_error('policy_data', 'an object {"enabled": true|false, "attributes": {...}}')
    data = canonical_fields(typed(fields['policy_data'], dict, 'policy_data'), ('enabled', 'attributes'))
    if data.get('enabled') is None:
        raise field_error('enabled', 'true or false')
    enabled = typed(data['enabled'], bool, 'enabled')
    return policy_type, enabled, _attributes(policy_type, enabled, data.get('attributes'))


@kms_route('/instance/policies', ['GET'], 'Instance policies', 'retrieved')
def get_instance_policies(ctx: KmsContext):
    types = policy_types(ctx)
    wanted = _policy_param(types)
    resources = [_resource(policy_type, ctx.instance.policies[policy_type]) for policy_type in types
                 if policy_type in ctx.instance.policies and wanted in (None, policy_type)]
    return collection(resources, POLICY_TYPE)


@kms_route('/instance/policies', ['PUT'], 'Instance policies', 'set', write=True)
def put_instance_policies(ctx: KmsContext):
    types = policy_types(ctx)
    wanted = _policy_param(types)
    if wanted == 'allowedNetwork' and ctx.dedicated:
        raise feature_restricted('The allowedNetwork instance policy')
    resources = collection_resources(read_json_body(request, required=True), POLICY_TYPE, 1, 1 if wanted else len(types))
    parsed = {}
    for resource in resources:
        policy_type, enabled, attributes = _parse(resource, types)
        if policy_type == 'allowedNetwork' and ctx.dedicated:
            raise feature_restricted('The allowedNetwork instance policy')
        if policy_type in parsed:
            raise bad_body(f'the policy type {policy_type} is given more than once')
        parsed[policy_type] = (enabled, attributes)
    if wanted is not None and set(parsed) != {wanted}:
        raise KmsError(400, 'BODY_QUERY_PARAM_MISMATCH_ERR', f"The body does not match the query parameter policy={wanted}",
                       target=('query_param', 'policy'))
    for policy_type, (enabled, attributes) in parsed.items():
        previous = ctx.instance.policies.get(policy_type) or {}
        stored = {'enabled': enabled, 'createdBy': previous.get('createdBy') or ctx.iam_id,
                  'creationDate': previous.get('creationDate') or ctx.now, 'updatedBy': ctx.iam_id, 'lastUpdated': ctx.now}
        if attributes is not None:
            stored['attributes'] = attributes
        ctx.instance.policies[policy_type] = stored
    return no_content()


@kms_route('/instance/allowed_ip_port', ['GET'], 'Allowed IP port', 'retrieved')
def get_allowed_ip_port(ctx: KmsContext):
    """The private-endpoint port of an instance with the allowedIP policy enabled (key-protect-api.md 3.3)."""
    if ctx.service != 'kms':
        raise KmsError(400, 'INVALID_QUERY_PARAM_ERR', 'The allowed IP port exists on Key Protect instances only; this is a '
                       'Hyper Protect Crypto Services instance')
    enabled = (ctx.instance.policies.get('allowedIP') or {}).get('enabled')
    return collection([{'private_endpoint_port': ALLOWED_IP_PORT}] if enabled else [], ALLOWED_IP_PORT_TYPE)
