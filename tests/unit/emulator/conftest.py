# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests: one in-process emulator per session, reset per test."""

from __future__ import annotations

import os
import sys
import time

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from hpcs_emulator import clock as clock_module  # noqa: E402 pylint: disable=wrong-import-position
from hpcs_emulator.server import EmulatorServer  # noqa: E402 pylint: disable=wrong-import-position
from hpcs_emulator.testing import ALICE_API_KEY, BOB_API_KEY, EVE_API_KEY, INSTANCE_C, KP_STANDARD, KmsClient  # noqa: E402 pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def emulator_server():
    with EmulatorServer() as server:
        yield server


class FrozenTime:
    """Stands in for the ``time`` module of ``hpcs_emulator.clock``: the real time the test started at, never moving.

    The emulator clock is real time plus an offset. With real time moving, a test that moves the clock to just
    before a limit (``advance(3599)`` after a rotation limited to one per hour) would pass or fail depending on how
    long its requests took. Frozen, only the test moves the clock, so no test depends on the machine's speed.
    """

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


def pytest_configure(config):
    config.addinivalue_line('markers', 'real_clock: the emulator clock follows real time during this test')


@pytest.fixture
def emu(emulator_server, request, monkeypatch):
    """The shared emulator, reset (keys, log, faults, clock) before the test; its clock stands still (see FrozenTime)
    unless the test is marked ``real_clock``."""
    emulator_server.state.reset()
    if request.node.get_closest_marker('real_clock') is None:
        monkeypatch.setattr(clock_module, 'time', FrozenTime(time.time()))
    return emulator_server


@pytest.fixture
def service(emu, monkeypatch):
    """A client of IBM's Key Protect Python SDK (``keyprotect``) signed in as alice, for the emulator's HTTPS listener.

    The SDK is imported here, not at the top: the emulator's other tests do not need it, and a test that asks for this
    fixture still fails (it never skips) when the SDK is missing (tests/unit/requirements.txt installs it)."""
    import keyprotect  # pylint: disable=import-outside-toplevel
    from ibm_cloud_sdk_core import authenticators  # pylint: disable=import-outside-toplevel
    # Neither the SDK nor its IAM token manager takes a CA file; requests reads this variable.
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', emu.ca_path)
    client = keyprotect.IbmKeyProtectApiV2(authenticator=authenticators.IAMAuthenticator(ALICE_API_KEY, url=emu.https_url))
    client.set_service_url(emu.https_url)
    client.set_disable_ssl_verification(False)
    return client


@pytest.fixture
def alice(emu):
    """KMS client for alice on instance A over plain HTTP (fast; HTTPS has its own tests)."""
    return KmsClient(emu.http_url)


@pytest.fixture
def bob(emu):
    return KmsClient(emu.http_url, api_key=BOB_API_KEY)


@pytest.fixture
def eve(emu):
    return KmsClient(emu.http_url, api_key=EVE_API_KEY, instance=INSTANCE_C)


@pytest.fixture
def kp(emu):
    """KMS client for alice on the Key Protect Standard instance (plain HTTP)."""
    return KmsClient(emu.http_url, instance=KP_STANDARD)
