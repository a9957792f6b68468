# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HPCS broker endpoint discovery."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

from hpcs_emulator.testing import ALICE_API_KEY, EVE_API_KEY, INSTANCE_A, INSTANCE_B, get_token


def _broker(emu, instance, token=None, base=None):
    headers = {'Accept': 'application/json'}
    if token is not None:
        headers['Authorization'] = f'Bearer {token}'
    return requests.get(f'{base or emu.http_url}/crypto_v2/instances/{instance}', headers=headers, timeout=10)


def test_endpoints_for_accessible_instance(emu):
    token = get_token(emu.http_url, ALICE_API_KEY)['access_token']
    response = requests.get(f'{emu.https_url}/crypto_v2/instances/{INSTANCE_B}', headers={'Authorization': f'Bearer {token}'},
                            verify=emu.ca_path, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body['instance_id'] == INSTANCE_B
    assert body['kms'] == {'public': urlsplit(emu.https_url).netloc, 'private': urlsplit(emu.private_url).netloc}
    for service in ('kms', 'ep11', 'uko'):
        for kind in ('public', 'private'):
            value = body[service][kind]
            assert '://' not in value
            assert re.fullmatch(r'[a-z0-9.-]+(:\d+)?', value), value
    assert body['ep11']['public'].startswith('ep11.eu-de.')
    assert body['ep11']['private'].startswith('ep11.private.eu-de.')
    # the discovered endpoint serves the KMS API (client prepends https://)
    kms = requests.get(f'https://{body["kms"]["public"]}/api/v2/keys', verify=emu.ca_path, timeout=10,
                       headers={'Authorization': f'Bearer {token}', 'Bluemix-Instance': INSTANCE_B})
    assert kms.status_code == 200


def test_unknown_instance_is_404(emu):
    token = get_token(emu.http_url, ALICE_API_KEY)['access_token']
    response = _broker(emu, '00000000-0000-4000-8000-000000000000', token)
    assert response.status_code == 404
    assert response.json()['code'] == 'NOT_FOUND'
    assert response.json()['message']


def test_missing_or_bad_token_is_401(emu):
    assert _broker(emu, INSTANCE_A).status_code == 401
    response = _broker(emu, INSTANCE_A, 'not.a.token')
    assert response.status_code == 401
    assert response.json()['code'] == 'UNAUTHORIZED'


def test_expired_token_is_401(emu):
    token = get_token(emu.http_url, ALICE_API_KEY)['access_token']
    assert _broker(emu, INSTANCE_A, token).status_code == 200
    requests.post(emu.http_url + '/_emulator/clock', json={'advance': 7200}, timeout=10)
    assert _broker(emu, INSTANCE_A, token).status_code == 401


def test_no_access_is_403(emu):
    token = get_token(emu.http_url, EVE_API_KEY)['access_token']
    response = _broker(emu, INSTANCE_A, token)
    assert response.status_code == 403
    assert response.json()['code'] == 'FORBIDDEN'


def test_broker_requests_are_logged(emu):
    token = get_token(emu.http_url, ALICE_API_KEY)['access_token']
    _broker(emu, INSTANCE_A, token)
    entries = requests.get(emu.http_url + '/_emulator/requests', timeout=10).json()['requests']
    broker = [entry for entry in entries if entry['service'] == 'broker']
    assert len(broker) == 1
    assert broker[0]['instance'] == INSTANCE_A
    assert broker[0]['status'] == 200
    assert broker[0]['write'] is False
