"""Test and release sessions of the ibm.hs_crypto collection (``nox -l`` lists them; docs/testing.md explains them).

Every session installs what it needs into its own venv under .nox/ (uv when nox has it, else virtualenv; the versions
pinned in tests/constraints.txt), copies the collection into a tree of its own where ansible-test and the other tools
need it (``<session tmp>/ansible_collections/ibm/hs_crypto``) and runs the stock tools there: ansible-test, ansible-lint,
antsibull-docs and antsibull-changelog, ansible-galaxy, ansible-builder and podman, ansible-runner.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import nox

# The supported ansible-core releases (docs/testing.md) and the Python each is tested on; the last is the primary,
# where the steps that run once (integration, lint, docs, build, EE) run. tests/unit/test_collection_metadata.py
# checks meta/runtime.yml's requires_ansible against this table.
ANSIBLE_CORE = {
    '2.19': ('2.19.14', '3.11'),
    '2.20': ('2.20.10', '3.12'),
    '2.21': ('2.21.5', '3.13'),
}
PRIMARY = '2.21'

# The service personalities of the integration suite (tests/hpcs_emulator serves them all at once; the variable
# hs_crypto_personality chooses the instance the targets use) and the target groups (aliases) each cannot run: the
# HPCS broker's endpoint discovery is not Key Protect's; Dedicated has no import tokens.
PERSONALITIES = {
    'hpcs': [],
    'kp-standard': ['hs_crypto_needs_broker'],
    'kp-dedicated': ['hs_crypto_needs_broker', 'hs_crypto_needs_import_token'],
}

ROOT = Path(__file__).resolve().parent
CONSTRAINTS = ('-c', 'tests/constraints.txt')
DEBIAN_PACKAGES = {'docs': ['chromium', 'chromium-driver'], 'lint': ['shellcheck']}
COMMON_ENV = {'ANSIBLE_NOCOLOR': '1', 'PY_COLORS': '0', 'PYTHONPATH': ''}

nox.options.default_venv_backend = 'uv|virtualenv'
nox.options.reuse_venv = 'yes'
# A leg whose Python is missing fails the run instead of being skipped (the matrix is a test, not a wish).
nox.options.error_on_missing_interpreters = True
nox.options.sessions = [
    *(f'sanity-{core}' for core in ANSIBLE_CORE), *(f'units-{core}' for core in ANSIBLE_CORE),
    *(f'integration-{name}' for name in PERSONALITIES),
    'lint', 'docs', 'build', 'changelog', 'ee',
]


def _pyenv_on_path() -> None:
    """Put pyenv's interpreters (3.12, 3.13 here) on PATH: its ``pythonX.Y`` shims do not run them."""
    for python in sorted(glob.glob(os.path.expanduser('~/.pyenv/versions/3.*/bin/python3.*[0-9]')), reverse=True):
        os.environ['PATH'] = f'{os.path.dirname(python)}{os.pathsep}{os.environ["PATH"]}'


_pyenv_on_path()


# --- Helpers ---------------------------------------------------------------------------------------------------------

def tmp(session: nox.Session) -> Path:
    """The session's scratch folder (.nox/<session>/tmp), absolute: the tools run from other folders."""
    return Path(session.create_tmp()).resolve()


def stage(session: nox.Session, name: str = 'tree') -> Path:
    """Copy the collection (git's tracked and untracked-not-ignored files) to a tree of the session; return its path.

    ansible-test needs a real ``ansible_collections/ibm/hs_crypto`` folder; the copy gets an empty git repository of its
    own, so that the tools do not find the enclosing one (in which .nox/ is ignored) and see no file.
    """
    tree = tmp(session) / name / 'ansible_collections' / 'ibm' / 'hs_crypto'
    shutil.rmtree(tree, ignore_errors=True)
    listing = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'],
                             cwd=ROOT, check=True, capture_output=True).stdout.decode().split('\0')
    for path in filter(None, listing):
        source = ROOT / path
        if source.is_file():
            (tree / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / path)
    subprocess.run(['git', 'init', '-q', str(tree)], check=True)
    session.env.update(COMMON_ENV, ANSIBLE_COLLECTIONS_PATH=str(tree.parents[2]))
    return tree


def install_core(session: nox.Session, core: str, *requirements: str) -> None:
    session.install(f'ansible-core=={ANSIBLE_CORE[core][0]}', *requirements, *CONSTRAINTS)


def pip_bootstrap(session: nox.Session) -> None:
    """ansible-test makes its sanity venvs with a get-pip script that it downloads from a host this network cannot
    reach, unless ``~/.ansible/test/cache/get_pip_<version>.py`` exists: put scripts/get_pip_offline.py there under
    the pip version(s) this ansible-test asks for (read from its source, not imported)."""
    source = session.run('python', '-c', 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))',
                         silent=True).strip()
    text = Path(source, '_internal', 'python_requirements.py').read_text()
    versions = set(re.findall(r"\bpip='([0-9][0-9.]*)'", text))
    if not versions:
        session.error(f'no pip version found in {source}/_internal/python_requirements.py')
    cache = Path.home() / '.ansible' / 'test' / 'cache'
    cache.mkdir(parents=True, exist_ok=True)
    for version in versions:
        shutil.copyfile(ROOT / 'scripts' / 'get_pip_offline.py', cache / f'get_pip_{version.replace(".", "_")}.py')


def debian_packages(session: nox.Session, *packages: str) -> None:
    """Install the Debian packages that are missing (as root, or through passwordless sudo)."""
    missing = [name for name in packages
               if subprocess.run(['dpkg-query', '-W', '-f=${Status}', name], capture_output=True, text=True,
                                 check=False).stdout != 'install ok installed']
    if not missing:
        return
    # One apt-get at a time: scripts/test runs sessions side by side.
    apt = [*([] if os.geteuid() == 0 else ['sudo', '-n']), 'flock', '/var/lock/hs_crypto-apt', 'apt-get', '-qq']
    env = {'DEBIAN_FRONTEND': 'noninteractive'}
    session.run(*apt, 'update', external=True, env=env)
    session.run(*apt, 'install', '-y', '--no-install-recommends', *missing, external=True, env=env, silent=True)


class Emulator:
    """The emulator (tests/hpcs_emulator) in the background, for the sessions that run playbooks against it."""

    def __init__(self, session: nox.Session, tree: Path, personality: str = 'hpcs') -> None:
        self.session, self.dir = session, tmp(session) / 'emulator'
        self.env_file = self.dir / f'{personality}.env'
        self.python_env = {'PYTHONPATH': str(tree / 'tests')}
        session.run('python', '-m', 'hpcs_emulator', 'ensure', '--dir', str(self.dir), '--fresh',
                    '--personality', personality, '--format', 'env', '--vars-out', str(self.env_file),
                    env=self.python_env)
        self.state = json.loads((self.dir / 'state.json').read_text())

    def exports(self) -> dict[str, str]:
        """The modules' environment variables (API key, IAM, Resource Controller, CA) for the emulator."""
        found = re.findall(r"^export ([A-Z_0-9]+)=(.*)$", self.env_file.read_text(), flags=re.M)
        return {name: value.strip("'\"") for name, value in found}

    def writes(self) -> int:
        with urllib.request.urlopen(f'{self.state["http_url"]}/_emulator/counters', timeout=10) as answer:
            return json.load(answer)['writes']

    def stop(self) -> None:
        self.session.run('python', '-m', 'hpcs_emulator', 'stop', '--dir', str(self.dir), env=self.python_env)


# --- Test sessions ---------------------------------------------------------------------------------------------------

def sanity(session: nox.Session, core: str) -> None:
    """ansible-test sanity, every test, no ignore file."""
    install_core(session, core)
    tree = stage(session)
    pip_bootstrap(session)
    session.chdir(tree)
    session.run('ansible-test', 'sanity', '--color', 'no', '--python', ANSIBLE_CORE[core][1], *session.posargs)


def units(session: nox.Session, core: str) -> None:
    """ansible-test units (tests/unit with pytest-xdist); the emulator's own tests only on the primary release."""
    install_core(session, core, '-r', 'tests/unit/requirements.txt', 'pytest', 'pytest-xdist')
    tree = stage(session)
    session.chdir(tree)
    paths = session.posargs or ([] if core == PRIMARY else ['tests/unit/plugins/', 'tests/unit/test_collection_metadata.py'])
    session.run('ansible-test', 'units', '--local', '--color', 'no', '--python', ANSIBLE_CORE[core][1], *paths)


def integration(session: nox.Session, personality: str) -> None:
    """ansible-test integration against the emulator, which the targets' setup starts (one per run, stopped after)."""
    install_core(session, PRIMARY, '-r', 'tests/integration/requirements.txt')
    tree = stage(session)
    config = tree / 'tests' / 'integration' / 'integration_config.yml'
    config.write_text(f'---\nhs_crypto_personality: {personality}\n')
    excluded = [arg for group in PERSONALITIES[personality] for arg in ('--exclude', f'{group}/')]
    session.chdir(tree)
    try:
        session.run('ansible-test', 'integration', '--local', '--color', 'no', '--python', ANSIBLE_CORE[PRIMARY][1],
                    *excluded, *session.posargs)
    finally:
        for folder in glob.glob(str(tree / 'tests' / 'output' / '.tmp' / 'hs_crypto_emulator*')):
            session.run('python', '-m', 'hpcs_emulator', 'stop', '--dir', folder, env={'PYTHONPATH': str(tree / 'tests')})


def _register(name: str, func, python: str, tags: list[str], **kwargs) -> None:
    def session_func(session: nox.Session) -> None:
        func(session, **kwargs)
    session_func.__doc__ = func.__doc__
    nox.session(name=name, python=python, tags=tags)(session_func)


for _core, (_version, _python) in ANSIBLE_CORE.items():
    _register(f'sanity-{_core}', sanity, _python, ['sanity', 'matrix'], core=_core)
    _register(f'units-{_core}', units, _python, ['units', 'matrix'], core=_core)
for _personality in PERSONALITIES:
    _register(f'integration-{_personality}', integration, ANSIBLE_CORE[PRIMARY][1], ['integration'],
              personality=_personality)


@nox.session(python=ANSIBLE_CORE[PRIMARY][1])
def lint(session: nox.Session) -> None:
    """ansible-lint (production profile, offline) on the collection; shellcheck on the shell scripts."""
    debian_packages(session, *DEBIAN_PACKAGES['lint'])
    install_core(session, PRIMARY, 'ansible-lint')
    tree = stage(session)
    session.chdir(tree)
    session.run('ansible-lint', '--nocolor')
    if (tree / '.ansible').exists():
        session.error('ansible-lint left a .ansible/ folder in the collection')
    scripts = [str(path) for path in [tree / '.ci' / 'run', *sorted((tree / 'scripts').iterdir())]
               if path.is_file() and path.read_text(errors='replace').startswith(('#!/usr/bin/env bash', '#!/bin/bash'))]
    session.run('shellcheck', '-x', *scripts, external=True)


@nox.session(python=ANSIBLE_CORE[PRIMARY][1])
def docs(session: nox.Session) -> None:
    """antsibull-docs lint; the HTML site built offline; then opened in headless Chromium (scripts/docsite.py); the
    compliance reports rendered from a sample, the JUnit file checked against its schema and the HTML in Chromium
    (scripts/check_report.py; the screenshot stays in .nox/docs/tmp/compliance-report/)."""
    debian_packages(session, *DEBIAN_PACKAGES['docs'])
    install_core(session, PRIMARY, 'antsibull-docs', 'sphinx', 'sphinx-ansible-theme', 'selenium', 'requests', 'xmlschema',
                 'pip')
    tree = stage(session)
    site = tmp(session) / 'docsite'
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(mode=0o755)
    session.chdir(tree)
    session.run('antsibull-docs', 'lint-collection-docs', '--plugin-docs', '--check-extra-docs-refs',
                '--validate-collection-refs', 'all', '--disallow-unknown-collection-refs', '.')
    session.run('antsibull-docs', 'sphinx-init', '--use-current', '--squash-hierarchy', '--fail-on-error',
                '--dest-dir', str(site), '--project', 'ibm.hs_crypto', '--title', 'ibm.hs_crypto', 'ibm.hs_crypto',
                silent=True)
    session.run('python', str(ROOT / 'scripts' / 'docsite.py'), 'offline-conf', str(site))
    (site / 'rst').mkdir(exist_ok=True)
    (site / 'rst').chmod(0o755)
    session.chdir(site)
    session.run('antsibull-docs', '--config-file', 'antsibull-docs.cfg', 'collection', '--cleanup', 'everything',
                '--fail-on-error', '--use-current', '--squash-hierarchy', '--dest-dir', 'rst', 'ibm.hs_crypto',
                silent=True)
    session.run('sphinx-build', '-M', 'html', 'rst', 'build', '-c', '.', '-W', '--keep-going', '-q', '-j', '2')
    session.run('python', str(ROOT / 'scripts' / 'docsite.py'), 'check', 'build/html', '--report', 'check.json',
                env={'SE_OFFLINE': 'true'})
    report = ROOT / tmp(session) / 'compliance-report'
    shutil.rmtree(report, ignore_errors=True)
    report.mkdir()
    session.run('python', str(ROOT / 'scripts' / 'check_report.py'), str(ROOT / 'tests' / 'unit' / 'fixtures' / 'compliance_results.json'),
                str(report), env={'SE_OFFLINE': 'true'})


def build_tarball(session: nox.Session, tree: Path) -> Path:
    """ansible-galaxy collection build of the staged tree; return the tarball."""
    dist = tmp(session) / 'dist'
    shutil.rmtree(dist, ignore_errors=True)
    session.run('ansible-galaxy', 'collection', 'build', '--output-path', str(dist), str(tree), silent=True)
    (tarball,) = dist.glob('ibm-hs_crypto-*.tar.gz')
    return tarball


def install_tarball(session: nox.Session, tarball: Path, name: str) -> Path:
    """Install the tarball offline into a collections path of its own; return that path."""
    target = tmp(session) / name
    shutil.rmtree(target, ignore_errors=True)
    session.run('ansible-galaxy', 'collection', 'install', '--offline', '--no-deps', '--force', '-p', str(target),
                str(tarball), env={'ANSIBLE_COLLECTIONS_PATH': str(target)}, silent=True)
    return target


@nox.session(python=ANSIBLE_CORE[PRIMARY][1])
def build(session: nox.Session) -> None:
    """Build the tarball, install it, render every module's documentation from it, check what it holds; then
    galaxy-importer's import checks (Galaxy, Automation Hub), offline, with tests/galaxy-importer.cfg."""
    install_core(session, PRIMARY, 'galaxy-importer', 'ansible-lint')
    tarball = build_tarball(session, stage(session))
    installed = install_tarball(session, tarball, 'installed')
    session.env['ANSIBLE_COLLECTIONS_PATH'] = str(installed)
    modules = sorted(path.stem for path in (installed / 'ansible_collections/ibm/hs_crypto/plugins/modules').glob('*.py')
                     if path.stem != '__init__')
    for module in modules:
        text = session.run('ansible-doc', f'ibm.hs_crypto.{module}', silent=True, stderr=subprocess.STDOUT)
        if not text or '[WARNING]' in text or 'ERROR' in text:
            session.error(f'ansible-doc ibm.hs_crypto.{module} failed or warned:\n{text}')
    session.log(f'ansible-doc: {len(modules)} modules rendered from the installed tarball')
    session.run('python', str(ROOT / 'scripts' / 'check_artifact.py'), str(tarball))
    # galaxy-importer exits 0 when its ansible-lint run finds problems (it logs them as WARNING: lines): fail on those too.
    work = tmp(session) / 'importer'
    work.mkdir(exist_ok=True)
    session.chdir(work)
    output = session.run('python', '-m', 'galaxy_importer.main', str(tarball), silent=True, stderr=subprocess.STDOUT,
                         env={'GALAXY_IMPORTER_CONFIG': str(ROOT / 'tests' / 'galaxy-importer.cfg')})
    problems = [line for line in output.splitlines() if line.startswith(('WARNING:', 'ERROR:'))]
    if problems:
        session.error('galaxy-importer:\n' + '\n'.join(problems))
    session.log(f'galaxy-importer: the import passed ({len(output.splitlines())} lines of output, no warning)')


@nox.session(python=ANSIBLE_CORE[PRIMARY][1])
def changelog(session: nox.Session) -> None:
    """antsibull-changelog lint, then a release rehearsal in a scratch copy (scripts/check_release.py reads it)."""
    install_core(session, PRIMARY, 'antsibull-changelog')
    tree = stage(session)
    session.chdir(tree)
    session.run('antsibull-changelog', 'lint')
    session.run('antsibull-changelog', 'lint-changelog-yaml', 'changelogs/changelog.yaml')
    rehearsal = stage(session, 'release')
    session.chdir(rehearsal)
    session.run('antsibull-changelog', 'release', '--reload-plugins')
    session.run('python', str(ROOT / 'scripts' / 'check_release.py'), str(rehearsal))


@nox.session(python=ANSIBLE_CORE[PRIMARY][1])
def ee(session: nox.Session) -> None:
    """The execution environment image (ansible-builder, podman, a Debian base), and the main job run in it twice."""
    install_core(session, PRIMARY, 'ansible-builder', 'ansible-runner', '-r', 'tests/integration/requirements.txt')
    tree = stage(session)
    tarball = build_tarball(session, tree)
    tag = 'localhost/ibm-hs-crypto-ee:test'
    ca_file = os.environ.get('HS_CRYPTO_EE_CA_FILE', '/etc/ssl/certs/ca-certificates.crt')
    session.run('python', str(ROOT / 'scripts' / 'ee_image.py'), 'base')
    session.run('python', str(ROOT / 'scripts' / 'ee_image.py'), 'build', '--tarball', str(tarball), '--tag', tag,
                *(['--ca-file', ca_file] if ca_file else []))
    emulator = Emulator(session, tree)
    try:
        session.run('python', str(ROOT / 'scripts' / 'runner_job.py'), '--inventory', str(ROOT / 'examples' / 'inventory'),
                    '--emulator-env', str(emulator.env_file), '--container-image', tag,
                    str(tmp(session) / 'job'))
    finally:
        emulator.stop()


# --- The main job, and figures (not tests: not among the default sessions) -----------------------------------------

def _playbook_env(emulator: Emulator, tree: Path) -> dict[str, str]:
    return {**emulator.exports(), 'ANSIBLE_COLLECTIONS_PATH': str(tree.parents[2])}


@nox.session(python=ANSIBLE_CORE[PRIMARY][1], default=False)
def demo(session: nox.Session) -> None:
    """The main job against a fresh emulator: provision the example inventory, run again (nothing may change), then
    preview an edit of the inventory with --check --diff (no write may reach the service), then the compliance reports
    of the inventory (read-only). Options after -- go to ansible-playbook; HS_CRYPTO_DEMO_INVENTORY names another
    inventory."""
    install_core(session, PRIMARY, '-r', 'tests/integration/requirements.txt')
    tree = stage(session)
    inventory = Path(os.environ.get('HS_CRYPTO_DEMO_INVENTORY', ROOT / 'examples' / 'inventory'))
    playbook = str(ROOT / 'playbooks' / 'provision.yml')
    emulator = Emulator(session, tree)
    try:
        env = _playbook_env(emulator, tree)
        session.run('ansible-playbook', '-i', str(inventory), playbook, *session.posargs, env=env)
        second = session.run('ansible-playbook', '-i', str(inventory), playbook, *session.posargs, env=env, silent=True)
        print(second)
        recap = second.split('PLAY RECAP', 1)[-1]
        if re.search(r' changed=[1-9]', recap):
            session.error('the second run changed something (it must not)')
        session.log('second run: nothing changed on any instance')
        edited = tmp(session) / 'inventory-edited'
        shutil.rmtree(edited, ignore_errors=True)
        shutil.copytree(inventory, edited)
        host_vars = edited / 'host_vars' / 'payments-us-south.yml'
        if host_vars.exists():
            text = host_vars.read_text()
            host_vars.write_text(text.replace('      interval_month: 3\n', '      interval_month: 6\n', 1))
            session.log(f'edited copy: {edited} (payments-root: rotation.interval_month 3 -> 6)')
        before = emulator.writes()
        session.run('ansible-playbook', '-i', str(edited), playbook, '--check', '--diff', *session.posargs, env=env)
        if emulator.writes() != before:
            session.error(f'check mode wrote {emulator.writes() - before} request(s) to the service (it must not)')
        session.log('check mode: the change above was predicted, and the service received no write request')
        reports = ROOT / tmp(session) / 'compliance'
        shutil.rmtree(reports, ignore_errors=True)
        before = emulator.writes()
        session.run('ansible-playbook', '-i', str(inventory), 'ibm.hs_crypto.compliance', '-e', f'hs_crypto_compliance_dir={reports}',
                    *session.posargs, env=env)
        missing = [name for name in ('compliance.json', 'compliance.html', 'compliance.junit.xml') if not (reports / name).is_file()]
        if missing or emulator.writes() != before:
            session.error(f'the compliance run wrote no {", ".join(missing)} or sent a write' if missing else 'the compliance run sent a write')
        session.log(f'compliance of the example inventory (read-only): {reports}/compliance.html, .json, .junit.xml')
    finally:
        emulator.stop()


@nox.session(python=ANSIBLE_CORE[PRIMARY][1], default=False)
def migration(session: nox.Session) -> None:
    """The documented move from HPCS to Key Protect against a fresh emulator, for each target named after -- (dedicated,
    standard; both by default): provision the example inventory's HPCS instance, then plan, apply --check, apply, apply
    again (nothing may change) and verify with examples/migration/to-<target>.yml."""
    install_core(session, PRIMARY, '-r', 'tests/integration/requirements.txt')
    tree = stage(session)
    targets = session.posargs or ['dedicated', 'standard']
    unknown = sorted(set(targets) - {'dedicated', 'standard'})
    if unknown:
        session.error(f'unknown migration target(s) {", ".join(unknown)}: dedicated or standard')
    for target in targets:
        emulator = Emulator(session, tree)
        work = tmp(session) / f'migration-{target}'
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            env = {**_playbook_env(emulator, tree), 'PWD': str(work)}
            variables = f'@{ROOT / "examples" / "migration" / f"to-{target}.yml"}'
            session.run('ansible-playbook', '-i', str(ROOT / 'examples' / 'inventory'), str(ROOT / 'playbooks' / 'provision.yml'),
                        '--limit', 'payments-us-south', env=env)
            # (step, options, what it may do): 'writes' to the service; 'reads' only (files may be written); 'nothing' at all.
            for step, options, may in (('plan', [], 'reads'), ('apply', ['--check'], 'reads'), ('apply', [], 'writes'),
                                       ('apply', [], 'nothing'), ('verify', [], 'reads')):
                before = emulator.writes()
                output = session.run('ansible-playbook', f'ibm.hs_crypto.migrate_{step}', '-e', variables, *options, env=env,
                                     silent=True)
                print(output)
                if may != 'writes' and emulator.writes() != before:
                    session.error(f'{step} {" ".join(options)} sent a write to the service (it must not)')
                if may == 'nothing' and re.search(r' changed=[1-9]', output.split('PLAY RECAP', 1)[-1]):
                    session.error(f'{step} changed something on its second run (it must not)')
            session.log(f'HPCS -> Key Protect {target}: plan, apply, verify done; files in {work / "hs-crypto-migration"}')
        finally:
            emulator.stop()


def _figures(session: nox.Session, script: str, *args: str) -> None:
    """Run benchmarks/SCRIPT against a fresh emulator, with the state file and the staged collection."""
    install_core(session, PRIMARY, '-r', 'tests/integration/requirements.txt')
    tree = stage(session)
    emulator = Emulator(session, tree)
    try:
        session.run('python', str(ROOT / 'benchmarks' / script), '--state-file', str(emulator.dir / 'state.json'),
                    '--collections-path', str(tree.parents[2]), *args, *session.posargs)
    finally:
        emulator.stop()


@nox.session(python=ANSIBLE_CORE[PRIMARY][1], default=False)
def benchmark(session: nox.Session) -> None:
    """Provisioning N keys: the role against a uri loop and the request floors (arguments after --, e.g. --sizes 100)."""
    _figures(session, 'provision_benchmark.py')


@nox.session(name='compliance-benchmark', python=ANSIBLE_CORE[PRIMARY][1], default=False)
def compliance_benchmark(session: nox.Session) -> None:
    """The compliance playbook over N instances x M keys against the read floors (after --, e.g. --instances 50 --keys 1000)."""
    _figures(session, 'compliance_benchmark.py')


@nox.session(python=ANSIBLE_CORE[PRIMARY][1], default=False)
def chaos(session: nox.Session) -> None:
    """N instances x M keys converged under injected faults (arguments after --, e.g. --instances 2 --keys 50)."""
    _figures(session, 'chaos.py', '--workdir', str(tmp(session) / 'work'))


@nox.session(python=ANSIBLE_CORE[PRIMARY][1], default=False)
def emulator(session: nox.Session) -> None:
    """A local emulator for trying the modules by hand: started (or reused) in .nox/emulator/tmp, its exports printed
    (`scripts/nox -s emulator 2>/dev/null >emulator.env`); `scripts/nox -s emulator -- stop` stops it."""
    install_core(session, PRIMARY, '-r', 'tests/integration/requirements.txt')
    folder = tmp(session) / 'emulator'
    env = {'PYTHONPATH': str(ROOT / 'tests')}
    if session.posargs[:1] == ['stop']:
        session.run('python', '-m', 'hpcs_emulator', 'stop', '--dir', str(folder), env=env)
        return
    session.run('python', '-m', 'hpcs_emulator', 'ensure', '--dir', str(folder), '--idle-exit', '0',
                '--personality', (session.posargs or ['hpcs'])[0], '--format', 'env', '--vars-out', str(folder / 'env'),
                env=env, silent=True)
    print((folder / 'env').read_text(), end='')
