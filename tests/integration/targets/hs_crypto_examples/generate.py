# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a playbook that runs the EXAMPLES of every module of the collection, as written, against the emulator.

Usage: python generate.py SCENARIOS_DIR WORK_DIR

Every module (and filter and lookup plugin) of ibm.hs_crypto, as ``ansible-doc`` lists and shows them from the collection
Ansible is pointed at, gets its EXAMPLES text written to ``WORK_DIR/examples/<name>.yml`` unchanged, and
``SCENARIOS_DIR/<name>.yml`` (``<name>_lookup.yml`` for a lookup) says what the examples assume and what they must achieve:

``vars``     values for the examples' placeholder variables (``legacy_secret_b64``, ...); ``hpcs_instance_id`` and
             ``ibmcloud_api_key`` are set for every module.
``prepare``  tasks that create the state the examples take for granted (a key ring, a key to rotate).
``verify``   tasks that check the service holds what the examples were meant to do.
``skip``     ``{task, reason}`` for an example task that cannot run here; the task is replaced by a message that
             says why (then by the entry's ``instead`` tasks, when it has some), and a name that matches no task of the
             examples is an error (so the list cannot go stale).

``WORK_DIR/examples.yml`` then holds one play per module: reset the emulator, prepare, include the examples,
verify. A failing module is recorded and the next one runs; the last play fails when any module failed, or when
a module has no scenario (or a scenario no module). Prepare and verify tasks reach the emulator through
``module_defaults``; the examples themselves get nothing but their variables and the environment variables that
point IAM, the broker and the CA bundle at the emulator, so they discover the endpoint as they would on IBM Cloud.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys

import yaml

__metaclass__ = type

COLLECTION = 'ibm.hs_crypto'
PLUGIN_TYPES = ('module', 'filter', 'lookup')
# Plugin types whose scenario is named <name>_<type> (a lookup may share its name with a module: hs_crypto_key_info).
SUFFIXED_TYPES = ('lookup',)

# The connection of the prepare and verify tasks (not of the examples).
CONNECTION = {
    'instance_id': '{{ hs_crypto_instance_id }}',
    'api_key': '{{ hs_crypto_api_key }}',
    'iam_url': '{{ hs_crypto_emulator_url }}',
    'endpoint': '{{ hs_crypto_emulator_url }}',
    'ca_path': '{{ hs_crypto_ca_path }}',
}

# What every module's examples call their instance and API key.
COMMON_VARS = {
    'hpcs_instance_id': '{{ hs_crypto_instance_id }}',
    'ibmcloud_api_key': '{{ hs_crypto_api_key }}',
    'ansible_python_interpreter': '{{ ansible_playbook_python }}',
    # What the play's environment is to the modules, these variables are to the lookups (which run on the controller
    # and read neither the environment keyword nor module_defaults): IAM and the broker of the emulator.
    'hs_crypto_iam_url': '{{ hs_crypto_emulator_url }}',
    'hs_crypto_broker_url': '{{ hs_crypto_emulator_url }}',
    'hs_crypto_resource_controller_url': '{{ hs_crypto_emulator_url }}',
}

# The environment the examples run in: what a user on IBM Cloud would not need, since the defaults are IBM Cloud's.
ENVIRONMENT = {
    'HS_CRYPTO_IAM_URL': '{{ hs_crypto_emulator_url }}',
    'HS_CRYPTO_BROKER_URL': '{{ hs_crypto_emulator_url }}',
    'HS_CRYPTO_RESOURCE_CONTROLLER_URL': '{{ hs_crypto_emulator_url }}',
    'HS_CRYPTO_CA_PATH': '{{ hs_crypto_ca_path }}',
    'HS_CRYPTO_EXAMPLES_ROOT': '{{ examples_work }}/root',
}


def ansible_doc(plugin_type, *args):
    output = subprocess.run(['ansible-doc', '--json', '-t', plugin_type] + list(args), check=True, stdout=subprocess.PIPE,
                            universal_newlines=True).stdout
    return json.loads(output)


def read_examples():
    """Plugin name -> its EXAMPLES text, for every module, filter and lookup plugin of the collection (a lookup's name
    gets ``_lookup`` appended)."""
    examples = {}

    for plugin_type in PLUGIN_TYPES:
        names = sorted(ansible_doc(plugin_type, '--list', COLLECTION))
        docs = ansible_doc(plugin_type, *names) if names else {}
        suffix = f'_{plugin_type}' if plugin_type in SUFFIXED_TYPES else ''
        examples.update((name.split('.')[-1] + suffix, docs[name].get('examples') or '') for name in names)

    return examples


def skip_tasks(tasks, names, reasons, instead=None):
    """Replace the tasks called ``names`` (in blocks too) by a message, followed by the scenario's ``instead`` tasks for
    that name when it has some; return the names found."""
    found = set()
    instead = instead or {}

    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            continue

        if task.get('name') in names:
            found.add(task['name'])
            message = {
                'name': f"Not run here - {task['name']}",
                'ansible.builtin.debug': {'msg': f"Example task not run by the tests: {reasons[task['name']]}"},
            }
            tasks[index] = {'name': f"Instead of - {task['name']}", 'block': [message] + instead[task['name']]} \
                if instead.get(task['name']) else message
            continue

        for section in ('block', 'rescue', 'always'):
            if isinstance(task.get(section), list):
                found |= skip_tasks(task[section], names, reasons, instead)

    return found


def connected(name, tasks):
    """Tasks of a scenario, wrapped in a block that connects them to the emulator."""
    return {
        'name': name,
        'module_defaults': {'group/ibm.hs_crypto.hs_crypto': CONNECTION},
        'block': tasks,
    }


def module_play(module, examples_file, scenario, not_run):
    variables = dict(COMMON_VARS)
    variables.update(scenario.get('vars') or {})
    # The example tasks replaced by a message, for verify tasks that depend on them.
    variables['examples_not_run'] = sorted(not_run)
    steps = [
        {
            'name': 'Reset the emulator',
            'ansible.builtin.uri': {'url': '{{ hs_crypto_emulator_http_url }}/_emulator/reset', 'method': 'POST',
                                    'status_code': [200, 204]},
        },
    ]

    if scenario.get('prepare'):
        steps.append(connected(f'Prepare what the examples of {module} assume', scenario['prepare']))

    steps.append({'name': f'Run the examples of {module} as written', 'ansible.builtin.include_tasks': examples_file})

    if scenario.get('verify'):
        steps.append(connected(f'Check what the examples of {module} did', scenario['verify']))

    steps.append({
        'name': 'Record the module as passed',
        'ansible.builtin.set_fact': {'examples_passed': f"{{{{ examples_passed | default([]) + ['{module}'] }}}}"},
    })

    return {
        'name': f'EXAMPLES of ibm.hs_crypto.{module}',
        'hosts': 'localhost',
        'gather_facts': False,
        'vars': variables,
        'environment': ENVIRONMENT,
        'tasks': [{
            'name': module,
            'block': steps,
            'rescue': [{
                'name': 'Record the failure',
                'ansible.builtin.set_fact': {
                    'examples_failed': f"{{{{ examples_failed | default([]) + [{{'module': '{module}', 'task': ansible_failed_task.name, "
                                       "'msg': ansible_failed_result.msg | default('') | truncate(300)}] }}",
                },
            }],
        }],
    }


def summary_play(modules, problems, skipped):
    return {
        'name': 'Every module ran its examples',
        'hosts': 'localhost',
        'gather_facts': False,
        'vars': {'examples_modules': modules, 'examples_problems': problems, 'examples_skipped': skipped},
        'tasks': [
            {
                'name': 'Example tasks not run, and why',
                'ansible.builtin.debug': {'var': 'examples_skipped'},
            },
            {
                'name': 'Assert every module passed',
                'ansible.builtin.assert': {
                    'that': [
                        'examples_failed | default([]) | length == 0',
                        'examples_passed | default([]) | sort == examples_modules',
                        'examples_problems | length == 0',
                    ],
                    'fail_msg': 'failed: {{ examples_failed | default([]) }}; problems: {{ examples_problems }}',
                    'success_msg': 'the examples of {{ examples_modules | length }} modules, filters and lookups ran against the emulator',
                },
            },
        ],
    }


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)

    scenarios_dir, work_dir = argv
    os.makedirs(os.path.join(work_dir, 'examples'), exist_ok=True)
    all_examples = read_examples()
    modules = sorted(all_examples)
    scenarios = sorted(name[:-4] for name in os.listdir(scenarios_dir) if name.endswith('.yml'))
    problems = [f'scenario {name}.yml has no module' for name in scenarios if name not in modules]
    plays = []
    skipped = []

    for module in modules:
        examples = all_examples[module]

        if not examples.strip():
            problems.append(f'{module} has no EXAMPLES')
            continue

        if module not in scenarios:
            problems.append(f'{module} has no scenario (add {os.path.basename(scenarios_dir)}/{module}.yml)')
            continue

        with open(os.path.join(scenarios_dir, module + '.yml'), encoding='utf-8') as handle:
            scenario = yaml.safe_load(handle) or {}

        reasons = dict((entry['task'], entry['reason']) for entry in scenario.get('skip') or [])
        instead = dict((entry['task'], entry['instead']) for entry in scenario.get('skip') or [] if entry.get('instead'))
        found = set()

        if reasons:
            tasks = yaml.safe_load(examples)
            found = skip_tasks(tasks, set(reasons), reasons, instead)
            problems.extend(f'{module}: skip names no example task {name!r} (remove it from the scenario)'
                            for name in sorted(set(reasons) - found))
            skipped.extend(f'{module}: {name} - {reasons[name]}' for name in sorted(found))
            examples = yaml.safe_dump(tasks, sort_keys=False, width=160)

        examples_file = os.path.join(os.path.abspath(work_dir), 'examples', module + '.yml')

        with open(examples_file, 'w', encoding='utf-8') as handle:
            handle.write(examples)

        plays.append(module_play(module, examples_file, scenario, found))

    plays.append(summary_play(modules, problems, skipped))

    with open(os.path.join(work_dir, 'examples.yml'), 'w', encoding='utf-8') as handle:
        handle.write(f'---\n# Generated by {os.path.basename(__file__)}; do not edit.\n')
        yaml.safe_dump(plays, handle, sort_keys=False, width=160)

    print(f'{len(modules)} modules, filters and lookups, {len(skipped)} example tasks not run, {len(problems)} problem(s)')


if __name__ == '__main__':
    main(sys.argv[1:])
