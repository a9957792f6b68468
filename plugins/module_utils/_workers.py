# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Independent work on a bounded pool of threads, with results in the caller's order.

A key management request takes 50-300 ms over a real network; a module that converges many keys one request after the
other spends its time waiting. Modules that work on many items run the independent ones side by side here, at most
``concurrency`` at once (the option of the same name, ``1`` for strictly one after another). Work that must keep an
order (two entries that may meet the same key) goes in one *lane*: a lane's items run one after another, in order.

The threads share one transport (its connection pool, and its throttle that slows every worker after a 429) and one
token provider. Results come back in the order of the items, whatever order the work finished in.
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import env_fallback

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError

DEFAULT_CONCURRENCY = 10
MAX_CONCURRENCY = 32


def concurrency_argument_spec():
    """The ``concurrency`` option (doc fragment ``ibm.hs_crypto.concurrency``)."""
    return dict(concurrency=dict(type="int", default=DEFAULT_CONCURRENCY, fallback=(env_fallback, ["HS_CRYPTO_CONCURRENCY"])))


def concurrency_of(params, option="concurrency"):
    """The option's value, checked before any request: a whole number from 1 to ``MAX_CONCURRENCY``."""
    value = params.get(option)
    if value is None:
        return DEFAULT_CONCURRENCY
    if not 1 <= value <= MAX_CONCURRENCY:
        raise ConfigurationError(f"{option} must be between 1 (one request at a time) and {MAX_CONCURRENCY}, got {value}")
    return value


def transport_of(kms):
    """The transport under a KMS client (or a wrapper of one), to tell it how many requests may be in flight."""
    return getattr(getattr(kms, "sender", None), "transport", None)


def run_all(work, items, kms=None, concurrency=1):
    """``run_lanes`` with one lane per item, over the transport of ``kms``."""
    return run_lanes(work, items, concurrency=concurrency, transport=transport_of(kms) if kms is not None else None)


def run_lanes(work, items, lane_of=None, concurrency=1, transport=None):
    """``work(item)`` for every item; a list of what it returned, in the order of ``items``.

    ``lane_of(index)`` names the lane of the item at ``index`` (by default each item has its own). Lanes run side by
    side on at most ``concurrency`` threads; the items of a lane one after another, in their order. With
    ``concurrency`` 1, or a single lane, everything runs in the calling thread. ``transport`` (optional) is told how
    many requests may be in flight. An exception raised by ``work`` ends its lane and is raised here once every lane
    has ended (the first in the order of the items): work that should not stop the others catches its own errors.
    """
    items = list(items)
    results = [None] * len(items)
    lanes = {}
    for position in range(len(items)):
        lanes.setdefault(lane_of(position) if lane_of else position, []).append(position)
    workers = min(int(concurrency or 1), len(lanes))
    if workers <= 1:
        for position, item in enumerate(items):
            results[position] = work(item)
        return results
    if transport is not None:
        transport.allow_concurrency(workers)
    errors = {}

    def run(positions):
        for position in positions:
            try:
                results[position] = work(items[position])
            except BaseException as exc:  # pylint: disable=broad-exception-caught
                errors[position] = exc  # raised in the calling thread below, once every lane has ended
                return

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hs_crypto") as pool:
            for positions in lanes.values():
                pool.submit(run, positions)
    finally:
        if transport is not None:
            transport.allow_concurrency(1)
    if errors:
        raise errors[min(errors)]
    return results
