# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection variables of a running emulator, from its state file (``python -m hpcs_emulator vars``).

The personality chooses the instance the integration targets use: ``hpcs`` (instance A), ``kp-standard`` (the Key
Protect Standard instance) or ``kp-dedicated`` (the Key Protect Dedicated instance); the second instance
(``hs_crypto_instance_id_b``) is of the same service. API keys and instance ids come from the state file's
``config``, falling back to the emulator's defaults (hpcs_emulator.testing).

Formats: ``yaml`` (the integration variables, the form of tests/integration/integration_config.yml), ``json`` (the
same variables as one JSON object), ``env`` (``export`` lines for the modules' environment variables: alice's API key,
IAM and Resource Controller URLs, CA bundle).
"""

from __future__ import annotations

import json
import os
import shlex
import typing as t

from . import testing

DEFAULT_API_KEYS = {'alice': testing.ALICE_API_KEY, 'bob': testing.BOB_API_KEY, 'eve': testing.EVE_API_KEY}

# instance name -> (instance id, region)
DEFAULT_INSTANCES = {
    'A': (testing.INSTANCE_A, 'us-south'),
    'B': (testing.INSTANCE_B, 'eu-de'),
    'C': (testing.INSTANCE_C, 'us-south'),
    'kp-standard': (testing.KP_STANDARD, 'us-south'),
    'kp-xr': (testing.KP_XR, 'eu-de'),
    'kp-dedicated': (testing.KP_DEDICATED, 'us-east'),
}
# personality -> (instance, second instance)
PERSONALITIES = {'hpcs': ('A', 'B'), 'kp-standard': ('kp-standard', 'kp-xr'), 'kp-dedicated': ('kp-dedicated', 'kp-standard')}
FORMATS = ('yaml', 'json', 'env')


def api_keys_by_user(config: dict[str, t.Any]) -> dict[str, str]:
    """Return user name -> API key; config ``api_keys`` maps each key to ``{"name": user, ...}``."""
    found = dict(DEFAULT_API_KEYS)
    for api_key, identity in (config.get('api_keys') or {}).items():
        if isinstance(identity, dict) and identity.get('name') in found:
            found[identity['name']] = api_key
    return found


def instances_by_name(config: dict[str, t.Any]) -> dict[str, tuple[str, str]]:
    """Return instance name -> (id, region); config ``instances`` maps each id to ``{"name", "region"}``."""
    found = dict(DEFAULT_INSTANCES)
    for instance_id, instance in (config.get('instances') or {}).items():
        if isinstance(instance, dict) and instance.get('name') in found:
            found[instance['name']] = (instance_id, instance.get('region') or found[instance['name']][1])
    return found


def connection_variables(state: dict[str, t.Any], personality: str = 'hpcs') -> dict[str, str]:
    """Return the integration variables for a state document (the JSON the emulator writes once ready)."""
    if personality not in PERSONALITIES:
        raise ValueError(f'unknown personality {personality!r}; one of {", ".join(PERSONALITIES)}')
    config = state.get('config') or {}
    api_keys = api_keys_by_user(config)
    instances = instances_by_name(config)
    first, second = PERSONALITIES[personality]
    return {
        'hs_crypto_emulator_url': state['https_url'].rstrip('/'),
        'hs_crypto_emulator_http_url': state['http_url'].rstrip('/'),
        'hs_crypto_ca_path': os.path.abspath(state['ca_path']),
        'hs_crypto_api_key': api_keys['alice'],
        'hs_crypto_api_key_bob': api_keys['bob'],
        'hs_crypto_api_key_eve': api_keys['eve'],
        'hs_crypto_instance_id': instances[first][0],
        'hs_crypto_instance_id_b': instances[second][0],
        'hs_crypto_instance_id_c': instances['C'][0],
        'hs_crypto_region': instances[first][1],
        'hs_crypto_personality': personality,
    }


def module_environment(variables: dict[str, str]) -> dict[str, str]:
    """Return the environment variables the modules read, for the integration variables."""
    return {
        'IBMCLOUD_API_KEY': variables['hs_crypto_api_key'],
        'HS_CRYPTO_IAM_URL': variables['hs_crypto_emulator_url'],
        'HS_CRYPTO_RESOURCE_CONTROLLER_URL': variables['hs_crypto_emulator_url'],
        'HS_CRYPTO_CA_PATH': variables['hs_crypto_ca_path'],
    }


def render(variables: dict[str, str], fmt: str = 'yaml', source: str = '') -> str:
    """Return the variables as text in a format of FORMATS."""
    if fmt == 'json':
        return json.dumps(variables, indent=2) + '\n'
    if fmt == 'env':
        lines = [f'# Generated from {source}'] if source else []
        lines.extend(f'export {name}={shlex.quote(value)}' for name, value in module_environment(variables).items())
        return '\n'.join(lines) + '\n'
    if fmt != 'yaml':
        raise ValueError(f'unknown format {fmt!r}; one of {", ".join(FORMATS)}')
    # JSON strings are valid YAML scalars, so no YAML library is needed.
    lines = ['---', f'# Generated from {source}; do not edit.' if source else '# Generated; do not edit.']
    lines.extend(f'{name}: {json.dumps(value)}' for name, value in variables.items())
    return '\n'.join(lines) + '\n'


def read_state(path: str) -> dict[str, t.Any]:
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def write_text(path: str, text: str) -> None:
    """Write TEXT to PATH atomically (mode 0600: the file holds API keys); ``-`` is standard output."""
    if path == '-':
        print(text, end='', flush=True)
        return
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = f'{path}.tmp{os.getpid()}'
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.replace(temp, path)
