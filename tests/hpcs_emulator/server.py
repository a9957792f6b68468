# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Listeners: plain HTTP, HTTPS "public" and HTTPS "private", sharing one app and one state.

The listeners are cheroot's WSGI server (the server of CherryPy): HTTP/1.1 with keep-alive, a pool of worker threads,
and idle keep-alive connections watched by a selector rather than held by a thread. Werkzeug's development server,
used before, closed the connection after every answer, so each request of a client paid a new TCP connection and a
new TLS handshake on both sides, which bounded every benchmark by the handshakes rather than by the requests.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from .app import create_app
from .middleware import SOCKET_KEY, ListenerApp
from .state import EmulatorState
from .tls import ensure_certificates, server_context

LOG = logging.getLogger('hpcs_emulator')
LISTENERS = ('http', 'public', 'private')
# Requests in flight per listener (cheroot's pool does not grow): enough for the benchmarks' clients, whose
# injected delays hold a worker each (the benchmarks keep at most 8 hosts x 10 requests in flight).
WORKERS = 128
# Seconds a connection may sit idle between requests (and a request may take to arrive) before the server closes it.
IDLE_TIMEOUT = 120


class _Gateway(wsgi.Gateway_10):
    """WSGI 1.0, plus the connection's socket in the environ (fault injection drops connections through it)."""

    def get_environ(self):
        environ = super().get_environ()
        environ[SOCKET_KEY] = self.req.conn.socket
        return environ


class _TLSAdapter(BuiltinSSLAdapter):
    """cheroot's TLS adapter over the emulator's own context, whose handshake runs in the worker thread on the first
    read (tls.server_context): cheroot handshakes in its accept loop, where one client that connects and never
    speaks would hold every other client of the listener until the timeout."""

    def __init__(self, paths: dict):
        super().__init__(paths['cert'], paths['key'])
        self.context = server_context(paths)

    def wrap(self, sock):
        return self.context.wrap_socket(sock, server_side=True), {'wsgi.url_scheme': 'https', 'HTTPS': 'on'}


class _Listener(wsgi.Server):
    """One listener; its errors (a client gone, a connection dropped on purpose) go to logging, not to stderr."""

    keep_alive_conn_limit = None  # every idle keep-alive connection stays open (cheroot keeps 10 by default)

    def __init__(self, host: str, port: int, app, paths: dict | None):
        super().__init__((host, port), app, numthreads=WORKERS, timeout=IDLE_TIMEOUT, request_queue_size=128)
        self.gateway = _Gateway
        if paths is not None:
            self.ssl_adapter = _TLSAdapter(paths)

    @property
    def port(self) -> int:
        return self.bind_addr[1]

    def error_log(self, msg='', level=20, traceback=False):  # pylint: disable=redefined-outer-name
        LOG.debug('%s', msg, exc_info=traceback)


def _url_host(host: str) -> str:
    if host in ('0.0.0.0', '', '::'):
        return '127.0.0.1'
    return f'[{host}]' if ':' in host else host


class EmulatorServer:
    """Run the emulator in-process (daemon threads); also the engine of the CLI.

    ``with EmulatorServer() as emu: requests.get(emu.https_url + ..., verify=emu.ca_path)``
    """

    def __init__(self, config: dict | None = None, token_lifetime: int | None = None, *, host: str = '127.0.0.1',
                 http_port: int = 0, https_port: int = 0, private_port: int = 0, data_dir: str | None = None):
        self.state = EmulatorState(config, token_lifetime=token_lifetime)
        self.app = create_app(self.state)
        self.host = host
        self._ports = {'http': http_port, 'public': https_port, 'private': private_port}
        self._data_dir = data_dir
        self._own_data_dir = None
        self._servers: dict = {}
        self._threads: dict = {}
        self.urls: dict = {}
        self.ca_path: str | None = None
        self.data_dir: str | None = None

    @property
    def http_url(self) -> str:
        return self.urls['http']

    @property
    def https_url(self) -> str:
        return self.urls['public']

    @property
    def private_url(self) -> str:
        return self.urls['private']

    def start(self) -> EmulatorServer:
        if self._data_dir is None:
            self._own_data_dir = tempfile.mkdtemp(prefix='hpcs-emulator-')
        self.data_dir = self._data_dir or self._own_data_dir
        paths = ensure_certificates(self.data_dir)
        self.ca_path = paths['ca']
        try:
            for name in LISTENERS:
                server = _Listener(self.host, self._ports[name], ListenerApp(self.app, name), None if name == 'http' else paths)
                self._servers[name] = server
                server.prepare()  # binds: the port is known from here on
                scheme = 'http' if name == 'http' else 'https'
                self.urls[name] = f'{scheme}://{_url_host(self.host)}:{server.port}'
        except BaseException:
            self.stop()
            raise
        self.state.set_endpoints(self.urls)
        for name, server in self._servers.items():
            thread = threading.Thread(target=server.serve, name=f'hpcs-emulator-{name}', daemon=True)
            thread.start()
            self._threads[name] = thread
        return self

    def stop(self) -> None:
        for name, server in self._servers.items():
            server.stop()  # closes the listening socket and the connections, ends the workers
            thread = self._threads.get(name)
            if thread is not None:
                thread.join(timeout=5)
        self._servers, self._threads = {}, {}
        if self._own_data_dir is not None:
            shutil.rmtree(self._own_data_dir, ignore_errors=True)
            self._own_data_dir = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
