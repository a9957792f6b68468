# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IBM's own Key Protect Python SDK (``pip install keyprotect==3.0.1``) against the emulator over HTTPS."""

from __future__ import annotations

import json
import uuid

import pytest

from hpcs_emulator.testing import ALICE_API_KEY, INSTANCE_A, INSTANCE_C, KEY_TYPE, key_body

# Hard imports on purpose: the fidelity test must fail, not skip, when the SDK is missing
# (tests/unit/requirements.txt and tests/requirements-dev.txt install it).
import keyprotect  # noqa: E402  pylint: disable=wrong-import-position
import ibm_cloud_sdk_core as sdk_core  # noqa: E402  pylint: disable=wrong-import-position
from ibm_cloud_sdk_core import authenticators  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def service(emu, monkeypatch):
    # Neither the SDK nor its IAM token manager takes a CA file; requests reads this variable.
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', emu.ca_path)
    authenticator = authenticators.IAMAuthenticator(ALICE_API_KEY, url=emu.https_url)
    client = keyprotect.IbmKeyProtectApiV2(authenticator=authenticator)
    client.set_service_url(emu.https_url)
    client.set_disable_ssl_verification(False)
    return client


def test_sdk_key_lifecycle(service, emu):
    correlation_id = str(uuid.uuid4())
    created = service.create_key(INSTANCE_A, json.dumps(key_body('sdk-root', False, aliases=['sdk-root-alias'])),
                                 prefer='return=representation', correlation_id=correlation_id)
    assert created.get_status_code() == 201
    assert created.get_headers()['Correlation-Id'] == correlation_id
    root = created.get_result()['resources'][0]
    assert root['extractable'] is False and root['createdBy'] == 'IBMid-alice'

    standard = service.create_key(INSTANCE_A, json.dumps(key_body('sdk-standard', True)))
    assert standard.get_status_code() == 201
    standard_key = standard.get_result()['resources'][0]
    assert standard_key['payload']

    overrides = service.create_key_with_policies_overrides(
        INSTANCE_A, json.dumps(key_body('sdk-policies', False, rotation={'enabled': True, 'interval_month': 2})))
    assert overrides.get_result()['resources'][0]['rotation'] == {'enabled': True, 'interval_month': 2}

    by_id = service.get_key(root['id'], INSTANCE_A).get_result()['resources'][0]
    by_alias = service.get_key('sdk-root-alias', INSTANCE_A).get_result()['resources'][0]
    assert by_id['id'] == by_alias['id'] == root['id']
    assert service.get_key(standard_key['id'], INSTANCE_A).get_result()['resources'][0]['payload'] == standard_key['payload']
    assert service.get_key_metadata('sdk-root-alias', INSTANCE_A).get_result()['resources'][0]['name'] == 'sdk-root'

    listed = service.get_keys(INSTANCE_A, limit=10, offset=0).get_result()
    assert listed['metadata'] == {'collectionType': KEY_TYPE, 'collectionTotal': 3}
    roots = service.get_keys(INSTANCE_A, extractable=False, sort='-creationDate').get_result()['resources']
    assert {key['name'] for key in roots} == {'sdk-root', 'sdk-policies'}
    found = service.get_keys(INSTANCE_A, search='alias:sdk-root').get_result()['resources']
    assert [key['id'] for key in found] == [root['id']]
    total = service.get_key_collection_metadata(INSTANCE_A)
    assert total.get_status_code() == 200 and total.get_headers()['Key-Total'] == '3'
    assert service.get_registrations_all_keys(INSTANCE_A).get_result()['resources'] == []

    deleted = service.delete_key(root['id'], INSTANCE_A, prefer='return=representation')
    assert deleted.get_status_code() == 200
    assert deleted.get_result()['resources'][0]['state'] == 5
    minimal = service.delete_key(standard_key['id'], INSTANCE_A)
    assert minimal.get_status_code() == 204
    assert {key['id'] for key in service.get_keys(INSTANCE_A, state=[5]).get_result()['resources']} == {
        root['id'], standard_key['id']}
    # every call went over the public HTTPS listener with a token from the emulator's IAM
    entries = emu.state.requests.entries()
    assert {entry['listener'] for entry in entries} == {'public'}
    assert [entry['service'] for entry in entries].count('iam') == 1


def test_sdk_errors(service):
    with pytest.raises(sdk_core.ApiException) as info:
        service.get_key(str(uuid.uuid4()), INSTANCE_A)
    assert info.value.status_code == 404
    assert 'KEY_NOT_FOUND_ERR' in info.value.message or 'KEY_NOT_FOUND_ERR' in info.value.http_response.text
    with pytest.raises(sdk_core.ApiException) as info:
        service.get_keys(INSTANCE_C)
    assert info.value.status_code == 401
    with pytest.raises(sdk_core.ApiException) as info:
        service.delete_key(str(uuid.uuid4()), INSTANCE_A)
    assert info.value.status_code == 404
    with pytest.raises(sdk_core.ApiException) as info:
        service.create_key(INSTANCE_A, json.dumps(key_body('x')))
    assert info.value.status_code == 400
    assert 'INVALID_FIELD_ERR' in info.value.http_response.text


def test_sdk_bad_api_key(emu, monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', emu.ca_path)
    client = keyprotect.IbmKeyProtectApiV2(authenticator=authenticators.IAMAuthenticator('wrong-key-0000', url=emu.https_url))
    client.set_service_url(emu.https_url)
    with pytest.raises(sdk_core.ApiException) as info:
        client.get_keys(INSTANCE_A)
    assert info.value.status_code == 400
    assert 'Provided API key could not be found' in info.value.message
