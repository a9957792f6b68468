# -*- coding: utf-8 -*-
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""The one path every write of the collection takes: send once, and when the answer is lost, look before sending again.

A write whose answer is lost (connection dropped, timeout), that the service answers with a 5xx, or whose answer
cannot be read, may or may not have been applied. The service gives no idempotency key, so the only safe way on
is to read the resource back: when the change is there, it was made (and is not sent again); when the service
certainly does not show it, the write is sent once more. The read-back has retries of its own and is never taken
for a lost write: a read that fails ends in ``WriteOutcomeUnknown``, which says the change may have been made.
Waits come from the transport's retry policy (docs/design-choices.md, "Lost answers").
"""

import time

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, HsCryptoError, TransportError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import RetryPolicy


class WriteOutcomeUnknown(HsCryptoError):
    """A write's answer was lost and reading the resource back failed too: the change may or may not have been made."""


class Written:
    """What a write returned: the service's answer (``result``), or, after a lost answer, what the read-back saw."""

    def __init__(self, result=None, observed=None, recovered=False):
        self.result = result
        self.observed = observed
        self.recovered = recovered

    def resource(self, *fields):
        """The resource the answer holds when it has every one of ``fields``, else what a read-back saw (or None)."""
        if self.result is not None:
            try:
                answered = self.result.resource
            except ApiError:
                answered = None  # made (2xx), but the answer is not the resource
            if isinstance(answered, dict) and all(field in answered for field in fields):
                return answered
        return self.observed


def outcome_unknown(exc):
    """Whether ``exc``, raised by a write, leaves its outcome unknown (lost answer, 5xx but 501, unreadable answer)."""
    if isinstance(exc, TransportError):
        return True
    if isinstance(exc, ApiError):
        status = exc.status
        return status is None or (isinstance(status, int) and (status >= 500 and status != 501 or 200 <= status < 300))
    return False


def _accepted(exc):
    return isinstance(exc, ApiError) and isinstance(exc.status, int) and 200 <= exc.status < 300


class SafeWriter:
    """Sends writes through one KMS client with the lost-answer rules above.

    ``attempts`` is how often one write may be sent in all (the first send included); read-backs get the
    transport's ``retries`` + 1 attempts, at least two.
    """

    def __init__(self, kms, attempts=3, policy=None, sleep=None):
        self.kms = kms
        self.attempts = attempts
        transport = getattr(getattr(kms, "sender", None), "transport", None)
        self.policy = policy or getattr(transport, "retry_policy", None) or RetryPolicy()
        self._sleep = sleep or time.sleep

    def read(self, read, context):
        """``read()`` with retries of its own: a read-back's failure is never mistaken for a lost write."""
        tries = max(2, int(self.policy.retries) + 1)
        for attempt in range(tries):
            try:
                return read()
            except (TransportError, ApiError) as exc:
                if not outcome_unknown(exc) or attempt + 1 >= tries:
                    raise WriteOutcomeUnknown(
                        f"{context}: the service's answer was lost, and reading it back to see whether the change was made "
                        f"failed too ({exc}). The change may have been made: run the task again, it converges.",
                        status=exc.status, reasons=exc.reasons, correlation_id=exc.correlation_id, method=exc.method, url=exc.url)
                self._sleep(self.policy.backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def write(self, send, applied, context, conflict_may_be_done=False, sends=None):
        """Send ``send()`` (returning a ``KmsResult``) until it is known to be applied; return a ``Written``.

        ``applied()`` reads the service and returns ``(done, observed)``: whether the change shows, and what was read.
        With ``conflict_may_be_done`` a 409, 404 or 410 is checked the same way (a change that a lost answer already made is
        refused when sent again, by this writer or by the transport's own retry of an idempotent request); when the read
        shows the change, the write counts as made.
        ``sends`` caps the sends of this write below ``attempts`` (1: never sent again, e.g. a rotation, which the
        service allows once an hour: a second rotation cannot be told from the first).
        """
        limit = min(self.attempts, sends or self.attempts)
        attempt = 0
        while True:
            attempt += 1
            try:
                return Written(result=send())
            except (TransportError, ApiError) as exc:
                # A refusal that a change already made explains (409 conflict; 404/410 for what a DELETE removed, which the
                # transport may have re-sent after a lost answer) is checked against a read too.
                conflict = conflict_may_be_done and isinstance(exc, ApiError) and exc.status in (404, 409, 410)
                if not (conflict or outcome_unknown(exc)):
                    raise
                done, observed = self.read(applied, context)
                if done:
                    return Written(observed=observed, recovered=True)
                if _accepted(exc):
                    # The service said yes (2xx) in an answer that could not be read: never send it again.
                    raise WriteOutcomeUnknown(
                        f"{context}: the service accepted the change (HTTP {exc.status}) but its answer could not be read, and "
                        "the change does not show yet. Run the task again: it converges without sending the change twice.",
                        status=exc.status, correlation_id=exc.correlation_id, method=exc.method, url=exc.url)
                if conflict or attempt >= limit:
                    raise
                self._sleep(self.policy.backoff(attempt - 1))
