# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance personalities: service and plan per instance, CRNs, the broker, accounts and the config that sets them."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from hpcs_emulator.config import Config, ConfigError
from hpcs_emulator.testing import (ACCOUNT_ID, ALICE_API_KEY, CAROL_API_KEY, EVE_ACCOUNT_ID, EVE_API_KEY, INSTANCE_A,
                                   INSTANCE_B, INSTANCE_C, KP_DEDICATED, KP_DEDICATED_NEW, KP_STANDARD, KP_XR, PLAN_IDS,
                                   RESOURCE_GROUP_ID, KmsClient, get_token)


def _claims(token: str) -> dict:
    payload = token.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))


def test_default_instances_have_service_and_plan():
    config = Config()
    expected = {INSTANCE_A: ('A', 'us-south', 'hs-crypto', 'standard'), INSTANCE_B: ('B', 'eu-de', 'hs-crypto', 'standard'),
                INSTANCE_C: ('C', 'us-south', 'hs-crypto', 'standard'),
                KP_STANDARD: ('kp-standard', 'us-south', 'kms', 'tiered-pricing'),
                KP_XR: ('kp-xr', 'eu-de', 'kms', 'cross-region-resiliency'),
                KP_DEDICATED: ('kp-dedicated', 'us-east', 'kms', 'dedicated'),
                KP_DEDICATED_NEW: ('kp-dedicated-new', 'us-south', 'kms', 'dedicated')}
    assert sorted(config.instance_ids()) == sorted(expected)
    for instance_id, (name, region, service, plan) in expected.items():
        spec = config.instance(instance_id)
        assert (spec['name'], spec['region'], spec['service'], spec['plan']) == (name, region, service, plan)
        assert spec['resource_group_id'] == RESOURCE_GROUP_ID
    assert [unit['state'] for unit in config.instance(KP_DEDICATED)['crypto_units']] == ['kms-initialized'] * 2
    assert [unit['state'] for unit in config.instance(KP_DEDICATED_NEW)['crypto_units']] == ['reserved'] * 2
    assert 'crypto_units' not in config.instance(KP_STANDARD)
    assert set(PLAN_IDS) == {'tiered-pricing', 'cross-region-resiliency', 'dedicated', 'standard'}
    assert PLAN_IDS['tiered-pricing'] == 'eedd3585-90c6-4c8f-be3d-062069e99fc3'


def test_accounts_and_access_of_the_default_identities():
    config = Config()
    everything = {INSTANCE_A, INSTANCE_B, KP_STANDARD, KP_XR, KP_DEDICATED, KP_DEDICATED_NEW}
    assert config.instances_for('IBMid-alice') == everything == config.instances_for('IBMid-bob')
    assert config.instances_for('IBMid-eve') == {INSTANCE_C}
    assert config.instances_for('IBMid-carol') == {INSTANCE_A, KP_STANDARD}
    assert config.identity_account('IBMid-alice') == ACCOUNT_ID
    assert config.identity_account('IBMid-eve') == EVE_ACCOUNT_ID
    assert config.instance_account(INSTANCE_C) == EVE_ACCOUNT_ID
    assert sorted(config.instances_in_account(EVE_ACCOUNT_ID)) == [INSTANCE_C]
    assert sorted(config.instances_in_account(ACCOUNT_ID)) == sorted(everything)
    assert config.resource_controller_access('IBMid-alice') and config.resource_controller_access('IBMid-eve')
    assert not config.resource_controller_access('IBMid-carol')


@pytest.mark.parametrize('instance_id, service, region, account', [
    (INSTANCE_A, 'hs-crypto', 'us-south', ACCOUNT_ID),
    (INSTANCE_C, 'hs-crypto', 'us-south', EVE_ACCOUNT_ID),
    (KP_STANDARD, 'kms', 'us-south', ACCOUNT_ID),
    (KP_DEDICATED, 'kms', 'us-east', ACCOUNT_ID),
])
def test_instance_and_key_crns_carry_the_service(emu, instance_id, service, region, account):
    api_key = EVE_API_KEY if instance_id == INSTANCE_C else ALICE_API_KEY
    client = KmsClient(emu.http_url, api_key=api_key, instance=instance_id)
    key = client.new_key('crn-check')
    assert key['crn'] == f'crn:v1:bluemix:public:{service}:{region}:a/{account}:{instance_id}:key:{key["id"]}'
    config = requests.get(f'{emu.http_url}/_emulator/config', timeout=10).json()
    assert config['instances'][instance_id]['crn'] == f'crn:v1:bluemix:public:{service}:{region}:a/{account}:{instance_id}::'


def test_tokens_carry_the_identity_account(emu):
    assert _claims(get_token(emu.http_url, ALICE_API_KEY)['access_token'])['account']['bss'] == ACCOUNT_ID
    assert _claims(get_token(emu.http_url, EVE_API_KEY)['access_token'])['account']['bss'] == EVE_ACCOUNT_ID
    assert _claims(get_token(emu.http_url, CAROL_API_KEY)['access_token'])['iam_id'] == 'IBMid-carol'


def test_carol_reads_keys_of_her_instances_only(emu):
    assert KmsClient(emu.http_url, api_key=CAROL_API_KEY, instance=KP_STANDARD).list_keys().status_code == 200
    assert KmsClient(emu.http_url, api_key=CAROL_API_KEY, instance=INSTANCE_A).list_keys().status_code == 200
    assert KmsClient(emu.http_url, api_key=CAROL_API_KEY, instance=KP_XR).list_keys().status_code == 401


@pytest.mark.parametrize('instance_id, status', [(INSTANCE_A, 200), (KP_STANDARD, 404), (KP_DEDICATED, 404),
                                                 ('00000000-0000-4000-8000-000000000000', 404)])
def test_broker_knows_hpcs_instances_only(emu, instance_id, status):
    token = get_token(emu.http_url, ALICE_API_KEY)['access_token']
    response = requests.get(f'{emu.http_url}/crypto_v2/instances/{instance_id}', headers={'Authorization': f'Bearer {token}'},
                            timeout=10)
    assert response.status_code == status, response.text
    if status == 404:
        assert response.json() == {'code': 'NOT_FOUND', 'message': f'Instance {instance_id} was not found'}


@pytest.mark.parametrize('instance, message', [
    ({'region': 'us-south', 'service': 'kp'}, '"service" must be one of'),
    ({'region': 'us-south', 'service': 'kms', 'plan': 'standard'}, '"plan" of a kms instance'),
    ({'region': 'us-south', 'plan': 'dedicated'}, '"plan" of a hs-crypto instance'),
    ({'region': 'us-south', 'service': 'kms', 'crypto_units': []}, 'for plan dedicated only'),
    ({'region': 'us-south', 'service': 'kms', 'plan': 'dedicated', 'crypto_units': []}, 'list of 1 to 3 units'),
    ({'region': 'us-south', 'service': 'kms', 'plan': 'dedicated', 'crypto_units': [{'id': 'u1', 'state': 'ready'}]},
     'crypto unit state must be one of'),
    ({'region': 'us-south', 'resource_group_id': ''}, '"resource_group_id" must be a non-empty string'),
    ({'region': 'us-south', 'account_id': 7}, '"account_id" must be a non-empty string'),
    ({'region': 'us-south', 'tier': 'gold'}, 'unknown fields'),
])
def test_instance_config_errors(instance, message):
    with pytest.raises(ConfigError, match=message):
        Config({'instances': {'11111111-2222-4333-8444-555555555555': instance}, 'api_keys': {}})


@pytest.mark.parametrize('api_key, message', [
    ({'iam_id': 'IBMid-x', 'account_id': ''}, '"account_id" must be a non-empty string'),
    ({'iam_id': 'IBMid-x', 'resource_controller': 'no'}, '"resource_controller" must be true or false'),
])
def test_api_key_config_errors(api_key, message):
    with pytest.raises(ConfigError, match=message):
        Config({'api_keys': {'some-api-key-0009': api_key}})


def test_config_defaults_for_a_kms_instance():
    config = Config({'instances': {'11111111-2222-4333-8444-555555555555': {'region': 'jp-tok', 'service': 'kms'},
                                   '21111111-2222-4333-8444-555555555555': {'region': 'eu-es', 'service': 'kms',
                                                                            'plan': 'dedicated', 'account_id': 'acct-2'}},
                     'api_keys': {}})
    standard = config.instance('11111111-2222-4333-8444-555555555555')
    assert (standard['plan'], standard['resource_group_id']) == ('tiered-pricing', RESOURCE_GROUP_ID)
    dedicated = config.instance('21111111-2222-4333-8444-555555555555')
    assert [unit['state'] for unit in dedicated['crypto_units']] == ['kms-initialized', 'kms-initialized']
    assert len({unit['id'] for unit in dedicated['crypto_units']}) == 2
    assert config.instance_crn('21111111-2222-4333-8444-555555555555') == \
        'crn:v1:bluemix:public:kms:eu-es:a/acct-2:21111111-2222-4333-8444-555555555555::'


def test_kms_instance_added_at_run_time(emu):
    new = '31111111-2222-4333-8444-555555555555'
    response = requests.post(f'{emu.http_url}/_emulator/config', timeout=10, json={
        'instances': {new: {'region': 'eu-gb', 'name': 'kp-runtime', 'service': 'kms', 'plan': 'cross-region-resiliency',
                            'account_id': 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0'}},
        'api_keys': {'hsc-emulator-frank-api-key-0005': {'iam_id': 'IBMid-frank', 'instances': [new],
                                                         'account_id': 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0'}}})
    assert response.status_code == 200, response.text
    assert response.json()['instances'][new]['crn'] == \
        f'crn:v1:bluemix:public:kms:eu-gb:a/f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0:{new}::'
    assert KmsClient(emu.http_url, api_key='hsc-emulator-frank-api-key-0005', instance=new).new_key('rt')['crn'].startswith(
        'crn:v1:bluemix:public:kms:eu-gb:')
