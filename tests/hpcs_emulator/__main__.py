# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line (docs/emulator.md), with ``PYTHONPATH=tests``:

``python3 -m hpcs_emulator [serve] [options]``
    run the emulator in the foreground (``--state-file`` is written once it listens, removed when it stops);
``python3 -m hpcs_emulator ensure --dir DIR [--idle-exit S] [--fresh] [--personality P] [--format F] [--vars-out FILE]``
    reuse DIR's emulator when it answers, else start one in the background; write its connection variables;
``python3 -m hpcs_emulator stop --dir DIR``
    stop DIR's emulator (SIGTERM, then SIGKILL); quiet when none runs;
``python3 -m hpcs_emulator vars --state-file FILE [--personality P] [--format F] [--vars-out FILE]``
    write the connection variables of the emulator that wrote FILE.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time

from . import connection_vars, daemon
from .config import ConfigError, load_config_file
from .server import EmulatorServer

COMMANDS = ('serve', 'ensure', 'stop', 'vars')


def parse_args(argv=None) -> argparse.Namespace:
    """The options of the foreground emulator (``serve``, also the form without a command)."""
    parser = argparse.ArgumentParser(prog='python3 -m hpcs_emulator [serve]',
                                     description='Local emulator of IBM Cloud IAM, the HPCS broker and the HPCS KMS API (tests only).')
    parser.add_argument('--host', default='127.0.0.1', help='address of all three listeners (default 127.0.0.1)')
    parser.add_argument('--http-port', type=int, default=0, help='plain HTTP port (0 = a free port)')
    parser.add_argument('--https-port', type=int, default=0, help='HTTPS "public" port (0 = a free port)')
    parser.add_argument('--private-port', type=int, default=0, help='HTTPS "private" port (0 = a free port)')
    parser.add_argument('--config', help='JSON config file; its top-level keys replace the defaults')
    parser.add_argument('--state-file', help='write URLs, CA path and config here (JSON) once ready')
    parser.add_argument('--data-dir', help='directory for ca.pem and the server certificate (default: a temporary one)')
    parser.add_argument('--token-lifetime', type=int, help='IAM access token lifetime in seconds')
    parser.add_argument('--log-level', default='WARNING', help='Python logging level (default WARNING)')
    parser.add_argument('--idle-exit', type=float, default=0,
                        help='exit after this many seconds without a request (default 0: never)')
    return parser.parse_args(argv)


class ActivityTracker:
    """WSGI wrapper that records when the last request came, for ``--idle-exit``."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.active = 0
        self.last = time.monotonic()

    def __call__(self, environ, start_response):
        with self.lock:
            self.active += 1
            self.last = time.monotonic()
        try:
            return self.app(environ, start_response)
        finally:
            with self.lock:
                self.active -= 1
                self.last = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last request ended (0 while one is in progress)."""
        with self.lock:
            return 0.0 if self.active else time.monotonic() - self.last


def write_state_file(path: str, emulator: EmulatorServer) -> None:
    document = {
        'pid': os.getpid(),
        'http_url': emulator.http_url,
        'https_url': emulator.https_url,
        'private_url': emulator.private_url,
        'ca_path': emulator.ca_path,
        'config': emulator.state.config.to_dict(),
    }
    path = os.path.abspath(path)
    tmp = f'{path}.tmp{os.getpid()}'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        json.dump(document, handle, indent=2)
    os.replace(tmp, path)


def serve(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format='hpcs-emulator %(levelname)s %(message)s')
    try:
        config = load_config_file(args.config) if args.config else None
        emulator = EmulatorServer(config, token_lifetime=args.token_lifetime, host=args.host, http_port=args.http_port,
                                  https_port=args.https_port, private_port=args.private_port, data_dir=args.data_dir)
    except ConfigError as exc:
        print(f'hpcs-emulator: {exc}', file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum, frame):  # pylint: disable=unused-argument
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tracker = emulator.app = ActivityTracker(emulator.app)
    emulator.start()
    try:
        if args.state_file:
            write_state_file(args.state_file, emulator)
        print(f'hpcs-emulator ready {emulator.https_url} (http {emulator.http_url})', flush=True)
        while not stop.wait(0.2):
            if args.idle_exit > 0 and tracker.idle_for() >= args.idle_exit:
                print(f'hpcs-emulator: no request for {args.idle_exit:g} s; exiting', flush=True)
                break
    finally:
        emulator.stop()
        if args.state_file:
            try:
                os.unlink(os.path.abspath(args.state_file))
            except FileNotFoundError:
                pass
    return 0


def _add_vars_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--personality', default='hpcs', choices=tuple(connection_vars.PERSONALITIES),
                        help='the instance the variables name (default hpcs)')
    parser.add_argument('--format', default='yaml', choices=connection_vars.FORMATS,
                        help='yaml: the integration variables; json: the same as JSON; env: export lines for the modules')
    parser.add_argument('--vars-out', default='-', help='file to write the variables to (default -: standard output)')


def _write_vars(args: argparse.Namespace, state: dict, source: str) -> None:
    variables = connection_vars.connection_variables(state, args.personality)
    connection_vars.write_text(args.vars_out, connection_vars.render(variables, args.format, source))


def ensure_command(argv) -> int:
    parser = argparse.ArgumentParser(prog='python3 -m hpcs_emulator ensure',
                                     description='Reuse the emulator of DIR if it answers, else start one in the background '
                                                 '(DIR/state.json, DIR/emulator.log, DIR/data); write its connection variables.')
    parser.add_argument('--dir', required=True, help='the folder of the background emulator')
    parser.add_argument('--idle-exit', type=float, default=daemon.DEFAULT_IDLE_EXIT,
                        help=f'a started emulator exits after this many seconds without a request '
                             f'(default {daemon.DEFAULT_IDLE_EXIT}; 0: never)')
    parser.add_argument('--fresh', action='store_true', help='stop a running emulator of DIR first')
    _add_vars_options(parser)
    args = parser.parse_args(argv)
    try:
        state, started = daemon.ensure(args.dir, args.idle_exit, fresh=args.fresh)
    except daemon.DaemonError as exc:
        print(f'hpcs-emulator: {exc}', file=sys.stderr)
        return 1
    how = 'started' if started else 'reused'
    print(f'hpcs-emulator {how} (pid {state["pid"]}): {state["http_url"]}', file=sys.stderr)
    _write_vars(args, state, daemon.Folder(args.dir).state)
    return 0


def stop_command(argv) -> int:
    parser = argparse.ArgumentParser(prog='python3 -m hpcs_emulator stop', description='Stop the background emulator of DIR.')
    parser.add_argument('--dir', required=True, help='the folder given to ensure')
    args = parser.parse_args(argv)
    pid = daemon.stop(args.dir)
    if pid is not None:
        print(f'hpcs-emulator stopped (pid {pid})', file=sys.stderr)
    return 0


def vars_command(argv) -> int:
    parser = argparse.ArgumentParser(prog='python3 -m hpcs_emulator vars',
                                     description='Write the connection variables of the emulator that wrote STATE_FILE.')
    parser.add_argument('--state-file', required=True, help='the state file of a running emulator')
    _add_vars_options(parser)
    args = parser.parse_args(argv)
    try:
        state = connection_vars.read_state(args.state_file)
    except (OSError, ValueError) as exc:
        print(f'hpcs-emulator: cannot read {args.state_file}: {exc}', file=sys.stderr)
        return 1
    _write_vars(args, state, args.state_file)
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else 'serve'
    rest = argv[1:] if argv and argv[0] == command else argv
    return {'serve': serve, 'ensure': ensure_command, 'stop': stop_command, 'vars': vars_command}[command](rest)


if __name__ == '__main__':
    sys.exit(main())
