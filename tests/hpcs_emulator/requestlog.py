# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request log and counters. Never holds headers or bodies; secret-looking query values are masked."""

from __future__ import annotations

import collections
import re
import threading
from urllib.parse import parse_qsl, urlencode

MAX_ENTRIES = 100_000
_SECRET_PARAM = re.compile(r'(api_?key|token|secret|password|payload|plaintext|ciphertext|nonce|aad|iv$)', re.IGNORECASE)


def redact_query(query: str) -> str:
    if not query:
        return ''
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name, '***' if _SECRET_PARAM.search(name) else value) for name, value in pairs], safe='*')


class RequestLog:
    """Thread-safe ring buffer of request records plus aggregate counters."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=MAX_ENTRIES)
        self._seq = 0
        self._epoch = 0
        self._counters = self._empty_counters()

    @staticmethod
    def _empty_counters() -> dict:
        return {'total': 0, 'writes': 0, 'faults': 0, 'by_service': {}, 'by_method': {}, 'by_route': {}, 'by_status': {}}

    def record(self, entry: dict, epoch: int | None = None) -> dict | None:
        """Log a finished request. ``epoch`` is the log's ``epoch`` when the request began: a request begun before the
        last ``clear`` (a reset) is neither logged nor counted, however late it finishes; then None is returned."""
        with self._lock:
            if epoch is not None and epoch != self._epoch:
                return None
            self._seq += 1
            entry = dict(entry, seq=self._seq)
            self._entries.append(entry)
            counters = self._counters
            counters['total'] += 1
            counters['writes'] += 1 if entry.get('write') else 0
            counters['faults'] += 1 if entry.get('fault') else 0
            for name, value in (('by_service', entry['service']), ('by_method', entry['method']),
                                ('by_route', entry['route']), ('by_status', str(entry['status']))):
                counters[name][value] = counters[name].get(value, 0) + 1
            return entry

    def entries(self, since: int = 0) -> list:
        with self._lock:
            return [dict(entry) for entry in self._entries if entry['seq'] > since]

    def counters(self) -> dict:
        with self._lock:
            counters = self._counters
            return {name: (dict(value) if isinstance(value, dict) else value) for name, value in counters.items()}

    def clear(self) -> None:
        """Drop entries and counters; sequence numbers keep growing so ``since`` stays meaningful. Requests still in
        progress are not logged when they finish (see ``record``)."""
        with self._lock:
            self._epoch += 1
            self._entries.clear()
            self._counters = self._empty_counters()

    @property
    def epoch(self) -> int:
        """Changes with every ``clear``; a request notes it when it begins and hands it to ``record``."""
        with self._lock:
            return self._epoch

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq
