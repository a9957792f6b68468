"""Write the connection variables for a running HPCS emulator as YAML or shell exports.

Usage: python scripts/emulator_vars.py [--env] [--personality NAME] STATE_FILE OUT_FILE   (OUT_FILE - for standard output)

``--personality`` chooses the instance the integration targets use: ``hpcs`` (instance A, the default),
``kp-standard`` (the Key Protect Standard instance) or ``kp-dedicated`` (the Key Protect Dedicated instance); the
second instance (``hs_crypto_instance_id_b``) is of the same service.

STATE_FILE is the JSON the emulator writes once it is ready (``pid``, ``http_url``,
``https_url``, ``private_url``, ``ca_path``, ``config``).  The YAML output is
``tests/integration/integration_config.yml`` for ansible-test.  With ``--env`` the output is
``export`` lines for the environment variables the modules read (alice's API key, IAM and broker
URLs, CA bundle), which scripts/demo and ``scripts/emulator env`` use.  API keys and instance
ids come from ``config``, falling back to the emulator's documented defaults.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import typing as t

# The emulator's documented defaults, used for anything its config does not name.
DEFAULT_API_KEYS = {
    'alice': 'hsc-emulator-alice-api-key-0001',
    'bob': 'hsc-emulator-bob-api-key-0002',
    'eve': 'hsc-emulator-eve-api-key-0003',
}

# instance name -> (instance id, region)
DEFAULT_INSTANCES = {
    'A': ('8a4b2f6e-0c1d-4e5f-9a7b-1c2d3e4f5a6b', 'us-south'),
    'B': ('3f9e8d7c-6b5a-4d3c-8b2a-1f0e9d8c7b6a', 'eu-de'),
    'C': ('c0ffee00-1234-4abc-8def-0123456789ab', 'us-south'),
    'kp-standard': ('5d1c7b2a-9e8f-4a3b-8c6d-2e1f0a9b8c7d', 'us-south'),
    'kp-xr': ('6e2d8c3b-0f9a-4b4c-9d7e-3f2a1b0c9d8e', 'eu-de'),
    'kp-dedicated': ('7f3e9d4c-1a0b-4c5d-8e8f-4a3b2c1d0e9f', 'us-east'),
}
# personality -> (instance, second instance)
PERSONALITIES = {'hpcs': ('A', 'B'), 'kp-standard': ('kp-standard', 'kp-xr'), 'kp-dedicated': ('kp-dedicated', 'kp-standard')}


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


def main(argv: list[str]) -> None:
    """Read the state file and write the variables file."""
    env_format = '--env' in argv
    argv = [arg for arg in argv if arg != '--env']
    personality = 'hpcs'
    if '--personality' in argv:
        at = argv.index('--personality')
        personality = argv[at + 1] if at + 1 < len(argv) else ''
        del argv[at:at + 2]
    if personality not in PERSONALITIES:
        sys.exit(f'unknown personality {personality!r}; one of {", ".join(PERSONALITIES)}')

    if len(argv) != 2:
        sys.exit(__doc__)

    state_path, out_path = argv

    with open(state_path, encoding='utf-8') as state_file:
        state = json.load(state_file)

    config = state.get('config') or {}
    api_keys = api_keys_by_user(config)
    instances = instances_by_name(config)

    variables = {
        'hs_crypto_emulator_url': state['https_url'].rstrip('/'),
        'hs_crypto_emulator_http_url': state['http_url'].rstrip('/'),
        'hs_crypto_ca_path': os.path.abspath(state['ca_path']),
        'hs_crypto_api_key': api_keys['alice'],
        'hs_crypto_api_key_bob': api_keys['bob'],
        'hs_crypto_api_key_eve': api_keys['eve'],
        'hs_crypto_instance_id': instances[PERSONALITIES[personality][0]][0],
        'hs_crypto_instance_id_b': instances[PERSONALITIES[personality][1]][0],
        'hs_crypto_instance_id_c': instances['C'][0],
        'hs_crypto_region': instances[PERSONALITIES[personality][0]][1],
        'hs_crypto_personality': personality,
    }

    if env_format:
        environment = {
            'IBMCLOUD_API_KEY': variables['hs_crypto_api_key'],
            'HS_CRYPTO_IAM_URL': variables['hs_crypto_emulator_url'],
            'HS_CRYPTO_RESOURCE_CONTROLLER_URL': variables['hs_crypto_emulator_url'],
            'HS_CRYPTO_CA_PATH': variables['hs_crypto_ca_path'],
        }
        lines = [f'# Generated from {state_path}']
        lines.extend(f'export {name}={shlex.quote(value)}' for name, value in environment.items())
    else:
        # JSON strings are valid YAML scalars, so no YAML library is needed.
        lines = ['---', f'# Generated from {state_path}; do not edit.']
        lines.extend(f'{name}: {json.dumps(value)}' for name, value in variables.items())

    if out_path == '-':
        sys.stdout.write('\n'.join(lines) + '\n')
        return

    temp_path = out_path + '.tmp'

    with open(temp_path, 'w', encoding='utf-8') as out_file:
        out_file.write('\n'.join(lines) + '\n')

    os.replace(temp_path, out_path)


if __name__ == '__main__':
    main(sys.argv[1:])
