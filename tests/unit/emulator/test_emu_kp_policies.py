# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key Protect instance policies ``rotation`` and ``allowedIP``, and ``GET /api/v2/instance/allowed_ip_port``."""

from __future__ import annotations

import pytest

from hpcs_emulator.testing import KP_DEDICATED, KP_XR, KmsClient, expect_error

POLICY_TYPE = 'application/vnd.ibm.kms.policy+json'
PORT_TYPE = 'application/vnd.ibm.kms.allowed_ip_metadata+json'


def _body(*resources) -> dict:
    return {'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': len(resources)}, 'resources': list(resources)}


def _policy(policy_type, enabled, attributes=None) -> dict:
    data = {'enabled': enabled}
    if attributes is not None:
        data['attributes'] = attributes
    return {'policy_type': policy_type, 'policy_data': data}


def _put(client, *resources, policy=None):
    return client.request('PUT', 'instance/policies', params={'policy': policy} if policy else None, json=_body(*resources))


def _get(client, policy=None) -> list:
    response = client.request('GET', 'instance/policies', params={'policy': policy} if policy else None)
    assert response.status_code == 200, response.text
    return response.json()['resources']


def test_rotation_policy_round_trip(kp):
    assert _get(kp, 'rotation') == []
    assert _put(kp, _policy('rotation', True, {'interval_month': 3}), policy='rotation').status_code == 204
    [stored] = _get(kp, 'rotation')
    assert stored['policy_type'] == 'rotation'
    assert stored['policy_data'] == {'enabled': True, 'attributes': {'interval_month': 3}}
    assert stored['createdBy'] == stored['updatedBy'] == 'IBMid-alice' and stored['creationDate']
    assert _put(kp, _policy('rotation', False), policy='rotation').status_code == 204
    assert _get(kp, 'rotation')[0]['policy_data'] == {'enabled': False}


@pytest.mark.parametrize('enabled, attributes, code', [
    (True, None, 'INVALID_FIELD_ERR'),
    (True, {}, 'INVALID_FIELD_ERR'),
    (True, {'interval_month': 0}, 'INVALID_FIELD_ERR'),
    (True, {'interval_month': 13}, 'INVALID_FIELD_ERR'),
    (True, {'interval_month': '3'}, 'BAD_BODY_ERR'),
    (True, {'interval_month': 3, 'interval_days': 1}, 'BAD_BODY_ERR'),
    (False, {'interval_month': 3}, 'INVALID_FIELD_ERR'),
])
def test_rotation_policy_errors(kp, enabled, attributes, code):
    expect_error(_put(kp, _policy('rotation', enabled, attributes), policy='rotation'), 400, code)
    assert _get(kp, 'rotation') == []


def test_rotation_policy_disabled_with_empty_attributes(kp):
    assert _put(kp, _policy('rotation', False, {}), policy='rotation').status_code == 204


def test_rotation_policy_covers_new_root_keys(kp):
    before = kp.new_key('before')
    assert _put(kp, _policy('rotation', True, {'interval_month': 2}), policy='rotation').status_code == 204
    root = kp.new_key('root-after')
    assert root['rotation'] == {'enabled': True, 'interval_month': 2}
    assert 'rotation' not in before
    assert 'rotation' not in kp.get_key(before['id']).json()['resources'][0]
    standard = kp.new_key('standard-after', extractable=True)
    assert 'rotation' not in standard
    imported = kp.new_key('imported-after', payload='q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=')
    assert 'rotation' not in imported
    override = kp.create_key('override', overrides=True, rotation={'enabled': True, 'interval_month': 6})
    assert override.status_code == 201, override.text
    assert override.json()['resources'][0]['rotation'] == {'enabled': True, 'interval_month': 6}
    policies = kp.request('GET', f'keys/{root["id"]}/policies').json()['resources']
    assert [p['rotation'] for p in policies if 'rotation' in p] == [{'enabled': True, 'interval_month': 2}]
    assert _put(kp, _policy('rotation', False), policy='rotation').status_code == 204
    assert 'rotation' not in kp.new_key('root-after-disable')


def test_allowed_ip_policy_round_trip(kp):
    subnets = ['192.0.2.0/24', '203.0.113.7/32', '2001:db8::/32']
    assert _put(kp, _policy('allowedIP', True, {'allowed_ip': subnets}), policy='allowedIP').status_code == 204
    [stored] = _get(kp, 'allowedIP')
    assert stored['policy_data'] == {'enabled': True, 'attributes': {'allowed_ip': subnets}}
    assert _put(kp, _policy('allowedIP', True, {'allowed_ip': ['198.51.100.0/24']}), policy='allowedIP').status_code == 204
    assert _get(kp, 'allowedIP')[0]['policy_data']['attributes'] == {'allowed_ip': ['198.51.100.0/24']}  # replaced
    assert _put(kp, _policy('allowedIP', False, {}), policy='allowedIP').status_code == 204  # GO sends {} when disabling
    assert _get(kp, 'allowedIP')[0]['policy_data'] == {'enabled': False, 'attributes': {'allowed_ip': []}}


@pytest.mark.parametrize('attributes, code', [
    (None, 'INVALID_FIELD_ERR'),
    ({'allowed_ip': []}, 'INVALID_FIELD_ERR'),
    ({'allowed_ip': ['10.0.0.0/33']}, 'INVALID_FIELD_ERR'),
    ({'allowed_ip': ['10.0.0.1']}, 'INVALID_FIELD_ERR'),
    ({'allowed_ip': ['not-an-ip/8']}, 'INVALID_FIELD_ERR'),
    ({'allowed_ip': [10]}, 'INVALID_FIELD_ERR'),
    ({'allowed_ip': '10.0.0.0/8'}, 'INVALID_FIELD_ERR'),
    ({'allowed_ip': [f'10.{n // 256}.{n % 256}.0/24' for n in range(1001)]}, 'INVALID_FIELD_ERR'),
    ({'allowed_ip': ['10.0.0.0/8'], 'allowed_network': 'x'}, 'BAD_BODY_ERR'),
])
def test_allowed_ip_policy_errors(kp, attributes, code):
    expect_error(_put(kp, _policy('allowedIP', True, attributes), policy='allowedIP'), 400, code)


def test_allowed_ip_accepts_a_thousand_subnets(kp):
    subnets = [f'10.{n // 256}.{n % 256}.0/24' for n in range(1000)]
    assert _put(kp, _policy('allowedIP', True, {'allowed_ip': subnets}), policy='allowedIP').status_code == 204


def test_allowed_ip_port(kp):
    empty = kp.request('GET', 'instance/allowed_ip_port')
    assert empty.status_code == 200
    assert empty.json() == {'metadata': {'collectionType': PORT_TYPE, 'collectionTotal': 0}, 'resources': []}
    _put(kp, _policy('allowedIP', True, {'allowed_ip': ['192.0.2.0/24']}), policy='allowedIP')
    assert kp.request('GET', 'instance/allowed_ip_port').json() == {
        'metadata': {'collectionType': PORT_TYPE, 'collectionTotal': 1}, 'resources': [{'private_endpoint_port': 15008}]}
    _put(kp, _policy('allowedIP', False), policy='allowedIP')
    assert kp.request('GET', 'instance/allowed_ip_port').json()['resources'] == []


def test_allowed_ip_is_not_enforced(kp):
    _put(kp, _policy('allowedIP', True, {'allowed_ip': ['203.0.113.0/24']}), policy='allowedIP')
    assert kp.list_keys().status_code == 200  # the emulator has no client address model


def test_all_kp_policies_in_one_put(kp):
    response = _put(kp, _policy('dualAuthDelete', False), _policy('rotation', True, {'interval_month': 1}),
                    _policy('allowedIP', True, {'allowed_ip': ['192.0.2.0/24']}), _policy('metrics', True))
    assert response.status_code == 204, response.text
    assert [p['policy_type'] for p in _get(kp)] == ['dualAuthDelete', 'metrics', 'rotation', 'allowedIP']


@pytest.mark.parametrize('policy', ['rotation', 'allowedIP'])
def test_hpcs_has_no_kp_policies(alice, policy):
    expect_error(alice.request('GET', 'instance/policies', params={'policy': policy}), 400, 'INVALID_QUERY_PARAM_ERR')
    body = _policy('rotation', True, {'interval_month': 1}) if policy == 'rotation' else \
        _policy('allowedIP', True, {'allowed_ip': ['192.0.2.0/24']})
    expect_error(_put(alice, body, policy=policy), 400, 'INVALID_QUERY_PARAM_ERR')
    expect_error(_put(alice, body), 400, 'INVALID_FIELD_ERR')


def test_hpcs_has_no_allowed_ip_port(alice):
    expect_error(alice.request('GET', 'instance/allowed_ip_port'), 400, 'INVALID_QUERY_PARAM_ERR')


@pytest.mark.parametrize('instance_id', [KP_XR, KP_DEDICATED])
def test_other_kms_plans_have_the_kp_policies(emu, instance_id):
    client = KmsClient(emu.http_url, instance=instance_id)
    assert _put(client, _policy('rotation', True, {'interval_month': 12}), policy='rotation').status_code == 204
    assert client.new_key('kp-rot')['rotation'] == {'enabled': True, 'interval_month': 12}
