"""Encode command arguments (RFC 3501 §4, §9): atoms, strings, literals, sequence sets, names.

Every function here refuses CR, LF and NUL in what it is given with `InvalidInputError` before a
single octet is produced: a CRLF inside an argument would end the command early and let the rest
run as a command of the caller's choosing (command injection). Message literals (APPEND) are the
one place CRLF is data; they still refuse NUL, which RFC 3501 §4.3 `CHAR8` excludes.

A command is a list of parts: `bytes` (already encoded, sent as is) and `Literal` (sent as
`{n}` + CRLF, waiting for the server's `+` unless LITERAL+/LITERAL- lets us not wait).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from imapclient import imap_utf7

from imapapi.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Literal:
    """Octets sent as an IMAP literal (RFC 3501 §4.3); `binary` makes it a literal8 (RFC 3516)."""

    data: bytes
    binary: bool = False

    def __repr__(self) -> str:  # never put message contents or secrets in a repr
        return f"Literal({len(self.data)} bytes)"


Part = bytes | Literal

_FORBIDDEN = re.compile(r"[\r\n\x00]")
_FORBIDDEN_B = re.compile(rb"[\r\n\x00]")
# RFC 3501 §9: ATOM-CHAR is any CHAR except atom-specials: ( ) { SP CTL % * " \ ]
_ATOM = re.compile(r"[!#$&'+,\-./0-9:;<=>?@A-Z\[^_`a-z|}~]+")
# A flag: atom, or "\" atom for system flags (RFC 3501 §2.3.2); "\*" only appears in PERMANENTFLAGS.
_FLAG = re.compile(r"\\?[!#$&'+,\-./0-9:;<=>?@A-Z\[^_`a-z|}~]+")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def check_safe(field: str, value: str | bytes) -> None:
    """Raise `InvalidInputError` when `value` contains CR, LF or NUL."""
    found = _FORBIDDEN_B.search(value) if isinstance(value, bytes) else _FORBIDDEN.search(value)
    if found:
        raise InvalidInputError(field, "must not contain CR, LF or NUL characters")


def atom(value: str, field: str = "atom") -> bytes:
    """An atom (RFC 3501 §9), e.g. a command keyword or a fetch item name."""
    check_safe(field, value)
    if not _ATOM.fullmatch(value):
        raise InvalidInputError(field, f"not a valid IMAP atom: {value!r}")
    return value.encode("ascii")


def flag(value: str, field: str = "flag") -> bytes:
    """A flag or keyword: `\\Seen`, `$Forwarded`, `NonJunk`."""
    check_safe(field, value)
    if not _FLAG.fullmatch(value):
        raise InvalidInputError(field, f"not a valid IMAP flag: {value!r}")
    return value.encode("ascii")


def flag_list(flags: Iterable[str], field: str = "flags") -> bytes:
    """A parenthesised flag list, `(\\Seen $Label1)`."""
    return b"(" + b" ".join(flag(f, field) for f in flags) + b")"


def quoted(value: str | bytes, field: str = "string") -> bytes:
    """A quoted string (RFC 3501 §4.3) with `\\` and `"` escaped; no CR, LF or NUL allowed."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8")
    check_safe(field, raw)
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def string(value: str | bytes, field: str = "string", *, utf8: bool = False) -> Part:
    """A `string`: quoted when it is 7-bit (or `utf8` allows 8-bit, RFC 6855 §3), else a literal.

    CR, LF and NUL are refused even though a literal could carry them: no argument of ours
    legitimately contains them, and refusing them here keeps one simple rule.
    """
    raw = value if isinstance(value, bytes) else value.encode("utf-8")
    check_safe(field, raw)
    if utf8 or raw.isascii():
        return quoted(raw, field)
    return Literal(raw)


def astring(value: str | bytes, field: str = "string", *, utf8: bool = False) -> Part:
    """An `astring`: a bare atom when possible (shorter logs), else `string()`."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if text and text.upper() != "NIL" and _ATOM.fullmatch(text) and "]" not in text:
        check_safe(field, text)
        return text.encode("ascii")
    return string(value, field, utf8=utf8)


def mailbox(name: str, *, utf8: bool = False, field: str = "path") -> Part:
    """A mailbox name: modified UTF-7 (RFC 3501 §5.1.3), or raw UTF-8 once UTF8=ACCEPT is enabled
    (RFC 6855 §3). Always quoted so names like `NIL` or with spaces are never misread."""
    check_safe(field, name)
    if not name:
        raise InvalidInputError(field, "must not be empty")
    raw = name.encode("utf-8") if utf8 else imap_utf7.encode(name)
    return quoted(raw, field)


def decode_mailbox(raw: bytes | str, *, utf8: bool = False) -> str:
    """Inverse of `mailbox()` for names the server sends."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if utf8 or not raw.isascii():
        # Modified UTF-7 is 7-bit (RFC 3501 §5.1.3): 8-bit octets can only be UTF-8. Dovecot
        # 2.3 sends the names in its NOTIFY STATUS (RFC 5465 §5.1) that way, as a literal,
        # even to a client that never enabled UTF8=ACCEPT.
        return raw.decode("utf-8", "replace")
    decoded: str = imap_utf7.decode(raw)
    return decoded


def literal(data: bytes, field: str = "message", *, binary: bool = False) -> Literal:
    """A literal carrying a message: CRLF allowed, NUL only in a literal8 (RFC 3516)."""
    if not binary and b"\x00" in data:
        raise InvalidInputError(field, "must not contain NUL characters")
    return Literal(data, binary)


def sequence_set(ids: Iterable[int], field: str = "uids") -> bytes:
    """A compressed sequence set, `1:5,9,11:12` (RFC 3501 §9 `sequence-set`), sorted, no dups."""
    values = sorted(set(ids))
    if not values:
        raise InvalidInputError(field, "must not be empty")
    if values[0] < 1 or values[-1] > 0xFFFFFFFF:
        raise InvalidInputError(field, "numbers must be between 1 and 4294967295")
    out: list[str] = []
    start = prev = values[0]
    for value in values[1:]:
        if value == prev + 1:
            prev = value
            continue
        out.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = value
    out.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(out).encode("ascii")


# [0-9], not \d: \d also matches other scripts' digits ("١٢"), which are not ASCII.
_SEQSET = re.compile(r"(?:[0-9]+|\*)(?::(?:[0-9]+|\*))?(?:,(?:[0-9]+|\*)(?::(?:[0-9]+|\*))?)*")


def raw_sequence_set(value: str, field: str = "uids") -> bytes:
    """A sequence set the caller wrote, e.g. `1:*`; validated, not rewritten."""
    check_safe(field, value)
    if not _SEQSET.fullmatch(value):
        raise InvalidInputError(field, f"not a valid sequence set: {value!r}")
    return value.encode("ascii")


def chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    """Sorted, de-duplicated ids split into lists of at most `size`."""
    values = sorted(set(ids))
    return [values[i : i + size] for i in range(0, len(values), size)]


def date(value: _dt.date) -> bytes:
    """A SEARCH date, `1-Feb-2024` (RFC 3501 §9 `date`)."""
    return f"{value.day}-{_MONTHS[value.month - 1]}-{value.year}".encode("ascii")


def date_time(value: _dt.datetime) -> bytes:
    """An APPEND internal date, `"01-Feb-2024 13:05:00 +0100"` (RFC 3501 §9 `date-time`).

    A naive datetime is taken as UTC.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    offset = value.utcoffset() or _dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (
        f'"{value.day:02d}-{_MONTHS[value.month - 1]}-{value.year:04d} '
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d} "
        f'{sign}{minutes // 60:02d}{minutes % 60:02d}"'
    ).encode("ascii")


def number(value: int, field: str = "number") -> bytes:
    """A non-negative integer (`number` / `mod-sequence-value`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(field, "must be a non-negative integer")
    return str(value).encode("ascii")


def join(parts: Iterable[Part], sep: bytes = b" ") -> list[Part]:
    """Join parts with `sep`, merging adjacent bytes so the command has few pieces."""
    out: list[Part] = []
    first = True
    for part in parts:
        if not first:
            _append(out, sep)
        first = False
        _append(out, part)
    return out


def _append(out: list[Part], part: Part) -> None:
    if isinstance(part, bytes) and out and isinstance(out[-1], bytes):
        out[-1] = out[-1] + part
    else:
        out.append(part)


def check_parts(parts: Iterable[Part], field: str = "arguments") -> None:
    """Last line of defence before the wire: no CR/LF/NUL inside non-literal parts."""
    for part in parts:
        if isinstance(part, bytes):
            check_safe(field, part)


# FETCH items (RFC 3501 §6.4.5): names, sections with header lists and partial ranges.
_FETCH_ITEM = re.compile(r"[A-Za-z0-9.\-]+(?:\[[A-Za-z0-9.\- ()]*\](?:<\d+(?:\.\d+)?>)?)?")


def fetch_items(items: Sequence[str], field: str = "items") -> bytes:
    """`(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])` from item names, each validated."""
    if not items:
        raise InvalidInputError(field, "must not be empty")
    for item in items:
        check_safe(field, item)
        if not _FETCH_ITEM.fullmatch(item):
            raise InvalidInputError(field, f"not a valid FETCH item: {item!r}")
    return ("(" + " ".join(items) + ")").encode("ascii")
