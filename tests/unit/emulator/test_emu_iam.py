# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM token endpoint."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from hpcs_emulator.testing import ACCOUNT_ID, ALICE_API_KEY, APIKEY_GRANT, INSTANCE_A, KmsClient


def _claims(jwt: str) -> dict:
    payload = jwt.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))


def _token(emu, path='/identity/token', **form):
    return requests.post(emu.http_url + path, data=form, timeout=10)


@pytest.mark.real_clock
@pytest.mark.parametrize('path', ['/identity/token', '/oidc/token'])
def test_apikey_grant_returns_jwt(emu, path):
    before = int(time.time())
    response = _token(emu, path, grant_type=APIKEY_GRANT, apikey=ALICE_API_KEY)
    after = time.time()
    assert response.status_code == 200
    body = response.json()
    assert body['token_type'] == 'Bearer'
    assert body['expires_in'] == 3600
    assert body['scope'] == 'ibm openid'
    assert isinstance(body['refresh_token'], str) and body['refresh_token']
    header = json.loads(base64.urlsafe_b64decode(body['access_token'].split('.')[0] + '=='))
    assert header['alg'] == 'HS256'
    claims = _claims(body['access_token'])
    assert claims['iam_id'] == claims['sub'] == 'IBMid-alice'
    assert claims['account'] == {'valid': True, 'bss': ACCOUNT_ID}
    assert claims['grant_type'] == APIKEY_GRANT
    assert claims['exp'] - claims['iat'] == 3600
    assert body['expiration'] == claims['exp']
    assert before <= claims['iat'] <= after  # issued on real time (no clock offset), however long the request took
    assert claims['iss']


def test_basic_auth_is_accepted(emu):
    response = requests.post(emu.http_url + '/identity/token', data={'grant_type': APIKEY_GRANT, 'apikey': ALICE_API_KEY},
                             auth=('bx', 'bx'), timeout=10)
    assert response.status_code == 200


def test_unknown_api_key(emu):
    response = _token(emu, grant_type=APIKEY_GRANT, apikey='not-a-real-api-key')
    assert response.status_code == 400
    body = response.json()
    assert body['errorCode'] == 'BXNIM0415E'
    assert body['errorMessage'] == 'Provided API key could not be found'
    assert 'errorDetails' in body
    context = body['context']
    for field in ('requestId', 'requestType', 'url', 'host', 'instanceId', 'threadId', 'startTime', 'endTime',
                  'elapsedTime', 'locale', 'clusterName'):
        assert field in context
    assert context['requestType'] == 'incoming.Identity_Token'
    assert 'not-a-real-api-key' not in response.text


@pytest.mark.parametrize('form, code', [
    ({}, 'BXNIM0109E'),
    ({'grant_type': APIKEY_GRANT}, 'BXNIM0109E'),
    ({'grant_type': 'password', 'username': 'x'}, 'BXNIM0308E'),
    ({'grant_type': 'refresh_token'}, 'BXNIM0109E'),
    ({'grant_type': 'refresh_token', 'refresh_token': 'garbage'}, 'BXNIM0407E'),
])
def test_bad_requests(emu, form, code):
    response = _token(emu, **form)
    assert response.status_code == 400
    assert response.json()['errorCode'] == code
    assert response.json()['errorMessage']


def test_refresh_token_grant(emu):
    first = _token(emu, grant_type=APIKEY_GRANT, apikey=ALICE_API_KEY).json()
    second = _token(emu, grant_type='refresh_token', refresh_token=first['refresh_token'])
    assert second.status_code == 200
    claims = _claims(second.json()['access_token'])
    assert claims['iam_id'] == 'IBMid-alice'
    assert claims['grant_type'] == 'refresh_token'
    assert second.json()['access_token'] != first['access_token']
    # an access token is not a refresh token
    assert _token(emu, grant_type='refresh_token', refresh_token=first['access_token']).status_code == 400


def test_token_expires_with_the_clock(emu):
    start = emu.state.clock.timestamp()  # stands still until the test moves it (conftest)
    client = KmsClient(emu.http_url)
    assert client.list_keys().status_code == 200
    requests.post(emu.http_url + '/_emulator/clock', json={'advance': 3601}, timeout=10)
    response = client.list_keys()
    assert response.status_code == 401
    assert response.json()['resources'][0] == {'errorMsg': 'Unauthorized: The user does not have access to the specified resource'}
    fresh = _token(emu, grant_type=APIKEY_GRANT, apikey=ALICE_API_KEY).json()
    # new tokens are issued on the moved clock
    assert _claims(fresh['access_token'])['iat'] == int(start + 3601)


def test_token_lifetime_from_config(emu):
    try:
        requests.post(emu.http_url + '/_emulator/config', json={'token_lifetime': 60}, timeout=10).raise_for_status()
        body = _token(emu, grant_type=APIKEY_GRANT, apikey=ALICE_API_KEY).json()
        assert body['expires_in'] == 60
        headers = {'Authorization': 'Bearer ' + body['access_token'], 'Bluemix-Instance': INSTANCE_A}
        requests.post(emu.http_url + '/_emulator/clock', json={'advance': 61}, timeout=10)
        assert requests.get(emu.http_url + '/api/v2/keys', headers=headers, timeout=10).status_code == 401
    finally:
        requests.post(emu.http_url + '/_emulator/config', json={'token_lifetime': 3600}, timeout=10)


def test_revoke_tokens_on_reset(emu):
    client = KmsClient(emu.http_url)
    assert client.list_keys().status_code == 200
    requests.post(emu.http_url + '/_emulator/reset', json={}, timeout=10)
    assert client.list_keys().status_code == 200
    requests.post(emu.http_url + '/_emulator/reset', json={'revoke_tokens': True}, timeout=10)
    assert client.list_keys().status_code == 401
