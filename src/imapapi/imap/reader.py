"""Split an IMAP server byte stream into responses: pure, no sockets.

RFC 3501 §2.2.2: a response is one or more lines ending in CRLF; a line that ends in a literal
marker `{n}` is followed by exactly n octets of data and then the rest of the same response.
RFC 3516 §4.3 adds `~{n}` (literal8) for BINARY fetches. Nothing else needs to be understood to
find where a response ends: quoted strings cannot contain CR or LF (RFC 3501 §4.3), so `* `,
parentheses or quotes inside data never matter here; that is the parser's job (`parse.py`).

The reader is linear-time: every byte is scanned for CRLF at most once (a partial line remembers
where its scan stopped), and literal bytes are sliced out without scanning. It never recurses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from imapapi.errors import ProtocolError

log = logging.getLogger(__name__)

# One record as imaplib hands it to imapclient's parser: a plain line, or a line that ends in a
# `{n}` marker together with the n literal octets that followed it.
Record = bytes | tuple[bytes, bytes]

# (buffer, start of a response, end of the data) → where the lines it took end; see `bulk`.
BulkScan = Callable[[bytearray, int, int], int]

DEFAULT_MAX_LINE = 64 * 1024 * 1024
DEFAULT_MAX_LITERAL = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Response:
    """One complete server response.

    `tag` is "*" (untagged), "+" (continuation request) or the command tag. `data` is the response
    with "<tag> " removed, in imaplib's record form that `imapclient.response_parser` reads:
    plain lines and (line-ending-in-`{n}`, literal) tuples. Literal markers are normalised to
    `{n}` (`~{n}` of RFC 3516 loses its `~`) because that is the only form the parser knows.
    """

    tag: str
    data: tuple[Record, ...]

    @property
    def untagged(self) -> bool:
        return self.tag == "*"

    @property
    def continuation(self) -> bool:
        return self.tag == "+"

    @property
    def first_line(self) -> bytes:
        first = self.data[0] if self.data else b""
        return first[0] if isinstance(first, tuple) else first


def _literal_size(line: bytes) -> tuple[int, int] | None:
    """(marker start, size) when the line ends with `{n}`, `{n+}` or `~{n}`, else None."""
    if not line.endswith(b"}"):
        return None
    start = line.rfind(b"{")
    if start < 0:
        return None
    digits = line[start + 1 : -1]
    if digits.endswith(b"+"):  # LITERAL+ (RFC 7888) is client-side only, tolerate it anyway
        digits = digits[:-1]
    if not digits.isdigit() or len(digits) > 12:
        return None
    if start > 0 and line[start - 1 : start] == b"~":
        start -= 1
    return start, int(digits)


class ResponseReader:
    """Incremental splitter: `feed()` bytes as they arrive, get back complete responses.

    Keeps only the unfinished part of the current response; when everything fed has been
    consumed its buffer is released, so an idle connection holds no large buffer.

    `bulk`, while set, is offered the buffer at every response boundary and may take whole
    lines itself (`flagfetch.FlagFetch.scan`) instead of having them split into `Response`s.
    Its lines and the responses around them must be handled in the order they arrived, so in
    this mode `feed()` returns after each response and `more` says that data is left: call
    `feed(b"")` again once that response was dispatched (which may have unset `bulk`).
    """

    __slots__ = (
        "_buf",
        "_in_literal",
        "_literal_chunks",
        "_literal_head",
        "_literal_left",
        "_max_line",
        "_max_literal",
        "_records",
        "_scan",
        "bulk",
        "more",
    )

    def __init__(
        self, *, max_line: int = DEFAULT_MAX_LINE, max_literal: int = DEFAULT_MAX_LITERAL
    ) -> None:
        self._buf = bytearray()
        self._scan = 0  # where the CRLF search resumes inside _buf
        self._records: list[Record] = []
        self._in_literal = False
        self._literal_left = 0
        self._literal_head = b""
        self._literal_chunks: list[bytes] = []
        self._max_line = max_line
        self._max_literal = max_literal
        self.bulk: BulkScan | None = None
        self.more = False

    @property
    def pending(self) -> int:
        """Octets received but not yet part of a complete response."""
        held = sum(len(r[0]) + len(r[1]) if isinstance(r, tuple) else len(r) for r in self._records)
        literal = len(self._literal_head) + sum(len(c) for c in self._literal_chunks)
        return len(self._buf) + held + literal

    def feed(self, data: bytes) -> list[Response]:
        """Consume `data` (any split, even one byte) and return the responses it completed."""
        out: list[Response] = []
        buf = self._buf
        buf += data
        pos = 0
        end = len(buf)
        self.more = False
        while pos < end or (self._in_literal and self._literal_left == 0):
            if self._in_literal:
                take = min(self._literal_left, end - pos)
                if take:
                    self._literal_chunks.append(bytes(buf[pos : pos + take]))
                    pos += take
                    self._literal_left -= take
                if self._literal_left:
                    break
                literal = b"".join(self._literal_chunks)
                self._records.append((self._literal_head, literal))
                self._in_literal = False
                self._literal_chunks = []
                self._literal_head = b""
                self._scan = pos
                continue
            if self.bulk is not None and not self._records:
                if out:  # dispatched first: it may end the command the bulk lines belong to
                    self.more = True
                    break
                pos = self.bulk(buf, pos, end)
                if pos >= end:
                    break
            idx = buf.find(b"\r\n", max(self._scan, pos))
            if idx < 0:
                # Resume one byte back next time: the CR may be the last byte of this read.
                self._scan = max(end - 1, pos)
                if end - pos > self._max_line:
                    raise ProtocolError(f"response line longer than {self._max_line} octets")
                break
            line = bytes(buf[pos:idx])
            pos = idx + 2
            self._scan = pos
            marker = _literal_size(line)
            if marker is None:
                self._records.append(line)
                out.append(self._finish())
                continue
            start, size = marker
            if size > self._max_literal:
                raise ProtocolError(f"literal of {size} octets is over the limit")
            self._in_literal = True
            self._literal_left = size
            self._literal_head = line[:start] + b"{%d}" % size
        if pos:
            del buf[:pos]
            self._scan = max(self._scan - pos, 0)
        if not buf:
            self._buf = bytearray()  # drop capacity grown by a large read
            self._scan = 0
        return out

    def _finish(self) -> Response:
        records = self._records
        self._records = []
        first = records[0]
        head = first[0] if isinstance(first, tuple) else first
        tag, _, rest = head.partition(b" ")
        if isinstance(first, tuple):
            records[0] = (rest, first[1])
        else:
            records[0] = rest
        return Response(tag.decode("ascii", "replace"), tuple(records))
