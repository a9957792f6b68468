# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Body-less key actions (enable, disable, setKeyForDeletion, unsetKeyForDeletion, sync) and the
deprecated ``POST /keys/<id>?action=<action>`` form of every action (reference 4, rows 16-21).
"""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs

from flask import g, request

from .clock import format_time
from .errors import KmsError, query_error
from .lifecycle import do_restore
from .listing import arg
from .model import DUAL_AUTH_WINDOW, STATE_ACTIVE, STATE_DEACTIVATED, STATE_PREACTIVE, STATE_SUSPENDED, Key
from .rotation import do_rotate
from .routing import KmsContext, kms_route, lookup_key, no_body, no_content, require_state
from .wrapping import do_rewrap, do_unwrap, do_wrap

SYNC_PAUSE = datetime.timedelta(hours=1)
NOT_DELETED = (STATE_PREACTIVE, STATE_ACTIVE, STATE_SUSPENDED, STATE_DEACTIVATED)


def do_disable(ctx: KmsContext, key: Key):
    no_body()
    require_state(ctx, key, (STATE_ACTIVE,), 'disable')
    key.state = STATE_SUSPENDED
    key.last_update_date = ctx.now
    return no_content()


def do_enable(ctx: KmsContext, key: Key):
    no_body()
    require_state(ctx, key, (STATE_SUSPENDED,), 'enable')
    key.state = STATE_ACTIVE
    key.last_update_date = ctx.now
    return no_content()


def _dual_auth_key(ctx: KmsContext, key: Key, action: str) -> None:
    no_body()
    if not key.dual_auth_delete:
        raise KmsError(409, 'NOT_DUAL_AUTH_ERR', 'The key does not have a dual authorization policy: '
                       f'{action} applies to dual authorization keys only')
    require_state(ctx, key, NOT_DELETED, action)


def do_set_for_deletion(ctx: KmsContext, key: Key):
    """First approval of a dual-authorization delete: recorded with its identity, valid 7 days."""
    _dual_auth_key(ctx, key, 'setKeyForDeletion')
    key.dual_auth_set_by = ctx.iam_id
    key.dual_auth_expires = ctx.now + DUAL_AUTH_WINDOW
    key.last_update_date = ctx.now
    return no_content()


def do_unset_for_deletion(ctx: KmsContext, key: Key):
    _dual_auth_key(ctx, key, 'unsetKeyForDeletion')
    key.dual_auth_set_by = key.dual_auth_expires = None
    key.last_update_date = ctx.now
    return no_content()


def do_sync(ctx: KmsContext, key: Key):
    no_body()
    if key.last_sync is not None and ctx.now < key.last_sync + SYNC_PAUSE:
        raise KmsError(409, 'REQ_TOO_EARLY_ERR', 'The key was synchronized recently: Sync cannot be performed until at '
                       f'least {format_time(key.last_sync + SYNC_PAUSE)}')
    key.last_sync = ctx.now
    return no_content()


@kms_route('/keys/<key_id>/actions/disable', ['POST'], 'Key', 'disabled', write=True)
def disable_key(ctx: KmsContext, key_id: str):
    return do_disable(ctx, lookup_key(ctx, key_id))


@kms_route('/keys/<key_id>/actions/enable', ['POST'], 'Key', 'enabled', write=True)
def enable_key(ctx: KmsContext, key_id: str):
    return do_enable(ctx, lookup_key(ctx, key_id))


@kms_route('/keys/<key_id>/actions/setKeyForDeletion', ['POST'], 'Key', 'set for deletion', write=True)
def set_key_for_deletion(ctx: KmsContext, key_id: str):
    return do_set_for_deletion(ctx, lookup_key(ctx, key_id))


@kms_route('/keys/<key_id>/actions/unsetKeyForDeletion', ['POST'], 'Key', 'unset for deletion', write=True)
def unset_key_for_deletion(ctx: KmsContext, key_id: str):
    return do_unset_for_deletion(ctx, lookup_key(ctx, key_id))


@kms_route('/keys/<key_id>/actions/sync', ['POST'], 'Key', 'synced', write=True)
def sync_key(ctx: KmsContext, key_id: str):
    return do_sync(ctx, lookup_key(ctx, key_id))


# action -> (handler, errorMsg verb, asks for a state change)
DEPRECATED_ACTIONS = {
    'disable': (do_disable, 'disabled', True),
    'enable': (do_enable, 'enabled', True),
    'setKeyForDeletion': (do_set_for_deletion, 'set for deletion', True),
    'unsetKeyForDeletion': (do_unset_for_deletion, 'unset for deletion', True),
    'restore': (do_restore, 'restored', True),
    'rotate': (do_rotate, 'rotated', True),
    'wrap': (do_wrap, 'wrapped', False),
    'unwrap': (do_unwrap, 'unwrapped', False),
    'rewrap': (do_rewrap, 'rewrapped', False),
}


def _deprecated_is_write(environ) -> bool:
    action = (parse_qs(environ.get('QUERY_STRING', '')).get('action') or [''])[0]
    return DEPRECATED_ACTIONS.get(action, (None, None, True))[2]


@kms_route('/keys/<key_id>', ['POST'], 'Key', 'updated', write=_deprecated_is_write)
def deprecated_key_action(ctx: KmsContext, key_id: str):
    action = arg(request.args, 'action')
    if action not in DEPRECATED_ACTIONS:
        raise query_error('action', 'one of ' + ', '.join(DEPRECATED_ACTIONS))
    handler, verb, _write = DEPRECATED_ACTIONS[action]
    g.kms_op = ('Key', verb)
    return handler(ctx, lookup_key(ctx, key_id))
