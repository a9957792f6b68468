#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check one sign-in flow's requests and output.

Usage: check_run.py [--no-kms] <emulator http url> <since seq> <flow: container|vpc> <output file>...

- No request used an API key: every IAM request is the compute-resource-token grant (container), or there is none and
  the metadata service issued the tokens (vpc).
- The output holds neither the compute-resource token (HSC_TP_CR_TOKEN) nor any instance identity token (a JWT whose
  claims say typ instance_identity), nor any IAM access token of the emulator.
Prints the last request number and the request count by route.
"""

import base64
import collections
import json
import os
import re
import sys
import urllib.request

CR_GRANT = "urn:ibm:params:oauth:grant-type:cr-token"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def claims(token):
    payload = token.split(".")[1]
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}


def main():
    args = sys.argv[1:]
    kms = args[0] != "--no-kms"
    if not kms:
        args = args[1:]
    url, since, flow, outputs = args[0], args[1], args[2], args[3:]
    with urllib.request.urlopen(f"{url}/_emulator/requests?since={since}", timeout=10) as response:
        log = json.load(response)
    entries = log["requests"]
    problems = []
    iam = [entry for entry in entries if entry["service"] == "iam"]
    metadata = [entry for entry in entries if entry["service"] == "metadata"]
    if flow == "container":
        grants = sorted({entry.get("grant_type") for entry in iam})
        if grants != [CR_GRANT] or metadata:
            problems.append(f"container: IAM grants {grants}, {len(metadata)} metadata request(s)")
    else:
        if iam or len(metadata) < 2:
            problems.append(f"vpc: {len(iam)} IAM request(s) (grants {sorted({e.get('grant_type') for e in iam})}), {len(metadata)} metadata")
    if kms and not any(entry["service"] == "kms" and entry["status"] and entry["status"] < 300 for entry in entries):
        problems.append("no successful KMS request")
    if any(entry["status"] == 401 for entry in entries if entry["service"] == "kms"):
        problems.append("a KMS request was refused (401)")
    secret = os.environ["HSC_TP_CR_TOKEN"]
    for path in outputs:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        if secret in text:
            problems.append(f"{path}: the compute-resource token is in the output")
        for token in JWT.findall(text):
            found = claims(token)
            if found.get("typ") == "instance_identity" or found.get("iss", "").startswith("https://iam.emulator.test"):
                problems.append(f"{path}: a token ({found.get('typ') or 'IAM access token'}) is in the output")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    counts = collections.Counter(entry["route"] for entry in entries)
    print(log["last_seq"], len(entries), json.dumps(dict(sorted(counts.items())), separators=(",", ":")))


if __name__ == "__main__":
    main()
