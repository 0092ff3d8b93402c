"""The protocol log of one connection: the lines sent and received, handed to the owner's hook
(`sessions/protocol_log.py` keeps them for `GET /v1/logs/{account}`).

Secrets never reach the hook: LOGIN/AUTHENTICATE arguments and challenges are written as `***`,
literal bodies as their size. A command's untagged responses are logged up to
`LOG_UNTAGGED_PER_COMMAND` and then only counted, so a 20,000-line FETCH does not push
everything else out of the log. Split from `core.py`, which calls it at each step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from imapapi.imap.reader import Response

log = logging.getLogger(__name__)

LogHook = Callable[[str, str], None]  # (direction "C" client→server / "S" server→client, line)

# The protocol log keeps the first untagged responses of each command and then counts them.
LOG_UNTAGGED_PER_COMMAND = 20


class Logged(Protocol):
    """What the log needs of a running command (`core._Command`)."""

    tag: str
    redact: bool
    logged: int  # untagged responses given to the log while it ran


class ProtocolLogger:
    """Writes one connection's lines to `hook`; does nothing (not even decode) without one."""

    __slots__ = ("_hook", "_name")

    def __init__(self, name: str, hook: LogHook | None) -> None:
        self._name = name
        self._hook = hook

    @property
    def enabled(self) -> bool:
        return self._hook is not None

    def line(self, direction: str, line: bytes | str) -> None:
        if self._hook is None:
            return
        text = line if isinstance(line, str) else line.decode("utf-8", "replace")
        try:
            self._hook(direction, text)
        except Exception:
            log.exception("%s: protocol log hook failed", self._name)

    def response(self, command: Logged | None, response: Response) -> None:
        """A response the reader split, while `command` runs (None: between commands)."""
        if self._hook is None:
            return
        if response.continuation and command is not None and command.redact:
            self.line("S", "+ ***")
            return
        if command is not None:
            if response.tag == "*":
                command.logged += 1
                if command.logged > LOG_UNTAGGED_PER_COMMAND:
                    return
            elif response.tag == command.tag and command.logged > LOG_UNTAGGED_PER_COMMAND:
                skipped = command.logged - LOG_UNTAGGED_PER_COMMAND
                self.line("S", f"* … {skipped} more untagged responses not logged")
        prefix = response.tag + " "
        for record in response.data:
            if isinstance(record, tuple):
                self.line("S", prefix + record[0].decode("utf-8", "replace"))
                self.line("S", f"{{{len(record[1])} bytes}}")
            else:
                self.line("S", prefix + record.decode("utf-8", "replace"))
            prefix = ""

    def bulk_lines(self, command: Logged, buf: bytearray, start: int, end: int) -> None:
        """Lines `FlagFetch` took without making responses of them: the first ones of the
        command as `response` would write them, then only a count. Only the lines logged are
        copied out of the buffer."""
        if self._hook is None:
            return
        lines = buf.count(b"\r\n", start, end)
        room = min(LOG_UNTAGGED_PER_COMMAND - command.logged, lines)
        command.logged += lines
        for _ in range(max(room, 0)):
            stop = buf.index(b"\r\n", start, end)
            self.line("S", bytes(buf[start:stop]))
            start = stop + 2

    def sent(self, command: Logged, line: bytes, first: bool, head: str) -> None:
        """A line written for `command`; `head` is what a redacted command's line shows."""
        if self._hook is None:
            return
        if command.redact:
            self.line("C", f"{command.tag} {head} ***" if first else "***")
        else:
            self.line("C", line)
