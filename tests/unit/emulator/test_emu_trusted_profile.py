# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trusted profiles: IAM's compute-resource-token grant and the VPC instance metadata service (key-protect-api.md 6)."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from hpcs_emulator.config import Config, ConfigError, load_default_config
from hpcs_emulator.testing import ACCOUNT_ID, INSTANCE_A

CR_GRANT = 'urn:ibm:params:oauth:grant-type:cr-token'
DEFAULTS = load_default_config()
CR_TOKEN = DEFAULTS['compute_resources'][0]['cr_token']
AUTOMATION = 'Profile-9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f'  # trusts the pod, linked to the VSI
VSI_DEFAULT = 'Profile-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'  # the VSI's default profile, does not trust the pod
NO_ACCESS = 'Profile-0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'
FLAVOR = {'Metadata-Flavor': 'ibm'}
VERSIONS = [('2022-03-01', '/instance_identity/v1/token', '/instance_identity/v1/iam_token'),
            ('2025-08-26', '/identity/v1/token', '/identity/v1/iam_tokens')]


def _claims(jwt: str) -> dict:
    payload = jwt.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))


def _crn(profile_id):
    return f'crn:v1:bluemix:public:iam-identity::a/{ACCOUNT_ID}::profile:{profile_id}'


def _cr(emu, **form):
    return requests.post(emu.http_url + '/identity/token', data=dict(grant_type=CR_GRANT, **form), timeout=10)


def _log(emu):
    return requests.get(emu.http_url + '/_emulator/requests', timeout=10).json()['requests']


@pytest.mark.parametrize('selector', [dict(profile_id=AUTOMATION), dict(profile_name='ansible-automation'),
                                      dict(profile_crn=_crn(AUTOMATION)),
                                      dict(profile_id=AUTOMATION, profile_name='ansible-automation')])
def test_cr_token_grant_issues_a_token_for_the_profile(emu, selector):
    response = _cr(emu, cr_token=CR_TOKEN, **selector)
    assert response.status_code == 200, response.text
    claims = _claims(response.json()['access_token'])
    assert claims['iam_id'] == f'iam-{AUTOMATION}'
    assert claims['grant_type'] == CR_GRANT
    assert claims['account']['bss'] == ACCOUNT_ID
    # The token opens the profile's instances.
    keys = requests.get(emu.http_url + '/api/v2/keys', timeout=10, headers={
        'Authorization': 'Bearer ' + response.json()['access_token'], 'Bluemix-Instance': INSTANCE_A})
    assert keys.status_code == 200


def test_request_log_shows_the_grant_type_and_no_secret(emu):
    assert _cr(emu, cr_token=CR_TOKEN, profile_id=AUTOMATION).status_code == 200
    entries = [e for e in _log(emu) if e['service'] == 'iam']
    assert [e['grant_type'] for e in entries] == [CR_GRANT]
    text = requests.get(emu.http_url + '/_emulator/requests', timeout=10).text
    assert CR_TOKEN not in text and 'apikey' not in text


@pytest.mark.parametrize('form,status,code', [
    (dict(profile_id=AUTOMATION), 400, 'BXNIM0109E'),  # no cr_token
    (dict(cr_token=CR_TOKEN), 400, 'BXNIM0109E'),  # no profile
    (dict(cr_token='not-the-token-of-any-pod', profile_id=AUTOMATION), 400, 'BXNIM0492E'),
    (dict(cr_token=CR_TOKEN, profile_id='Profile-00000000-0000-4000-8000-000000000000'), 400, 'BXNIM0486E'),
    (dict(cr_token=CR_TOKEN, profile_name='nobody'), 400, 'BXNIM0486E'),
    (dict(cr_token=CR_TOKEN, profile_id=AUTOMATION, profile_name='vsi-default'), 400, 'BXNIM0486E'),  # disagree
    (dict(cr_token=CR_TOKEN, profile_id=VSI_DEFAULT), 400, 'BXNIM0487E'),  # exists, does not trust the pod
])
def test_cr_token_grant_errors_as_iam_answers_them(emu, form, status, code):
    response = _cr(emu, **form)
    assert response.status_code == status
    body = response.json()
    assert body['errorCode'] == code
    assert CR_TOKEN not in response.text
    assert body['context']['requestId']


def test_a_profile_without_access_gets_a_token_but_no_keys(emu):
    token = _cr(emu, cr_token=CR_TOKEN, profile_id=NO_ACCESS).json()['access_token']
    keys = requests.get(emu.http_url + '/api/v2/keys', timeout=10, headers={'Authorization': 'Bearer ' + token,
                                                                            'Bluemix-Instance': INSTANCE_A})
    assert keys.status_code in (401, 403)


def _identity(emu, path, version, headers=None, body=None):
    headers = FLAVOR if headers is None else headers
    return requests.put(emu.http_url + path, params={'version': version}, headers=headers, json=body, timeout=10)


@pytest.mark.parametrize('version,token_path,iam_path', VERSIONS)
@pytest.mark.parametrize('trusted_profile,expected', [(None, VSI_DEFAULT), ({'id': AUTOMATION}, AUTOMATION),
                                                      ({'crn': _crn(AUTOMATION)}, AUTOMATION)])
def test_vpc_metadata_flow(emu, version, token_path, iam_path, trusted_profile, expected):
    identity = _identity(emu, token_path, version, body={'expires_in': 300})
    assert identity.status_code == 200, identity.text
    body = identity.json()
    assert set(body) == {'access_token', 'created_at', 'expires_at', 'expires_in'} and body['expires_in'] == 300
    answer = requests.post(emu.http_url + iam_path, params={'version': version}, timeout=10,
                           headers=dict(FLAVOR, Authorization='Bearer ' + body['access_token']),
                           json=None if trusted_profile is None else {'trusted_profile': trusted_profile})
    assert answer.status_code == 200, answer.text
    assert _claims(answer.json()['access_token'])['iam_id'] == f'iam-{expected}'
    assert [e['service'] for e in _log(emu)] == ['metadata', 'metadata']
    assert [e['listener'] for e in _log(emu)] == ['http', 'http']


def test_metadata_flavor_is_required(emu):
    for version, token_path, iam_path in VERSIONS:
        response = _identity(emu, token_path, version, headers={})
        assert response.status_code == 400
        assert response.json()['errors'][0]['code'] == 'missing_metadata_flavor'
        token = _identity(emu, token_path, version).json()['access_token']
        response = requests.post(emu.http_url + iam_path, params={'version': version}, timeout=10,
                                 headers={'Authorization': 'Bearer ' + token})
        assert response.status_code == 400


def test_metadata_refusals(emu):
    _version, token_path, iam_path = VERSIONS[0]
    assert _identity(emu, token_path, '').status_code == 400  # no version
    assert _identity(emu, '/identity/v1/token', '2022-03-01').status_code == 400  # new path, old version
    assert _identity(emu, token_path, '2022-03-01', body={'expires_in': 4000}).status_code == 400

    def post(headers, body=None):
        return requests.post(emu.http_url + iam_path, params={'version': '2022-03-01'}, timeout=10, headers=dict(FLAVOR, **headers),
                             json=body)

    assert post({}).status_code == 401
    assert post({'Authorization': 'Bearer not-an-identity-token'}).status_code == 401
    token = _identity(emu, token_path, '2022-03-01').json()['access_token']
    auth = {'Authorization': 'Bearer ' + token}
    assert post(auth, {'trusted_profile': {'id': AUTOMATION, 'crn': _crn(AUTOMATION)}}).status_code == 400
    response = post(auth, {'trusted_profile': {'id': 'Profile-00000000-0000-4000-8000-000000000000'}})
    assert response.status_code == 400 and response.json()['errors'][0]['code'] == 'invalid_trusted_profile'
    # An IAM access token is not an instance identity token.
    iam = _cr(emu, cr_token=CR_TOKEN, profile_id=AUTOMATION).json()['access_token']
    assert post({'Authorization': 'Bearer ' + iam}).status_code == 401


def test_identity_token_expires(emu):
    token = _identity(emu, VERSIONS[0][1], '2022-03-01', body={'expires_in': 5}).json()['access_token']
    emu.state.clock.advance(6)
    response = requests.post(emu.http_url + VERSIONS[0][2], params={'version': '2022-03-01'}, timeout=10,
                             headers=dict(FLAVOR, Authorization='Bearer ' + token))
    assert response.status_code == 401


def test_metadata_is_plain_http_only(emu):
    response = requests.put(emu.https_url + VERSIONS[0][1], params={'version': '2022-03-01'}, headers=FLAVOR,
                            verify=emu.ca_path, timeout=10)
    assert response.status_code == 404


def test_config_checks_profiles():
    with pytest.raises(ConfigError, match='Profile-'):
        Config({'trusted_profiles': {'bad-id': {'name': 'x'}}})
    with pytest.raises(ConfigError, match='known trusted profile'):
        Config({'trusted_profiles': {}, 'compute_resources': [{'cr_token': 'x' * 20, 'profiles': [AUTOMATION]}],
                'vpc_instance': {}})
    with pytest.raises(ConfigError, match='default_profile'):
        Config({'vpc_instance': {'default_profile': NO_ACCESS, 'profiles': [AUTOMATION]}})
    assert Config().to_dict()['trusted_profiles'][AUTOMATION]['crn'] == _crn(AUTOMATION)
