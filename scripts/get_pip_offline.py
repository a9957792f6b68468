"""Offline stand-in for the ``get-pip.py`` bootstrap script that ansible-test downloads.

ansible-test creates its sanity-test virtual environments without pip and then runs
``~/.ansible/test/cache/get_pip_<version>.py`` to install pip into them.  When that file is
missing it downloads it from ci-files.testing.ansible.com, which is not reachable from every
network.  scripts/test copies this file into that cache location beforehand.

ansible-test 2.19 calls it as ``<venv python> get_pip_X_Y.py --disable-pip-version-check
pip==X.Y --no-setuptools --no-wheel``.  Like the real get-pip.py, this script:

* consumes ``--no-setuptools`` and ``--no-wheel`` (get-pip options, not pip options);
* passes every other argument (pip options and requirements) to ``pip install --upgrade``;
* installs ``pip`` itself when no pip requirement is given.

pip is first put in place with the standard library's ``ensurepip`` (bundled wheels, no
network).  That pip downloads the wheel of the requested pip version from the configured
package index (or takes it from pip's cache), and the install then runs pip *from that wheel*,
as get-pip.py does: upgrading pip with ``python -m pip`` replaces the code of the running pip and
occasionally fails half-way (``No such file or directory: .../pip/_internal/...``).  On
Python < 3.12 ensurepip also installs setuptools, which is removed again when
``--no-setuptools`` was requested.
"""

from __future__ import annotations

import glob
import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile

GET_PIP_FLAGS = ('--no-setuptools', '--no-wheel')


def installed_distributions() -> set[str]:
    """Return the normalised names of the distributions visible to this interpreter."""
    return {normalise(dist.metadata['Name'] or '') for dist in importlib.metadata.distributions()}


def normalise(name: str) -> str:
    """Normalise a distribution name as described in PEP 503."""
    return re.sub(r'[-_.]+', '-', name).lower()


def requirement_name(arg: str) -> str:
    """Return the distribution name of a requirement argument such as ``pip==24.2``."""
    return normalise(re.split(r'[<>=!~;\[ @]', arg, maxsplit=1)[0])


def run(*args: str) -> None:
    """Run this interpreter with the given arguments, exiting on failure."""
    command = [sys.executable] + list(args)
    result = subprocess.run(command, check=False)

    if result.returncode:
        sys.exit(f'get_pip_offline: command failed with exit code {result.returncode}: {" ".join(command)}')


def main(argv: list[str]) -> None:
    """Install pip (and optionally setuptools and wheel) into the running interpreter's environment."""
    # Everything but the get-pip flags goes to pip unchanged and in order (options may take values).
    pip_args = [arg for arg in argv if arg not in GET_PIP_FLAGS]
    requirements = [arg for arg in pip_args if not arg.startswith('-')]
    requested = {requirement_name(arg) for arg in requirements}
    pip_requirement = next((arg for arg in requirements if requirement_name(arg) == 'pip'), 'pip')
    packages = []

    if 'pip' not in requested:
        packages.append(pip_requirement)

    for flag, name in zip(GET_PIP_FLAGS, ('setuptools', 'wheel')):
        if flag not in argv and name not in requested:
            packages.append(name)

    before = installed_distributions()

    # pip from the wheel bundled with Python: works without any network access.
    run('-m', 'ensurepip', '--upgrade', '--default-pip')

    with tempfile.TemporaryDirectory(prefix='get-pip-offline-') as download_dir:
        # The wheel of the pip version ansible-test asked for.
        run('-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary', ':all:',
            '--dest', download_dir, pip_requirement)
        wheels = glob.glob(os.path.join(download_dir, 'pip-*.whl'))

        if len(wheels) != 1:
            sys.exit(f'get_pip_offline: expected one pip wheel for {pip_requirement}, found {wheels}')

        # Install it (and the rest) with the pip inside that wheel, not with the pip being replaced.
        install_args = [wheels[0] if arg == pip_requirement else arg for arg in pip_args + packages]
        run(os.path.join(wheels[0], 'pip'), 'install', '--upgrade', *install_args)

    # ensurepip brings setuptools along on Python < 3.12; honour --no-setuptools / --no-wheel.
    unwanted = [
        name for flag, name in zip(GET_PIP_FLAGS, ('setuptools', 'wheel'))
        if flag in argv and name not in before and name not in requested and name in installed_distributions()
    ]

    if unwanted:
        run('-m', 'pip', 'uninstall', '--yes', '--disable-pip-version-check', *unwanted)


if __name__ == '__main__':
    main(sys.argv[1:])
