# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Listeners: plain HTTP, HTTPS "public" and HTTPS "private", sharing one app and one state."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
from .middleware import ListenerApp
from .state import EmulatorState
from .tls import ensure_certificates, server_context

LOG = logging.getLogger('hpcs_emulator')
LISTENERS = ('http', 'public', 'private')


class QuietRequestHandler(WSGIRequestHandler):
    """No access log on stderr (the emulator keeps its own request log); errors go to logging."""

    timeout = 120

    def log_request(self, code='-', size='-'):
        pass

    def send_response(self, code, message=None):
        """The status line and ``Server``, without the real-time ``Date`` that ``BaseHTTPRequestHandler`` adds: the
        application sends its own, from the emulator's movable clock (middleware), as the one ``Date`` of the answer."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header('Server', self.version_string())

    def log(self, type, message, *args):  # pylint: disable=redefined-builtin
        LOG.debug('%s: %s', type, message % args if args else message)


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
                context = None if name == 'http' else server_context(paths)
                server = make_server(self.host, self._ports[name], ListenerApp(self.app, name), threaded=True,
                                     request_handler=QuietRequestHandler, ssl_context=context)
                self._servers[name] = server
                scheme = 'http' if name == 'http' else 'https'
                self.urls[name] = f'{scheme}://{_url_host(self.host)}:{server.port}'
        except BaseException:
            self.stop()
            raise
        self.state.set_endpoints(self.urls)
        for name, server in self._servers.items():
            thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1},
                                      name=f'hpcs-emulator-{name}', daemon=True)
            thread.start()
            self._threads[name] = thread
        return self

    def stop(self) -> None:
        for name, server in self._servers.items():
            thread = self._threads.get(name)
            if thread is not None and thread.is_alive():
                server.shutdown()
                thread.join(timeout=5)
            server.server_close()
        self._servers, self._threads = {}, {}
        if self._own_data_dir is not None:
            shutil.rmtree(self._own_data_dir, ignore_errors=True)
            self._own_data_dir = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
