# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator in the background, one per folder (``python -m hpcs_emulator ensure|stop --dir DIR``).

A folder holds ``state.json`` (written by the emulator once it listens, removed when it exits), ``pid``,
``emulator.log`` (its standard output and error) and ``data/`` (CA and server certificate, made fresh at each start).
``ensure`` reuses the folder's emulator while it answers its health check and starts a new one otherwise; with an
idle time the emulator exits by itself after that many seconds without a request, so a folder left behind by an
interrupted test run does not keep a process for long.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import typing as t
import urllib.request

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
DEFAULT_IDLE_EXIT = 600
LOG_TAIL_LINES = 30


class DaemonError(Exception):
    """The emulator could not be started (the message includes the end of its log)."""


class Folder:
    """The files of one background emulator."""

    def __init__(self, directory: str):
        self.dir = os.path.abspath(directory)
        self.state = os.path.join(self.dir, 'state.json')
        self.pid = os.path.join(self.dir, 'pid')
        self.log = os.path.join(self.dir, 'emulator.log')
        self.data = os.path.join(self.dir, 'data')
        self.lock = os.path.join(self.dir, 'lock')

    @contextlib.contextmanager
    def locked(self) -> t.Iterator[None]:
        """Serialize ensure and stop on this folder (two setups at once must not start two emulators)."""
        os.makedirs(self.dir, exist_ok=True)
        with open(self.lock, 'a', encoding='utf-8') as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_pid(self) -> int | None:
        try:
            with open(self.pid, encoding='utf-8') as handle:
                text = handle.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def read_state(self) -> dict[str, t.Any] | None:
        try:
            with open(self.state, encoding='utf-8') as handle:
                return json.load(handle)
        except (FileNotFoundError, ValueError):
            return None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            with open(self.log, encoding='utf-8', errors='replace') as handle:
                return ''.join(handle.readlines()[-lines:])
        except FileNotFoundError:
            return '(no log)'


def _command_line(pid: int) -> str:
    """Return the command line of a process ('' when it is gone or a zombie)."""
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as handle:
            return handle.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except FileNotFoundError:
        if os.path.isdir('/proc'):
            return ''
    except OSError:
        return ''
    # No /proc (macOS): ask ps.
    try:
        result = subprocess.run(['ps', '-o', 'stat=,command=', '-p', str(pid)], capture_output=True, text=True, check=False)
    except OSError:
        return ''
    status, _sep, command = result.stdout.strip().partition(' ')
    return '' if not status or status.startswith('Z') else command


def is_our_emulator(pid: int | None, folder: Folder) -> bool:
    """Whether PID is alive and is the emulator of FOLDER (guards against a recycled pid)."""
    if not pid:
        return False
    command = _command_line(pid)
    return 'hpcs_emulator' in command and folder.state in command


def healthy(http_url: str, timeout: float = 5.0) -> bool:
    """Whether the emulator at HTTP_URL answers its health check (no proxy: it listens on this machine)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f'{http_url.rstrip("/")}/_emulator/health', timeout=timeout) as answer:
            return json.load(answer).get('ok') is True
    except (OSError, ValueError):
        return False


def live_state(folder: Folder) -> dict[str, t.Any] | None:
    """Return the state of the folder's emulator if it runs and answers, else None."""
    state = folder.read_state()
    if not state or not is_our_emulator(state.get('pid'), folder):
        return None
    return state if healthy(state['http_url']) else None


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait_gone(pid: int, folder: Folder, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_our_emulator(pid, folder):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _stop_unlocked(folder: Folder) -> int | None:
    """Stop the folder's emulator: SIGTERM, wait, SIGKILL. Return its pid, or None when none was running."""
    stopped = None
    candidates = {folder.read_pid(), (folder.read_state() or {}).get('pid')}
    for pid in sorted(pid for pid in candidates if isinstance(pid, int) and pid > 0):
        if not is_our_emulator(pid, folder):
            continue
        _signal(pid, signal.SIGTERM)
        if not _wait_gone(pid, folder, STOP_TIMEOUT):
            _signal(pid, signal.SIGKILL)
            _wait_gone(pid, folder, STOP_TIMEOUT)
        stopped = pid
    for path in (folder.state, folder.pid):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return stopped


def stop(directory: str) -> int | None:
    """Stop the emulator of DIRECTORY if one runs; return its pid (None: nothing was running)."""
    folder = Folder(directory)
    if not os.path.isdir(folder.dir):
        return None
    with folder.locked():
        return _stop_unlocked(folder)


def _start_unlocked(folder: Folder, idle_exit: float, python: str) -> dict[str, t.Any]:
    shutil.rmtree(folder.data, ignore_errors=True)
    for path in (folder.state, folder.pid):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(part for part in (PACKAGE_PARENT, env.get('PYTHONPATH')) if part)
    command = [python, '-m', 'hpcs_emulator', '--host', '127.0.0.1', '--state-file', folder.state,
               '--data-dir', folder.data, '--idle-exit', str(idle_exit)]
    with open(folder.log, 'wb') as log, open(os.devnull, 'rb') as devnull:
        # A session of its own: the emulator outlives the command that started it (an Ansible task, a nox session)
        # and gets no signal meant for that command's process group.
        process = subprocess.Popen(command, stdin=devnull, stdout=log, stderr=subprocess.STDOUT, cwd=folder.dir, env=env,
                                   start_new_session=True, close_fds=True)
    with open(folder.pid, 'w', encoding='utf-8') as handle:
        handle.write(f'{process.pid}\n')
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise DaemonError(f'the emulator exited during start-up (exit {process.returncode}; log {folder.log}):\n'
                              f'{folder.log_tail()}')
        state = folder.read_state()
        if state and state.get('pid') == process.pid and healthy(state['http_url'], timeout=2.0):
            return state
        if time.monotonic() >= deadline:
            _signal(process.pid, signal.SIGKILL)
            process.wait()
            raise DaemonError(f'the emulator did not become ready within {START_TIMEOUT:.0f} s (log {folder.log}):\n'
                              f'{folder.log_tail()}')
        time.sleep(0.05)


def ensure(directory: str, idle_exit: float = DEFAULT_IDLE_EXIT, *, fresh: bool = False,
           python: str | None = None) -> tuple[dict[str, t.Any], bool]:
    """Return (state, started): the state of DIRECTORY's running emulator, starting one when none answers.

    ``fresh`` stops a running one first. ``idle_exit`` (seconds, 0 = never) applies to an emulator started here.
    """
    folder = Folder(directory)
    with folder.locked():
        if not fresh:
            state = live_state(folder)
            if state is not None:
                return state, False
        _stop_unlocked(folder)
        return _start_unlocked(folder, idle_exit, python or sys.executable), True
