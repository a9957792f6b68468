# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    # Modules that send the requests of many independent items side by side (module_utils/_workers.py).
    DOCUMENTATION = r"""
options:
  concurrency:
    description:
      - How many requests for independent items (keys) this module sends at once. A key management request takes 50 to 300 ms
        over a real network; sending them side by side is what makes a run over hundreds of keys fast, as Terraform's
        C(-parallelism=10) does.
      - V(1) sends one request at a time, in the order of the items. Check mode always does.
      - The steps of one item keep their order (a key before its policies), entries that could designate the same key run one
        after the other, and the results come back in the order given, whatever the order in which the work finished.
      - All workers share one token and one pool of keep-alive connections. When the service answers C(429 Too Many Requests),
        every worker waits out its C(Retry-After) and the number of requests in flight is halved, then grows back by one
        for each run of successful answers.
      - A whole number from V(1) to V(32), checked before any request. The environment variable E(HS_CRYPTO_CONCURRENCY) sets it too.
    type: int
    default: 10
"""
