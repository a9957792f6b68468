# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request-time accessors shared by the blueprints."""

from __future__ import annotations

from flask import current_app, request

from .middleware import LISTENER_KEY

STATE_KEY = 'hpcs_emulator'


def current_state():
    """The EmulatorState behind the running app."""
    return current_app.extensions[STATE_KEY]


def current_listener() -> str:
    """Which listener the request came in on: ``http``, ``public`` or ``private``."""
    return request.environ.get(LISTENER_KEY, 'http')


def bearer_token() -> str | None:
    scheme, _sep, token = request.headers.get('Authorization', '').strip().partition(' ')
    token = token.strip()
    if scheme.lower() != 'bearer' or not token:
        return None
    return token
