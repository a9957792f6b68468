# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Chaos run: converge many keys in several instances through the role while the emulator loses answers.

Run through ``scripts/chaos`` (it sets up the venv, stages the collection and starts the emulator). Not a test:
it prints figures and fails (exit 1) when the emulator does not end up holding exactly what was declared.

* The emulator gets the instances and the identity of ``benchmarks/chaos/emulator_config.json`` (control endpoint).
* Phase 1 declares ``--keys`` keys per instance (``--instances``): some by name only, others with one or two aliases,
  in key rings, with rotation policies, some with a dual authorization delete policy, some disabled.
* Phase 2 changes them: aliases added and removed, ring moves (to a ring created in this phase and back to
  ``default``), rotation changed, more dual authorization, keys enabled and disabled, some declared absent.
* During every run of a phase, fault rules (fixed seeds) hit every write kind and the read-back of a key
  (``GET /api/v2/keys/<id>``): a 503 before the write, a dropped connection before it, and, after the write was
  applied, a 500 or a dropped connection (the answer is lost). Each of the four fires with ``rate / 4``.
* A phase is re-run (``ibm.hs_crypto.provision``, one host per instance) until a run reports changed=0 and failed=0,
  at most ``--max-runs`` times. Then, with the faults off, the keys of every instance are compared with the
  declaration: duplicates, missing and extra keys, and every declared attribute.

Figures: runs per phase, requests and faults injected per kind, failures as the role reported them, wall time.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

import requests
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_FILE = os.path.join(HERE, 'chaos', 'emulator_config.json')
CALLBACKS = os.path.join(HERE, 'chaos', 'callback_plugins')
GRANT = 'urn:ibm:params:oauth:grant-type:apikey'
KEY_ID = r'[^/]+'

# Write kinds and the read-back: (kind, method, path regex). Policies share one path; the log's query tells
# rotation from dual authorization apart (classify()).
FAULTED = (
    ('create', 'POST', r'^/api/v2/keys(_with_policy_overrides)?$'),
    ('alias_add', 'POST', rf'^/api/v2/keys/{KEY_ID}/aliases/{KEY_ID}$'),
    ('alias_remove', 'DELETE', rf'^/api/v2/keys/{KEY_ID}/aliases/{KEY_ID}$'),
    ('ring_move', 'PATCH', rf'^/api/v2/keys/{KEY_ID}$'),
    ('policy', 'PUT', rf'^/api/v2/keys/{KEY_ID}/policies$'),
    ('enable_disable', 'POST', rf'^/api/v2/keys/{KEY_ID}/actions/(enable|disable)$'),
    ('delete', 'DELETE', rf'^/api/v2/keys/{KEY_ID}$'),
    ('ring_create', 'POST', rf'^/api/v2/key_rings/{KEY_ID}$'),
    ('read_back', 'GET', rf'^/api/v2/keys/{KEY_ID}$'),
)
# (name, rule fields): each fires with rate / len(FAULT_SHAPES) of the requests it sees.
FAULT_SHAPES = (
    ('503', {'status': 503}),
    ('drop', {'drop': True}),
    ('applied+500', {'status': 500, 'after': True}),
    ('applied+drop', {'drop': True, 'after': True}),
)
RINGS = {1: ['ring-a', 'ring-b'], 2: ['ring-a', 'ring-b', 'ring-c']}


# --- the declaration ---------------------------------------------------------------------------------------------

def key_name(instance: int, k: int) -> str:
    return f'chaos-i{instance}-k{k:05d}'


def declare(instance: int, k: int, phase: int) -> dict:
    """The entry of key ``k`` in ``phase`` (1 or 2): every attribute declared, so the expectation is the entry."""
    name = key_name(instance, k)
    alias_a, alias_b = f'i{instance}-k{k:05d}-a', f'i{instance}-k{k:05d}-b'
    standard = k % 10 == 9
    dual = not standard and (k % 20 == 7 or (phase == 2 and k % 20 == 8))
    if phase == 2 and k % 25 == 24 and not dual:
        return {'name': name, 'state': 'absent'}
    entry = {'name': name, 'description': f'Chaos key {k} of instance {instance}'}
    if standard:
        entry['type'] = 'standard'
    # aliases: k % 4 == 0 by name only; 1 has two (phase 2 removes one); 2 has one (phase 2 adds one); 3 has one
    if k % 4 == 1:
        entry['aliases'] = [alias_a, alias_b] if phase == 1 else [alias_a]
        entry['purge_aliases'] = phase == 2
    elif k % 4 == 2:
        entry['aliases'] = [alias_a] if phase == 1 else [alias_a, alias_b]
    elif k % 4 == 3:
        entry['aliases'] = [alias_a]
    ring = {0: 'ring-a', 1: 'ring-b', 2: 'default'}[k % 3]
    if phase == 2:
        ring = {0: 'ring-c', 1: 'default', 2: 'ring-a'}.get(k % 6, ring)
    entry['key_ring'] = ring
    if not standard:
        if k % 5 == 0:
            entry['rotation'] = {'enabled': True, 'interval_month': 3}
            if phase == 2:
                entry['rotation'] = {'enabled': True, 'interval_month': 6} if k % 10 == 0 else {'enabled': False, 'interval_month': 3}
        elif phase == 2 and k % 5 == 1:
            entry['rotation'] = {'enabled': True, 'interval_month': 12}
        if dual:
            entry['dual_auth_delete'] = True
    disabled = k % 7 == 3
    if phase == 2:
        disabled = k % 14 == 10 or k % 7 == 4
    entry['enabled'] = not disabled
    return entry


def declaration(instances: int, keys: int, phase: int) -> dict:
    return {instance: [declare(instance, k, phase) for k in range(keys)] for instance in range(1, instances + 1)}


def write_inventory(folder: str, emulator: Emulator, instance_ids: list, declared: dict, phase: int) -> str:
    """The layout of examples/inventory: hosts.yml, group_vars (connection), host_vars (rings and keys)."""
    os.makedirs(os.path.join(folder, 'group_vars'), exist_ok=True)
    os.makedirs(os.path.join(folder, 'host_vars'), exist_ok=True)
    hosts = {f'chaos-{i}': {'hs_crypto_instance_id': instance_ids[i - 1]} for i in declared}
    group = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
             'hs_crypto_instance_iam_url': emulator.https, 'hs_crypto_instance_broker_url': emulator.https,
             'hs_crypto_instance_ca_path': emulator.ca_path, 'hs_crypto_instance_report': False}
    files = {'hosts.yml': {'hpcs_instances': {'hosts': hosts}}, 'group_vars/hpcs_instances.yml': group}
    for instance, keys in declared.items():
        files[f'host_vars/chaos-{instance}.yml'] = {
            'hs_crypto_instance_key_rings': [{'id': ring} for ring in RINGS[phase]], 'hs_crypto_instance_keys': keys}
    for name, data in files.items():
        with open(os.path.join(folder, name), 'w', encoding='utf-8') as handle:
            yaml.safe_dump(data, handle, sort_keys=False)
    return folder


# --- the emulator ------------------------------------------------------------------------------------------------

class Emulator:
    def __init__(self, state_file: str):
        with open(state_file, encoding='utf-8') as handle:
            state = json.load(handle)
        self.http, self.https, self.ca_path = state['http_url'], state['https_url'], state['ca_path']
        self.seq = 0

    def control(self, method: str, path: str, **kwargs):
        response = requests.request(method, f'{self.http}/_emulator/{path}', timeout=60, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def new_requests(self) -> list:
        """Log entries since the last call."""
        answer = self.control('GET', 'requests', params={'since': self.seq})
        self.seq = answer['last_seq']
        return answer['requests']

    def faults_on(self, rate: float, seed: int) -> None:
        self.control('DELETE', 'faults')
        rules = []
        for index, (_kind, method, path) in enumerate(FAULTED):
            for offset, (_shape, fields) in enumerate(FAULT_SHAPES):
                rules.append(dict(fields, service='kms', method=method, path=path, rate=rate / len(FAULT_SHAPES),
                                  seed=seed * 1000 + index * 10 + offset))
        self.control('POST', 'faults', json={'rules': rules})

    def faults_off(self) -> None:
        self.control('DELETE', 'faults')


def classify(entry: dict) -> str | None:
    """The kind (FAULTED, policies split in rotation and dual_auth) of a logged request, None for other requests."""
    for kind, method, path in FAULTED:
        if entry['method'] == method and re.search(path, entry['path']):
            if kind == 'policy':
                query = entry.get('query') or ''
                return 'rotation' if 'policy=rotation' in query else 'dual_auth' if 'policy=dualAuthDelete' in query else 'policy'
            return kind
    return None


def tally(entries: list) -> dict:
    """Requests and faults per kind, with the fault shapes (by rule outcome)."""
    kinds = collections.defaultdict(lambda: {'requests': 0, 'faults': 0, 'lost_after_apply': 0})
    for entry in entries:
        kind = classify(entry) or 'other'
        kinds[kind]['requests'] += 1
        if entry.get('fault'):
            kinds[kind]['faults'] += 1
            if 'app_status' in entry:
                kinds[kind]['lost_after_apply'] += 1
    return dict(kinds)


class Reader:
    """Reads the instances with the faults off, as the identity of the chaos config."""

    def __init__(self, emulator: Emulator, api_key: str):
        self.emulator = emulator
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = emulator.ca_path
        token = self.session.post(f'{emulator.https}/identity/token', data={'grant_type': GRANT, 'apikey': api_key}, timeout=60)
        token.raise_for_status()
        self.auth = {'Authorization': f"Bearer {token.json()['access_token']}"}

    def _get(self, instance_id: str, path: str, **params) -> list:
        found, offset = [], 0
        while True:
            response = self.session.get(f'{self.emulator.https}/api/v2/{path}', params=dict(params, limit=5000, offset=offset),
                                        headers=dict(self.auth, **{'Bluemix-Instance': instance_id}), timeout=120)
            response.raise_for_status()
            page = response.json().get('resources') or []
            found.extend(page)
            if len(page) < 5000:
                return found
            offset += len(page)

    def keys(self, instance_id: str) -> list:
        return self._get(instance_id, 'keys', state='0,1,2,3,5')

    def rings(self, instance_id: str) -> set:
        return {ring['id'] for ring in self._get(instance_id, 'key_rings')}


# --- checking ----------------------------------------------------------------------------------------------------

def expected_attributes(entry: dict) -> dict:
    expected = {'name': entry['name'], 'description': entry['description'], 'aliases': sorted(entry.get('aliases') or []),
                'keyRingID': entry['key_ring'], 'state': 1 if entry['enabled'] else 2,
                'extractable': entry.get('type') == 'standard', 'dual_auth': bool(entry.get('dual_auth_delete'))}
    if 'rotation' in entry:
        expected['rotation'] = entry['rotation']
    return expected


def actual_attributes(key: dict, expected: dict) -> dict:
    actual = {'name': key.get('name'), 'description': key.get('description'), 'aliases': sorted(key.get('aliases') or []),
              'keyRingID': key.get('keyRingID') or 'default', 'state': key.get('state'), 'extractable': key.get('extractable'),
              'dual_auth': bool((key.get('dualAuthDelete') or {}).get('enabled'))}
    if 'rotation' in expected:
        rotation = key.get('rotation') or {}
        actual['rotation'] = {name: rotation.get(name) for name in expected['rotation']}
    return actual


def check(reader: Reader, instance_ids: list, declared: dict, phase: int) -> dict:
    """Compare every instance with its declaration; the faults must be off."""
    problems = {'duplicate': [], 'missing': [], 'extra': [], 'not_deleted': [], 'attribute': [], 'ring_missing': []}
    counts = {'keys_live': 0, 'keys_deleted': 0, 'declared_present': 0, 'declared_absent': 0}
    for instance, entries in declared.items():
        instance_id = instance_ids[instance - 1]
        keys = reader.keys(instance_id)
        live = collections.defaultdict(list)
        for key in keys:
            if key.get('state') == 5:
                counts['keys_deleted'] += 1
            else:
                counts['keys_live'] += 1
                live[key.get('name')].append(key)
        names = set()
        for entry in entries:
            names.add(entry['name'])
            found = live.get(entry['name'], [])
            if entry.get('state') == 'absent':
                counts['declared_absent'] += 1
                if found:
                    problems['not_deleted'].append({'instance': instance, 'name': entry['name'], 'ids': [k['id'] for k in found]})
                continue
            counts['declared_present'] += 1
            if not found:
                problems['missing'].append({'instance': instance, 'name': entry['name']})
                continue
            if len(found) > 1:
                problems['duplicate'].append({'instance': instance, 'name': entry['name'], 'ids': [k['id'] for k in found],
                                              'aliases': [k.get('aliases') for k in found]})
            expected = expected_attributes(entry)
            for key in found:
                actual = actual_attributes(key, expected)
                wrong = {name: {'declared': value, 'held': actual[name]} for name, value in expected.items() if actual[name] != value}
                if wrong:
                    problems['attribute'].append({'instance': instance, 'name': entry['name'], 'id': key['id'], 'wrong': wrong})
        for name, found in live.items():
            if name not in names:
                problems['extra'].append({'instance': instance, 'name': name, 'ids': [k['id'] for k in found]})
        missing_rings = sorted(set(RINGS[phase]) - reader.rings(instance_id))
        if missing_rings:
            problems['ring_missing'].append({'instance': instance, 'rings': missing_rings})
    return {'counts': counts, 'problems': problems, 'ok': not any(problems.values())}


# --- running -----------------------------------------------------------------------------------------------------

def run_playbook(args, inventory: str, record: str, log_path: str, api_key: str) -> dict:
    env = dict(os.environ, IBMCLOUD_API_KEY=api_key, ANSIBLE_COLLECTIONS_PATH=args.collections_path,
               ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED='chaos_record', CHAOS_RECORD_FILE=record,
               ANSIBLE_FORKS=str(args.forks), ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0')
    started = time.perf_counter()
    with open(log_path, 'w', encoding='utf-8') as log:
        completed = subprocess.run(['ansible-playbook', '-i', inventory, 'ibm.hs_crypto.provision'], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    try:
        with open(record, encoding='utf-8') as handle:
            outcome = json.load(handle)
    except (OSError, ValueError):
        outcome = {'recap': {}, 'tasks': []}
    recap = outcome['recap']
    return {'rc': completed.returncode, 'seconds': round(seconds, 1), 'log': log_path,
            'changed': sum(host.get('changed', 0) for host in recap.values()),
            'failed': sum(host.get('failures', 0) + host.get('unreachable', 0) for host in recap.values()),
            'hosts': len(recap), 'tasks': outcome['tasks']}


UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


def trace(entries: list, key_id: str) -> list:
    """What the emulator saw for one key during the run: each request, its answer and the fault it got."""
    steps = []
    for entry in entries:
        if f'/{key_id}' in entry['path']:
            step = f"{entry['method']} {entry['path'].split(key_id, 1)[1] or '/'}{'?' + entry['query'] if entry.get('query') else ''}"
            answer = 'dropped' if entry.get('dropped') else str(entry['status'])
            if 'app_status' in entry:
                answer += f" (applied: {entry['app_status']}, answer lost)"
            elif entry.get('fault'):
                answer += ' (fault, not applied)'
            steps.append(f'{step} -> {answer}')
    return steps


def failures_of(run: dict, entries: list, instance_ids: list) -> list:
    """What the role reported for each failed task (task, message, failed entries) and what the emulator saw."""
    found = []
    for task in run['tasks']:
        if task['outcome'] in ('failed', 'unreachable'):
            failed = [dict(e) for e in task['entries'] if e['failed']]
            for entry in failed:
                ids = [i for i in UUID.findall(entry['msg']) if i not in instance_ids]
                if ids:
                    entry['emulator_saw'] = trace(entries, ids[0])
            found.append({'host': task['host'], 'task': task['task'], 'msg': task['msg'][:800], 'entries': failed})
    return found


def redone_of(run: dict) -> dict:
    """Actions of the entries a run still changed (counted per action name without its argument)."""
    actions = collections.Counter()
    for task in run['tasks']:
        for entry in task['entries']:
            if entry['changed']:
                for action in entry['actions']:
                    actions[action.split(':', 1)[0]] += 1
    return dict(actions)


def run_phase(args, emulator: Emulator, reader_key: str, instance_ids: list, phase: int) -> dict:
    declared = declaration(args.instances, args.keys, phase)
    folder = write_inventory(os.path.join(args.workdir, f'phase{phase}', 'inventory'), emulator, instance_ids, declared, phase)
    emulator.faults_on(args.rate, args.seed + phase)
    emulator.new_requests()
    started = time.perf_counter()
    runs = []
    for number in range(1, args.max_runs + 1):
        base = os.path.join(args.workdir, f'phase{phase}', f'run{number}')
        run = run_playbook(args, folder, base + '.json', base + '.log', reader_key)
        entries = emulator.new_requests()
        run['requests'] = tally(entries)
        run['failures'] = failures_of(run, entries, instance_ids)
        run['redone'] = redone_of(run)
        del run['tasks']
        runs.append(run)
        faults = sum(kind['faults'] for kind in run['requests'].values())
        print(f"phase {phase} run {number}: rc={run['rc']} changed={run['changed']} failed={run['failed']} "
              f"faults={faults} {run['seconds']} s", flush=True)
        for failure in run['failures']:
            print(f"  FAILED {failure['host']} / {failure['task']}: {failure['msg'][:300]}", flush=True)
            for entry in failure['entries'][:10]:
                if entry.get('emulator_saw'):
                    print(f"    emulator saw for {entry['item']}: {'; '.join(entry['emulator_saw'])}", flush=True)
        if run['changed'] == 0 and run['failed'] == 0 and run['rc'] == 0 and run['hosts'] == args.instances:
            break
    converged = bool(runs) and runs[-1]['changed'] == 0 and runs[-1]['failed'] == 0 and runs[-1]['rc'] == 0
    seconds = time.perf_counter() - started
    emulator.faults_off()
    verdict = check(Reader(emulator, reader_key), instance_ids, declared, phase)
    totals = collections.defaultdict(lambda: {'requests': 0, 'faults': 0, 'lost_after_apply': 0})
    for run in runs:
        for kind, figures in run['requests'].items():
            for name, value in figures.items():
                totals[kind][name] += value
    return {'phase': phase, 'runs': len(runs), 'converged': converged, 'seconds': round(seconds, 1),
            'faults': sum(kind['faults'] for kind in totals.values()), 'per_kind': dict(totals), 'run_details': runs,
            'check': verdict}


def print_phase(result: dict) -> None:
    check_result = result['check']
    print(f"\nphase {result['phase']}: {result['runs']} run(s), converged={result['converged']}, {result['seconds']} s, "
          f"{result['faults']} faults injected")
    print(f"  {'kind':<16}{'requests':>10}{'faults':>8}{'lost after apply':>18}")
    for kind, figures in sorted(result['per_kind'].items()):
        print(f"  {kind:<16}{figures['requests']:>10}{figures['faults']:>8}{figures['lost_after_apply']:>18}")
    counts, problems = check_result['counts'], check_result['problems']
    print(f"  check (faults off): {counts['declared_present']} declared present, {counts['declared_absent']} declared absent, "
          f"{counts['keys_live']} live and {counts['keys_deleted']} deleted keys held")
    print('  ' + ', '.join(f'{len(items)} {name}' for name, items in problems.items()))
    for name, items in problems.items():
        for item in items[:5]:
            print(f'    {name}: {json.dumps(item, sort_keys=True)[:400]}')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--state-file', required=True, help='the emulator state file (scripts/chaos passes it)')
    parser.add_argument('--collections-path', required=True, help='where ansible_collections/ibm/hs_crypto is staged')
    parser.add_argument('--workdir', required=True, help='inventories, run logs and the JSON result go here')
    parser.add_argument('--instances', type=int, default=5, help='instances (at most those of the chaos config; default 5)')
    parser.add_argument('--keys', type=int, default=1000, help='keys per instance (default 1000)')
    parser.add_argument('--rate', type=float, default=0.05, help='share of faulted requests of each kind (default 0.05)')
    parser.add_argument('--seed', type=int, default=11, help='base seed of the fault rules (default 11)')
    parser.add_argument('--max-runs', type=int, default=10, help='runs per phase at most (default 10)')
    parser.add_argument('--forks', type=int, default=5, help='Ansible forks (default 5)')
    parser.add_argument('--json', help='also write the figures here')
    args = parser.parse_args(argv)

    with open(CONFIG_FILE, encoding='utf-8') as handle:
        config = json.load(handle)
    instance_ids = list(config['instances'])
    if not 1 <= args.instances <= len(instance_ids):
        parser.error(f'--instances must be between 1 and {len(instance_ids)} (the instances of {CONFIG_FILE})')
    if args.keys < 25:
        parser.error('--keys must be at least 25 (every kind of change needs a few keys)')
    api_key = next(iter(config['api_keys']))
    os.makedirs(args.workdir, exist_ok=True)
    emulator = Emulator(args.state_file)
    emulator.control('POST', 'reset')
    emulator.control('POST', 'config', json=config)

    started = time.perf_counter()
    print(f'chaos run: {args.instances} instance(s) x {args.keys} keys, fault rate {args.rate} per kind, seed {args.seed}', flush=True)
    phases = []
    for phase in (1, 2):
        phases.append(run_phase(args, emulator, api_key, instance_ids, phase))
        print_phase(phases[-1])  # at once: a long run stopped in phase 2 still shows phase 1
        sys.stdout.flush()
    total = time.perf_counter() - started
    ok = all(result['converged'] and result['check']['ok'] for result in phases)
    print(f"\nwall time {total:.1f} s; runs per phase {[result['runs'] for result in phases]}; "
          f"faults injected {sum(result['faults'] for result in phases)}; result {'PASS' if ok else 'FAIL'}")
    document = {'instances': args.instances, 'keys': args.keys, 'rate': args.rate, 'seed': args.seed,
                'max_runs': args.max_runs, 'seconds': round(total, 1), 'ok': ok, 'phases': phases}
    for path in filter(None, (args.json, os.path.join(args.workdir, 'chaos.json'))):
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(document, handle, indent=1)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
