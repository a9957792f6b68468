# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: ``PYTHONPATH=tests python3 -m hpcs_emulator [options]`` (docs/emulator.md)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading

from .config import ConfigError, load_config_file
from .server import EmulatorServer


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='python3 -m hpcs_emulator',
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
    return parser.parse_args(argv)


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


def main(argv=None) -> int:
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
    emulator.start()
    try:
        if args.state_file:
            write_state_file(args.state_file, emulator)
        print(f'hpcs-emulator ready {emulator.https_url} (http {emulator.http_url})', flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        if args.state_file:
            try:
                os.unlink(os.path.abspath(args.state_file))
            except FileNotFoundError:
                pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
