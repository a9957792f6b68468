# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WSGI layers: listener tagging, request log, fault injection, correlation ids, the ``Date`` header.

Control endpoints (``/_emulator/...``) pass straight through: never logged, never faulted. Every response, theirs
included, carries an HTTP ``Date`` header from the emulator's movable clock (real services send ``Date``; clients that
measure ages at the service's time read it).
"""

from __future__ import annotations

import datetime
import email.utils
import json
import socket
import time
import uuid

from werkzeug.exceptions import HTTPException

from .clock import format_time_ms
from .errors import reason_phrase
from .faults import default_fault_body
from .requestlog import redact_query

LISTENER_KEY = 'hpcs_emulator.listener'
SOCKET_KEY = 'hpcs_emulator.socket'  # the connection's socket (the server puts it there)
CORRELATION_KEY = 'hpcs_emulator.correlation_id'
WRITE_ENDPOINTS_KEY = 'hpcs_emulator_write_endpoints'
CONTROL_PREFIX = '/_emulator'
LOG_EXTRA_KEY = 'hpcs_emulator.log_extra'


class DroppedConnection(ConnectionAbortedError):
    """Raised after the socket was shut down on purpose; the server treats it as a dropped connection."""


class ListenerApp:
    """Per-listener WSGI entry point: tags the environ with the listener name."""

    def __init__(self, app, name: str):
        self.app = app
        self.name = name

    def __call__(self, environ, start_response):
        environ[LISTENER_KEY] = self.name
        return self.app(environ, start_response)


def classify(path: str) -> str:
    if path.startswith(('/instance_identity/', '/identity/v1/')):  # VPC instance metadata (before IAM's /identity/)
        return 'metadata'
    if path.startswith(('/api/v2', '/api/v1/')):
        return 'kms'
    if path == '/v2/resource_instances' or path.startswith('/v2/resource_instances/'):
        return 'rc'
    if path.startswith(('/identity/', '/oidc/')):
        return 'iam'
    if path.startswith('/crypto_v2/'):
        return 'broker'
    return 'other'


def drop_connection(environ) -> None:
    """Close the client connection without any response bytes."""
    sock = environ.get(SOCKET_KEY)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise DroppedConnection('connection dropped by fault injection')


def http_date(moment) -> str:
    """RFC 7231 IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``) of an aware datetime."""
    return email.utils.format_datetime(moment.astimezone(datetime.timezone.utc), usegmt=True)


def dated(start_response, clock):
    """A ``start_response`` that sets ``Date`` from the emulator clock (replacing any the application set)."""

    def start(status, headers, exc_info=None):
        headers = [(name, value) for name, value in headers if name.lower() != 'date']
        headers.append(('Date', http_date(clock.now())))
        if exc_info is not None:
            return start_response(status, headers, exc_info)
        return start_response(status, headers)
    return start


class EmulatorMiddleware:
    """Wraps the Flask ``wsgi_app``."""

    def __init__(self, wsgi_app, flask_app, state):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.state = state

    def _route(self, environ, method: str, service: str) -> tuple:
        """Return (route template, is write) for the counters and the log."""
        try:
            rule, _args = self.flask_app.url_map.bind_to_environ(environ).match(return_rule=True)
        except HTTPException:
            return f'{method} <unmatched>', False
        writes = self.flask_app.extensions.get(WRITE_ENDPOINTS_KEY, {})
        flag = writes.get((rule.endpoint, method), False)
        is_write = flag(environ) if callable(flag) else bool(flag)
        return f'{method} {rule.rule}', service == 'kms' and is_write

    @staticmethod
    def _instance(environ, service: str, path: str):
        if service == 'kms':
            return environ.get('HTTP_BLUEMIX_INSTANCE') or environ.get('HTTP_INSTANCE_ID') or None
        if service == 'broker':
            return path.rstrip('/').rsplit('/', 1)[-1] or None
        return None

    def _run(self, environ) -> tuple:
        captured = {}

        def start_response(status, headers, exc_info=None):  # pylint: disable=unused-argument
            captured['status'], captured['headers'] = status, headers
            return lambda data: None

        iterable = self.wsgi_app(environ, start_response)
        try:
            body = b''.join(iterable)
        finally:
            if hasattr(iterable, 'close'):
                iterable.close()
        return captured['status'], captured['headers'], body

    def _fault_response(self, rule, service: str, method: str, cid: str) -> tuple:
        body = rule.body if rule.has_body else default_fault_body(service, rule.status)
        payload = b'' if method == 'HEAD' else json.dumps(body, separators=(',', ':')).encode('utf-8')
        headers = [('Content-Type', 'application/json'), ('Content-Length', str(len(payload))), ('Correlation-Id', cid)]
        if rule.retry_after is not None:
            headers.append(('Retry-After', rule.retry_after))
        return f'{rule.status} {reason_phrase(rule.status)}', headers, payload

    def __call__(self, environ, start_response):
        start_response = dated(start_response, self.state.clock)
        path = environ.get('PATH_INFO', '') or '/'
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + '/'):
            return self.wsgi_app(environ, start_response)
        started = time.monotonic()
        method = environ.get('REQUEST_METHOD', 'GET').upper()
        service = classify(path)
        cid = environ.get('HTTP_CORRELATION_ID') or str(uuid.uuid4())
        environ[CORRELATION_KEY] = cid
        route, is_write = self._route(environ, method, service)
        entry = {
            'time': format_time_ms(self.state.clock.now()), 'service': service, 'method': method, 'path': path,
            'query': redact_query(environ.get('QUERY_STRING', '')), 'route': route, 'status': None,
            'instance': self._instance(environ, service, path), 'correlation_id': cid,
            'listener': environ.get(LISTENER_KEY, 'http'), 'write': is_write, 'fault': False,
        }
        log_epoch, fault_epoch = self.state.requests.epoch, self.state.faults.epoch  # before the rule is picked
        rule = self.state.faults.pick(service, method, path, entry['instance'])
        if rule is not None:
            entry.update(fault=True, fault_rule=rule.id)
        pending = [entry]

        def record() -> None:
            """Log the entry once; before the connection is dropped, so a client that sees the drop finds it logged."""
            if pending:
                item = pending.pop()
                item['duration_ms'] = round((time.monotonic() - started) * 1000, 3)
                self.state.requests.record(item, epoch=log_epoch)

        def delay(seconds: float) -> None:
            """An injected delay; a reset during it abandons the request: connection dropped, nothing logged."""
            if self.state.faults.sleep(seconds, fault_epoch):
                pending.clear()
                drop_connection(environ)

        try:
            if rule is not None and not rule.after:
                if rule.delay:
                    delay(rule.delay)
                if rule.drop:
                    entry['dropped'] = True
                    record()
                    drop_connection(environ)
                if rule.status is not None:
                    status, headers, body = self._fault_response(rule, service, method, cid)
                    entry['status'] = rule.status
                    start_response(status, headers)
                    return [body]
            status, headers, body = self._run(environ)
            entry['status'] = int(status.split(None, 1)[0])
            entry.update(environ.get(LOG_EXTRA_KEY) or {})  # what a view adds to its entry (IAM: the grant type; never a secret)
            if rule is not None and rule.after:
                entry['app_status'] = entry['status']
                if rule.delay:
                    delay(rule.delay)
                if rule.drop:
                    entry['status'] = None
                    entry['dropped'] = True
                    record()
                    drop_connection(environ)
                status, headers, body = self._fault_response(rule, service, method, cid)
                entry['status'] = rule.status
            start_response(status, headers)
            return [body]
        finally:
            record()
