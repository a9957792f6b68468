# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flask application factory: one app (and one state) behind every listener."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import (actions, aliases, broker, control, cryptounits, iam, import_token, instance_policies, key_policies, keyrings,
               kmip, kms, lifecycle, metadata, registrations, resource_controller, rotation, routing, tagging, wrapping)
from .context import STATE_KEY
from .errors import KmsError
from .middleware import CORRELATION_KEY, WRITE_ENDPOINTS_KEY, EmulatorMiddleware, classify
from .state import EmulatorState

LOG = logging.getLogger('hpcs_emulator')

# Importing these modules registers their KMS routes on routing.bp (one module per resource).
KMS_ROUTE_MODULES = (kms, lifecycle, actions, rotation, wrapping, aliases, keyrings, key_policies, instance_policies,
                     registrations, import_token, kmip)


def _kms_error_response(error: KmsError):
    resource, verb = getattr(g, 'kms_op', ('Resource', 'processed'))
    response = jsonify(error.body(resource, verb))
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _http_error(error: HTTPException):
    path = request.path
    service = classify(path)
    if service == 'kms':
        if error.code == 404:
            kms_error = KmsError(404, 'NOT_FOUND_ERR', f'No route matches {request.method} {path}', resource='Resource', verb='found')
        elif error.code == 405:
            kms_error = KmsError(405, 'METHOD_NOT_ALLOWED_ERR', f'Method {request.method} is not allowed on {path}',
                                 resource='Request', verb='processed')
        else:
            kms_error = KmsError(error.code or 500, 'REQUEST_ERR', error.description or '', resource='Request', verb='processed')
        allow = dict(error.get_headers()).get('Allow')
        if allow:
            kms_error.headers['Allow'] = allow
        return _kms_error_response(kms_error)
    if service == 'rc':
        code = {404: 'RC-NotFound', 405: 'RC-MethodNotAllowed'}.get(error.code, 'RC-BadRequest')
        body = resource_controller.rc_error_body(error.code or 500, code, error.description or error.name)
    elif service == 'iam':
        body = {'errorCode': 'BXNIM0400E', 'errorMessage': error.description or error.name,
                'context': {'instanceId': 'iamid-emulator', 'clusterName': 'emulator'}}
    elif path.startswith('/_emulator'):
        body = {'error': error.description or error.name}
    else:
        body = {'code': error.name.upper().replace(' ', '_'), 'message': error.description or error.name}
    response = jsonify(body)
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() == 'allow':
            response.headers[name] = value
    return response


def _unexpected_error(error: Exception):
    if isinstance(error, HTTPException):
        return _http_error(error)
    LOG.exception('unexpected error on %s %s', request.method, request.path)
    if classify(request.path) == 'rc':
        response = jsonify(resource_controller.rc_error_body(500, 'RC-InternalServerError', 'The emulator hit an unexpected error'))
        response.status_code = 500
        return response
    if classify(request.path) == 'kms':
        return _kms_error_response(KmsError(500, 'INTERNAL_SERVER_ERR', 'The emulator hit an unexpected error',
                                            resource='Request', verb='processed'))
    response = jsonify({'code': 'INTERNAL_SERVER_ERROR', 'message': 'The emulator hit an unexpected error'})
    response.status_code = 500
    return response


def _add_correlation_id(response):
    if not request.path.startswith('/_emulator'):
        response.headers['Correlation-Id'] = request.environ.get(CORRELATION_KEY) or request.headers.get('Correlation-Id', '')
    return response


def create_app(state: EmulatorState | None = None) -> Flask:
    """Build the Flask app around ``state`` (a fresh default state when None)."""
    app = Flask('hpcs_emulator')
    app.json.sort_keys = False
    app.json.compact = True
    app.extensions[STATE_KEY] = state if state is not None else EmulatorState()
    app.extensions[WRITE_ENDPOINTS_KEY] = dict(routing.WRITE_ENDPOINTS)
    for blueprint in (iam.bp, broker.bp, routing.bp, cryptounits.bp, resource_controller.bp, tagging.bp, metadata.bp, control.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(KmsError, _kms_error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.after_request(_add_correlation_id)
    app.wsgi_app = EmulatorMiddleware(app.wsgi_app, app, app.extensions[STATE_KEY])
    return app
