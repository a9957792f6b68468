"""A Key Protect front end for the HPCS emulator: the integration suite's "Key Protect mode".

Usage: python scripts/kp_frontend.py EMULATOR_STATE_FILE STATE_FILE LOG_FILE

Key Protect serves the same key management API as Hyper Protect Crypto Services, but it has no broker: a client must be
given the endpoint. This front end stands for a Key Protect region in front of a running emulator:

* it serves HTTPS on a free loopback port, with the emulator's own test certificate (so the emulator's CA verifies it);
* it passes IAM (``/identity/``, ``/oidc/``) and key management (``/api/v2/``) requests through to the emulator;
* it refuses the HPCS broker (``/crypto_v2/``) with 404, so that any attempt at endpoint discovery fails the run;
* it rewrites the service segment of CRNs, ``:hs-crypto:`` in answers to ``:kms:`` (and back in requests), so that
  the modules see Key Protect CRNs;
* a connection the emulator drops (fault injection) is dropped here too, without an answer.

Once it listens it writes STATE_FILE in the shape of the emulator's state file, with ``https_url`` replaced by its own
URL, so ``scripts/emulator_vars.py`` turns it into an ``integration_config.yml``; the control endpoints stay on the
emulator's ``http_url``. LOG_FILE gets one JSON line per request: ``{"service", "method", "path", "status"}``. SIGTERM
stops it. Test tool only, for loopback use.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import signal
import socket
import ssl
import sys
import threading
import urllib.parse

HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailers',
              'transfer-encoding', 'upgrade', 'host', 'content-length'}
UPSTREAM_TIMEOUT = 330          # the emulator can be told to delay an answer by up to 300 s
HPCS_CRN, KP_CRN = b':hs-crypto:', b':kms:'


def service_of(path: str) -> str:
    if path.startswith('/crypto_v2/'):
        return 'broker'
    if path.startswith(('/identity/', '/oidc/')):
        return 'iam'
    if path.startswith('/api/v2'):
        return 'kms'
    return 'other'


class FrontEnd(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: urllib.parse.SplitResult, server_context: ssl.SSLContext,
                 client_context: ssl.SSLContext, log_file: str) -> None:
        super().__init__(('127.0.0.1', 0), Handler)
        self.upstream = upstream
        self.server_context = server_context
        self.client_context = client_context
        self.log_lock = threading.Lock()
        self.log_handle = open(log_file, 'a', encoding='utf-8')  # pylint: disable=consider-using-with

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the request's thread, so a slow client cannot hold up the others.
        try:
            request = self.server_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)

    def record(self, entry: dict) -> None:
        with self.log_lock:
            self.log_handle.write(json.dumps(entry) + '\n')
            self.log_handle.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: FrontEnd

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def handle_one(self) -> None:
        path = self.path
        service = service_of(urllib.parse.urlsplit(path).path)
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None

        if service == 'broker':
            answer = json.dumps({'code': 'NOT_FOUND', 'message': 'Key Protect has no broker: give the endpoint'}).encode()
            self.server.record({'service': service, 'method': self.command, 'path': path, 'status': 404})
            self.send_response(404)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            return

        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}

        if body is not None:
            body = body.replace(KP_CRN, HPCS_CRN)
            headers['Content-Length'] = str(len(body))

        upstream = http.client.HTTPSConnection(self.server.upstream.hostname, self.server.upstream.port,
                                               timeout=UPSTREAM_TIMEOUT, context=self.server.client_context)

        try:
            upstream.request(self.command, path.replace(KP_CRN.decode(), HPCS_CRN.decode()), body=body, headers=headers)
            response = upstream.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            # The emulator dropped the connection (or never answered): so does Key Protect's front end.
            self.server.record({'service': service, 'method': self.command, 'path': path, 'status': None})
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        finally:
            upstream.close()

        answer = answer.replace(HPCS_CRN, KP_CRN)
        self.server.record({'service': service, 'method': self.command, 'path': path, 'status': response.status})
        self.send_response(response.status, response.reason)

        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)

        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()

        if self.command != 'HEAD':
            self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_one


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        sys.exit(__doc__)

    emulator_state_file, state_file, log_file = argv

    with open(emulator_state_file, encoding='utf-8') as handle:
        state = json.load(handle)

    data_dir = os.path.dirname(os.path.abspath(state['ca_path']))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(os.path.join(data_dir, 'server.pem'), os.path.join(data_dir, 'server-key.pem'))
    client_context = ssl.create_default_context(cafile=state['ca_path'])
    server = FrontEnd(urllib.parse.urlsplit(state['https_url']), server_context, client_context, log_file)
    signal.signal(signal.SIGTERM, lambda *args: threading.Thread(target=server.shutdown, daemon=True).start())

    state['https_url'] = 'https://127.0.0.1:%d' % server.server_address[1]
    state['pid'] = os.getpid()
    temp_file = state_file + '.tmp'

    with open(temp_file, 'w', encoding='utf-8') as handle:
        json.dump(state, handle)

    os.replace(temp_file, state_file)
    print(f"key protect front end ready {state['https_url']}", flush=True)

    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.log_handle.close()

        if os.path.exists(state_file):
            os.remove(state_file)


if __name__ == '__main__':
    main(sys.argv[1:])
