# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS error envelope (reference section 8.1) and the exception that carries it."""

from __future__ import annotations

import http

ERROR_TYPE = 'application/vnd.ibm.kms.error+json'
MORE_INFO = 'https://cloud.ibm.com/apidocs/key-protect'
UNAUTHORIZED_MSG = 'Unauthorized: The user does not have access to the specified resource'


def reason_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return 'Error'


def envelope(resources: list) -> dict:
    return {'metadata': {'collectionType': ERROR_TYPE, 'collectionTotal': len(resources)}, 'resources': resources}


class KmsError(Exception):
    """A KMS API failure; rendered as the section 8.1 envelope.

    ``resource``/``verb`` build the errorMsg ("Key could not be created"); when left None,
    the operation context of the route in progress fills them in. ``reasons=False`` gives
    the bare 401 shape (errorMsg only).
    """

    def __init__(self, status: int, code: str | None = None, message: str = '', *, target: tuple | None = None,
                 resource: str | None = None, verb: str | None = None, reasons: bool = True, headers: dict | None = None):
        super().__init__(f'{status} {code}: {message}')
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.resource = resource
        self.verb = verb
        self.reasons = reasons and code is not None
        self.headers = headers or {}

    def body(self, resource: str = 'Resource', verb: str = 'processed') -> dict:
        if not self.reasons:
            if self.status == 401:
                return envelope([{'errorMsg': UNAUTHORIZED_MSG}])
            return envelope([{'errorMsg': f'{reason_phrase(self.status)}: {self.message}'}])
        resource = self.resource or resource
        verb = self.verb or verb
        error_msg = (f"{reason_phrase(self.status)}: {resource} could not be {verb}: "
                     f"Please see 'reasons' for more details ({self.code})")
        reason = {'code': self.code, 'message': self.message, 'status': self.status, 'moreInfo': MORE_INFO}
        if self.target:
            reason['target'] = {'type': self.target[0], 'name': self.target[1]}
        return envelope([{'errorMsg': error_msg, 'reasons': [reason]}])


def unauthorized(message: str = 'The user does not have access to the specified resource') -> KmsError:
    return KmsError(401, None, message, reasons=False)


def field_error(name: str, rule: str, code: str = 'INVALID_FIELD_ERR', status: int = 400) -> KmsError:
    return KmsError(status, code, f"The field '{name}' must be: {rule}", target=('field', name))


def query_error(name: str, rule: str) -> KmsError:
    return KmsError(400, 'INVALID_QUERY_PARAM_ERR', f"The query_param '{name}' must be: {rule}", target=('query_param', name))


def header_error(name: str, rule: str, code: str = 'BAD_HEADER_ERR') -> KmsError:
    return KmsError(400, code, f"The header '{name}' must be: {rule}", target=('header', name))


def bad_body(message: str) -> KmsError:
    return KmsError(400, 'BAD_BODY_ERR', f'Invalid body data was passed: {message}')


def key_not_found() -> KmsError:
    return KmsError(404, 'KEY_NOT_FOUND_ERR', 'Key does not exist')


def key_deleted() -> KmsError:
    return KmsError(410, 'KEY_DELETED_ERR', 'The key has been deleted and is no longer available')


def invalid_state(message: str) -> KmsError:
    return KmsError(409, 'KEY_ACTION_INVALID_STATE_ERR', f'The key is not in a valid state for this action: {message}')


def root_required(message: str = 'this action needs a root key') -> KmsError:
    return KmsError(400, 'KEY_ROOT_REQ_ERR', f'Requested action can only be completed with a root key: {message}')


def path_error(name: str, rule: str) -> KmsError:
    return KmsError(400, 'INVALID_FIELD_ERR', f"The path_param '{name}' must be: {rule}", target=('path_param', name))
