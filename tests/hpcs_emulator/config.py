# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator configuration: account, API keys (identities), instances, token lifetime."""

from __future__ import annotations

import copy
import json
import os
import threading

DEFAULT_CONFIG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'default_config.json')

TOP_LEVEL_KEYS = ('account_id', 'token_lifetime', 'api_keys', 'instances')
MAX_TOKEN_LIFETIME = 30 * 24 * 3600


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


def _check_instances(instances) -> dict:
    if not isinstance(instances, dict):
        raise ConfigError('instances must be an object keyed by instance id')
    result = {}
    for instance_id, spec in instances.items():
        if not isinstance(instance_id, str) or not instance_id:
            raise ConfigError('instance ids must be non-empty strings')
        if not isinstance(spec, dict) or not isinstance(spec.get('region'), str) or not spec['region']:
            raise ConfigError(f'instance {instance_id}: "region" (string) is required')
        unknown = set(spec) - {'name', 'region'}
        if unknown:
            raise ConfigError(f'instance {instance_id}: unknown fields {sorted(unknown)}')
        result[instance_id.lower()] = {'name': str(spec.get('name', instance_id)), 'region': spec['region']}
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
        unknown = set(spec) - {'iam_id', 'name', 'instances'}
        if unknown:
            raise ConfigError(f'API key of {spec["iam_id"]}: unknown fields {sorted(unknown)}')
        result[api_key] = {'iam_id': spec['iam_id'], 'name': str(spec.get('name', spec['iam_id'])),
                           'instances': [i.lower() for i in instances]}
    return result


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
        self._check_references(self._api_keys, self._instances)

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

    def identity_exists(self, iam_id: str) -> bool:
        with self._lock:
            return any(spec['iam_id'] == iam_id for spec in self._api_keys.values())

    def instances_for(self, iam_id: str) -> set:
        with self._lock:
            allowed = set()
            for spec in self._api_keys.values():
                if spec['iam_id'] == iam_id:
                    allowed.update(spec['instances'])
            return allowed

    def instance(self, instance_id: str) -> dict | None:
        with self._lock:
            spec = self._instances.get((instance_id or '').lower())
            return dict(spec) if spec else None

    def instance_ids(self) -> list:
        with self._lock:
            return list(self._instances)

    def instance_crn(self, instance_id: str) -> str:
        spec = self.instance(instance_id)
        return f'crn:v1:bluemix:public:hs-crypto:{spec["region"]}:a/{self.account_id}:{instance_id}::'

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
                instances[instance_id] = dict(spec, crn=self.instance_crn(instance_id))
            return {
                'account_id': self.account_id,
                'token_lifetime': self._token_lifetime,
                'api_keys': copy.deepcopy(self._api_keys),
                'instances': instances,
            }
