"""A bare asyncio IMAP client for the baselines: just enough protocol to log in, IDLE, APPEND
and read a FETCH's bytes. No parsing beyond finding line ends and the tagged answer, so its
figures are the floor that imapapi is compared with."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence

LIMIT = 64 * 1024 * 1024  # StreamReader limit: one FETCH line of a big folder must fit


class RawError(RuntimeError):
    """The server answered NO/BAD or closed the connection."""


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._tags = itertools.count(1)
        self.capabilities = b""

    @classmethod
    async def open(
        cls, host: str, port: int, user: str | None = None, password: str | None = None
    ) -> RawClient:
        reader, writer = await asyncio.open_connection(host, port, limit=LIMIT)
        client = cls(reader, writer)
        greeting = await reader.readline()
        if not greeting.startswith(b"* OK"):
            raise RawError(f"greeting {greeting!r}")
        if user is not None and password is not None:
            await client.command(b'LOGIN "%s" "%s"' % (user.encode(), password.encode()))
        return client

    def _tag(self) -> bytes:
        return b"R%d" % next(self._tags)

    async def command(self, text: bytes) -> list[bytes]:
        """Send one command (no literals), return its untagged lines and the tagged line."""
        tag = self._tag()
        self.writer.write(tag + b" " + text + b"\r\n")
        return await self._until_tagged(tag)

    async def _until_tagged(self, tag: bytes) -> list[bytes]:
        lines = []
        while True:
            line = await self.reader.readline()
            if not line:
                raise RawError("connection closed")
            lines.append(line)
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RawError(line.decode(errors="replace").strip())
                return lines

    async def idle(self) -> bytes:
        """Start IDLE (RFC 2177); returns the tag to end it with `done()`."""
        tag = self._tag()
        self.writer.write(tag + b" IDLE\r\n")
        while True:
            line = await self.reader.readline()
            if not line:
                raise RawError("connection closed")
            if line.startswith(b"+"):
                return tag

    async def done(self, tag: bytes) -> None:
        self.writer.write(b"DONE\r\n")
        await self._until_tagged(tag)

    async def append(
        self, mailbox: str, messages: Sequence[tuple[bytes, Sequence[str]]]
    ) -> list[bytes]:
        """APPEND one or many messages in one command: MULTIAPPEND (RFC 3502) with LITERAL+
        (RFC 7888), so the whole batch is one write and one round trip."""
        tag = self._tag()
        parts = [tag, b" APPEND ", b'"' + mailbox.encode() + b'"']
        for data, flags in messages:
            if flags:
                parts.append(b" (" + " ".join(flags).encode() + b")")
            parts.append(b" {%d+}\r\n" % len(data))
            parts.append(data)
        parts.append(b"\r\n")
        self.writer.write(b"".join(parts))
        return await self._until_tagged(tag)

    async def fetch_bytes(self, text: bytes) -> tuple[int, bytes]:
        """Send a FETCH and read its answer in large chunks, looking only for the tagged line at
        the end (no per-line work): (total bytes, the whole answer)."""
        tag = self._tag()
        self.writer.write(tag + b" " + text + b"\r\n")
        chunks: list[bytes] = []
        total = 0
        marker = b"\r\n" + tag + b" "
        tail = b""
        while True:
            data = await self.reader.read(1 << 20)
            if not data:
                raise RawError("connection closed")
            chunks.append(data)
            total += len(data)
            window = tail + data
            at = window.rfind(marker)
            if at >= 0 and window.endswith(b"\r\n"):
                return total, b"".join(chunks)
            tail = window[-256:]

    async def wait_line(self, needle: bytes, timeout: float) -> float:
        """Read until a line contains `needle`; the monotonic time it arrived."""
        async with asyncio.timeout(timeout):
            while True:
                line = await self.reader.readline()
                if not line:
                    raise RawError("connection closed")
                if needle in line:
                    return time.monotonic()

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass
