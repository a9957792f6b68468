# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import RetryPolicy, Transport
from ansible_collections.ibm.hs_crypto.tests.unit.fakes import FakeSession


@pytest.fixture
def session():
    return FakeSession()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def transport(session, sleeps):
    return Transport(session=session, sleep=sleeps.append, retry_policy=RetryPolicy(retries=3))
