# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance policies ``/api/v2/instance/policies`` (reference 4.10) and their enforcement on key creation.

Stored per instance as ``policies[<type>] = {enabled, attributes?, createdBy, creationDate,
updatedBy, lastUpdated}``. The HPCS types only: dualAuthDelete, allowedNetwork,
keyCreateImportAccess, metrics. ``allowedNetwork`` is enforced in routing.kms_route.
"""

from __future__ import annotations

from flask import request

from .clock import format_time
from .errors import KmsError, bad_body, field_error, query_error
from .listing import arg
from .model import POLICY_TYPE
from .routing import KmsContext, collection, kms_route, no_content
from .validation import canonical_fields, collection_resources, read_json_body, typed

POLICY_TYPES = ('dualAuthDelete', 'allowedNetwork', 'keyCreateImportAccess', 'metrics')
NETWORKS = ('public-and-private', 'private-only')
ACCESS_DEFAULTS = {'create_root_key': True, 'create_standard_key': True, 'import_root_key': True,
                   'import_standard_key': True, 'enforce_token': False}


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


def _policy_param() -> str | None:
    value = arg(request.args, 'policy')
    if value is not None and value not in POLICY_TYPES:
        raise query_error('policy', 'one of ' + ', '.join(POLICY_TYPES))
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


def _attributes(policy_type: str, enabled: bool, value):
    """Attributes are required when enabled and absent when disabled (allowedNetwork tolerates them)."""
    if policy_type in ('dualAuthDelete', 'metrics'):
        if value is not None:
            raise bad_body("json: unknown field 'attributes'")
        return None
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


def _parse(resource: dict) -> tuple:
    fields = canonical_fields(resource, ('policy_type', 'policy_data'))
    policy_type = fields.get('policy_type')
    if policy_type not in POLICY_TYPES:
        raise field_error('policy_type', 'one of ' + ', '.join(POLICY_TYPES))
    if fields.get('policy_data') is None:
        raise field_error('policy_data', 'an object {"enabled": true|false, "attributes": {...}}')
    data = canonical_fields(typed(fields['policy_data'], dict, 'policy_data'), ('enabled', 'attributes'))
    if data.get('enabled') is None:
        raise field_error('enabled', 'true or false')
    enabled = typed(data['enabled'], bool, 'enabled')
    return policy_type, enabled, _attributes(policy_type, enabled, data.get('attributes'))


@kms_route('/instance/policies', ['GET'], 'Instance policies', 'retrieved')
def get_instance_policies(ctx: KmsContext):
    wanted = _policy_param()
    resources = [_resource(policy_type, ctx.instance.policies[policy_type]) for policy_type in POLICY_TYPES
                 if policy_type in ctx.instance.policies and wanted in (None, policy_type)]
    return collection(resources, POLICY_TYPE)


@kms_route('/instance/policies', ['PUT'], 'Instance policies', 'set', write=True)
def put_instance_policies(ctx: KmsContext):
    wanted = _policy_param()
    resources = collection_resources(read_json_body(request, required=True), POLICY_TYPE, 1, 1 if wanted else len(POLICY_TYPES))
    parsed = {}
    for resource in resources:
        policy_type, enabled, attributes = _parse(resource)
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
