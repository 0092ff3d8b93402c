"""A bounded ring buffer of one account's IMAP conversation, for `GET /v1/logs/{account}`.

The IMAP layer has already redacted LOGIN/AUTHENTICATE arguments and elided literal bodies
before a line reaches `append`; the buffer only bounds memory (oldest lines are dropped first).
"""

from __future__ import annotations

import time
from collections import deque

_MAX_LINE = 1000  # characters kept of one line; long FETCH responses are cut


_last_stamp: tuple[int, str] = (0, "")


def _stamp() -> str:
    """The current second as ISO 8601; formatted once per second, not once per line (a big
    FETCH logs tens of thousands of lines)."""
    global _last_stamp
    now = int(time.time())
    if _last_stamp[0] != now:
        _last_stamp = (now, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)))
    return _last_stamp[1]


class ProtocolLog:
    """Keeps the most recent `limit` bytes (approximately) of protocol lines."""

    __slots__ = ("_lines", "_size", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lines: deque[str] = deque()
        self._size = 0

    def append(self, connection: str, direction: str, line: str) -> None:
        if self.limit <= 0:
            return
        if len(line) > _MAX_LINE:
            line = line[:_MAX_LINE] + f"… ({len(line)} chars)"
        entry = f"{_stamp()} {connection} {direction} {line.rstrip()}"
        self._lines.append(entry)
        self._size += len(entry) + 1
        while self._size > self.limit and self._lines:
            self._size -= len(self._lines.popleft()) + 1

    def text(self) -> str:
        return "\n".join(self._lines) + ("\n" if self._lines else "")

    def clear(self) -> None:
        self._lines.clear()
        self._size = 0
