# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Search everything a run wrote for the known secret values, and for any IAM token at all.

Usage: python scan.py SECRETS_JSON RUN_DIR   (used by the targets hs_crypto_secret_scan and hs_crypto_migration)

Every file under RUN_DIR (output, log, result JSON, temporary and remote directories) is read whole and
searched for each secret as written, URL-encoded and JSON-escaped, and for anything shaped like a JWT (every
IAM token is one, including tokens the modules obtained themselves, whose values the scan cannot know).
Prints the figures; exits 1 naming file, line and secret (never the value) when anything is found.
"""

import json
import os
import re
import sys

from urllib.parse import quote

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
REQUIRED_FILES = ("ansible.log", "out/stdout.txt", "out/results.json")
MIN_LOG_BYTES = 50000  # a -vvvv run of this playbook writes far more; less means the scan looked at the wrong thing


def forms(value):
    """The ways a value can be written: as is, URL-encoded (query strings), JSON-escaped."""
    return set([value, quote(value, safe=""), json.dumps(value)[1:-1]])


def findings_in(text, secrets):
    found = []
    for name, value in secrets.items():
        for form in forms(value):
            index = text.find(form)
            if index >= 0:
                found.append((name, text.count("\n", 0, index) + 1))
                break
    for match in JWT_RE.finditer(text):
        found.append(("a JWT-shaped token", text.count("\n", 0, match.start()) + 1))
    return found


def self_test(secrets):
    """The scan must find what it looks for: plant every secret and a JWT, and expect each to be reported."""
    planted = "\n".join(f"x{quote(value, safe='')}x" for value in secrets.values()) + "\nBearer eyJhbGciOiJIUzI1.eyJleHAiOjF9xx.c2lnbmF0dXJl\n"
    reported = set(name for name, dummy in findings_in(planted, secrets))
    missing = set(secrets) | set(["a JWT-shaped token"])
    missing.difference_update(reported)
    if missing:
        sys.exit(f"scan.py self-test failed: would not find {', '.join(sorted(missing))}")


def main(secrets_path, run_dir):
    with open(secrets_path, encoding="utf-8") as handle:
        secrets = json.load(handle)
    short = [name for name, value in secrets.items() if len(value) < 16]
    if short:
        sys.exit(f"scan.py: secrets too short to search for reliably: {', '.join(short)}")
    self_test(secrets)
    for required in REQUIRED_FILES:
        if not os.path.isfile(os.path.join(run_dir, required)):
            sys.exit(f"scan.py: the run did not write {required}")
    log_size = os.path.getsize(os.path.join(run_dir, "ansible.log"))
    if log_size < MIN_LOG_BYTES:
        sys.exit("scan.py: ansible.log holds only %d bytes; was the run at -vvvv?" % log_size)

    files = []
    for root, dummy, names in os.walk(run_dir):
        files.extend(os.path.join(root, name) for name in names)
    total_bytes = 0
    problems = []
    for path in sorted(files):
        with open(path, "rb") as handle:
            data = handle.read()
        total_bytes += len(data)
        for name, line in findings_in(data.decode("utf-8", errors="replace"), secrets):
            problems.append("%s:%d: %s" % (os.path.relpath(path, run_dir), line, name))

    print("secret scan: %d known secret values (plus any JWT-shaped token) x %d files written by the run (%d bytes) = %d "
          "value-file checks; %d finding(s)" % (len(secrets), len(files), total_bytes, len(secrets) * len(files), len(problems)))
    print(f"secret scan: values: {', '.join(sorted(secrets))}")
    print(f"secret scan: files: {', '.join(sorted((os.path.relpath(path, run_dir) for path in files)))}")
    if problems:
        print("secret scan: FOUND\n  {}".format("\n  ".join(problems)))
        sys.exit(1)


if __name__ == "__main__":
    main(*sys.argv[1:3])
