# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IBM's own Key Protect Python SDK (``pip install keyprotect==3.0.1``) against the emulator over HTTPS."""

from __future__ import annotations

import base64
import json
import os
import uuid
from urllib.parse import quote

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hpcs_emulator.testing import ALICE_API_KEY, BOB_API_KEY, INSTANCE_A, INSTANCE_C, KEY_TYPE, key_body

# Hard imports on purpose: the fidelity test must fail, not skip, when the SDK is missing
# (tests/unit/requirements.txt installs it).
import keyprotect  # noqa: E402  pylint: disable=wrong-import-position
import ibm_cloud_sdk_core as sdk_core  # noqa: E402  pylint: disable=wrong-import-position
from ibm_cloud_sdk_core import authenticators  # noqa: E402  pylint: disable=wrong-import-position

POLICY_TYPE = 'application/vnd.ibm.kms.policy+json'


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


def _client(emu, api_key=ALICE_API_KEY):
    client = keyprotect.IbmKeyProtectApiV2(authenticator=authenticators.IAMAuthenticator(api_key, url=emu.https_url))
    client.set_service_url(emu.https_url)
    return client


def _policy_body(*resources) -> dict:
    return {'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': len(resources)}, 'resources': list(resources)}


def test_sdk_aliases_rings_and_patch(service):
    key = service.create_key(INSTANCE_A, json.dumps(key_body('sdk-aliased'))).get_result()['resources'][0]
    created = service.create_key_alias(key['id'], 'sdk-alias', INSTANCE_A)
    assert created.get_status_code() == 201
    alias = created.get_result()['resources'][0]
    assert alias['keyId'] == key['id'] and alias['alias'] == 'sdk-alias' and alias['createdBy'] == 'IBMid-alice'
    assert service.create_key_alias('sdk-alias', 'sdk-alias', INSTANCE_A).get_status_code() == 200
    assert service.get_key('sdk-alias', INSTANCE_A).get_result()['resources'][0]['aliases'] == ['sdk-alias']
    assert service.delete_key_alias(key['id'], 'sdk-alias', INSTANCE_A).get_status_code() == 204
    with pytest.raises(sdk_core.ApiException) as info:
        service.delete_key_alias(key['id'], 'sdk-alias', INSTANCE_A)
    assert info.value.status_code == 404

    assert service.create_key_ring('sdk-ring', INSTANCE_A).get_status_code() == 201
    rings = service.list_key_rings(INSTANCE_A, total_count=True).get_result()
    assert [ring['id'] for ring in rings['resources']] == ['default', 'sdk-ring'] and rings['metadata']['totalCount'] == 2
    patched = service.patch_key(key['id'], INSTANCE_A, key_patch_body=json.dumps({'keyRingID': 'sdk-ring'}))
    assert patched.get_result()['resources'][0]['keyRingID'] == 'sdk-ring'
    assert service.get_key(key['id'], INSTANCE_A, x_kms_key_ring='sdk-ring').get_status_code() == 200
    with pytest.raises(sdk_core.ApiException) as info:
        service.delete_key_ring('sdk-ring', INSTANCE_A)
    assert info.value.status_code == 409
    service.delete_key(key['id'], INSTANCE_A, x_kms_key_ring='sdk-ring')
    assert service.delete_key_ring('sdk-ring', INSTANCE_A, force=True).get_status_code() == 204


def test_sdk_actions_policies_and_dual_auth(service, emu):
    key = service.create_key(INSTANCE_A, json.dumps(key_body('sdk-actions'))).get_result()['resources'][0]
    assert service.disable_key(key['id'], INSTANCE_A).get_status_code() == 204
    assert service.get_key(key['id'], INSTANCE_A).get_result()['resources'][0]['state'] == 2
    assert service.enable_key(key['id'], INSTANCE_A).get_status_code() == 204
    assert service.action_on_key(key['id'], INSTANCE_A, 'disable', '{}').get_status_code() == 204
    assert service.action_on_key(key['id'], INSTANCE_A, 'enable', 'null').get_status_code() == 204
    assert service.sync_associated_resources(key['id'], INSTANCE_A).get_status_code() == 204

    rotation = {'type': POLICY_TYPE, 'rotation': {'enabled': True, 'interval_month': 3}}
    put = service.put_policy(key['id'], INSTANCE_A, _policy_body(rotation), policy='rotation')
    assert put.get_status_code() == 200 and put.get_result()['resources'][0]['rotation']['interval_month'] == 3
    service.put_policy(key['id'], INSTANCE_A, _policy_body({'type': POLICY_TYPE, 'dualAuthDelete': {'enabled': True}}))
    got = service.get_policy(key['id'], INSTANCE_A).get_result()['resources']
    assert [policy.get('rotation') or policy.get('dualAuthDelete') for policy in got] == [
        {'enabled': True, 'interval_month': 3}, {'enabled': True}]
    assert len(service.get_policy(key['id'], INSTANCE_A, policy='dualAuthDelete').get_result()['resources']) == 1

    with pytest.raises(sdk_core.ApiException) as info:
        service.delete_key(key['id'], INSTANCE_A)
    assert info.value.status_code == 409 and 'AUTHORIZATIONS_NOT_MET' in info.value.http_response.text
    assert service.set_key_for_deletion(key['id'], INSTANCE_A).get_status_code() == 204
    assert service.unset_key_for_deletion(key['id'], INSTANCE_A).get_status_code() == 204
    assert service.set_key_for_deletion(key['id'], INSTANCE_A).get_status_code() == 204
    bob = _client(emu, BOB_API_KEY)
    assert bob.delete_key(key['id'], INSTANCE_A).get_status_code() == 204

    # restore after 30 s, purge after 4 h (fresh SDK clients: their token cache runs on real time)
    emu.state.clock.advance(30)
    restored = _client(emu).restore_key(key['id'], INSTANCE_A)
    assert restored.get_status_code() == 201 and restored.get_result()['resources'][0]['state'] == 1
    bob.set_key_for_deletion(key['id'], INSTANCE_A)
    service.delete_key(key['id'], INSTANCE_A)
    emu.state.clock.advance(4 * 3600)
    purged = _client(emu).purge_key(key['id'], INSTANCE_A)
    assert purged.get_status_code() == 200 and purged.get_result()['resources'][0]['id'] == key['id']
    with pytest.raises(sdk_core.ApiException) as info:
        _client(emu).get_key(key['id'], INSTANCE_A)
    assert info.value.status_code == 404


def test_sdk_rotate_versions_and_wrapping(service):
    key = service.create_key(INSTANCE_A, json.dumps(key_body('sdk-kek'))).get_result()['resources'][0]
    dek = base64.b64encode(b'k' * 32).decode()
    wrapped = service.wrap_key(key['id'], INSTANCE_A, key_action_wrap_body=json.dumps({'plaintext': dek, 'aad': ['sdk']}))
    assert wrapped.get_status_code() == 200
    ciphertext = wrapped.get_result()['ciphertext']
    generated = service.wrap_key(key['id'], INSTANCE_A).get_result()
    assert len(base64.b64decode(generated['plaintext'])) == 32

    assert service.rotate_key(key['id'], INSTANCE_A).get_status_code() == 204
    versions = service.get_key_versions(key['id'], INSTANCE_A, total_count=True).get_result()
    assert versions['metadata']['totalCount'] == 2 and versions['resources'][1]['id'] == key['id']
    latest = versions['resources'][0]['id']

    unwrapped = service.unwrap_key(key['id'], INSTANCE_A, json.dumps({'ciphertext': ciphertext, 'aad': ['sdk']})).get_result()
    assert unwrapped['plaintext'] == dek and unwrapped['rewrappedKeyVersion'] == {'id': latest}
    rewrapped = service.rewrap_key(key['id'], INSTANCE_A, json.dumps({'ciphertext': ciphertext, 'aad': ['sdk']})).get_result()
    assert rewrapped['keyVersion'] == {'id': key['id']} and rewrapped['rewrappedKeyVersion'] == {'id': latest}
    with pytest.raises(sdk_core.ApiException) as info:
        service.unwrap_key(key['id'], INSTANCE_A, json.dumps({'ciphertext': ciphertext, 'aad': ['other']}))
    assert info.value.status_code == 422
    via_action = service.action_on_key(key['id'], INSTANCE_A, 'unwrap', json.dumps({'ciphertext': ciphertext, 'aad': ['sdk']}))
    assert via_action.get_result()['plaintext'] == dek


def test_sdk_instance_policies_import_token_and_registrations(service, emu):
    body = {'metadata': {'collectionType': POLICY_TYPE, 'collectionTotal': 2},
            'resources': [{'policy_type': 'keyCreateImportAccess',
                           'policy_data': {'enabled': True, 'attributes': {'enforce_token': True}}},
                          {'policy_type': 'metrics', 'policy_data': {'enabled': True}}]}
    assert service.put_instance_policy(INSTANCE_A, body).get_status_code() == 204
    got = service.get_instance_policy(INSTANCE_A).get_result()['resources']
    assert [policy['policy_type'] for policy in got] == ['keyCreateImportAccess', 'metrics']
    one = service.get_instance_policy(INSTANCE_A, policy='metrics').get_result()['resources']
    assert one[0]['policy_data'] == {'enabled': True}

    created = service.post_import_token(INSTANCE_A, expiration=900, max_allowed_retrievals=2)
    assert created.get_status_code() == 200 and created.get_result()['remainingRetrievals'] == 2
    token = service.get_import_token(INSTANCE_A).get_result()
    assert token['remainingRetrievals'] == 1
    material = os.urandom(32)
    public_key = serialization.load_pem_public_key(base64.b64decode(token['payload']))
    init_vector = os.urandom(12)
    oaep = asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    encrypted_nonce = AESGCM(material).encrypt(init_vector, base64.b64decode(token['nonce']), None)
    resource = {'payload': base64.b64encode(public_key.encrypt(material, oaep)).decode(),
                'encryptedNonce': base64.b64encode(encrypted_nonce).decode(),
                'iv': base64.b64encode(init_vector).decode(), 'encryptionAlgorithm': 'RSAES_OAEP_SHA_256'}
    imported = service.create_key(INSTANCE_A, json.dumps(key_body('sdk-secure', False, **resource)))
    assert imported.get_status_code() == 201 and imported.get_result()['resources'][0]['imported'] is True
    key_id = imported.get_result()['resources'][0]['id']

    crn = 'crn:v1:bluemix:public:cloud-object-storage:global:a/acct:inst::bucket:sdk-bucket'
    seeded = requests.post(f'{emu.http_url}/_emulator/registrations', timeout=10, json={
        'instance_id': INSTANCE_A, 'key_id': key_id, 'resource_crn': crn, 'prevent_key_deletion': True})
    assert seeded.status_code == 201
    listed = service.get_registrations(key_id, INSTANCE_A, prevent_key_deletion=True, total_count=True).get_result()
    assert [reg['resourceCrn'] for reg in listed['resources']] == [crn] and listed['metadata']['totalCount'] == 1
    everything = service.get_registrations_all_keys(INSTANCE_A, url_encoded_resource_crn_query=quote(crn[:-6] + '*', safe=''))
    assert len(everything.get_result()['resources']) == 1
    with pytest.raises(sdk_core.ApiException) as info:
        service.delete_key(key_id, INSTANCE_A, force=True)
    assert info.value.status_code == 409 and 'PREV_KEY_DEL_ERR' in info.value.http_response.text
