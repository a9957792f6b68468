"""What a release rehearsal wrote (the nox session ``changelog``): python scripts/check_release.py RELEASED_COPY

RELEASED_COPY is a scratch copy of the collection in which ``antsibull-changelog release`` ran. antsibull-changelog
does not check that the release names all the content: that CHANGELOG.rst and the changelog.yaml entry of galaxy.yml's
version list every module, plugin, role and playbook as new, with a release summary, and that no fragment is left.
The versions the collection states (requires_ansible, README, galaxy.yml, version_added) are unit tests:
tests/unit/test_collection_metadata.py.
"""

import os
import sys

import yaml

# Not plugins of their own in a release: an action plugin is the code of the module of the same name (its documentation
# is in plugins/modules, and the release lists it there, as a module).
NOT_PLUGINS = ('modules', 'module_utils', 'doc_fragments', 'plugin_utils', 'action')


def load(*path: str):
    with open(os.path.join(*path), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def names(folder: str, ext: str) -> set[str]:
    return {os.path.splitext(name)[0] for name in os.listdir(folder) if name.endswith(ext) and not name.startswith('_')}


def content(root: str) -> dict[tuple[str, str], set[str]]:
    """{(changelog.yaml list, type): names} of everything the release must list as new."""
    found = {('modules', ''): names(os.path.join(root, 'plugins', 'modules'), '.py'),
             ('objects', 'role'): set(os.listdir(os.path.join(root, 'roles'))),
             ('objects', 'playbook'): names(os.path.join(root, 'playbooks'), '.yml')}
    for kind in sorted(set(os.listdir(os.path.join(root, 'plugins'))) - set(NOT_PLUGINS)):
        found[('plugins', kind)] = names(os.path.join(root, 'plugins', kind), '.py')
    return found


def check(released: str) -> list[str]:
    version = str(load(released, 'galaxy.yml')['version'])
    release = (load(released, 'changelogs', 'changelog.yaml').get('releases') or {}).get(version)
    if not release:
        return [f'changelogs/changelog.yaml has no release {version}']
    errors = [] if (release.get('changes') or {}).get('release_summary') else [f'release {version} has no release_summary']
    path = os.path.join(released, 'CHANGELOG.rst')
    with open(path, encoding='utf-8') if os.path.isfile(path) else open(os.devnull, encoding='utf-8') as handle:
        text = handle.read()
    errors += [] if f'v{version}' in text else [f'CHANGELOG.rst has no section v{version}']
    for (group, kind), names in content(released).items():
        entries = release.get(group) or []
        listed = {entry['name'] for entry in (entries if group == 'modules' else entries.get(kind) or [])}
        errors += [f'release {version} does not list the new {kind or "module"} {name}' for name in sorted(names - listed)]
        errors += [f'CHANGELOG.rst does not name ibm.hs_crypto.{name}' for name in sorted(names)
                   if f'ibm.hs_crypto.{name}' not in text]
    left = sorted(name for name in os.listdir(os.path.join(released, 'changelogs', 'fragments')) if name.endswith(('.yml', '.yaml')))
    return errors + ([f'the release left fragments behind: {", ".join(left)}'] if left else [])


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    problems = check(sys.argv[1])
    for problem in problems:
        print(f'error: {problem}', file=sys.stderr)
    print(f'release rehearsal: {len(problems)} problem(s)')
    sys.exit(1 if problems else 0)
