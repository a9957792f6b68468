# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests: one in-process emulator per session, reset per test."""

from __future__ import annotations

import os
import sys

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from hpcs_emulator.server import EmulatorServer  # noqa: E402 pylint: disable=wrong-import-position
from hpcs_emulator.testing import BOB_API_KEY, EVE_API_KEY, INSTANCE_C, KmsClient  # noqa: E402 pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def emulator_server():
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emu(emulator_server):
    """The shared emulator, reset (keys, log, faults, clock) before the test."""
    emulator_server.state.reset()
    return emulator_server


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
