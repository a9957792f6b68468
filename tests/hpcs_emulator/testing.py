# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests that talk to the emulator: default identities and a tiny KMS client."""

from __future__ import annotations

import requests

from .config import DEFAULT_RESOURCE_GROUP_ID, PLAN_IDS, SERVICE_IDS

ACCOUNT_ID = 'b0c6a0e1c9f84d2f9e8a7b6c5d4e3f21'
EVE_ACCOUNT_ID = 'e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0'
RESOURCE_GROUP_ID = DEFAULT_RESOURCE_GROUP_ID
ALICE_API_KEY = 'hsc-emulator-alice-api-key-0001'
BOB_API_KEY = 'hsc-emulator-bob-api-key-0002'
EVE_API_KEY = 'hsc-emulator-eve-api-key-0003'
CAROL_API_KEY = 'hsc-emulator-carol-api-key-0004'  # key access to A and KP_STANDARD, no Resource Controller access
INSTANCE_A = '8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b'
INSTANCE_B = '3f9e8d7c-6b5a-4d3c-8b2a-1f0e9d8c7b6a'
INSTANCE_C = 'c0ffee00-1234-4abc-8def-0123456789ab'  # in eve's account (EVE_ACCOUNT_ID)
KP_STANDARD = '5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d'  # "kp-standard", us-south, kms tiered-pricing
KP_XR = '6e2d8c3b-0f9a-4b4c-9d7e-3f2a1b0c9d8e'  # "kp-xr", eu-de, kms cross-region-resiliency
KP_DEDICATED = '7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f'  # "kp-dedicated", us-east, kms dedicated, units kms-initialized
KP_DEDICATED_NEW = '8a4f0e5d-2b1c-4d6e-9f9a-5b4c3d2e1f0a'  # "kp-dedicated-new", us-south, kms dedicated, units reserved
# Resource Controller ids: plan name -> resource_plan_id, service (sub_type) -> resource_id
PLAN_IDS = dict(PLAN_IDS)
SERVICE_IDS = dict(SERVICE_IDS)
APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey'
KEY_TYPE = 'application/vnd.ibm.kms.key+json'


def key_body(name: str, extractable: bool = False, **fields) -> dict:
    resource = dict({'type': KEY_TYPE, 'name': name, 'extractable': extractable}, **fields)
    return {'metadata': {'collectionType': KEY_TYPE, 'collectionTotal': 1}, 'resources': [resource]}


def get_token(iam_base: str, api_key: str, verify=True) -> dict:
    response = requests.post(f'{iam_base}/identity/token', data={'grant_type': APIKEY_GRANT, 'apikey': api_key},
                             headers={'Accept': 'application/json'}, verify=verify, timeout=30)
    response.raise_for_status()
    return response.json()


class KmsClient:
    """Minimal client: one identity, one instance, a cached token."""

    def __init__(self, base_url: str, api_key: str = ALICE_API_KEY, instance: str = INSTANCE_A, verify=True,
                 iam_url: str | None = None):
        self.base_url = base_url.rstrip('/')
        self.iam_url = (iam_url or base_url).rstrip('/')
        self.api_key = api_key
        self.instance = instance
        self.verify = verify
        self._token = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = get_token(self.iam_url, self.api_key, self.verify)['access_token']
        return self._token

    def forget_token(self) -> None:
        self._token = None

    def headers(self, **extra) -> dict:
        headers = {'Authorization': f'Bearer {self.token}', 'Bluemix-Instance': self.instance, 'Accept': 'application/json'}
        for name, value in extra.items():
            name = name.replace('_', '-')
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        return headers

    def request(self, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        kwargs.setdefault('timeout', 30)
        kwargs.setdefault('verify', self.verify)
        return requests.request(method, f'{self.base_url}/api/v2/{path.lstrip("/")}',
                                headers=headers if headers is not None else self.headers(), **kwargs)

    def create_key(self, name: str, extractable: bool = False, headers: dict | None = None, overrides: bool = False,
                   **fields) -> requests.Response:
        path = 'keys_with_policy_overrides' if overrides else 'keys'
        return self.request('POST', path, headers=headers, json=key_body(name, extractable, **fields))

    def new_key(self, name: str, extractable: bool = False, **fields) -> dict:
        response = self.create_key(name, extractable, **fields)
        assert response.status_code == 201, response.text
        return response.json()['resources'][0]

    def get_key(self, key_ref: str, **kwargs) -> requests.Response:
        return self.request('GET', f'keys/{key_ref}', **kwargs)

    def list_keys(self, **params) -> requests.Response:
        return self.request('GET', 'keys', params=params)

    def delete_key(self, key_ref: str, prefer: str | None = None, **params) -> requests.Response:
        return self.request('DELETE', f'keys/{key_ref}', headers=self.headers(Prefer=prefer), params=params)

    def action(self, key_ref: str, action: str, body=None, **kwargs) -> requests.Response:
        """``POST /keys/<key>/actions/<action>`` with an optional JSON body."""
        if body is not None:
            kwargs['json'] = body
        return self.request('POST', f'keys/{key_ref}/actions/{action}', **kwargs)


def control(base_url: str, method: str, path: str, **kwargs) -> requests.Response:
    """Call a control endpoint, e.g. ``control(url, 'POST', 'registrations', json={...})``."""
    kwargs.setdefault('timeout', 30)
    return requests.request(method, f'{base_url.rstrip("/")}/_emulator/{path.lstrip("/")}', **kwargs)


def expect_error(response: requests.Response, status: int, code: str) -> dict:
    """Assert a section 8.1 error envelope with ``status`` and reason ``code``; return the reason."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body['metadata'] == {'collectionType': 'application/vnd.ibm.kms.error+json', 'collectionTotal': 1}
    error = body['resources'][0]
    assert error['errorMsg'].endswith(f"Please see 'reasons' for more details ({code})"), error['errorMsg']
    reason = error['reasons'][0]
    assert reason['code'] == code and reason['status'] == status
    return reason
