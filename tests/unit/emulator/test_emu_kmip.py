# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMIP management API (Key Protect): adapters, client certificates, KMIP objects, the object control endpoint."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hpcs_emulator.testing import (ALICE_API_KEY, INSTANCE_A, KP_DEDICATED, KP_DEDICATED_NEW, KP_STANDARD, KP_XR, KmsClient,
                                   control, expect_error)

# Hard imports on purpose, as in test_emu_sdk_fidelity.py: the SDK test must fail, not skip, without the SDK.
import keyprotect  # noqa: E402  pylint: disable=wrong-import-position
import ibm_cloud_sdk_core as sdk_core  # noqa: E402  pylint: disable=wrong-import-position
from ibm_cloud_sdk_core import authenticators  # noqa: E402  pylint: disable=wrong-import-position

ADAPTER_TYPE = 'application/vnd.ibm.kms.kmip_adapter+json'
CERT_TYPE = 'application/vnd.ibm.kms.kmip_client_certificate+json'
OBJECT_TYPE = 'application/vnd.ibm.kms.kmip_object+json'
ADAPTER_FIELDS = ['id', 'profile', 'profile_data', 'name', 'description', 'created_at', 'created_by', 'updated_at', 'updated_by']
OBJECT_FIELDS = {'id', 'kmip_object_type', 'state', 'created_at', 'created_by_kmip_client_cert_id', 'created_by', 'updated_at',
                 'updated_by_kmip_client_cert_id', 'updated_by', 'recoverable'}
DESTROYED_FIELDS = {'destroyed_at', 'destroyed_by_kmip_client_cert_id', 'destroyed_by'}
_SIGNER = ec.generate_private_key(ec.SECP256R1())


def make_pem(common_name: str = 'kmip-client') -> str:
    """A fresh self-signed client certificate (a new serial each time, so two calls never give the same certificate)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(_SIGNER.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .sign(_SIGNER, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


def adapter_body(crk_id, name=None, description=None, **extra) -> dict:
    resource = dict({'profile': 'native_1.0', 'profile_data': {'crk_id': crk_id}}, **extra)
    if name is not None:
        resource['name'] = name
    if description is not None:
        resource['description'] = description
    return {'metadata': {'collectionType': ADAPTER_TYPE, 'collectionTotal': 1}, 'resources': [resource]}


def cert_body(pem, name=None) -> dict:
    resource = {'certificate': pem}
    if name is not None:
        resource['name'] = name
    return {'metadata': {'collectionType': CERT_TYPE, 'collectionTotal': 1}, 'resources': [resource]}


def new_adapter(client: KmsClient, crk_id, name=None, **kwargs) -> dict:
    response = client.request('POST', 'kmip_adapters', json=adapter_body(crk_id, name, **kwargs))
    assert response.status_code == 201, response.text
    return response.json()['resources'][0]


def new_cert(client: KmsClient, adapter: str, pem=None, name=None) -> dict:
    response = client.request('POST', f'kmip_adapters/{adapter}/certificates', json=cert_body(pem or make_pem(), name))
    assert response.status_code == 201, response.text
    return response.json()['resources'][0]


def advance(emu, seconds: float) -> None:
    assert control(emu.http_url, 'POST', 'clock', json={'advance': seconds}).status_code == 200


def seed(emu, instance, adapter, cert, **fields):
    return control(emu.http_url, 'POST', 'kmip_objects', json=dict({'instance_id': instance, 'adapter': adapter, 'certificate': cert},
                                                                   **fields))


def seeded(emu, instance, adapter, cert, **fields) -> list:
    response = seed(emu, instance, adapter, cert, **fields)
    assert response.status_code == 201, response.text
    return response.json()['objects']


def ready_adapter(emu, client: KmsClient, name='adapter-1') -> tuple:
    """An adapter with one certificate past the registration delay: (adapter, certificate)."""
    key = client.new_key(f'crk-{name}')
    adapter = new_adapter(client, key['id'], name)
    cert = new_cert(client, adapter['id'], name=f'{name}-cert')
    advance(emu, 300)
    client.forget_token()
    return adapter, cert


def objects(client: KmsClient, adapter: str, **params) -> dict:
    response = client.request('GET', f'kmip_adapters/{adapter}/kmip_objects', params=params)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- adapters

def test_adapter_create_get_list_delete(kp, emu):
    key = kp.new_key('kmip-root', aliases=['kmip-root-alias'])
    # the Go client's exact body: description "" and the root key by alias
    response = kp.request('POST', 'kmip_adapters', json=adapter_body('kmip-root-alias', 'kmip-adapter-123', description=''))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body['metadata'] == {'collectionType': ADAPTER_TYPE, 'collectionTotal': 1}
    adapter = body['resources'][0]
    assert list(adapter) == ADAPTER_FIELDS
    assert uuid.UUID(adapter['id']).version == 4
    assert adapter['profile'] == 'native_1.0' and adapter['profile_data'] == {'crk_id': key['id']}
    assert adapter['name'] == 'kmip-adapter-123' and adapter['description'] == ''
    assert adapter['created_by'] == adapter['updated_by'] == 'IBMid-alice'
    assert adapter['created_at'] == adapter['updated_at'] == key['creationDate']
    for ref in (adapter['id'], adapter['id'].upper(), 'kmip-adapter-123'):
        got = kp.request('GET', f'kmip_adapters/{ref}')
        assert got.status_code == 200 and got.json() == body
    listed = kp.request('GET', 'kmip_adapters').json()
    assert listed == body
    assert kp.request('DELETE', 'kmip_adapters/kmip-adapter-123').status_code == 204
    expect_error(kp.request('GET', f'kmip_adapters/{adapter["id"]}'), 404, 'KMIP_ADAPTER_NOT_FOUND_ERR')
    expect_error(kp.request('DELETE', f'kmip_adapters/{adapter["id"]}'), 404, 'KMIP_ADAPTER_NOT_FOUND_ERR')
    assert kp.request('GET', 'kmip_adapters').json()['resources'] == []


def test_adapter_defaults_and_content_types(kp):
    key = kp.new_key('kmip-root')
    plain = new_adapter(kp, key['id'])
    assert re.fullmatch(r'kmip_adapter_[0-9a-f]{8}', plain['name']) and plain['description'] == ''
    described = kp.request('POST', 'kmip_adapters', json=adapter_body(key['id'], 'vnd', description='x' * 240),
                           headers=kp.headers(Content_Type=ADAPTER_TYPE))
    assert described.status_code == 201 and described.json()['resources'][0]['description'] == 'x' * 240
    no_type = kp.request('POST', 'kmip_adapters', data=f'{{"metadata": {{"collectionType": "{ADAPTER_TYPE}", "collectionTotal": 1}}, '
                         f'"resources": [{{"profile": "native_1.0", "profile_data": {{"crk_id": "{key["id"]}"}}, "name": "no-type"}}]}}')
    assert no_type.status_code == 201, no_type.text


@pytest.mark.parametrize('resource, code, target', [
    ({'profile': 'native_2.0'}, 'INVALID_FIELD_ERR', 'profile'),
    ({'profile': None}, 'INVALID_FIELD_ERR', 'profile'),
    ({'profile_data': {}}, 'INVALID_FIELD_ERR', 'crk_id'),
    ({'profile_data': None}, 'INVALID_FIELD_ERR', 'crk_id'),
    ({'name': 'a'}, 'INVALID_FIELD_ERR', 'name'),
    ({'name': 'a' * 41}, 'INVALID_FIELD_ERR', 'name'),
    ({'name': 'has space'}, 'INVALID_FIELD_ERR', 'name'),
    ({'name': 'dot.ted'}, 'INVALID_FIELD_ERR', 'name'),
    ({'name': '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e'}, 'INVALID_FIELD_ERR', 'name'),
    ({'description': 'x' * 241}, 'INVALID_FIELD_ERR', 'description'),
    ({'name': 5}, 'BAD_BODY_ERR', None),
    ({'description': 5}, 'BAD_BODY_ERR', None),
    ({'profile_data': 'crk'}, 'BAD_BODY_ERR', None),
    ({'colour': 'red'}, 'BAD_BODY_ERR', None),
])
def test_adapter_field_rules(kp, resource, code, target):
    key = kp.new_key('kmip-root')
    body = adapter_body(key['id'], 'valid-name')
    body['resources'][0].update(resource)
    reason = expect_error(kp.request('POST', 'kmip_adapters', json=body), 400, code)
    if target:
        assert reason['target'] == {'type': 'field', 'name': target}
    assert kp.request('GET', 'kmip_adapters').json()['resources'] == []


def test_adapter_envelope_rules(kp):
    key = kp.new_key('kmip-root')
    wrong_type = adapter_body(key['id'])
    wrong_type['metadata']['collectionType'] = 'application/vnd.ibm.kms.key+json'
    expect_error(kp.request('POST', 'kmip_adapters', json=wrong_type), 400, 'INVALID_FIELD_ERR')
    two = adapter_body(key['id'])
    two['resources'] *= 2
    expect_error(kp.request('POST', 'kmip_adapters', json=two), 400, 'COLLECTION_TOTAL_MISMATCH_ERR')
    expect_error(kp.request('POST', 'kmip_adapters'), 400, 'NO_BODY_ERR')


def test_adapter_root_key_rules(kp, emu):
    standard = kp.new_key('standard', extractable=True)
    reason = expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body(standard['id'])), 400, 'KMIP_CRK_INVALID_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'crk_id'}
    expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body(str(uuid.uuid4()))), 400, 'KMIP_CRK_INVALID_ERR')
    expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body('no-such-alias')), 400, 'KMIP_CRK_INVALID_ERR')
    other = KmsClient(emu.http_url, instance=KP_XR).new_key('elsewhere')
    expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body(other['id'])), 400, 'KMIP_CRK_INVALID_ERR')
    disabled = kp.new_key('disabled')
    assert kp.action(disabled['id'], 'disable').status_code == 204
    reason = expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body(disabled['id'])), 409, 'KMIP_CRK_NOT_ACTIVE_ERR')
    assert 'state 2' in reason['message']
    deleted = kp.new_key('deleted')
    assert kp.delete_key(deleted['id']).status_code == 204
    expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body(deleted['id'])), 409, 'KMIP_CRK_NOT_ACTIVE_ERR')
    # the SDK's allowExpiringKey: a root key with an expiration date needs it
    expiring = kp.new_key('expiring', expirationDate='2099-01-01T00:00:00Z')
    expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body(expiring['id'])), 400, 'KMIP_CRK_EXPIRING_ERR')
    allowed = kp.request('POST', 'kmip_adapters', params={'allowExpiringKey': 'true'}, json=adapter_body(expiring['id']))
    assert allowed.status_code == 201, allowed.text
    expect_error(kp.request('POST', 'kmip_adapters', params={'allowExpiringKey': 'yes'}, json=adapter_body(expiring['id'])),
                 400, 'INVALID_QUERY_PARAM_ERR')


def test_adapter_name_unique_in_instance(kp, emu):
    key = kp.new_key('kmip-root')
    new_adapter(kp, key['id'], 'shared-name')
    reason = expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body(key['id'], 'shared-name')), 409,
                          'KMIP_ADAPTER_NAME_CONFLICT_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'name'}
    xr = KmsClient(emu.http_url, instance=KP_XR)
    new_adapter(xr, xr.new_key('xr-root')['id'], 'shared-name')
    assert len(kp.request('GET', 'kmip_adapters').json()['resources']) == 1


def test_adapter_quota(kp):
    key = kp.new_key('kmip-root')
    for index in range(200):
        new_adapter(kp, key['id'], f'adapter-{index}')
    expect_error(kp.request('POST', 'kmip_adapters', json=adapter_body(key['id'], 'adapter-200')), 400, 'KMIP_ADAPTER_QUOTA_ERR')
    assert kp.request('DELETE', 'kmip_adapters/adapter-7').status_code == 204
    new_adapter(kp, key['id'], 'adapter-200')


def test_adapter_list_order_paging_filter(kp, emu):
    first = kp.new_key('first', aliases=['first-alias'])
    second = kp.new_key('second')
    made = []
    for index in range(5):
        made.append(new_adapter(kp, first['id'] if index % 2 == 0 else second['id'], f'adapter-{index}'))
        if index == 2:
            advance(emu, 10)  # the first three share a created_at and go by id, the last two come after
    expected = sorted(made[:3], key=lambda a: a['id']) + sorted(made[3:], key=lambda a: a['id'])
    listed = kp.request('GET', 'kmip_adapters').json()
    assert [a['id'] for a in listed['resources']] == [a['id'] for a in expected]
    assert 'totalCount' not in listed['metadata']
    page = kp.request('GET', 'kmip_adapters', params={'limit': 2, 'offset': 1, 'totalCount': 'true'}).json()
    assert page['metadata'] == {'collectionType': ADAPTER_TYPE, 'collectionTotal': 2, 'totalCount': 5}
    assert [a['id'] for a in page['resources']] == [a['id'] for a in expected[1:3]]
    for ref in (first['id'], first['id'].upper(), 'first-alias'):
        filtered = kp.request('GET', 'kmip_adapters', params={'crk_id': ref, 'totalCount': 'true'}).json()
        assert sorted(a['name'] for a in filtered['resources']) == ['adapter-0', 'adapter-2', 'adapter-4']
        assert filtered['metadata']['totalCount'] == 3
    assert kp.request('GET', 'kmip_adapters', params={'crk_id': str(uuid.uuid4())}).json()['resources'] == []
    assert len(kp.request('GET', 'kmip_adapters', params={'limit': 200}).json()['resources']) == 5


@pytest.mark.parametrize('params', [{'limit': 0}, {'limit': 201}, {'limit': 'x'}, {'offset': -1}, {'totalCount': 'yes'}])
def test_adapter_list_bad_query(kp, params):
    reason = expect_error(kp.request('GET', 'kmip_adapters', params=params), 400, 'INVALID_QUERY_PARAM_ERR')
    assert reason['target']['name'] == next(iter(params))


# ---------------------------------------------------------------- certificates

def test_certificate_create_get_list_delete(kp, emu):
    adapter = new_adapter(kp, kp.new_key('kmip-root')['id'], 'adapter-1')
    advance(emu, 60)
    pem = make_pem()
    response = kp.request('POST', 'kmip_adapters/adapter-1/certificates', json=cert_body(pem, 'kmip-client-certificate'))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body['metadata'] == {'collectionType': CERT_TYPE, 'collectionTotal': 1}
    cert = body['resources'][0]
    assert list(cert) == ['id', 'name', 'created_at', 'created_by'] and uuid.UUID(cert['id']).version == 4
    assert cert['name'] == 'kmip-client-certificate' and cert['created_by'] == 'IBMid-alice'
    moved = kp.request('GET', f'kmip_adapters/{adapter["id"]}').json()['resources'][0]
    assert moved['updated_at'] == cert['created_at'] != adapter['updated_at'] and moved['created_at'] == adapter['created_at']
    for ref in (cert['id'], 'kmip-client-certificate'):
        got = kp.request('GET', f'kmip_adapters/adapter-1/certificates/{ref}').json()
        assert got['resources'] == [dict(cert, certificate=pem)]
    default = new_cert(kp, adapter['id'])
    assert re.fullmatch(r'kmip_cert_[0-9a-f]{8}', default['name'])
    listed = kp.request('GET', f'kmip_adapters/{adapter["id"]}/certificates', params={'totalCount': 'true'}).json()
    assert listed['metadata'] == {'collectionType': CERT_TYPE, 'collectionTotal': 2, 'totalCount': 2}
    assert sorted(c['id'] for c in listed['resources']) == sorted((cert['id'], default['id']))
    assert all('certificate' not in c for c in listed['resources'])
    advance(emu, 60)
    kp.forget_token()
    assert kp.request('DELETE', 'kmip_adapters/adapter-1/certificates/kmip-client-certificate').status_code == 204
    after = kp.request('GET', 'kmip_adapters/adapter-1').json()['resources'][0]
    assert after['updated_at'] > moved['updated_at']
    expect_error(kp.request('GET', f'kmip_adapters/adapter-1/certificates/{cert["id"]}'), 404, 'KMIP_CERT_NOT_FOUND_ERR')
    expect_error(kp.request('DELETE', f'kmip_adapters/adapter-1/certificates/{cert["id"]}'), 404, 'KMIP_CERT_NOT_FOUND_ERR')
    assert [c['id'] for c in kp.request('GET', 'kmip_adapters/adapter-1/certificates').json()['resources']] == [default['id']]


@pytest.mark.parametrize('pem', [
    'not a certificate',
    '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',  # the shape, but no X.509 inside
    '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n',
    '',
])
def test_certificate_pem_rules(kp, pem):
    new_adapter(kp, kp.new_key('kmip-root')['id'], 'adapter-1')
    reason = expect_error(kp.request('POST', 'kmip_adapters/adapter-1/certificates', json=cert_body(pem)), 400, 'INVALID_FIELD_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'certificate'}


def test_certificate_field_rules(kp):
    new_adapter(kp, kp.new_key('kmip-root')['id'], 'adapter-1')
    path = 'kmip_adapters/adapter-1/certificates'
    expect_error(kp.request('POST', path, json=cert_body(None)), 400, 'INVALID_FIELD_ERR')
    expect_error(kp.request('POST', path, json=cert_body(make_pem(), 'x')), 400, 'INVALID_FIELD_ERR')
    expect_error(kp.request('POST', path, json=cert_body(make_pem(), str(uuid.uuid4()))), 400, 'INVALID_FIELD_ERR')
    wrong_type = cert_body(make_pem())
    wrong_type['metadata']['collectionType'] = ADAPTER_TYPE
    expect_error(kp.request('POST', path, json=wrong_type), 400, 'INVALID_FIELD_ERR')
    # the PEM with Windows line ends and surrounding blanks is accepted and given back as sent
    windows = '\n ' + make_pem().replace('\n', '\r\n')
    cert = new_cert(kp, 'adapter-1', windows, 'windows')
    assert kp.request('GET', f'{path}/{cert["id"]}').json()['resources'][0]['certificate'] == windows


def test_certificate_name_unique_in_adapter(kp):
    key = kp.new_key('kmip-root')
    new_adapter(kp, key['id'], 'adapter-1')
    new_adapter(kp, key['id'], 'adapter-2')
    new_cert(kp, 'adapter-1', name='client')
    reason = expect_error(kp.request('POST', 'kmip_adapters/adapter-1/certificates', json=cert_body(make_pem(), 'client')), 409,
                          'KMIP_CERT_NAME_CONFLICT_ERR')
    assert reason['target'] == {'type': 'field', 'name': 'name'}
    new_cert(kp, 'adapter-2', name='client')


def test_certificate_quota(kp):
    new_adapter(kp, kp.new_key('kmip-root')['id'], 'adapter-1')
    for index in range(200):
        new_cert(kp, 'adapter-1', name=f'cert-{index}')
    expect_error(kp.request('POST', 'kmip_adapters/adapter-1/certificates', json=cert_body(make_pem())), 400, 'KMIP_CERT_QUOTA_ERR')


def test_certificate_content_unique_per_region(kp, emu):
    new_adapter(kp, kp.new_key('kmip-root')['id'], 'adapter-1')
    new_adapter(kp, kp.new_key('kmip-root-2')['id'], 'adapter-2')
    pem = make_pem()
    new_cert(kp, 'adapter-1', pem, 'first')
    reason = expect_error(kp.request('POST', 'kmip_adapters/adapter-2/certificates', json=cert_body(pem)), 409, 'KMIP_CERT_IN_USE_ERR')
    assert 'adapter-1' not in reason['message'] and KP_STANDARD not in reason['message']
    # the same content in other words (CRLF line ends) is the same certificate
    expect_error(kp.request('POST', 'kmip_adapters/adapter-2/certificates', json=cert_body(pem.replace('\n', '\r\n'))), 409,
                 'KMIP_CERT_IN_USE_ERR')
    # another Key Protect instance of us-south (a Dedicated one, made ready first)
    assert control(emu.http_url, 'POST', 'crypto_units', json={'instance_id': KP_DEDICATED_NEW,
                                                               'states': ['kms-initialized', 'reserved']}).status_code == 200
    dedicated = KmsClient(emu.http_url, instance=KP_DEDICATED_NEW)
    new_adapter(dedicated, dedicated.new_key('ded-root')['id'], 'ded-adapter')
    expect_error(dedicated.request('POST', 'kmip_adapters/ded-adapter/certificates', json=cert_body(pem)), 409, 'KMIP_CERT_IN_USE_ERR')
    # another region is free to have it
    xr = KmsClient(emu.http_url, instance=KP_XR)
    new_adapter(xr, xr.new_key('xr-root')['id'], 'xr-adapter')
    new_cert(xr, 'xr-adapter', pem)
    # once deleted, the certificate can be registered again
    assert kp.request('DELETE', 'kmip_adapters/adapter-1/certificates/first').status_code == 204
    new_cert(dedicated, 'ded-adapter', pem)


@pytest.mark.parametrize('method, path', [
    ('GET', 'certificates'), ('POST', 'certificates'), ('GET', 'certificates/some-cert'), ('DELETE', 'certificates/some-cert'),
    ('GET', 'kmip_objects'), ('GET', 'kmip_objects/0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e'),
    ('DELETE', 'kmip_objects/0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e'),
])
def test_sub_routes_of_unknown_adapter(kp, method, path):
    kwargs = {'json': cert_body(make_pem())} if method == 'POST' else {}
    reason = expect_error(kp.request(method, f'kmip_adapters/no-such-adapter/{path}', **kwargs), 404, 'KMIP_ADAPTER_NOT_FOUND_ERR')
    assert 'no-such-adapter' in reason['message']


# ---------------------------------------------------------------- KMIP objects

def test_registration_delay(kp, emu):
    adapter = new_adapter(kp, kp.new_key('kmip-root')['id'], 'adapter-1')
    cert = new_cert(kp, 'adapter-1', name='client')
    response = seed(emu, KP_STANDARD, 'adapter-1', 'client')
    assert response.status_code == 409 and 'less than 300 s ago' in response.json()['error']
    advance(emu, 299)
    assert seed(emu, KP_STANDARD, adapter['id'], cert['id']).status_code == 409
    advance(emu, 1)
    ids = seeded(emu, KP_STANDARD, adapter['id'], cert['id'])
    assert len(ids) == 1 and uuid.UUID(ids[0]).version == 4


def test_objects_fields_and_get(kp, emu):
    adapter, cert = ready_adapter(emu, kp)
    [active] = seeded(emu, KP_STANDARD, 'adapter-1', 'adapter-1-cert')
    [gone] = seeded(emu, KP_STANDARD, 'adapter-1', cert['id'], state=5)
    obj = kp.request('GET', f'kmip_adapters/adapter-1/kmip_objects/{active.upper()}').json()
    assert obj['metadata'] == {'collectionType': OBJECT_TYPE, 'collectionTotal': 1}
    resource = obj['resources'][0]
    assert set(resource) == OBJECT_FIELDS
    assert resource['id'] == active and resource['kmip_object_type'] == 2 and resource['state'] == 2 and resource['recoverable'] is True
    assert resource['created_by_kmip_client_cert_id'] == resource['updated_by_kmip_client_cert_id'] == cert['id']
    assert resource['created_by'] == resource['updated_by'] == 'kmip-client'
    assert resource['created_at'] == resource['updated_at']
    destroyed = kp.request('GET', f'kmip_adapters/{adapter["id"]}/kmip_objects/{gone}').json()['resources'][0]
    assert set(destroyed) == OBJECT_FIELDS | DESTROYED_FIELDS and destroyed['recoverable'] is False
    assert destroyed['destroyed_by_kmip_client_cert_id'] == cert['id'] and destroyed['destroyed_by'] == 'kmip-client'
    expect_error(kp.request('GET', f'kmip_adapters/adapter-1/kmip_objects/{uuid.uuid4()}'), 404, 'KMIP_OBJECT_NOT_FOUND_ERR')


def test_objects_list_states_and_paging(kp, emu):
    ready_adapter(emu, kp)
    by_state = {state: seeded(emu, KP_STANDARD, 'adapter-1', 'adapter-1-cert', state=state, count=2) for state in range(1, 7)}
    default = objects(kp, 'adapter-1', totalCount='true')
    assert default['metadata'] == {'collectionType': OBJECT_TYPE, 'collectionTotal': 8, 'totalCount': 8}
    assert sorted(o['id'] for o in default['resources']) == sorted(sum((by_state[s] for s in (1, 2, 3, 4)), []))
    assert [o['id'] for o in default['resources']] == sorted(o['id'] for o in default['resources'])  # same created_at: by id
    assert sorted(o['id'] for o in objects(kp, 'adapter-1', state='5,6')['resources']) == sorted(by_state[5] + by_state[6])
    assert {o['state'] for o in objects(kp, 'adapter-1', state='3')['resources']} == {3}
    assert len(objects(kp, 'adapter-1', state='1,2,3,4,5,6')['resources']) == 12
    assert len(objects(kp, 'adapter-1', state='')['resources']) == 8  # the SDK sends state= when no state is given


def test_objects_paging_over_pages(kp, emu):
    ready_adapter(emu, kp)
    seeded(emu, KP_STANDARD, 'adapter-1', 'adapter-1-cert', count=300)
    advance(emu, 5)
    seeded(emu, KP_STANDARD, 'adapter-1', 'adapter-1-cert', count=150)
    assert len(objects(kp, 'adapter-1')['resources']) == 100  # default limit
    seen = []
    for offset in (0, 200, 400):
        page = objects(kp, 'adapter-1', limit=200, offset=offset, totalCount='true')
        assert page['metadata']['totalCount'] == 450
        seen.extend(page['resources'])
    assert [len(seen[:200]), len(seen[200:400]), len(seen[400:])] == [200, 200, 50]
    assert len({o['id'] for o in seen}) == 450
    assert [(o['created_at'], o['id']) for o in seen] == sorted((o['created_at'], o['id']) for o in seen)
    assert len(objects(kp, 'adapter-1', limit=5000)['resources']) == 450


@pytest.mark.parametrize('params', [{'limit': 0}, {'limit': 5001}, {'offset': -1}, {'totalCount': 'x'}, {'state': '7'},
                                    {'state': '0'}, {'state': '1, 2'}, {'state': 'active'}])
def test_objects_bad_query(kp, emu, params):
    ready_adapter(emu, kp)
    reason = expect_error(kp.request('GET', 'kmip_adapters/adapter-1/kmip_objects', params=params), 400, 'INVALID_QUERY_PARAM_ERR')
    assert reason['target']['name'] == next(iter(params))


def test_object_delete(kp, emu):
    ready_adapter(emu, kp)
    [active, preactive, deactivated, compromised] = [seeded(emu, KP_STANDARD, 'adapter-1', 'adapter-1-cert', state=s)[0]
                                                     for s in (2, 1, 3, 4)]
    path = 'kmip_adapters/adapter-1/kmip_objects/'
    expect_error(kp.request('DELETE', path + active), 409, 'KMIP_OBJECT_ACTIVE_ERR')
    expect_error(kp.request('DELETE', path + active, params={'force': 'false'}), 409, 'KMIP_OBJECT_ACTIVE_ERR')
    advance(emu, 30)
    kp.forget_token()
    assert kp.request('DELETE', path + active, params={'force': 'true'}).status_code == 204
    for obj in (preactive, deactivated):
        assert kp.request('DELETE', path + obj).status_code == 204
    assert kp.request('DELETE', path + compromised, params={'force': 'false'}).status_code == 204
    states = {o['id']: o for o in objects(kp, 'adapter-1', state='1,2,3,4,5,6')['resources']}
    assert {obj: states[obj]['state'] for obj in (active, preactive, deactivated, compromised)} == {
        active: 5, preactive: 5, deactivated: 5, compromised: 6}
    destroyed = states[active]
    assert destroyed['recoverable'] is False and destroyed['destroyed_by'] == destroyed['updated_by'] == 'IBMid-alice'
    assert destroyed['destroyed_at'] == destroyed['updated_at'] != destroyed['created_at']
    assert destroyed['destroyed_by_kmip_client_cert_id'] is None
    for obj in (active, compromised):
        expect_error(kp.request('DELETE', path + obj, params={'force': 'true'}), 410, 'KMIP_OBJECT_DESTROYED_ERR')
    expect_error(kp.request('DELETE', path + str(uuid.uuid4())), 404, 'KMIP_OBJECT_NOT_FOUND_ERR')
    expect_error(kp.request('DELETE', path + preactive, params={'force': 'maybe'}), 400, 'INVALID_QUERY_PARAM_ERR')
    assert objects(kp, 'adapter-1')['resources'] == []


def test_adapter_delete_refused_with_live_objects(kp, emu):
    adapter, cert = ready_adapter(emu, kp)
    pem = kp.request('GET', f'kmip_adapters/adapter-1/certificates/{cert["id"]}').json()['resources'][0]['certificate']
    [obj] = seeded(emu, KP_STANDARD, 'adapter-1', cert['id'], state=3)
    reason = expect_error(kp.request('DELETE', 'kmip_adapters/adapter-1'), 409, 'KMIP_ADAPTER_NOT_EMPTY_ERR')
    assert '1 KMIP object' in reason['message']
    assert kp.request('DELETE', f'kmip_adapters/adapter-1/kmip_objects/{obj}').status_code == 204
    assert kp.request('DELETE', 'kmip_adapters/adapter-1').status_code == 204
    expect_error(kp.request('GET', f'kmip_adapters/{adapter["id"]}/certificates'), 404, 'KMIP_ADAPTER_NOT_FOUND_ERR')
    # its certificates went with it: the same content can be registered again in the region
    other = new_adapter(kp, kp.new_key('another-root')['id'], 'adapter-2')
    new_cert(kp, other['id'], pem)


def test_root_key_delete_refused_while_bound(kp):
    key = kp.new_key('kmip-root', aliases=['kmip-root-alias'])
    adapter = new_adapter(kp, 'kmip-root-alias', 'bound-adapter')
    for params in ({}, {'force': 'true'}):
        reason = expect_error(kp.delete_key(key['id'], **params), 409, 'KEY_KMIP_ADAPTER_ERR')
        assert 'bound-adapter' in reason['message'] and adapter['id'] in reason['message']
    assert kp.get_key(key['id']).json()['resources'][0]['state'] == 1
    assert kp.request('DELETE', 'kmip_adapters/bound-adapter').status_code == 204
    assert kp.delete_key(key['id']).status_code == 204


def test_write_flags_in_request_log(kp, emu):
    adapter, cert = ready_adapter(emu, kp)
    [obj] = seeded(emu, KP_STANDARD, 'adapter-1', cert['id'], state=1)
    assert control(emu.http_url, 'DELETE', 'requests').status_code == 200
    base = f'kmip_adapters/{adapter["id"]}'
    calls = [('GET', 'kmip_adapters', False), ('GET', base, False), ('GET', f'{base}/certificates', False),
             ('GET', f'{base}/certificates/{cert["id"]}', False), ('GET', f'{base}/kmip_objects', False),
             ('GET', f'{base}/kmip_objects/{obj}', False), ('POST', f'{base}/certificates', True),
             ('DELETE', f'{base}/kmip_objects/{obj}', True), ('DELETE', f'{base}/certificates/{cert["id"]}', True),
             ('DELETE', base, True), ('POST', 'kmip_adapters', True)]
    for method, path, _write in calls:
        kwargs = {}
        if method == 'POST':
            kwargs['json'] = cert_body(make_pem()) if path.endswith('certificates') else adapter_body('no-such-key')
        kp.request(method, path, **kwargs)
    log = [entry for entry in control(emu.http_url, 'GET', 'requests').json()['requests'] if entry['service'] == 'kms']
    assert [(entry['method'], entry['write']) for entry in log] == [(method, write) for method, _path, write in calls]
    assert log[-1]['status'] == 400  # a refused write still counts as a write
    routes = control(emu.http_url, 'GET', 'counters').json()['by_route']
    assert routes['DELETE /api/v2/kmip_adapters/<adapter_id>/kmip_objects/<object_id>'] == 1


def test_reset_clears_kmip(kp, emu):
    adapter, cert = ready_adapter(emu, kp)
    seeded(emu, KP_STANDARD, 'adapter-1', cert['id'])
    assert control(emu.http_url, 'POST', 'reset').status_code == 200
    kp.forget_token()
    assert kp.request('GET', 'kmip_adapters').json()['resources'] == []
    expect_error(kp.request('GET', f'kmip_adapters/{adapter["id"]}'), 404, 'KMIP_ADAPTER_NOT_FOUND_ERR')
    assert seed(emu, KP_STANDARD, adapter['id'], cert['id']).status_code == 404


@pytest.mark.parametrize('method, path', [
    ('GET', 'kmip_adapters'), ('POST', 'kmip_adapters'), ('GET', 'kmip_adapters/adapter-1'), ('DELETE', 'kmip_adapters/adapter-1'),
    ('GET', 'kmip_adapters/adapter-1/certificates'), ('POST', 'kmip_adapters/adapter-1/certificates'),
    ('GET', 'kmip_adapters/adapter-1/certificates/c'), ('DELETE', 'kmip_adapters/adapter-1/certificates/c'),
    ('GET', 'kmip_adapters/adapter-1/kmip_objects'), ('GET', 'kmip_adapters/adapter-1/kmip_objects/o'),
    ('DELETE', 'kmip_adapters/adapter-1/kmip_objects/o'),
])
def test_hpcs_has_no_kmip(alice, method, path):
    key = alice.new_key('hpcs-root')
    kwargs = {'json': adapter_body(key['id'], 'adapter-1')} if path == 'kmip_adapters' and method == 'POST' else {}
    reason = expect_error(alice.request(method, path, **kwargs), 404, 'NOT_FOUND_ERR')
    assert reason['message'] == f'No route matches {method} /api/v2/{path}'
    # and the auth checks still come first
    assert alice.request(method, path, headers=alice.headers(Authorization=None)).status_code == 401


def test_hpcs_control_endpoint_refused(emu):
    response = seed(emu, INSTANCE_A, 'adapter-1', 'client')
    assert response.status_code == 404 and 'not a Key Protect instance' in response.json()['error']


@pytest.mark.parametrize('instance', [KP_DEDICATED, KP_XR])
def test_dedicated_and_cross_region(emu, instance):
    client = KmsClient(emu.http_url, instance=instance)
    adapter, cert = ready_adapter(emu, client, name='other-plan')
    [obj] = seeded(emu, instance, adapter['name'], cert['name'])
    assert [o['id'] for o in objects(client, adapter['id'])['resources']] == [obj]
    assert client.request('DELETE', f'kmip_adapters/other-plan/kmip_objects/{obj}', params={'force': 'true'}).status_code == 204
    assert client.request('DELETE', 'kmip_adapters/other-plan').status_code == 204


def test_dedicated_without_units_answers_503(emu):
    client = KmsClient(emu.http_url, instance=KP_DEDICATED_NEW)
    assert client.request('GET', 'kmip_adapters').status_code == 503


@pytest.mark.parametrize('body, status', [
    (None, 400),
    ([], 400),
    ({'instance_id': KP_STANDARD, 'adapter': 'adapter-1'}, 400),
    ({'instance_id': KP_STANDARD, 'adapter': 'adapter-1', 'certificate': 'c', 'colour': 1}, 400),
    ({'instance_id': KP_STANDARD, 'adapter': 'adapter-1', 'certificate': 'adapter-1-cert', 'count': 0}, 400),
    ({'instance_id': KP_STANDARD, 'adapter': 'adapter-1', 'certificate': 'adapter-1-cert', 'count': 10001}, 400),
    ({'instance_id': KP_STANDARD, 'adapter': 'adapter-1', 'certificate': 'adapter-1-cert', 'count': True}, 400),
    ({'instance_id': KP_STANDARD, 'adapter': 'adapter-1', 'certificate': 'adapter-1-cert', 'state': 7}, 400),
    ({'instance_id': KP_STANDARD, 'adapter': 'adapter-1', 'certificate': 'adapter-1-cert', 'state': '2'}, 400),
    ({'instance_id': str(uuid.uuid4()), 'adapter': 'adapter-1', 'certificate': 'adapter-1-cert'}, 404),
    ({'instance_id': KP_STANDARD, 'adapter': 'no-such', 'certificate': 'adapter-1-cert'}, 404),
    ({'instance_id': KP_STANDARD, 'adapter': 'adapter-1', 'certificate': 'no-such'}, 404),
])
def test_control_endpoint_rules(kp, emu, body, status):
    ready_adapter(emu, kp)
    kwargs = {'data': 'not json'} if body is None else {'json': body}
    response = control(emu.http_url, 'POST', 'kmip_objects', **kwargs)
    assert response.status_code == status, response.text
    assert 'error' in response.json()
    assert objects(kp, 'adapter-1', state='1,2,3,4,5,6')['resources'] == []


def test_control_endpoint_count(kp, emu):
    ready_adapter(emu, kp)
    ids = seeded(emu, KP_STANDARD, 'adapter-1', 'adapter-1-cert', count=10000, state=1)
    assert len(set(ids)) == 10000
    page = objects(kp, 'adapter-1', limit=5000, offset=5000, totalCount='true')
    assert page['metadata']['totalCount'] == 10000 and len(page['resources']) == 5000


# ---------------------------------------------------------------- IBM's keyprotect SDK

def test_sdk_kmip_fidelity(service, kp, emu):
    """keyprotect 3.0.1 has every KMIP management method: drive them all against the emulator over HTTPS."""
    models = keyprotect.ibm_key_protect_api_v2
    key = kp.new_key('sdk-kmip-root', aliases=['sdk-kmip-root'])
    created = service.create_kmip_adapter(
        KP_STANDARD, models.CollectionMetadata(ADAPTER_TYPE, 1),
        [models.CreateKMIPAdapterObject('native_1.0', name='sdk-adapter', description='from the SDK',
                                        profile_data=models.KMIPProfileDataBodyKMIPProfileDataNative('sdk-kmip-root'))])
    assert created.get_status_code() == 201
    adapter = created.get_result()['resources'][0]
    assert adapter['profile_data'] == {'crk_id': key['id']} and adapter['description'] == 'from the SDK'
    assert service.get_kmip_adapter('sdk-adapter', KP_STANDARD).get_result()['resources'][0]['id'] == adapter['id']
    listed = service.get_kmip_adapters(KP_STANDARD, limit=10, offset=0, total_count=True, crk_id=key['id']).get_result()
    assert listed['metadata']['totalCount'] == 1 and listed['resources'][0]['id'] == adapter['id']

    pem = make_pem('sdk-client')
    added = service.add_kmip_client_certificate(adapter['id'], KP_STANDARD, models.CollectionMetadata(CERT_TYPE, 1),
                                                [models.CreateKMIPClientCertificateObject(pem, name='sdk-cert')])
    assert added.get_status_code() == 201
    cert = added.get_result()['resources'][0]
    assert service.get_kmip_client_certificate(adapter['id'], 'sdk-cert', KP_STANDARD).get_result()['resources'][0]['certificate'] == pem
    certs = service.get_kmip_client_certificates(adapter['id'], KP_STANDARD, total_count=True).get_result()
    assert certs['metadata']['totalCount'] == 1 and 'certificate' not in certs['resources'][0]

    advance(emu, 300)
    authenticator = authenticators.IAMAuthenticator(ALICE_API_KEY, url=emu.https_url)  # a token valid on the moved clock
    service.authenticator = authenticator
    ids = seeded(emu, KP_STANDARD, adapter['id'], cert['id'], count=3)
    found = service.get_kmip_objects(adapter['id'], KP_STANDARD, limit=2, offset=0, total_count=True).get_result()
    assert found['metadata']['totalCount'] == 3 and len(found['resources']) == 2
    assert len(service.get_kmip_objects(adapter['id'], KP_STANDARD, state=[2]).get_result()['resources']) == 3
    assert service.get_kmip_object(adapter['id'], KP_STANDARD, ids[0]).get_result()['resources'][0]['state'] == 2
    for obj in ids:
        assert service.delete_kmip_object(adapter['id'], KP_STANDARD, obj, force=True).get_status_code() == 204
    assert service.get_kmip_objects(adapter['id'], KP_STANDARD, state=[5]).get_result()['metadata']['collectionTotal'] == 3
    with pytest.raises(sdk_core.ApiException) as refused:
        service.delete_kmip_object(adapter['id'], KP_STANDARD, ids[0])
    assert refused.value.status_code == 410
    assert service.delete_kmip_client_certificate(adapter['id'], cert['id'], KP_STANDARD).get_status_code() == 204
    assert service.delete_kmip_adapter('sdk-adapter', KP_STANDARD).get_status_code() == 204
    with pytest.raises(sdk_core.ApiException) as missing:
        service.get_kmip_adapter(adapter['id'], KP_STANDARD)
    assert missing.value.status_code == 404
