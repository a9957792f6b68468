"""Check what the built collection tarball contains: the nox session ``build``.

Usage: python scripts/check_artifact.py TARBALL

* Only the collection's own top-level entries (ALLOWED_TOP_LEVEL): no tests, no tooling, no local files.
* Nothing generated or local anywhere: no dot files or folders (.gitignore, .hypothesis, .ansible, ...), no
  __pycache__, *.pyc, logs, archives, integration_config.yml or tests/output.
* No secret in any file: none of the emulator's API keys (from tests/hpcs_emulator/default_config.json, and
  anything shaped like them), no private key (PEM, OpenSSH), no complete JWT.

Prints every finding and exits 1 when there is one.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tarfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ALLOWED_TOP_LEVEL = {'COPYING', 'README.md', 'CHANGELOG.rst', 'MANIFEST.json', 'FILES.json',
                     'changelogs', 'docs', 'examples', 'meta', 'playbooks', 'plugins', 'roles'}
GENERATED = re.compile(r'(^|/)(\.[^/]+|__pycache__|output)(/|$)|\.(pyc|pyo|log|tar\.gz|whl|retry)$|integration_config\.yml$')
SECRET_PATTERNS = {
    'an emulator API key': re.compile(rb'hsc-emulator-[a-z0-9]+-api-key-[0-9]+'),
    'a private key': re.compile(rb'-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----'),
    'a JWT (IAM token)': re.compile(rb'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}'),
}


def emulator_api_keys() -> set[bytes]:
    """Every API key the emulator knows by default."""
    keys = set()

    with open(os.path.join(REPO_ROOT, 'tests', 'hpcs_emulator', 'default_config.json'), encoding='utf-8') as handle:
        keys.update((json.load(handle).get('api_keys') or {}).keys())

    return {key.encode('utf-8') for key in keys if key}


def check(tarball: str) -> list[str]:
    findings = []
    unexpected: dict[str, int] = {}
    api_keys = emulator_api_keys()
    entries = 0

    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            name = member.name[2:] if member.name.startswith('./') else member.name
            entries += 1

            top = name.split('/', 1)[0]

            if top not in ALLOWED_TOP_LEVEL:
                unexpected[top] = unexpected.get(top, 0) + 1
                continue

            if GENERATED.search(name):
                findings.append(f'{name}: a generated or local file')

            if not member.isfile():
                continue

            content = archive.extractfile(member).read()

            known = [api_key for api_key in sorted(api_keys) if api_key in content]
            findings.extend(f'{name}: holds the emulator API key {api_key[:16].decode()}...' for api_key in known)

            for what, pattern in SECRET_PATTERNS.items():
                if pattern.search(content) and not (known and what == 'an emulator API key'):
                    findings.append(f'{name}: holds {what}')

    findings[:0] = ['%s: not part of the collection (%d entries; build_ignore it in galaxy.yml)' % (top, count)
                    for top, count in sorted(unexpected.items())]
    print('%s: %d entries, %d finding(s)' % (os.path.basename(tarball), entries, len(findings)), flush=True)
    return findings


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.exit(__doc__)

    findings = check(argv[0])

    for finding in findings:
        print(f'error: {finding}', file=sys.stderr)

    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
