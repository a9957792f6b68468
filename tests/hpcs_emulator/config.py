# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator configuration: account, API keys (identities), instances, token lifetime."""

from __future__ import annotations

import copy
import json
import os
import threading
import uuid

DEFAULT_CONFIG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'default_config.json')

TOP_LEVEL_KEYS = ('account_id', 'token_lifetime', 'api_keys', 'instances', 'trusted_profiles', 'compute_resources', 'vpc_instance')
MAX_TOKEN_LIFETIME = 30 * 24 * 3600

SERVICES = ('hs-crypto', 'kms')
PLANS = {'hs-crypto': ('standard',), 'kms': ('tiered-pricing', 'cross-region-resiliency', 'dedicated')}
DEFAULT_PLANS = {'hs-crypto': 'standard', 'kms': 'tiered-pricing'}
DEFAULT_RESOURCE_GROUP_ID = '4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99'
CRYPTO_UNIT_STATES = ('reserved', 'claimed', 'initialized', 'kms-authorized', 'kms-initialized', 'maintenance',
                      'available', 'marked-for-del', 'zeroized')
# Global Catalog ids the Resource Controller reports. Key Protect's service id and tiered-pricing plan id are the real
# ones (key-protect-api.md 1.2, 2.2); the others are unknown and were chosen for the emulator (docs/emulator.md).
SERVICE_IDS = {'kms': 'ee41347f-b18e-4ca6-bf80-b5467c63f9a6', 'hs-crypto': '6a93e3e1-066a-4d9d-ae1f-0dd8ba12cee3'}
PLAN_IDS = {'tiered-pricing': 'eedd3585-90c6-4c8f-be3d-062069e99fc3',
            'cross-region-resiliency': 'bd1e16c6-59ac-45df-9c79-076b22127d24',
            'dedicated': 'd2ef4769-3a85-44a0-bca4-8d0a5091405b',
            'standard': 'eac61a77-997c-4345-974a-8de9cada9798'}
INSTANCE_FIELDS = {'name', 'region', 'service', 'plan', 'resource_group_id', 'account_id', 'crypto_units'}


class ConfigError(ValueError):
    """Raised for an invalid configuration document."""


def load_default_config() -> dict:
    with open(DEFAULT_CONFIG_PATH, encoding='utf-8') as handle:
        return json.load(handle)


def load_config_file(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f'cannot read config file {path}: {exc}') from exc
    if not isinstance(data, dict):
        raise ConfigError(f'config file {path} must hold a JSON object')
    return data


def _check_lifetime(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOKEN_LIFETIME:
        raise ConfigError(f'token_lifetime must be an integer between 1 and {MAX_TOKEN_LIFETIME}')
    return value


def _default_units(instance_id: str) -> list:
    return [{'id': str(uuid.uuid5(uuid.NAMESPACE_URL, f'emulator:crypto-unit:{instance_id}:{n}')), 'state': 'kms-initialized'}
            for n in (1, 2)]


def _check_units(instance_id: str, units) -> list:
    if not isinstance(units, list) or not 1 <= len(units) <= 3:
        raise ConfigError(f'instance {instance_id}: "crypto_units" must be a list of 1 to 3 units')
    result = []
    for unit in units:
        if not isinstance(unit, dict) or set(unit) - {'id', 'state'} or not isinstance(unit.get('id'), str) or not unit['id']:
            raise ConfigError(f'instance {instance_id}: every crypto unit is {{"id": "<string>", "state": "<state>"}}')
        state = unit.get('state', 'kms-initialized')
        if state not in CRYPTO_UNIT_STATES:
            raise ConfigError(f'instance {instance_id}: crypto unit state must be one of {", ".join(CRYPTO_UNIT_STATES)}')
        result.append({'id': unit['id'], 'state': state})
    return result


def _check_instance(instance_id: str, spec) -> dict:
    if not isinstance(spec, dict) or not isinstance(spec.get('region'), str) or not spec['region']:
        raise ConfigError(f'instance {instance_id}: "region" (string) is required')
    unknown = set(spec) - INSTANCE_FIELDS
    if unknown:
        raise ConfigError(f'instance {instance_id}: unknown fields {sorted(unknown)}')
    service = spec.get('service', 'hs-crypto')
    if service not in SERVICES:
        raise ConfigError(f'instance {instance_id}: "service" must be one of {", ".join(SERVICES)}')
    plan = spec.get('plan', DEFAULT_PLANS[service])
    if plan not in PLANS[service]:
        raise ConfigError(f'instance {instance_id}: "plan" of a {service} instance must be one of {", ".join(PLANS[service])}')
    for name in ('resource_group_id', 'account_id'):
        if name in spec and (not isinstance(spec[name], str) or not spec[name]):
            raise ConfigError(f'instance {instance_id}: "{name}" must be a non-empty string')
    result = {'name': str(spec.get('name', instance_id)), 'region': spec['region'], 'service': service, 'plan': plan,
              'resource_group_id': spec.get('resource_group_id', DEFAULT_RESOURCE_GROUP_ID)}
    if spec.get('account_id'):
        result['account_id'] = spec['account_id']
    if plan == 'dedicated':
        result['crypto_units'] = _check_units(instance_id, spec['crypto_units']) if 'crypto_units' in spec \
            else _default_units(instance_id)
    elif 'crypto_units' in spec:
        raise ConfigError(f'instance {instance_id}: "crypto_units" is for plan dedicated only')
    return result


def _check_instances(instances) -> dict:
    if not isinstance(instances, dict):
        raise ConfigError('instances must be an object keyed by instance id')
    result = {}
    for instance_id, spec in instances.items():
        if not isinstance(instance_id, str) or not instance_id:
            raise ConfigError('instance ids must be non-empty strings')
        result[instance_id.lower()] = _check_instance(instance_id, spec)
    return result


def _check_api_keys(api_keys) -> dict:
    if not isinstance(api_keys, dict):
        raise ConfigError('api_keys must be an object keyed by API key')
    result = {}
    for api_key, spec in api_keys.items():
        if not isinstance(api_key, str) or len(api_key) < 8:
            raise ConfigError('API keys must be strings of at least 8 characters')
        if not isinstance(spec, dict) or not isinstance(spec.get('iam_id'), str) or not spec['iam_id']:
            raise ConfigError('every API key needs an "iam_id" string')
        instances = spec.get('instances', [])
        if not isinstance(instances, list) or not all(isinstance(i, str) for i in instances):
            raise ConfigError(f'API key of {spec["iam_id"]}: "instances" must be a list of instance ids')
        unknown = set(spec) - {'iam_id', 'name', 'instances', 'account_id', 'resource_controller'}
        if unknown:
            raise ConfigError(f'API key of {spec["iam_id"]}: unknown fields {sorted(unknown)}')
        if 'account_id' in spec and (not isinstance(spec['account_id'], str) or not spec['account_id']):
            raise ConfigError(f'API key of {spec["iam_id"]}: "account_id" must be a non-empty string')
        if not isinstance(spec.get('resource_controller', True), bool):
            raise ConfigError(f'API key of {spec["iam_id"]}: "resource_controller" must be true or false')
        result[api_key] = {'iam_id': spec['iam_id'], 'name': str(spec.get('name', spec['iam_id'])),
                           'instances': [i.lower() for i in instances],
                           'resource_controller': spec.get('resource_controller', True)}
        if spec.get('account_id'):
            result[api_key]['account_id'] = spec['account_id']
    return result


def _check_profiles(profiles) -> dict:
    """Trusted profiles (IAM identities a compute resource signs in as), keyed by profile id (``Profile-...``)."""
    if not isinstance(profiles, dict):
        raise ConfigError('trusted_profiles must be an object keyed by profile id')
    result = {}
    for profile_id, spec in profiles.items():
        if not isinstance(profile_id, str) or not profile_id.startswith('Profile-') or not isinstance(spec, dict):
            raise ConfigError('trusted profile ids must be strings starting with "Profile-", each with an object')
        unknown = set(spec) - {'name', 'instances', 'account_id', 'resource_controller'}
        if unknown:
            raise ConfigError(f'trusted profile {profile_id}: unknown fields {sorted(unknown)}')
        instances = spec.get('instances', [])
        if not isinstance(instances, list) or not all(isinstance(i, str) for i in instances):
            raise ConfigError(f'trusted profile {profile_id}: "instances" must be a list of instance ids')
        if not isinstance(spec.get('name'), str) or not spec['name']:
            raise ConfigError(f'trusted profile {profile_id}: "name" must be a non-empty string')
        result[profile_id] = {'iam_id': f'iam-{profile_id}', 'name': spec['name'], 'instances': [i.lower() for i in instances],
                              'resource_controller': bool(spec.get('resource_controller', True))}
        if spec.get('account_id'):
            result[profile_id]['account_id'] = spec['account_id']
    return result


def _check_compute_resources(resources, vpc_instance, profiles: dict) -> tuple:
    """Compute resources (pods holding a CR token) and the one VPC instance the metadata service speaks for."""
    if not isinstance(resources, list):
        raise ConfigError('compute_resources must be a list')
    checked = []
    for spec in resources:
        if not isinstance(spec, dict) or not isinstance(spec.get('cr_token'), str) or len(spec['cr_token']) < 16:
            raise ConfigError('every compute resource needs a "cr_token" string of at least 16 characters')
        linked = spec.get('profiles', [])
        if not isinstance(linked, list) or any(p not in profiles for p in linked):
            raise ConfigError('compute resource "profiles" must list known trusted profile ids')
        checked.append({'name': str(spec.get('name', 'compute-resource')), 'cr_token': spec['cr_token'], 'profiles': list(linked)})
    vpc = vpc_instance if vpc_instance is not None else {}
    if not isinstance(vpc, dict):
        raise ConfigError('vpc_instance must be an object')
    linked = vpc.get('profiles', [])
    default = vpc.get('default_profile')
    if not isinstance(linked, list) or any(p not in profiles for p in linked) or (default is not None and default not in linked):
        raise ConfigError('vpc_instance "profiles" must list known trusted profile ids, including its "default_profile"')
    return checked, {'id': str(vpc.get('id', '0717_emulator-vsi')), 'default_profile': default, 'profiles': list(linked)}


class Config:
    """The effective configuration. Thread-safe; read through the accessor methods."""

    def __init__(self, data: dict | None = None, token_lifetime: int | None = None):
        base = load_default_config()
        if data:
            unknown = set(data) - set(TOP_LEVEL_KEYS)
            if unknown:
                raise ConfigError(f'unknown top-level config keys: {sorted(unknown)}')
            # Shallow override: a given top-level key replaces the default one entirely.
            base.update(copy.deepcopy(data))
        if token_lifetime is not None:
            base['token_lifetime'] = token_lifetime
        if not isinstance(base.get('account_id'), str) or not base['account_id']:
            raise ConfigError('account_id must be a non-empty string')
        self._lock = threading.RLock()
        self.account_id = base['account_id']
        self._token_lifetime = _check_lifetime(base['token_lifetime'])
        self._instances = _check_instances(base['instances'])
        self._api_keys = _check_api_keys(base['api_keys'])
        self._profiles = _check_profiles(base.get('trusted_profiles', {}))
        self._compute_resources, self._vpc_instance = _check_compute_resources(
            base.get('compute_resources', []), base.get('vpc_instance'), self._profiles)
        self._check_references(self._api_keys, self._instances)
        for spec in self._profiles.values():  # a config that replaces the instances keeps the default profiles usable
            spec['instances'] = [i for i in spec['instances'] if i in self._instances]

    @staticmethod
    def _check_references(api_keys: dict, instances: dict) -> None:
        for spec in api_keys.values():
            missing = [i for i in spec['instances'] if i not in instances]
            if missing:
                raise ConfigError(f'API key of {spec["iam_id"]} refers to unknown instances {missing}')

    @property
    def token_lifetime(self) -> int:
        with self._lock:
            return self._token_lifetime

    def identity_for_api_key(self, api_key: str) -> dict | None:
        with self._lock:
            spec = self._api_keys.get(api_key)
            return dict(spec) if spec else None

    def _identities(self) -> list:
        """Every identity: the API keys' and the trusted profiles'."""
        return list(self._api_keys.values()) + list(self._profiles.values())

    def trusted_profile(self, profile_id=None, name=None, crn=None) -> dict | None:
        """The profile all given selectors name (id, name in the account, CRN), or None."""
        with self._lock:
            for pid, spec in self._profiles.items():
                account = spec.get('account_id') or self.account_id
                if ((profile_id is None or profile_id == pid) and (name is None or name == spec['name'])
                        and (crn is None or crn == f'crn:v1:bluemix:public:iam-identity::a/{account}::profile:{pid}')):  # profile_crn
                    return dict(spec, id=pid)
            return None

    def compute_resource(self, cr_token: str) -> dict | None:
        with self._lock:
            for spec in self._compute_resources:
                if spec['cr_token'] == cr_token:
                    return copy.deepcopy(spec)
            return None

    def vpc_instance(self) -> dict:
        with self._lock:
            return copy.deepcopy(self._vpc_instance)

    def identity_exists(self, iam_id: str) -> bool:
        with self._lock:
            return any(spec['iam_id'] == iam_id for spec in self._identities())

    def instances_for(self, iam_id: str) -> set:
        with self._lock:
            allowed = set()
            for spec in self._identities():
                if spec['iam_id'] == iam_id:
                    allowed.update(spec['instances'])
            return allowed

    def _spec(self, instance_id: str) -> dict | None:
        """The stored spec, not a copy: callers hold the lock and only read it."""
        return self._instances.get((instance_id or '').lower())

    def instance(self, instance_id: str) -> dict | None:
        with self._lock:
            spec = self._spec(instance_id)
            return copy.deepcopy(spec) if spec else None

    def has_instance(self, instance_id: str) -> bool:
        """Whether the instance is configured (without the copy of its spec that ``instance`` makes)."""
        with self._lock:
            return self._spec(instance_id) is not None

    def instance_ids(self) -> list:
        with self._lock:
            return list(self._instances)

    def instance_account(self, instance_id: str) -> str:
        with self._lock:
            spec = self._spec(instance_id) or {}
            return spec.get('account_id') or self.account_id

    def identity_account(self, iam_id: str) -> str:
        """The account an identity belongs to (tokens carry it in ``account.bss``)."""
        with self._lock:
            for spec in self._identities():
                if spec['iam_id'] == iam_id and spec.get('account_id'):
                    return spec['account_id']
            return self.account_id

    def resource_controller_access(self, iam_id: str) -> bool:
        """Viewer on the resource group (Resource Controller reads); false when any key of the identity says so."""
        with self._lock:
            specs = [spec for spec in self._identities() if spec['iam_id'] == iam_id]
            return bool(specs) and all(spec.get('resource_controller', True) for spec in specs)

    def instances_in_account(self, account_id: str) -> list:
        with self._lock:
            return [instance_id for instance_id, spec in self._instances.items()
                    if (spec.get('account_id') or self.account_id) == account_id]

    def instance_crn(self, instance_id: str) -> str:
        with self._lock:
            spec = self._spec(instance_id)
            account = spec.get('account_id') or self.account_id
            return f'crn:v1:bluemix:public:{spec["service"]}:{spec["region"]}:a/{account}:{instance_id.lower()}::'

    def update(self, data: dict) -> None:
        """Add or replace API keys and instances, change token_lifetime (additive merge)."""
        if not isinstance(data, dict):
            raise ConfigError('config update must be a JSON object')
        unknown = set(data) - {'token_lifetime', 'api_keys', 'instances'}
        if unknown:
            raise ConfigError(f'only token_lifetime, api_keys and instances can be changed; got {sorted(unknown)}')
        with self._lock:
            lifetime = _check_lifetime(data['token_lifetime']) if 'token_lifetime' in data else self._token_lifetime
            instances = dict(self._instances)
            instances.update(_check_instances(data.get('instances', {})))
            api_keys = dict(self._api_keys)
            api_keys.update(_check_api_keys(data.get('api_keys', {})))
            self._check_references(api_keys, instances)
            self._token_lifetime, self._instances, self._api_keys = lifetime, instances, api_keys

    def to_dict(self) -> dict:
        with self._lock:
            instances = {}
            for instance_id, spec in self._instances.items():
                instances[instance_id] = dict(copy.deepcopy(spec), crn=self.instance_crn(instance_id))
            return {
                'account_id': self.account_id,
                'token_lifetime': self._token_lifetime,
                'api_keys': copy.deepcopy(self._api_keys),
                'instances': instances,
                'trusted_profiles': {pid: dict(copy.deepcopy(spec), crn=self.profile_crn(pid)) for pid, spec in self._profiles.items()},
                'compute_resources': copy.deepcopy(self._compute_resources),
                'vpc_instance': copy.deepcopy(self._vpc_instance),
            }

    def profile_crn(self, profile_id: str) -> str:
        with self._lock:
            account = self._profiles[profile_id].get('account_id') or self.account_id
        return f'crn:v1:bluemix:public:iam-identity::a/{account}::profile:{profile_id}'
