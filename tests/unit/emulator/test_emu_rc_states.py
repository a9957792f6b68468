# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource Controller instance states: an instance set to another state than active is listed only when that state is
asked for (the default listing is active + provisioning), and its record says so."""

from __future__ import annotations

import pytest
import requests

from hpcs_emulator import resource_controller
from hpcs_emulator.server import EmulatorServer
from hpcs_emulator.testing import ALICE_API_KEY, INSTANCE_B, KP_XR, get_token


@pytest.fixture(scope='module')
def server():
    """A server of its own: states survive a reset."""
    with EmulatorServer() as emu:
        yield emu


def _list(server, **params):
    token = get_token(server.http_url, ALICE_API_KEY)['access_token']
    response = requests.get(f'{server.http_url}/v2/resource_instances', params=params, timeout=10,
                            headers={'Authorization': f'Bearer {token}'})
    assert response.status_code == 200, response.text
    return dict((record['guid'], record['state']) for record in response.json()['resources'])


def test_states(server):
    resource_controller.set_instance_state(server.state, KP_XR, 'pending_reclamation')
    resource_controller.set_instance_state(server.state, INSTANCE_B, 'provisioning')
    try:
        default = _list(server)
        assert KP_XR not in default and default[INSTANCE_B] == 'provisioning'
        assert _list(server, state='pending_reclamation') == {KP_XR: 'pending_reclamation'}
        assert KP_XR not in _list(server, state='active') and INSTANCE_B not in _list(server, state='active')
        server.state.reset()
        assert _list(server, state='pending_reclamation') == {KP_XR: 'pending_reclamation'}
    finally:
        resource_controller.set_instance_state(server.state, KP_XR, 'active')
        resource_controller.set_instance_state(server.state, INSTANCE_B, 'active')
    assert _list(server, state='active')[KP_XR] == 'active'
    with pytest.raises(ValueError):
        resource_controller.set_instance_state(server.state, KP_XR, 'gone')
