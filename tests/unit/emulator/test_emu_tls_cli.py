# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS with the generated CA, certificate reuse, and the command line."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys

import pytest
import requests

from hpcs_emulator.tls import ensure_certificates

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_https_validates_with_the_ca_only(emu):
    for url in (emu.https_url, emu.private_url):
        assert requests.get(f'{url}/_emulator/health', verify=emu.ca_path, timeout=10).json() == {'ok': True}
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f'{url}/_emulator/health', timeout=10)
    localhost = emu.https_url.replace('127.0.0.1', 'localhost')
    assert requests.get(f'{localhost}/_emulator/health', verify=emu.ca_path, timeout=10).status_code == 200


def test_stalled_tls_client_does_not_block_the_listener(emu):
    port = int(emu.https_url.rsplit(':', 1)[1])
    with socket.create_connection(('127.0.0.1', port), timeout=5):
        # connected, never handshakes; others must still be served
        assert requests.get(f'{emu.https_url}/_emulator/health', verify=emu.ca_path, timeout=5).status_code == 200


def test_one_connection_serves_many_requests(emu):
    """HTTP/1.1 keep-alive, as IBM's endpoints: a client's connection (and its TLS session) is not closed after an
    answer, on every listener, also after an error answer."""
    for url in (emu.http_url, emu.https_url, emu.private_url):
        port = int(url.rsplit(':', 1)[1])
        if url.startswith('https'):
            connection = http.client.HTTPSConnection('127.0.0.1', port, timeout=10,
                                                     context=ssl.create_default_context(cafile=emu.ca_path))
        else:
            connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        try:
            sockets = set()
            for path in ('/_emulator/health', '/api/v2/keys', '/_emulator/health'):
                connection.request('GET', path)
                answer = connection.getresponse()
                answer.read()
                assert answer.status == (401 if path == '/api/v2/keys' else 200)
                assert (answer.getheader('Connection') or '').lower() != 'close'
                sockets.add(id(connection.sock))
            assert len(sockets) == 1
        finally:
            connection.close()


def test_a_dropped_connection_leaves_the_others_served(emu):
    """Fault injection drops one connection (no answer at all); the next request, on a new connection, is answered."""
    requests.post(f'{emu.http_url}/_emulator/faults', json={'rules': [{'service': 'kms', 'path': '^/api/v2/keys$', 'drop': True,
                                                                       'times': 1}]}, timeout=10).raise_for_status()
    with requests.Session() as session:
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(f'{emu.https_url}/api/v2/keys', verify=emu.ca_path, timeout=10)
        assert session.get(f'{emu.https_url}/_emulator/health', verify=emu.ca_path, timeout=10).status_code == 200


def test_certificates_are_reused(tmp_path):
    first = ensure_certificates(str(tmp_path))
    with open(first['ca'], 'rb') as handle:
        ca_pem = handle.read()
    second = ensure_certificates(str(tmp_path))
    with open(second['ca'], 'rb') as handle:
        assert handle.read() == ca_pem
    assert oct(os.stat(first['key']).st_mode & 0o777) == '0o600'
    with open(first['cert'], 'w', encoding='utf-8') as handle:
        handle.write('garbage')
    third = ensure_certificates(str(tmp_path))
    with open(third['ca'], 'rb') as handle:
        assert handle.read() != ca_pem


def test_cli_lifecycle(tmp_path):
    state_file = tmp_path / 'state.json'
    data_dir = tmp_path / 'data'
    env = dict(os.environ, PYTHONPATH=TESTS_DIR)
    process = subprocess.Popen([sys.executable, '-m', 'hpcs_emulator', '--state-file', str(state_file), '--data-dir', str(data_dir),
                                '--token-lifetime', '120'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith('hpcs-emulator ready https://127.0.0.1:'), line + process.stderr.read()
        state = json.loads(state_file.read_text(encoding='utf-8'))
        assert state['pid'] == process.pid
        assert line.strip() == f'hpcs-emulator ready {state["https_url"]} (http {state["http_url"]})'
        assert state['ca_path'] == str(data_dir / 'ca.pem')
        assert state['private_url'].startswith('https://127.0.0.1:')
        assert state['config']['token_lifetime'] == 120
        assert 'hsc-emulator-alice-api-key-0001' in state['config']['api_keys']
        assert requests.get(f'{state["https_url"]}/_emulator/health', verify=state['ca_path'], timeout=10).json() == {'ok': True}
        assert requests.get(f'{state["private_url"]}/_emulator/health', verify=state['ca_path'], timeout=10).json() == {'ok': True}
        assert requests.get(f'{state["http_url"]}/_emulator/health', timeout=10).json() == {'ok': True}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not state_file.exists()
        assert (data_dir / 'ca.pem').exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_cli_rejects_bad_config(tmp_path):
    config = tmp_path / 'bad.json'
    config.write_text(json.dumps({'instances': {'x': {}}}), encoding='utf-8')
    env = dict(os.environ, PYTHONPATH=TESTS_DIR)
    # the timeout only guards against a hang; it is no performance figure
    result = subprocess.run([sys.executable, '-m', 'hpcs_emulator', '--config', str(config)], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 2
    assert 'region' in result.stderr
