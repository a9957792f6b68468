# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delete, purge and restore (reference 4.5 and 6): every time rule runs on the emulator clock."""

from __future__ import annotations

from flask import request

from .clock import format_time
from .errors import KmsError, invalid_state
from .kmip import bound_adapters
from .listing import parse_bool
from .model import PURGE_ALLOWED_AFTER, RESTORE_NOT_BEFORE, RESTORE_WINDOW, STATE_ACTIVE, STATE_DESTROYED, Key
from .routing import KmsContext, collection, kms_route, lookup_key, no_body, no_content, prefer_mode


def _crns(registrations: list) -> str:
    return ', '.join(reg.resource_crn for reg in registrations)


def _check_deletable(ctx: KmsContext, key: Key, force: bool) -> list:
    """Raise for every delete blocker; return the registrations that a forced delete removes."""
    if key.deleted:
        raise KmsError(410, 'KEY_DELETED_ERR', 'The key has already been deleted and is no longer available')
    adapters = bound_adapters(ctx.instance, key.id)
    if adapters:  # KPDOC kmip.md: a root key bound to a KMIP adapter cannot be deleted, not even with force=true
        names = ', '.join(f"'{adapter.name}' ({adapter.id})" for adapter in adapters)
        raise KmsError(409, 'KEY_KMIP_ADAPTER_ERR', f'The key is the root key of KMIP adapter(s) {names}: delete the '
                       'adapter(s) first')
    registrations = ctx.instance.key_registrations(key.id)
    protected = [reg for reg in registrations if reg.prevent_key_deletion]
    if protected:
        raise KmsError(409, 'PREV_KEY_DEL_ERR', 'The key is protecting a resource with a retention policy and cannot be '
                       f'deleted, even with force=true: {_crns(protected)}')
    if registrations and not force:
        raise KmsError(409, 'PROTECTED_RESOURCE_ERR', 'The key is protecting one or more cloud resources: '
                       f'{_crns(registrations)}: use force=true to delete it anyway')
    if key.dual_auth_delete:
        if not key.dual_auth_pending(ctx.now):
            expired = key.dual_auth_set_by is not None
            why = ('the authorization to delete it expired at ' + format_time(key.dual_auth_expires) if expired
                   else 'it has not been set for deletion')
            raise KmsError(409, 'AUTHORIZATIONS_NOT_MET', f'The key has a dual authorization policy and {why}: '
                           'a user must call setKeyForDeletion, then another user can delete it')
        if key.dual_auth_set_by == ctx.iam_id:
            raise KmsError(409, 'AUTHORIZATIONS_NOT_MET', 'The key has a dual authorization policy: the user who set it '
                           'for deletion cannot also delete it; another user must')
    return registrations


@kms_route('/keys/<key_id>', ['DELETE'], 'Key', 'deleted', write=True)
def delete_key(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    force = parse_bool(request.args, 'force') or False
    if _check_deletable(ctx, key, force):
        ctx.instance.drop_registrations(key.id)
    key.state = STATE_DESTROYED
    key.deletion_date = ctx.now
    key.deleted_by = ctx.iam_id
    key.last_update_date = ctx.now
    key.dual_auth_set_by = key.dual_auth_expires = None
    ctx.instance.mark_deleted(key)
    if prefer_mode() == 'representation':
        return collection([key.to_resource(ctx.crn_base, ctx.now)])
    return no_content()


@kms_route('/keys/<key_id>/purge', ['DELETE'], 'Key', 'purged', write=True)
def purge_key(ctx: KmsContext, key_id: str):
    key = lookup_key(ctx, key_id)
    if not key.deleted:
        raise invalid_state('only a deleted key (state 5) can be purged')
    allowed_from = key.deletion_date + PURGE_ALLOWED_AFTER
    if ctx.now < allowed_from:
        raise KmsError(409, 'REQ_TOO_EARLY_ERR', 'The key was deleted recently: Purge operation is allowed 4h0m0s after '
                       f'key is deleted: the key can be purged from {format_time(allowed_from)}')
    resource = key.to_resource(ctx.crn_base, ctx.now)
    ctx.instance.purge(key.id)
    if prefer_mode() == 'minimal':
        return no_content(200)
    return collection([resource])


def do_restore(ctx: KmsContext, key: Key):
    no_body()
    if not key.deleted:
        raise invalid_state('only a deleted key (state 5) can be restored')
    allowed_from = key.deletion_date + RESTORE_NOT_BEFORE
    if ctx.now < allowed_from:
        raise KmsError(409, 'REQ_TOO_EARLY_ERR', 'The key was deleted recently: a key can be restored 30 seconds after it '
                       f'is deleted: the key can be restored from {format_time(allowed_from)}')
    if ctx.now >= key.deletion_date + RESTORE_WINDOW:
        raise KmsError(400, 'KEY_RESTORE_EXPIRED', 'The key can no longer be restored: keys can be restored within 30 days '
                       f'of deletion, this one was deleted on {format_time(key.deletion_date)}')
    if key.expiration_date is not None and ctx.now >= key.expiration_date:
        raise KmsError(400, 'KEY_EXPIRED_ERR', f'The key expired on {format_time(key.expiration_date)} and cannot be restored')
    key.state = STATE_ACTIVE
    key.deletion_date = key.deleted_by = None
    key.last_update_date = ctx.now
    ctx.instance.unmark_deleted(key)
    resource = key.to_resource(ctx.crn_base, ctx.now, include_payload=prefer_mode() == 'representation')
    return collection([resource], status=201)


@kms_route('/keys/<key_id>/restore', ['POST'], 'Key', 'restored', write=True)
def restore_key(ctx: KmsContext, key_id: str):
    return do_restore(ctx, lookup_key(ctx, key_id))
