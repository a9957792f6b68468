# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The background emulator commands (ensure, stop, idle exit) and the connection variables (vars)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest
import requests
import yaml

from hpcs_emulator import connection_vars, daemon
from hpcs_emulator.__main__ import ActivityTracker
from hpcs_emulator.testing import ALICE_API_KEY, INSTANCE_A, INSTANCE_B, INSTANCE_C, KP_DEDICATED, KP_STANDARD, KP_XR

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=TESTS_DIR)
    return subprocess.run([sys.executable, '-m', 'hpcs_emulator', *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def alive(pid: int) -> bool:
    """Whether PID runs (a zombie, exited but not reaped, does not count)."""
    try:
        with open(f'/proc/{pid}/status', encoding='utf-8') as handle:
            return 'State:\tZ' not in handle.read()
    except FileNotFoundError:
        return False


def wait_until(predicate, timeout: float = 20.0) -> bool:
    """Poll PREDICATE until true or TIMEOUT (a bound against hanging, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def folder(tmp_path):
    """A folder for a background emulator, whose emulator is stopped after the test whatever happens."""
    path = tmp_path / 'emu'
    yield path
    daemon.stop(str(path))


def ensure(folder, *args: str) -> dict:
    result = cli('ensure', '--dir', str(folder), '--format', 'json', *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def state_of(folder) -> dict:
    return json.loads((folder / 'state.json').read_text(encoding='utf-8'))


def health(variables: dict) -> dict:
    return requests.get(f'{variables["hs_crypto_emulator_http_url"]}/_emulator/health', timeout=10).json()


def test_ensure_starts_reuses_and_stop_stops(folder):
    first = ensure(folder, '--idle-exit', '120')
    pid = state_of(folder)['pid']
    assert alive(pid)
    assert int((folder / 'pid').read_text(encoding='utf-8')) == pid
    assert health(first) == {'ok': True}
    assert first['hs_crypto_ca_path'] == str(folder / 'data' / 'ca.pem')
    assert requests.get(f'{first["hs_crypto_emulator_url"]}/_emulator/health', verify=first['hs_crypto_ca_path'],
                        timeout=10).status_code == 200
    assert 'hpcs-emulator ready' in (folder / 'emulator.log').read_text(encoding='utf-8')

    again = cli('ensure', '--dir', str(folder), '--format', 'json')
    assert again.returncode == 0, again.stderr
    assert 'reused' in again.stderr
    assert json.loads(again.stdout) == first
    assert state_of(folder)['pid'] == pid

    stopped = cli('stop', '--dir', str(folder))
    assert stopped.returncode == 0, stopped.stderr
    assert f'pid {pid}' in stopped.stderr
    assert wait_until(lambda: not alive(pid))
    assert not (folder / 'state.json').exists()

    quiet = cli('stop', '--dir', str(folder))
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, '', '')
    never = cli('stop', '--dir', str(folder / 'never-used'))
    assert (never.returncode, never.stdout, never.stderr) == (0, '', '')


def test_ensure_fresh_replaces_the_running_emulator(folder):
    ensure(folder)
    old_pid = state_of(folder)['pid']
    ensure(folder, '--fresh')
    new_pid = state_of(folder)['pid']
    assert new_pid != old_pid
    assert wait_until(lambda: not alive(old_pid))
    assert alive(new_pid)


def test_ensure_starts_a_new_emulator_when_the_old_one_died(folder):
    ensure(folder)
    old_pid = state_of(folder)['pid']
    os.kill(old_pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(old_pid))
    assert (folder / 'state.json').exists()  # left behind by the killed emulator
    second = ensure(folder)
    assert state_of(folder)['pid'] != old_pid
    assert health(second) == {'ok': True}


def test_a_recycled_pid_is_neither_reused_nor_killed(folder, tmp_path):
    """state.json and pid name a live process that is not this folder's emulator: ensure starts its own, stop spares it."""
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        folder.mkdir()
        (folder / 'pid').write_text(f'{other.pid}\n', encoding='utf-8')
        (folder / 'state.json').write_text(json.dumps({'pid': other.pid, 'http_url': 'http://127.0.0.1:9', 'https_url':
                                                       'https://127.0.0.1:9', 'ca_path': str(tmp_path / 'ca.pem')}),
                                           encoding='utf-8')
        assert daemon.stop(str(folder)) is None
        assert other.poll() is None
        (folder / 'pid').write_text(f'{other.pid}\n', encoding='utf-8')
        variables = ensure(folder)
        assert state_of(folder)['pid'] not in (other.pid, None)
        assert health(variables) == {'ok': True}
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_idle_emulator_exits_by_itself(folder):
    ensure(folder, '--idle-exit', '1')
    pid = state_of(folder)['pid']
    assert wait_until(lambda: not alive(pid))
    assert not (folder / 'state.json').exists()
    assert 'no request for 1 s; exiting' in (folder / 'emulator.log').read_text(encoding='utf-8')
    # the next ensure starts a new one
    assert health(ensure(folder, '--idle-exit', '120')) == {'ok': True}


def test_activity_tracker_is_not_idle_during_a_request():
    seen = []

    def app(environ, start_response):  # pylint: disable=unused-argument
        seen.append(tracker.idle_for())
        return [b'']

    tracker = ActivityTracker(app)
    tracker.last -= 1000
    assert tracker.idle_for() >= 1000
    tracker({}, None)
    assert seen == [0.0]
    assert tracker.idle_for() < 1000


def test_start_failure_reports_the_log(folder, tmp_path):
    broken = tmp_path / 'broken-python'
    broken.write_text('#!/bin/sh\necho "emulator could not bind" >&2\nexit 3\n', encoding='utf-8')
    broken.chmod(0o755)
    with pytest.raises(daemon.DaemonError, match=r'(?s)exit 3.*emulator could not bind'):
        daemon.ensure(str(folder), python=str(broken))
    assert not (folder / 'state.json').exists()


STATE = {
    'pid': 1, 'http_url': 'http://127.0.0.1:8001/', 'https_url': 'https://127.0.0.1:8002', 'private_url': 'https://127.0.0.1:8003',
    'ca_path': '/emu/data/ca.pem', 'config': {},
}


@pytest.mark.parametrize(('personality', 'instance', 'second', 'region'), [
    ('hpcs', INSTANCE_A, INSTANCE_B, 'us-south'),
    ('kp-standard', KP_STANDARD, KP_XR, 'us-south'),
    ('kp-dedicated', KP_DEDICATED, KP_STANDARD, 'us-east'),
])
def test_vars_per_personality(tmp_path, personality, instance, second, region):
    state_file = tmp_path / 'state.json'
    state_file.write_text(json.dumps(STATE), encoding='utf-8')
    result = cli('vars', '--state-file', str(state_file), '--personality', personality)
    assert result.returncode == 0, result.stderr
    variables = yaml.safe_load(result.stdout)
    assert variables == {
        'hs_crypto_emulator_url': 'https://127.0.0.1:8002',
        'hs_crypto_emulator_http_url': 'http://127.0.0.1:8001',
        'hs_crypto_ca_path': '/emu/data/ca.pem',
        'hs_crypto_api_key': ALICE_API_KEY,
        'hs_crypto_api_key_bob': 'hsc-emulator-bob-api-key-0002',
        'hs_crypto_api_key_eve': 'hsc-emulator-eve-api-key-0003',
        'hs_crypto_instance_id': instance,
        'hs_crypto_instance_id_b': second,
        'hs_crypto_instance_id_c': INSTANCE_C,
        'hs_crypto_region': region,
        'hs_crypto_personality': personality,
    }
    as_json = cli('vars', '--state-file', str(state_file), '--personality', personality, '--format', 'json')
    assert json.loads(as_json.stdout) == variables

    out = tmp_path / 'out' / 'module.env'
    as_env = cli('vars', '--state-file', str(state_file), '--personality', personality, '--format', 'env', '--vars-out', str(out))
    assert (as_env.returncode, as_env.stdout) == (0, '')
    assert oct(out.stat().st_mode & 0o777) == '0o600'
    exports = dict(shlex.split(line)[1].split('=', 1) for line in out.read_text(encoding='utf-8').splitlines()
                   if line.startswith('export '))
    assert exports == {'IBMCLOUD_API_KEY': ALICE_API_KEY, 'HS_CRYPTO_IAM_URL': 'https://127.0.0.1:8002',
                       'HS_CRYPTO_RESOURCE_CONTROLLER_URL': 'https://127.0.0.1:8002', 'HS_CRYPTO_CA_PATH': '/emu/data/ca.pem'}


def test_vars_follow_the_emulator_config():
    state = dict(STATE, config={
        'api_keys': {'my-alice-key': {'name': 'alice'}, 'ignored': 'not a mapping'},
        'instances': {'11111111-2222-4333-8444-555555555555': {'name': 'kp-standard', 'region': 'jp-tok'}},
    })
    variables = connection_vars.connection_variables(state, 'kp-standard')
    assert variables['hs_crypto_api_key'] == 'my-alice-key'
    assert variables['hs_crypto_instance_id'] == '11111111-2222-4333-8444-555555555555'
    assert variables['hs_crypto_region'] == 'jp-tok'
    assert variables['hs_crypto_instance_id_b'] == KP_XR


def test_vars_refuse_an_unknown_personality_or_a_missing_state_file(tmp_path):
    state_file = tmp_path / 'state.json'
    state_file.write_text(json.dumps(STATE), encoding='utf-8')
    unknown = cli('vars', '--state-file', str(state_file), '--personality', 'kp-unknown')
    assert unknown.returncode == 2
    assert 'kp-unknown' in unknown.stderr
    missing = cli('vars', '--state-file', str(tmp_path / 'none.json'))
    assert missing.returncode == 1
    assert 'cannot read' in missing.stderr
    with pytest.raises(ValueError, match='unknown personality'):
        connection_vars.connection_variables(STATE, 'kp-unknown')
