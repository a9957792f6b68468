# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator clock: real time plus a movable offset, and RFC 3339 helpers."""

from __future__ import annotations

import datetime
import re
import threading
import time

UTC = datetime.timezone.utc

_RFC3339 = re.compile(r'^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z')


def format_time(value: datetime.datetime | None) -> str | None:
    """Format as the service does: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def format_time_ms(value: datetime.datetime) -> str:
    return value.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.') + f'{value.microsecond // 1000:03d}Z'


def parse_rfc3339(text) -> datetime.datetime | None:
    """Parse an RFC 3339 timestamp; return None when ``text`` is not one."""
    if not isinstance(text, str) or not _RFC3339.match(text):
        return None
    normalized = text.upper().replace(' ', 'T')
    if normalized.endswith('Z'):
        normalized = normalized[:-1] + '+00:00'
    main, _sep, rest = normalized.partition('.')
    if rest:
        # fromisoformat accepts at most 6 fractional digits on older Pythons.
        digits = re.match(r'\d+', rest).group(0)
        normalized = f'{main}.{digits[:6].ljust(6, "0")}{rest[len(digits):]}'
    try:
        return datetime.datetime.fromisoformat(normalized).astimezone(UTC)
    except ValueError:
        return None


class Clock:
    """Real UTC time shifted by an offset that tests can move (never frozen)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._offset = 0.0

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def timestamp(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.timestamp(), UTC)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set(self, when: datetime.datetime) -> None:
        with self._lock:
            self._offset = when.timestamp() - time.time()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
