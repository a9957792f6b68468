# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key aliases: ``POST``/``DELETE /api/v2/keys/<id>/aliases/<alias>`` (reference 4.6, 7)."""

from __future__ import annotations

from .clock import format_time
from .errors import KmsError, invalid_state
from .routing import KmsContext, collection, kms_route, lookup_key, no_content
from .validation import MAX_ALIASES, validate_alias

ALIAS_TYPE = 'application/vnd.ibm.kms.alias+json'


def _alias_resource(key, alias: str) -> dict:
    created_by, creation_date = key.alias_meta.get(alias, (key.created_by, key.creation_date))
    return {'keyId': key.id, 'alias': alias, 'createdBy': created_by, 'creationDate': format_time(creation_date)}


@kms_route('/keys/<key_id>/aliases/<alias>', ['POST'], 'Alias', 'created', write=True)
def create_key_alias(ctx: KmsContext, key_id: str, alias: str):
    validate_alias(alias, 'alias', 'path_param')
    key = lookup_key(ctx, key_id)
    owner = ctx.instance.aliases.get(alias)
    if owner == key.id:
        return collection([_alias_resource(key, alias)], ALIAS_TYPE, status=200)
    if key.deleted:
        raise invalid_state('aliases cannot be added to a deleted key')
    if owner is not None:
        raise KmsError(409, 'KEY_ALIAS_NOT_UNIQUE_ERR', f"The alias '{alias}' already belongs to another key of this "
                       'instance', target=('path_param', 'alias'))
    if len(key.aliases) >= MAX_ALIASES:
        raise KmsError(400, 'KEY_ALIAS_QUOTA_ERR', f'A key can have at most {MAX_ALIASES} aliases: this key has '
                       f'{len(key.aliases)}', target=('path_param', 'alias'))
    ctx.instance.add_alias(key, alias, ctx.iam_id, ctx.now)
    return collection([_alias_resource(key, alias)], ALIAS_TYPE, status=201)


@kms_route('/keys/<key_id>/aliases/<alias>', ['DELETE'], 'Alias', 'deleted', write=True)
def delete_key_alias(ctx: KmsContext, key_id: str, alias: str):
    key = lookup_key(ctx, key_id)
    if alias not in key.aliases:
        raise KmsError(404, 'KEY_ALIAS_NOT_FOUND_ERR', f"The key has no alias '{alias}'", target=('path_param', 'alias'))
    if key.deleted:
        raise invalid_state('aliases cannot be removed from a deleted key')
    ctx.instance.remove_alias(key, alias, ctx.now)
    return no_content()
