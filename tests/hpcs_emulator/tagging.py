# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IBM Cloud Global Tagging, the user tags of resources: ``GET /v3/tags`` (list), ``POST /v3/tags/attach`` and
``POST /v3/tags/detach``.

Reference: key-protect-api.md section 2.4. ``GET /v3/tags?attached_to=<crn>&providers=ghost`` answers
``{"total_count", "offset", "limit", "items": [{"name": "env:prod"}]}``; with ``attached_to``, ``providers`` is required.
Attach/detach take ``{"resources": [{"resource_id": "<crn>"}], "tag_names": [...]}`` (or ``tag_name``) and answer
``{"results": [{"resource_id": "<crn>", "is_error": false}]}``. Only user tags are kept (``tag_type=user``, the
default). Tags are held per emulator state, survive a reset (as the configuration does) and are case-insensitive
(kept in lower case, as IBM Cloud shows them). Error bodies ``{"errors": [{"code", "message"}], "trace"}`` are the
emulator's choice.
"""

from __future__ import annotations

import re
import threading
import uuid
import weakref

from flask import Blueprint, jsonify, request

from .context import bearer_token, current_state
from .tokens import TokenError

bp = Blueprint('tagging', __name__, url_prefix='/v3/tags')

PROVIDERS = ('ghost', 'ims')
TAG_TYPES = ('user', 'service', 'access')
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
TAG_RE = re.compile(r'^[A-Za-z0-9 _.:-]{1,128}\Z')

_TAGS = weakref.WeakKeyDictionary()  # EmulatorState -> {crn: [tag, ...]}
_LOCK = threading.Lock()


class TaggingError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@bp.errorhandler(TaggingError)
def _tagging_error(error: TaggingError):
    response = jsonify({'errors': [{'code': error.code, 'message': error.message}], 'trace': uuid.uuid4().hex})
    response.status_code = error.status
    return response


def _check_caller(state) -> None:
    token = bearer_token()
    if token is None:
        raise TaggingError(401, 'not_authorized', 'Send an Authorization header with a Bearer IAM access token')
    try:
        state.tokens.check_access_token(token)
    except TokenError as exc:
        raise TaggingError(401, 'not_authorized', 'The IAM access token is expired or invalid') from exc


def _store(state) -> dict:
    with _LOCK:
        return _TAGS.setdefault(state, {})


def tags_of(state, crn: str) -> list:
    """The user tags attached to ``crn`` (a copy)."""
    with _LOCK:
        return list(_TAGS.get(state, {}).get(crn, []))


def set_tags(state, crn: str, tags: list) -> None:
    """Replace the user tags of ``crn`` (test helper)."""
    store = _store(state)
    with _LOCK:
        store[crn] = [tag.lower() for tag in tags]


def _int(name: str, fallback: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None:
        return fallback
    if not value.isdigit() or not low <= int(value) <= high:
        raise TaggingError(400, 'bad_request', f'{name} must be an integer between {low} and {high}')
    return int(value)


@bp.route('', methods=['GET'])
def list_tags():
    state = current_state()
    _check_caller(state)
    attached_to = request.args.get('attached_to')
    providers = [p.strip() for p in (request.args.get('providers') or '').split(',') if p.strip()]
    if attached_to and not providers:
        raise TaggingError(400, 'bad_request', 'providers is required with attached_to (ghost or ims)')
    unknown = [p for p in providers if p not in PROVIDERS]
    if unknown:
        raise TaggingError(400, 'bad_request', f'providers must be among {", ".join(PROVIDERS)}')
    tag_type = request.args.get('tag_type') or 'user'
    if tag_type not in TAG_TYPES:
        raise TaggingError(400, 'bad_request', f'tag_type must be one of {", ".join(TAG_TYPES)}')
    offset = _int('offset', 0, 0, 10**9)
    limit = _int('limit', DEFAULT_LIMIT, 1, MAX_LIMIT)
    if tag_type != 'user' or (providers and 'ghost' not in providers):
        names = []  # the emulator keeps user tags of Global Search resources only
    elif attached_to:
        names = tags_of(state, attached_to)
    else:
        with _LOCK:
            names = sorted({tag for tags in _TAGS.get(state, {}).values() for tag in tags})
    page = names[offset:offset + limit]
    return jsonify({'total_count': len(names), 'offset': offset, 'limit': limit, 'items': [{'name': name} for name in page]})


def _change(attach: bool):
    state = current_state()
    _check_caller(state)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get('resources'), list) or not body['resources']:
        raise TaggingError(400, 'bad_request', 'The body must hold resources: [{"resource_id": "<crn>"}]')
    names = body.get('tag_names') if body.get('tag_names') is not None else [body.get('tag_name')]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and TAG_RE.match(n) for n in names):
        raise TaggingError(400, 'bad_request', 'tag_names must be a list of tags of 1 to 128 letters, digits, spaces, _ . - or :')
    names = [name.lower() for name in names]
    results = []
    store = _store(state)
    for resource in body['resources']:
        crn = resource.get('resource_id') if isinstance(resource, dict) else None
        if not isinstance(crn, str) or not crn.startswith('crn:'):
            results.append({'resource_id': crn, 'is_error': True})
            continue
        with _LOCK:
            current = store.setdefault(crn, [])
            for name in names:
                if attach and name not in current:
                    current.append(name)
                elif not attach and name in current:
                    current.remove(name)
        results.append({'resource_id': crn, 'is_error': False})
    return jsonify({'results': results})


@bp.route('/attach', methods=['POST'])
def attach_tags():
    return _change(True)


@bp.route('/detach', methods=['POST'])
def detach_tags():
    return _change(False)
