"""Build the collection's execution environment image with ansible-builder and podman, from a Debian base.

Usage:
  python scripts/ee_image.py base [--suite trixie] [--mirror URL] [--base-tag TAG] [--rebuild]
  python scripts/ee_image.py build --tarball ibm-hs_crypto-X.tar.gz [--ca-file FILE] [--tag TAG] [--base-tag TAG]

``base`` makes the base image from Debian packages (mmdebstrap, then ``podman import``): no registry is needed. It
reuses the image when it exists. ``build`` writes an execution environment definition (ansible-builder version 3: the
base image, ansible-core and ansible-runner from PyPI, the collection from the tarball) into a scratch build context
and runs ``ansible-builder build --container-runtime podman``. ``--ca-file`` is for networks that inspect TLS (a
corporate proxy): the file (PEM, one or more certificates) is added to the image's trust store and pip is told to use
it, so that pip reaches PyPI during the build. Without it the image trusts Debian's CA list only.

Run as root (or with passwordless sudo for apt-get): Debian's podman, runc and mmdebstrap are installed when missing,
and /etc/containers/containers.conf gets ``runtime = "runc"`` and ``default_ulimits = []`` when it does not set them
(the default crun fails on hosts with hybrid cgroups, and setrlimit is refused in some sandboxes).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import yaml

BASE_TAG = 'localhost/hs-crypto-ee-base:trixie'
IMAGE_TAG = 'localhost/ibm-hs-crypto-ee:latest'
# trixie's Python 3.13 runs the supported ansible-core releases (2.20, 2.21); bookworm's 3.11 stops at 2.19.
SUITE = 'trixie'
MIRROR = 'http://deb.debian.org/debian'
BASE_PACKAGES = ('python3', 'python3-pip', 'python3-venv', 'ca-certificates')
ANSIBLE_CORE = 'ansible-core==2.21.5'
ANSIBLE_RUNNER = 'ansible-runner==2.4.3'
HOST_PACKAGES = ('podman', 'runc', 'mmdebstrap')
CONTAINERS_CONF = '/etc/containers/containers.conf'
CONTAINERS_SETTINGS = (('engine', 'runtime', '"runc"'), ('containers', 'default_ulimits', '[]'))


def step(name: str, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command, failing the script if it fails; print it and its duration."""
    print(f'+ {" ".join(command)}', flush=True)
    started = time.monotonic()
    result = subprocess.run(command, check=False, **kwargs)
    print(f'{name}: {time.monotonic() - started:.1f} s', flush=True)
    if result.returncode:
        sys.exit(f'error: {name} failed (exit code {result.returncode})')
    return result


def as_root(command: list[str]) -> list[str]:
    return command if os.geteuid() == 0 else ['sudo', '-n', *command]


def host_setup() -> None:
    """Install podman, runc and mmdebstrap when missing; make podman use runc."""
    missing = [name for name in HOST_PACKAGES
               if subprocess.run(['dpkg-query', '-W', '-f=${Status}', name], capture_output=True, text=True,
                                 check=False).stdout != 'install ok installed']
    if missing:
        env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
        apt = as_root(['flock', '/var/lock/hs_crypto-apt', 'apt-get', '-qq'])
        step('apt-get update', [*apt, 'update'], env=env)
        step(f'apt-get install {" ".join(missing)}', [*apt, 'install', '-y', '--no-install-recommends', *missing], env=env,
             stdout=subprocess.DEVNULL)

    conf = pathlib.Path(CONTAINERS_CONF)
    lines = conf.read_text(encoding='utf-8').splitlines() if conf.exists() else []
    added = []
    for table, key, value in CONTAINERS_SETTINGS:
        if any(line.split('=')[0].strip() == key for line in lines):
            continue
        if f'[{table}]' in lines:
            lines.insert(lines.index(f'[{table}]') + 1, f'{key} = {value}')
        else:
            lines.extend([f'[{table}]', f'{key} = {value}'])
        added.append(f'{table}.{key}')
    if added:
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text('\n'.join(lines) + '\n', encoding='utf-8')
        print(f'{CONTAINERS_CONF}: set {", ".join(added)}')


def image_exists(tag: str) -> bool:
    return subprocess.run(['podman', 'image', 'exists', tag], check=False).returncode == 0


def base(args: argparse.Namespace) -> None:
    """The base image: a minimal Debian with Python, pip and the CA list, made by mmdebstrap and imported."""
    if image_exists(args.base_tag) and not args.rebuild:
        print(f'base image {args.base_tag} exists: reused (--rebuild makes it again)')
        return
    with tempfile.TemporaryDirectory(prefix='hs-crypto-ee-base-') as scratch:
        rootfs = os.path.join(scratch, 'rootfs.tar')
        step(f'mmdebstrap {args.suite}', ['mmdebstrap', '--quiet', '--variant=minbase', f'--include={",".join(BASE_PACKAGES)}',
                                          args.suite, rootfs, args.mirror])
        step('podman import', ['podman', 'import', '--quiet', rootfs, args.base_tag])
    print(f'base image {args.base_tag}: Debian {args.suite}, {", ".join(BASE_PACKAGES)}')


def definition(args: argparse.Namespace, tarball: str) -> dict:
    """The execution environment definition (ansible-builder, version 3)."""
    steps = []
    files = [{'src': os.path.abspath(args.tarball), 'dest': 'collections'}]
    if args.ca_file:
        # Trusted system-wide (update-ca-certificates only reads *.crt) and by pip, before the first pip install.
        files.append({'src': os.path.abspath(args.ca_file), 'dest': 'ca'})
        steps = [f'COPY _build/ca/{os.path.basename(args.ca_file)} /usr/local/share/ca-certificates/build-ca.crt',
                 'RUN update-ca-certificates',
                 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt']
    return {
        'version': 3,
        'images': {'base_image': {'name': args.base_tag}},
        'dependencies': {
            'python_interpreter': {'python_path': '/usr/bin/python3'},
            'ansible_core': {'package_pip': args.ansible_core},
            'ansible_runner': {'package_pip': ANSIBLE_RUNNER},
            # The collection's meta/execution-environment.yml adds its Python requirements.
            'galaxy': {'collections': [{'name': f'collections/{tarball}', 'type': 'file'}]},
        },
        'options': {
            # Debian: apt-get would install the system packages of bindep files (this collection has none), and pip
            # comes from python3-pip (ensurepip is disabled in Debian's python3).
            'package_manager_path': '/usr/bin/apt-get',
            'skip_pip_install': True,
        },
        'additional_build_files': files,
        'additional_build_steps': {'prepend_base': steps} if steps else {},
    }


def build(args: argparse.Namespace) -> None:
    if not os.path.isfile(args.tarball):
        sys.exit(f'error: no collection tarball {args.tarball}')
    if args.ca_file and not os.path.isfile(args.ca_file):
        sys.exit(f'error: no CA file {args.ca_file}')
    base(argparse.Namespace(**{**vars(args), 'rebuild': False}))
    with tempfile.TemporaryDirectory(prefix='hs-crypto-ee-') as scratch:
        path = os.path.join(scratch, 'execution-environment.yml')
        text = yaml.safe_dump(definition(args, os.path.basename(args.tarball)), sort_keys=False)
        pathlib.Path(path).write_text(text, encoding='utf-8')
        print(f'execution environment definition ({path}):\n{text}')
        # pip in the build reaches PyPI through the host's network.
        step('ansible-builder build', [sys.executable, '-m', 'ansible_builder', 'build', '--container-runtime', 'podman',
                                       '--file', path, '--context', os.path.join(scratch, 'context'), '--tag', args.tag,
                                       '--extra-build-cli-args=--network host'])
    versions = step('image check', ['podman', 'run', '--rm', args.tag, 'sh', '-c',
                                    'ansible --version | head -1; ansible-runner --version; python3 --version; '
                                    'ansible-galaxy collection list ibm.hs_crypto | tail -1'],
                    capture_output=True, text=True).stdout
    print(f'image {args.tag}:\n{versions}')


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    commands = parser.add_subparsers(dest='command', required=True)
    base_parser = commands.add_parser('base', help='make the base image from Debian packages (reused if present)')
    base_parser.add_argument('--rebuild', action='store_true', help='make it again even if it exists')
    build_parser = commands.add_parser('build', help='build the execution environment image')
    build_parser.add_argument('--tarball', required=True, help='the collection tarball (ansible-galaxy collection build)')
    build_parser.add_argument('--ca-file', help='a PEM CA bundle to trust in the build and the image (TLS-inspecting '
                                                'proxies); default: none')
    build_parser.add_argument('--tag', default=IMAGE_TAG, help=f'the image tag (default {IMAGE_TAG})')
    build_parser.add_argument('--ansible-core', default=ANSIBLE_CORE, help=f'pip requirement (default {ANSIBLE_CORE})')
    for sub in (base_parser, build_parser):
        sub.add_argument('--base-tag', default=BASE_TAG, help=f'the base image (default {BASE_TAG})')
        sub.add_argument('--suite', default=SUITE, help=f'Debian suite of the base (default {SUITE})')
        sub.add_argument('--mirror', default=MIRROR, help=f'Debian mirror (default {MIRROR})')
    args = parser.parse_args(argv)

    started = time.monotonic()
    host_setup()
    if args.command == 'base':
        base(args)
    else:
        build(args)
    print(f'ee_image.py {args.command}: {time.monotonic() - started:.1f} s in all')


if __name__ == '__main__':
    main(sys.argv[1:])
