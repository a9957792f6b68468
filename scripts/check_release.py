"""Release hygiene, the end of the changelog step of scripts/test.

Usage: python scripts/check_release.py --matrix scripts/matrix COLLECTION_DIR RELEASED_COPY

RELEASED_COPY is a scratch copy of the collection in which ``antsibull-changelog release`` ran. Checks:

* the release produced CHANGELOG.rst and a ``changelogs/changelog.yaml`` entry for galaxy.yml's version, with the
  fragments' release summary, every plugin, role and playbook listed as new, and the fragments consumed;
* galaxy.yml's version is a semantic version, and no module, role entry point or option claims a ``version_added``
  later than it;
* meta/runtime.yml's ``requires_ansible`` lower bound and the role's ``min_ansible_version`` are the oldest
  ansible-core of the version matrix (scripts/matrix), and README.md names every ansible-core and Python version of
  the matrix.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys

import yaml

SEMVER = re.compile(r'^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?$')


def load(root: str, path: str):
    with open(os.path.join(root, path), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r'\d+', str(text))[:3])


def matrix_legs(path: str) -> list[tuple[str, str, str]]:
    """(leg, python, ansible-core) of every line between BEGIN LEGS and END LEGS of scripts/matrix."""
    with open(path, encoding='utf-8') as handle:
        text = handle.read()

    table = text.split('# BEGIN LEGS', 1)[1].split('# END LEGS', 1)[0]
    return re.findall(r'^(\d+\.\d+-py\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+\.\d+)\s', table, re.MULTILINE)


def module_docs(root: str) -> dict[str, dict]:
    docs = {}
    folder = os.path.join(root, 'plugins', 'modules')

    for name in sorted(os.listdir(folder)):
        if not name.endswith('.py') or name.startswith('_'):
            continue

        with open(os.path.join(folder, name), encoding='utf-8') as handle:
            tree = ast.parse(handle.read())

        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(target, 'id', None) == 'DOCUMENTATION' for target in node.targets):
                docs[name[:-3]] = yaml.safe_load(ast.literal_eval(node.value))

    return docs


def other_plugins(root: str) -> list[str]:
    """Names of the plugins that are not modules (filter, lookup, ...): a .py file, or a .yml documentation file."""
    names = set()

    for plugin_type in sorted(os.listdir(os.path.join(root, 'plugins'))):
        if plugin_type in ('modules', 'module_utils', 'doc_fragments', 'plugin_utils'):
            continue
        for name in os.listdir(os.path.join(root, 'plugins', plugin_type)):
            stem, extension = os.path.splitext(name)
            if extension in ('.py', '.yml', '.yaml') and not stem.startswith('_'):
                names.add(stem)

    return sorted(names)


def versions_added(spec: dict, where: str) -> list[tuple[str, str]]:
    found = []

    if isinstance(spec, dict):
        if 'version_added' in spec:
            found.append((where, str(spec['version_added'])))

        for key in ('options', 'suboptions'):
            for name, option in (spec.get(key) or {}).items():
                found.extend(versions_added(option, f'{where}.{name}'))

    return found


def check(matrix: str, root: str, released: str) -> list[str]:
    errors = []
    galaxy = load(root, 'galaxy.yml')
    version = str(galaxy['version'])
    modules = module_docs(root)
    roles = sorted(os.listdir(os.path.join(root, 'roles')))

    if not SEMVER.match(version):
        errors.append(f'galaxy.yml version {version!r} is not a semantic version')

    # The release rehearsal.
    changelog_path = os.path.join(released, 'CHANGELOG.rst')

    if not os.path.isfile(changelog_path):
        errors.append('antsibull-changelog release wrote no CHANGELOG.rst')
        changelog = ''
    else:
        with open(changelog_path, encoding='utf-8') as handle:
            changelog = handle.read()

    release = (load(released, 'changelogs/changelog.yaml').get('releases') or {}).get(version)

    if not release:
        errors.append(f'changelogs/changelog.yaml of the release has no entry for {version}')
    else:
        if not (release.get('changes') or {}).get('release_summary'):
            errors.append(f'the {version} release has no release summary')

        listed = {entry['name'] for entry in release.get('modules') or []}
        errors.extend(f'the {version} release does not list the new module {name}'
                      for name in sorted(set(modules) - listed))
        listed_roles = {entry['name'] for entry in release.get('objects', {}).get('role') or []}
        errors.extend(f'the {version} release does not list the new role {name}'
                      for name in roles if name not in listed_roles)

    if f'v{version}' not in changelog:
        errors.append(f'CHANGELOG.rst has no section v{version}')

    playbooks = sorted(name[:-4] for name in os.listdir(os.path.join(root, 'playbooks')) if name.endswith('.yml'))
    others = other_plugins(root)
    errors.extend(f'CHANGELOG.rst does not name ibm.hs_crypto.{name}'
                  for name in sorted(modules) + roles + playbooks + others if f'ibm.hs_crypto.{name}' not in changelog)
    left = [name for name in os.listdir(os.path.join(released, 'changelogs', 'fragments')) if name.endswith(('.yml', '.yaml'))]

    if left:
        errors.append(f"the release left fragments behind: {', '.join(sorted(left))}")

    # version_added never later than the version being released.
    claims = []

    for name, doc in modules.items():
        claims.extend(versions_added(doc, f'module {name}'))

    for role in roles:
        specs = load(root, os.path.join('roles', role, 'meta', 'argument_specs.yml'))['argument_specs']
        for entry_point, spec in specs.items():
            claims.extend(versions_added(spec, f'role {role} {entry_point}'))

    errors.extend(f'{where}: version_added {claimed} is later than galaxy.yml version {version}'
                  for where, claimed in claims if version_tuple(claimed) > version_tuple(version))

    # Versions against the matrix.
    legs = matrix_legs(matrix)

    if not legs:
        errors.append(f'{matrix}: no legs found between BEGIN LEGS and END LEGS')
        return errors

    oldest = min(version_tuple(leg[2]) for leg in legs)
    requires = str(load(root, 'meta/runtime.yml').get('requires_ansible', ''))
    match = re.match(r'^>=\s*(\d+\.\d+(?:\.\d+)?)(?:\s*,.*)?$', requires)

    if not match:
        errors.append(f'meta/runtime.yml requires_ansible {requires!r} has no ">=" lower bound')
    elif version_tuple(match.group(1))[:2] != oldest[:2]:
        errors.append('meta/runtime.yml requires_ansible %s, but the oldest ansible-core tested is %d.%d'
                      % (requires, oldest[0], oldest[1]))

    for role in roles:
        minimum = str((load(root, os.path.join('roles', role, 'meta', 'main.yml')).get('galaxy_info') or {})
                      .get('min_ansible_version', ''))
        if version_tuple(minimum)[:2] != oldest[:2]:
            errors.append('role %s min_ansible_version %r is not the oldest ansible-core tested (%d.%d)'
                          % (role, minimum, oldest[0], oldest[1]))

    with open(os.path.join(root, 'README.md'), encoding='utf-8') as handle:
        readme = handle.read()

    for leg, python, core in legs:
        minor = '.'.join(core.split('.')[:2])
        if minor not in readme or python not in readme:
            errors.append(f'README.md does not state the tested leg {leg} (ansible-core {minor}, Python {python})')

    summary = (version, len(modules), len(others), len(roles), len(playbooks), requires, ', '.join(leg[0] for leg in legs))
    print('release %s: CHANGELOG.rst and changelog.yaml written, %d modules, %d other plugin(s), %d role(s), %d playbooks '
          'listed; requires_ansible %s; matrix %s' % summary, flush=True)
    return errors


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--matrix', required=True)
    parser.add_argument('collection_dir')
    parser.add_argument('released_copy')
    args = parser.parse_args(argv)
    errors = check(args.matrix, args.collection_dir, args.released_copy)

    for error in errors:
        print(f'error: {error}', file=sys.stderr)

    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
