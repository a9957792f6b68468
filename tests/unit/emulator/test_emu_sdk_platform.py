# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IBM's Platform Services SDK (``ResourceControllerV2``, ``pip install ibm-platform-services==0.77.1``) and IBM's
Key Protect SDK against the emulator's Resource Controller and Key Protect instances, over HTTPS."""

from __future__ import annotations

import json

import pytest

from hpcs_emulator.testing import (ACCOUNT_ID, ALICE_API_KEY, CAROL_API_KEY, INSTANCE_A, INSTANCE_B, INSTANCE_C,
                                   KP_DEDICATED, KP_DEDICATED_NEW, KP_STANDARD, KP_XR, PLAN_IDS, SERVICE_IDS, key_body)

# Hard imports on purpose: the fidelity test must fail, not skip, when an SDK is missing (tests/unit/requirements.txt).
import keyprotect  # noqa: E402  pylint: disable=wrong-import-position
from ibm_cloud_sdk_core import ApiException  # noqa: E402  pylint: disable=wrong-import-position
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator  # noqa: E402  pylint: disable=wrong-import-position
from ibm_platform_services import ResourceControllerV2  # noqa: E402  pylint: disable=wrong-import-position
from ibm_platform_services.resource_controller_v2 import ResourceInstancesPager  # noqa: E402  pylint: disable=wrong-import-position

MAIN_ACCOUNT = {INSTANCE_A, INSTANCE_B, KP_STANDARD, KP_XR, KP_DEDICATED, KP_DEDICATED_NEW}
POLICY_TYPE = 'application/vnd.ibm.kms.policy+json'


def _controller(emu, monkeypatch, api_key=ALICE_API_KEY) -> ResourceControllerV2:
    # Neither the SDK nor its IAM token manager takes a CA file; requests reads this variable.
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', emu.ca_path)
    client = ResourceControllerV2(authenticator=IAMAuthenticator(api_key, url=emu.https_url))
    client.set_service_url(emu.https_url)
    return client


@pytest.fixture
def controller(emu, monkeypatch):
    return _controller(emu, monkeypatch)


def test_sdk_pages_through_all_instances(controller):
    pager = ResourceInstancesPager(client=controller, limit=2)
    pages = []
    while pager.has_next():
        pages.append(pager.get_next())
    assert len(pages) >= 3 and all(len(page) <= 2 for page in pages)
    found = {record['guid'] for page in pages for record in page}
    assert MAIN_ACCOUNT <= found  # other tests may add instances to the shared emulator's account
    assert INSTANCE_C not in found  # eve's account
    assert {record['guid'] for record in ResourceInstancesPager(client=controller, limit=3).get_all()} == found


def test_sdk_filters(controller):
    dedicated = ResourceInstancesPager(client=controller, limit=1, resource_plan_id=PLAN_IDS['dedicated']).get_all()
    assert [record['guid'] for record in dedicated] == [KP_DEDICATED, KP_DEDICATED_NEW]
    assert {record['resource_plan_id'] for record in dedicated} == {PLAN_IDS['dedicated']}
    by_name = controller.list_resource_instances(name='kp-standard').get_result()
    assert by_name['rows_count'] == 1 and by_name['next_url'] is None
    assert by_name['resources'][0]['guid'] == KP_STANDARD
    by_guid = controller.list_resource_instances(guid=KP_XR, resource_id=SERVICE_IDS['kms']).get_result()
    assert [record['name'] for record in by_guid['resources']] == ['kp-xr']


def test_sdk_get_by_guid_and_crn(controller, emu):
    record = controller.get_resource_instance(id=KP_DEDICATED).get_result()
    assert record['crn'] == f'crn:v1:bluemix:public:kms:us-east:a/{ACCOUNT_ID}:{KP_DEDICATED}::'
    assert record['extensions']['endpoints'] == {'public': emu.https_url, 'private': emu.private_url}
    assert record['sub_type'] == 'kms' and record['resource_id'] == SERVICE_IDS['kms']
    by_crn = controller.get_resource_instance(id=record['crn']).get_result()  # the SDK URL-encodes the CRN
    assert by_crn['guid'] == KP_DEDICATED


def test_sdk_403_without_resource_controller_access(emu, monkeypatch):
    carol = _controller(emu, monkeypatch, CAROL_API_KEY)
    with pytest.raises(ApiException) as error:
        carol.get_resource_instance(id=KP_STANDARD)
    assert error.value.status_code == 403 and 'Viewer' in error.value.message
    with pytest.raises(ApiException) as error:
        ResourceInstancesPager(client=carol, limit=10).get_next()
    assert error.value.status_code == 403


@pytest.mark.parametrize('instance_id', [INSTANCE_C, '00000000-0000-4000-8000-000000000000'])
def test_sdk_404_for_another_account_or_unknown(controller, instance_id):
    with pytest.raises(ApiException) as error:
        controller.get_resource_instance(id=instance_id)
    assert error.value.status_code == 404 and 'not found' in error.value.message


@pytest.fixture
def keyprotect_client(emu, monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', emu.ca_path)
    client = keyprotect.IbmKeyProtectApiV2(authenticator=IAMAuthenticator(ALICE_API_KEY, url=emu.https_url))
    client.set_service_url(emu.https_url)
    return client


@pytest.mark.parametrize('instance_id', [KP_STANDARD, KP_DEDICATED])
def test_keyprotect_sdk_on_key_protect(keyprotect_client, instance_id):
    body = {'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': 1},
            'resources': [{'policy_type': 'rotation', 'policy_data': {'enabled': True, 'attributes': {'interval_month': 4}}}]}
    put = keyprotect_client.put_instance_policy(instance_id, body, policy='rotation')
    assert put.get_status_code() == 204
    policy = keyprotect_client.get_instance_policy(instance_id, policy='rotation').get_result()['resources'][0]
    assert policy['policy_type'] == 'rotation'
    assert policy['policy_data'] == {'enabled': True, 'attributes': {'interval_month': 4}}
    created = keyprotect_client.create_key(instance_id, json.dumps(key_body('sdk-kp-root'))).get_result()['resources'][0]
    assert created['crn'].startswith('crn:v1:bluemix:public:kms:') and created['crn'].endswith(f'{instance_id}:key:{created["id"]}')
    assert created['rotation'] == {'enabled': True, 'interval_month': 4}
    listed = keyprotect_client.get_keys(instance_id).get_result()
    assert [key['id'] for key in listed['resources']] == [created['id']]


def test_keyprotect_sdk_allowed_ip_port(keyprotect_client):
    body = {'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': 1},
            'resources': [{'policy_type': 'allowedIP',
                           'policy_data': {'enabled': True, 'attributes': {'allowed_ip': ['192.0.2.0/24']}}}]}
    assert keyprotect_client.put_instance_policy(KP_STANDARD, body, policy='allowedIP').get_status_code() == 204
    port = keyprotect_client.get_allowed_ip_port(KP_STANDARD).get_result()
    assert port['resources'] == [{'private_endpoint_port': 15008}]


def test_keyprotect_sdk_sees_dedicated_refusals(keyprotect_client):
    with pytest.raises(ApiException) as error:
        keyprotect_client.post_import_token(KP_DEDICATED, expiration=600)
    assert error.value.status_code == 403
    with pytest.raises(ApiException) as error:
        keyprotect_client.get_keys(KP_DEDICATED_NEW)
    assert error.value.status_code == 503
