"""Run the main job as AWX / Ansible Automation Platform does: ansible-runner with a private data directory.

Usage: python scripts/runner_job.py --inventory DIR (--collections DIR | --container-image TAG) --emulator-env FILE JOB_DIR

JOB_DIR becomes the private data directory: ``inventory/`` (a copy of DIR), ``project/provision.yml`` (the one-line
playbook a platform project holds: ``import_playbook: ibm.hs_crypto.provision``), ``env/envvars`` (IAM, the broker and
the CA bundle pointed at the emulator, the ``export`` lines of FILE, and - unless the job runs in an image - Ansible at
the installed collection, ``--collections``) and ``env/extravars``, which holds the API key as the role variable
``hs_crypto_instance_api_key``: what a platform credential with an ``extra_vars`` injector provides
(docs/docsite/rst/automation_platform.rst). The API key is deliberately not an environment variable: ansible-runner
records the job's whole environment in ``artifacts/<ident>/command`` (and, in an image, ``env.list``).

With ``--container-image`` the job runs inside that execution environment image (scripts/ee_image.py builds one), as
AWX and Ansible Automation Platform run it: ansible-runner's process isolation with podman, ``--network=host`` so that
the container reaches the emulator on this host, and the emulator's CA certificate mounted read-only (its path in the
container replaces ``HS_CRYPTO_CA_PATH``). ansible-runner is used rather than ansible-navigator because it is the
platform's own engine and gives the same artifacts (``command``, ``env.list``, job events) that the platform keeps.

The job runs twice through ansible-runner's Python API. Both runs must succeed and converge every host; the second
must report no change on any host. Then no file of the runner's artifacts - stdout, job events, ``command``,
``env.list`` and everything else it kept - may hold the API key or any token the emulator issues (IAM access tokens
are JWTs, refresh tokens a base64url JSON payload and a signature: both start with ``eyJ``).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import sys
import time

import ansible_runner
import yaml

TOKEN = re.compile(rb'eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}')
CONTAINER_CA = '/etc/hs_crypto/emulator-ca.pem'
API_KEY_VARIABLES = ('IBMCLOUD_API_KEY', 'IC_API_KEY')
PROJECT_PLAYBOOK = """---
# The project's playbook: job templates choose among the project's files.
- name: Converge every HPCS instance of the inventory
  ansible.builtin.import_playbook: ibm.hs_crypto.provision
"""


def read_exports(path: str) -> dict[str, str]:
    """``export NAME=value`` lines (shell-quoted) of a file written by ``python -m hpcs_emulator vars --format env``."""
    values = {}

    with open(path, encoding='utf-8') as handle:
        for line in handle:
            words = shlex.split(line, comments=True)
            if len(words) == 2 and words[0] == 'export' and '=' in words[1]:
                name, value = words[1].split('=', 1)
                values[name] = value

    return values


def prepare(job_dir: str, inventory: str, collections: str | None, environment: dict[str, str]) -> None:
    shutil.rmtree(job_dir, ignore_errors=True)
    shutil.copytree(inventory, os.path.join(job_dir, 'inventory'))
    os.makedirs(os.path.join(job_dir, 'project'))
    os.makedirs(os.path.join(job_dir, 'env'))

    with open(os.path.join(job_dir, 'project', 'provision.yml'), 'w', encoding='utf-8') as handle:
        handle.write(PROJECT_PLAYBOOK)

    # The API key goes in as an extra variable (as a credential with an extra_vars injector gives it), never into the
    # environment, which ansible-runner writes into artifacts/<ident>/command.
    envvars = dict((name, value) for name, value in environment.items() if name not in API_KEY_VARIABLES)
    if collections:
        envvars['ANSIBLE_COLLECTIONS_PATH'] = os.path.abspath(collections)
    else:
        envvars['HS_CRYPTO_CA_PATH'] = CONTAINER_CA
    envvars['ANSIBLE_NOCOLOR'] = '1'
    extravars = {'hs_crypto_instance_api_key': environment['IBMCLOUD_API_KEY']}

    for name, content in (('envvars', envvars), ('extravars', extravars)):
        path = os.path.join(job_dir, 'env', name)
        with open(path, 'w', encoding='utf-8') as handle:
            yaml.safe_dump(content, handle)
        os.chmod(path, 0o600)


def run(job_dir: str, ident: str, isolation: dict) -> dict:
    started = time.monotonic()
    result = ansible_runner.run(private_data_dir=job_dir, playbook='provision.yml', ident=ident, quiet=True, **isolation)
    stats = result.stats or {}
    changed = dict(stats.get('changed') or {})
    print(f'run {ident}: status {result.status}, rc {result.rc}, {time.monotonic() - started:.1f} s, changed per host {changed}')

    if result.status != 'successful' or result.rc != 0:
        with open(os.path.join(job_dir, 'artifacts', ident, 'stdout'), encoding='utf-8', errors='replace') as handle:
            sys.stdout.write(handle.read()[-3000:])
        sys.exit(f'error: run {ident} failed')

    return stats


def scan_artifacts(job_dir: str, api_key: str) -> list[str]:
    """Files of the runner's artifacts that hold the API key or a token: every file, ``command`` (ansible-runner's
    record of the command line and of the job's whole environment) included."""
    findings = []
    needle = api_key.encode('utf-8')
    files = 0

    for folder, _dirs, names in os.walk(os.path.join(job_dir, 'artifacts')):
        for name in names:
            path = os.path.join(folder, name)
            files += 1

            with open(path, 'rb') as handle:
                content = handle.read()

            if needle and needle in content:
                findings.append(f'{os.path.relpath(path, job_dir)} holds the API key')
            if TOKEN.search(content):
                findings.append(f'{os.path.relpath(path, job_dir)} holds a token')

    print('artifacts: %d files (command, stdout, job events, ...) scanned for the API key and for tokens' % files)
    return findings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--inventory', required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument('--collections', help='run on this host, with the collection installed in DIR')
    where.add_argument('--container-image', help='run in this execution environment image (podman)')
    parser.add_argument('--emulator-env', required=True)
    parser.add_argument('job_dir')
    args = parser.parse_args(argv)

    environment = read_exports(args.emulator_env)
    prepare(args.job_dir, args.inventory, args.collections, environment)
    with open(os.path.join(args.inventory, 'hosts.yml'), encoding='utf-8') as handle:
        hosts = sorted(yaml.safe_load(handle)['hpcs_instances']['hosts'])

    isolation = {}
    if args.container_image:
        ca_path = os.path.abspath(environment['HS_CRYPTO_CA_PATH'])
        isolation = {'process_isolation': True, 'process_isolation_executable': 'podman',
                     'container_image': args.container_image,
                     # The job runs as the owner of the private data directory, which keeps env/extravars mode 0600
                     # (what ansible-runner itself does with docker; rootless podman would take --userns=keep-id).
                     'container_options': ['--network=host', f'--user={os.getuid()}',
                                           f'--volume={ca_path}:{CONTAINER_CA}:ro']}

    first = run(args.job_dir, 'first', isolation)
    second = run(args.job_dir, 'second', isolation)
    errors = []

    for name, stats in (('first', first), ('second', second)):
        converged = sorted(set(stats.get('ok') or {}) | set(stats.get('changed') or {}))
        if converged != hosts or stats.get('failures') or stats.get('dark'):
            errors.append(f'run {name} did not converge every instance: {stats}')

    if not any((first.get('changed') or {}).values()):
        errors.append('the first run changed nothing: it did not provision the keys')

    still_changing = {host: count for host, count in (second.get('changed') or {}).items() if count}
    if still_changing:
        errors.append(f'the second run changed something (it must not): {still_changing}')

    errors.extend(scan_artifacts(args.job_dir, environment.get('IBMCLOUD_API_KEY', '')))

    for error in errors:
        print(f'error: {error}', file=sys.stderr)

    if not errors:
        where = f'in the image {args.container_image}' if args.container_image else 'on this host'
        print(f'ansible-runner: the main job converged {len(hosts)} instances {where}, a second run changed nothing, '
              'the artifacts hold no secret')

    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
