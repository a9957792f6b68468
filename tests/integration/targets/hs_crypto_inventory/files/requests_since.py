#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""requests_since.py <emulator http url> <seq>: print "<last seq> <count> <method path>..." of the emulator's request log
after <seq> (the control endpoint GET /_emulator/requests?since=), one summary line."""

import collections
import json
import sys
import urllib.request

with urllib.request.urlopen(f"{sys.argv[1].rstrip('/')}/_emulator/requests?since={int(sys.argv[2])}", timeout=30) as response:  # nosec
    body = json.loads(response.read())
kinds = collections.Counter(f"{entry['method']} {entry['path'] if entry['path'].startswith(('/v2', '/v3', '/identity')) else entry['route']}"
                            for entry in body["requests"])
print(body["last_seq"], len(body["requests"]), json.dumps(dict(sorted(kinds.items())), separators=(",", ":")))
