# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key policies: ``GET``/``PUT /api/v2/keys/<id>/policies[?policy=rotation|dualAuthDelete]`` (reference 4.8).

Policies are stored as model.KeyPolicy through Key.set_policy, the same path that
``POST /keys_with_policy_overrides`` and the instance dualAuthDelete policy use.
"""

from __future__ import annotations

from flask import request

from .errors import KmsError, bad_body, field_error, invalid_state, query_error
from .listing import arg
from .model import POLICY_TYPE
from .routing import KmsContext, collection, kms_route, lookup_key
from .validation import canonical_fields, collection_resources, parse_dual_auth, parse_rotation, read_json_body

KINDS = ('rotation', 'dualAuthDelete')


def _policy_param() -> str | None:
    value = arg(request.args, 'policy')
    if value is not None and value not in KINDS:
        raise query_error('policy', 'rotation or dualAuthDelete')
    return value


def _resources(ctx: KmsContext, key, kinds) -> list:
    return [key.policies[kind].to_resource(key.crn(ctx.crn_base)) for kind in KINDS if kind in kinds and kind in key.policies]


@kms_route('/keys/<key_id>/policies', ['GET'], 'Policy', 'retrieved')
def get_key_policies(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    wanted = _policy_param()
    return collection(_resources(ctx, key, [wanted] if wanted else KINDS), POLICY_TYPE)


def _requested(resources: list) -> dict:
    """Policy type -> raw value; a resource may carry one or both types (SetMultipleKeyPoliciesResource)."""
    requested = {}
    for resource in resources:
        fields = canonical_fields(resource, ('type',) + KINDS)
        if fields.get('type') is not None and fields['type'] != POLICY_TYPE:
            raise field_error('type', f"'{POLICY_TYPE}'")
        given = [kind for kind in KINDS if fields.get(kind) is not None]
        if not given:
            raise bad_body('each policy resource needs rotation or dualAuthDelete')
        for kind in given:
            if kind in requested:
                raise bad_body(f'the policy {kind} is given more than once')
            requested[kind] = fields[kind]
    return requested


@kms_route('/keys/<key_id>/policies', ['PUT'], 'Policy', 'set', write=True)
def put_key_policies(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    wanted = _policy_param()
    resources = collection_resources(read_json_body(request, required=True), POLICY_TYPE, 1, 1 if wanted else len(KINDS))
    requested = _requested(resources)
    if wanted is not None and set(requested) != {wanted}:
        raise KmsError(400, 'BODY_QUERY_PARAM_MISMATCH_ERR', f'The body does not match the query parameter policy={wanted}',
                       target=('query_param', 'policy'))
    if key.deleted:
        raise invalid_state('the policies of a deleted key cannot be changed')
    changes = {}
    if 'rotation' in requested:
        changes['rotation'] = parse_rotation(requested['rotation'], key.extractable, key.rotation)
    if 'dualAuthDelete' in requested:
        enabled = parse_dual_auth(requested['dualAuthDelete'])
        if key.dual_auth_delete and not enabled:
            raise KmsError(400, 'INVALID_FIELD_ERR', 'A dual authorization policy cannot be disabled once it is enabled',
                           target=('field', 'dualAuthDelete'))
        changes['dualAuthDelete'] = {'enabled': enabled}
    for kind, data in changes.items():
        key.set_policy(kind, data, ctx.iam_id, ctx.now)
    return collection(_resources(ctx, key, changes), POLICY_TYPE)
