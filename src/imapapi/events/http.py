"""The webhook HTTP client: POST a body, read the status, keep the connection for the next POST.

Why not aiohttp's ClientSession (DESIGN.md §2 names it for outgoing HTTP): a webhook needs a
small part of HTTP/1.1 — one POST with a known body, the reply's status and `Retry-After`, the
reply body read and dropped — and aiohttp's general request machinery cost ~110 µs of CPU per
POST on loopback against ~27 µs for this client (issue 17: at 3,000 events/s the difference is
a quarter of a core). Kept from it: keep-alive connections per origin (one request in flight on
each, RFC 9112 §9.3), certificate checks on https, no redirects followed, no proxy from the
environment (aiohttp's default too). The reply is parsed by `ReplyParser`, bytes in, `Reply`
out, so its cases are tested with scripted bytes.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

DRAIN_LIMIT = 64 * 1024  # reply body bytes read to keep the connection; a longer one closes it
_MAX_HEAD = 64 * 1024  # status line and headers
_SAFE = "/%:@!$&'()*+,;=-._~?"  # what stays as-is in the request target (RFC 3986 §2)


class HttpError(Exception):
    """The POST got no complete reply: connect, TLS, reset, or a reply that is not HTTP/1.x.

    The message names the cause's type and text, never the URL (its query may hold a token).
    """


@dataclass(frozen=True, slots=True)
class Reply:
    """What the dispatcher reads of a reply; `keep` = the connection may carry the next POST."""

    status: int
    retry_after: str | None = None
    keep: bool = True


class ReplyParser:
    """Reads one HTTP/1.1 reply from the bytes fed in (RFC 9112 §6): informational 1xx replies
    skipped, the body read by Content-Length, chunked, or up to the close, and dropped."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._reply: Reply | None = None  # the head, once read
        self._left = 0  # body bytes still to read (Content-Length, or of the current chunk)
        self._mode = "head"  # head, length, chunk-size, chunk-data, trailer, close, done
        self._drained = 0

    def feed(self, data: bytes) -> Reply | None:
        """The reply once complete (or its body longer than DRAIN_LIMIT), else None."""
        self._buf += data
        while True:
            if self._mode == "head":
                end = self._buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buf) > _MAX_HEAD:
                        raise HttpError("ProtocolError: reply head too long")
                    return None
                head = bytes(self._buf[:end])
                del self._buf[: end + 4]
                self._head(head)
            elif self._mode in ("length", "chunk-data"):
                taken = min(self._left, len(self._buf))
                self._drop(taken)
                self._left -= taken
                if self._left:
                    return self._too_long()
                self._mode = "done" if self._mode == "length" else "chunk-size"
            elif self._mode in ("chunk-size", "trailer"):
                end = self._buf.find(b"\r\n")
                if end < 0:
                    return self._too_long()
                line = bytes(self._buf[:end])
                del self._buf[: end + 2]
                if self._mode == "trailer":
                    self._mode = "trailer" if line else "done"
                    continue
                try:
                    self._left = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise HttpError("ProtocolError: bad chunk size") from None
                self._mode = "chunk-data" if self._left else "trailer"
                self._left += 2 if self._left else 0  # the chunk's CRLF
            elif self._mode == "close":
                self._drop(len(self._buf))
                return self._too_long()
            if self._mode == "done":
                return self._reply

    def closed(self) -> Reply | None:
        """The peer closed: the reply, if a body read up to the close has just ended."""
        if self._mode == "close" and self._reply is not None:
            self._mode = "done"
            return self._reply
        return None

    def _head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise HttpError("ProtocolError: not an HTTP/1.x reply")
        status = int(parts[1])
        fields: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            return  # informational (RFC 9110 §15.2): the final reply follows
        connection = fields.get(b"connection", b"").lower()
        keep = b"close" not in connection and (
            parts[0] != b"HTTP/1.0" or b"keep-alive" in connection
        )
        retry_after = fields.get(b"retry-after")
        self._reply = Reply(status, retry_after.decode("latin-1") if retry_after else None, keep)
        if status in (204, 304):
            self._mode = "done"
        elif b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            self._mode = "chunk-size"
        elif b"content-length" in fields:
            try:
                self._left = int(fields[b"content-length"])
            except ValueError:
                raise HttpError("ProtocolError: bad Content-Length") from None
            self._mode = "length"
        else:
            self._mode = "close"  # RFC 9112 §6.3: the body ends with the connection
            self._reply = Reply(status, self._reply.retry_after, keep=False)

    def _drop(self, count: int) -> None:
        del self._buf[:count]
        self._drained += count

    def _too_long(self) -> Reply | None:
        """A reply whose body goes past DRAIN_LIMIT is done: its status decided the outcome,
        and the connection, mid-body, is closed rather than read to the end."""
        if self._drained > DRAIN_LIMIT and self._reply is not None:
            self._mode = "done"
            return Reply(self._reply.status, self._reply.retry_after, keep=False)
        return None


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `exchange` sends a request and waits for its reply."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.open = False
        self._parser = ReplyParser()
        self._waiter: asyncio.Future[Reply] | None = None
        self.answered = False  # any reply byte arrived for the request in flight

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport, self.open = transport, True

    def data_received(self, data: bytes) -> None:
        self.answered = True
        waiter = self._waiter
        try:
            reply = self._parser.feed(data)
        except HttpError as exc:
            self.close()
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
            return
        if reply is not None:
            self._finish(reply)

    def eof_received(self) -> bool | None:
        return None  # close the transport: we never half-close

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        reply = self._parser.closed()
        if reply is not None:
            waiter.set_result(reply)
        else:
            cause = exc or ConnectionResetError("the server closed the connection")
            waiter.set_exception(HttpError(f"{type(cause).__name__}: {cause}"))

    def _finish(self, reply: Reply) -> None:
        self._parser = ReplyParser()
        if not reply.keep:
            self.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(reply)

    async def exchange(self, request: bytes) -> Reply:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.answered = False
        self.transport.write(request)
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where a URL's requests go, and the fixed start of each request to it."""

    scheme: str
    host: str
    port: int
    start: bytes  # request line, Host and Authorization headers


@lru_cache(maxsize=64)
def _origin(url: str) -> _Origin:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the webhook URL must be http:// or https:// with a host")
    host = parts.hostname
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        shown += f":{port}"
    target = quote(parts.path or "/", safe=_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_SAFE)
    lines = [f"POST {target} HTTP/1.1", f"Host: {shown}"]
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        lines.append("Authorization: Basic " + base64.b64encode(pair).decode("ascii"))
    return _Origin(parts.scheme, host, port, ("\r\n".join(lines) + "\r\n").encode("ascii"))


class WebhookClient:
    """POSTs over keep-alive connections, up to `max_idle` kept idle per origin."""

    def __init__(self, *, max_idle: int = 64, ssl_context: ssl.SSLContext | None = None) -> None:
        self._max_idle = max_idle
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}

    async def post(
        self, url: str, body: bytes, headers: list[tuple[str, str]], timeout: float
    ) -> Reply:
        """POST `body` with `headers` (Host and Content-Length are added); the reply once read.

        Raises HttpError (no complete reply), TimeoutError (none within `timeout` seconds) or
        ValueError (a URL or header this client cannot send).
        """
        origin = _origin(url)
        head = [origin.start]
        for name, value in headers:
            if any(c in value for c in "\r\n\0"):
                raise ValueError(f"header {name} holds a line break")
            head.append(f"{name}: {value}\r\n".encode("latin-1"))
        head.append(b"Content-Length: %d\r\n\r\n" % len(body))
        request = b"".join(head) + body
        key = (origin.scheme, origin.host, origin.port)
        async with asyncio.timeout(timeout):
            conn = self._take(key)
            if conn is not None:
                try:
                    return await self._exchange(key, conn, request)
                except HttpError:
                    if conn.answered:
                        raise
                    # The server closed the idle connection as we reused it (a keep-alive
                    # timeout): nothing was answered, so the POST goes once more, on a new one.
            return await self._exchange(key, await self._connect(origin), request)

    async def close(self) -> None:
        """Close every idle connection; a later `post` opens new ones."""
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def _take(self, key: tuple[str, str, int]) -> _Connection | None:
        conns = self._idle.get(key)
        while conns:
            conn = conns.pop()
            if conn.open:
                return conn
        return None

    async def _exchange(
        self, key: tuple[str, str, int], conn: _Connection, request: bytes
    ) -> Reply:
        try:
            reply = await conn.exchange(request)
        except BaseException:
            conn.close()  # a timeout or a cancel leaves it mid-reply: never reused
            raise
        conns = self._idle.setdefault(key, [])
        if conn.open and len(conns) < self._max_idle:
            conns.append(conn)
        else:
            conn.close()
        return reply

    async def _connect(self, origin: _Origin) -> _Connection:
        context = None
        if origin.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(
                _Connection,
                origin.host,
                origin.port,
                ssl=context,
                server_hostname=origin.host if context else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        return conn
