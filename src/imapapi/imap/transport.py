"""The byte stream under an IMAP connection: TCP, TLS (implicit or STARTTLS), COMPRESS=DEFLATE.

This is the only module of `imap/` that touches sockets, `ssl` and `zlib`; `map_exceptions`
turns their exceptions into ours (`raise ... from exc`) so nothing foreign leaves `imap/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import ssl
import zlib
from collections.abc import Iterator

from imapapi.errors import InvalidInputError, NetworkError, ProtocolError, ServerTimeoutError

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
# RFC 4978 §4: the compressor may use any window size; 1 KiB with memLevel 1 keeps the
# per-connection deflate state near 5 KiB instead of ~256 KiB. Inflate must accept the server's
# 32 KiB window (wbits -15).
_DEFLATE_WBITS = -10
_DEFLATE_MEMLEVEL = 1


@contextlib.contextmanager
def map_exceptions(what: str) -> Iterator[None]:
    """Translate socket, TLS, zlib and timeout errors into the imapapi hierarchy."""
    try:
        yield
    except TimeoutError as exc:
        raise ServerTimeoutError(f"{what}: timed out") from exc
    except ssl.SSLCertVerificationError as exc:
        raise NetworkError(
            f"{what}: certificate verification failed: {exc.verify_message}"
        ) from exc
    except ssl.SSLError as exc:
        raise NetworkError(f"{what}: TLS error: {exc.reason or exc}") from exc
    except asyncio.IncompleteReadError as exc:
        raise NetworkError(f"{what}: connection closed by the server") from exc
    except (ConnectionError, EOFError) as exc:
        raise NetworkError(f"{what}: connection lost: {exc}") from exc
    except OSError as exc:
        raise NetworkError(f"{what}: {exc.strerror or exc}") from exc
    except zlib.error as exc:
        raise ProtocolError(f"{what}: bad compressed data: {exc}") from exc


def make_ssl_context(*, verify: bool = True, ca_file: str | None = None) -> ssl.SSLContext:
    """A client TLS context: certificate and host name verified unless `verify` is False.

    Contexts are shared: building one loads the system CA store (~45 ms of CPU), which at
    thousands of logins was most of the service's start-up time. An SSLContext is safe to use
    for many connections at once.
    """
    return _ssl_context(verify, ca_file)


@functools.lru_cache(maxsize=32)
def _ssl_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInputError("ca_file", f"cannot load CA certificates: {exc}") from exc
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Transport:
    """An asyncio stream pair with optional TLS upgrade and DEFLATE in both directions."""

    __slots__ = ("_deflate", "_host", "_inflate", "_reader", "_writer")

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host
        self._inflate: zlib._Decompress | None = None
        self._deflate: zlib._Compress | None = None

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        sock: socket.socket | None = None,
    ) -> Transport:
        """Connect (with implicit TLS when `ssl_context` is given), or wrap a connected `sock`."""
        with map_exceptions(f"connect to {host}:{port}"):
            async with asyncio.timeout(timeout):
                if sock is not None:
                    reader, writer = await asyncio.open_connection(
                        sock=sock,
                        ssl=ssl_context,
                        server_hostname=host if ssl_context else None,
                        limit=READ_SIZE,
                    )
                else:
                    reader, writer = await asyncio.open_connection(
                        host, port, ssl=ssl_context, limit=READ_SIZE
                    )
        return cls(reader, writer, host)

    @property
    def compressed(self) -> bool:
        return self._deflate is not None

    @property
    def tls(self) -> bool:
        return self._writer.get_extra_info("ssl_object") is not None

    async def start_tls(self, ssl_context: ssl.SSLContext, timeout: float) -> None:
        """Upgrade to TLS in place (STARTTLS, RFC 3501 §6.2.1)."""
        # Bytes already buffered were sent in the clear after the OK: a man in the middle
        # injecting responses (CVE-2011-0411 class). asyncio has no public accessor for them.
        if getattr(self._reader, "_buffer", b""):
            raise ProtocolError("server sent data after the STARTTLS OK")
        with map_exceptions("STARTTLS handshake"):
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=self._host)

    def start_compression(self) -> None:
        """Switch both directions to raw DEFLATE (RFC 4978 §4); call right after the tagged OK."""
        self._inflate = zlib.decompressobj(-15)
        self._deflate = zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, _DEFLATE_WBITS, _DEFLATE_MEMLEVEL
        )

    async def read(self) -> bytes:
        """Next bytes from the server (decompressed); b"" at end of stream."""
        while True:
            with map_exceptions("read"):
                data = await self._reader.read(READ_SIZE)
                if not data or self._inflate is None:
                    return data
                # A compressed block can decode to nothing yet (no full output); read more.
                out = self._inflate.decompress(data)
            if out:
                return out

    async def write(self, data: bytes) -> None:
        """Send `data`; with compression, flushed with Z_SYNC_FLUSH (RFC 4978 §4) so the
        server can act on each command at once."""
        with map_exceptions("write"):
            if self._deflate is not None:
                data = self._deflate.compress(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
            self._writer.write(data)
            await self._writer.drain()

    async def close(self) -> None:
        """Close the socket; errors on the way out are only logged."""
        self._inflate = None
        self._deflate = None
        if self._writer.is_closing():
            return
        self._writer.close()
        try:
            async with asyncio.timeout(2.0):
                await self._writer.wait_closed()
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            log.debug("error while closing the connection to %s: %r", self._host, exc)
