"""ENVELOPE and INTERNALDATE (RFC 3501 §7.4.2) from tokens to our types, and the RFC 2047 text
they carry. Shared by the generic FETCH parser (`parse.py`) and the lean listing reader
(`fastfetch.py`), so both convert alike by construction. Pure.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import logging
import re

from imapapi.errors import ProtocolError
from imapapi.imap.fastparse import remember
from imapapi.imap.types import Address, Envelope

log = logging.getLogger(__name__)

Atom = object  # a token: bytes, int, None or nested tuples of those

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_INTERNALDATE = re.compile(
    r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})"
)
# The spelling servers send (RFC 3501 §9 date-time), ASCII only and with a valid month, hour,
# minute and second, so the ISO text is its pieces rearranged; any other goes through datetime.
_PLAIN_INTERNALDATE = re.compile(
    rb"( ?\d{1,2}-(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)-\d{4}) "
    rb"((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d) ([+-]\d{4})"
)


def text_of(value: Atom) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def tuple_of(value: Atom) -> tuple[Atom, ...]:
    return value if isinstance(value, tuple) else ()


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "Bb":
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    # RFC 2047 §4.2: "_" is a space, =XX a hex octet.
    return re.sub(
        rb"=([0-9A-Fa-f]{2})",
        lambda m: bytes([int(m.group(1), 16)]),
        text.replace("_", " ").encode("ascii", "replace"),
    )


def decode_words(value: Atom) -> str | None:
    """Text with RFC 2047 encoded words decoded; raw 8-bit is read as UTF-8 (RFC 6532).

    Whitespace between adjacent encoded words is dropped (RFC 2047 §6.2), and adjacent words
    in the same charset are joined before decoding so a multi-byte character split across two
    words survives. A word in an unknown charset, or broken, is kept as sent.
    """
    text = text_of(value)
    if text is None or "=?" not in text:
        return text
    # pieces: (charset or None for plain text, octets, original text)
    pieces: list[tuple[str | None, bytes, str]] = []
    pos = 0
    for m in _ENCODED_WORD.finditer(text):
        between = text[pos : m.start()]
        if between and not (between.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, b"", between))
        charset = m.group(1).split("*", 1)[0].lower()  # RFC 2231 §5 language suffix
        try:
            octets = _word_bytes(m.group(2), m.group(3))
        except (binascii.Error, ValueError):
            pieces.append((None, b"", m.group(0)))
        else:
            if pieces and pieces[-1][0] == charset:
                last = pieces.pop()
                pieces.append((charset, last[1] + octets, last[2] + m.group(0)))
            else:
                pieces.append((charset, octets, m.group(0)))
        pos = m.end()
    if pos < len(text):
        pieces.append((None, b"", text[pos:]))
    out: list[str] = []
    for charset, octets, original in pieces:
        if charset is None:
            out.append(original)
            continue
        try:
            out.append(octets.decode(charset, "replace"))
        except LookupError:
            out.append(original)
    return "".join(out)


def parse_internal_date(value: Atom) -> str | None:
    """INTERNALDATE `"17-Jul-1996 02:44:25 -0700"` as ISO 8601 with offset."""
    if isinstance(value, bytes):
        plain = _PLAIN_INTERNALDATE.fullmatch(value)
        if plain is not None:
            day, time, zone = plain.groups()
            iso_day = _cached_part(_ISO_DAYS, day, day + b" 00:00:00 +0000", slice(0, 10))
            iso_zone = _cached_part(
                _ISO_ZONES, zone, b"01-Jan-2000 00:00:00 " + zone, slice(19, None)
            )
            if iso_day is None or iso_zone is None:
                return None
            return f"{iso_day}T{time.decode()}{iso_zone}"
    return parse_internal_date_generic(value)


def parse_internal_date_generic(value: Atom) -> str | None:
    """`parse_internal_date` for every spelling, through `datetime`."""
    text = text_of(value)
    if text is None:
        return None
    m = _INTERNALDATE.fullmatch(text)
    if not m or m.group(2).lower() not in _MONTHS:
        log.debug("unparsable INTERNALDATE %r", text)
        return None
    day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
    try:
        when = _dt.datetime(
            int(year),
            _MONTHS[mon.lower()],
            int(day),
            int(hh),
            int(mm),
            int(ss),
            tzinfo=_zone(sign, oh, om),
        )
    except ValueError:
        return None
    return when.isoformat()


# A listing's dates share few days and fewer zones: the ISO text of each is found once, by the
# generic path itself (a date at midnight UTC; 1 January 2000 in the zone), so a day that does
# not exist or a zone a day or more away is None alike. Bounded: cleared when full.
_ISO_DAYS: dict[bytes, str | None] = {}
_ISO_ZONES: dict[bytes, str | None] = {}


def _cached_part(
    cache: dict[bytes, str | None], key: bytes, probe: bytes, part: slice
) -> str | None:
    if key in cache:
        return cache[key]
    iso = parse_internal_date_generic(probe)
    return remember(cache, key, None if iso is None else iso[part], _CACHE_MAX)


# A listing sees few distinct zones and address lists (one sender, "to me" every time, From =
# Sender = Reply-To): both are read once. Bounded: cleared when full.
_ZONES: dict[tuple[str, str, str], _dt.timezone] = {}
_ADDRESS_LISTS: dict[tuple[Atom, ...], tuple[Address, ...]] = {}
_CACHE_MAX = 4096


def _zone(sign: str, hours: str, minutes: str) -> _dt.timezone:
    """The zone of `+hhmm`; ValueError when it is a day or more away from UTC."""
    key = (sign, hours, minutes)
    zone = _ZONES.get(key)
    if zone is None:
        offset = _dt.timedelta(hours=int(hours), minutes=int(minutes))
        zone = remember(_ZONES, key, _dt.timezone(-offset if sign == "-" else offset), _CACHE_MAX)
    return zone


def addresses(value: Atom) -> tuple[Address, ...]:
    if not isinstance(value, tuple):
        return ()
    cached = _ADDRESS_LISTS.get(value)
    if cached is None:
        cached = remember(_ADDRESS_LISTS, value, read_addresses(value), _CACHE_MAX)
    return cached


def read_addresses(value: tuple[Atom, ...]) -> tuple[Address, ...]:
    """An address list's entries (4-tuples of tokens) as `Address`es; not memoised."""
    out: list[Address] = []
    for item in value:
        fields = tuple_of(item)
        if len(fields) != 4:
            continue
        name, _adl, mailbox, host = fields
        if host is None:
            # RFC 3501 §7.4.2 group syntax: (NIL NIL "group" NIL) starts, all-NIL ends a group.
            out.append(Address(decode_words(mailbox) or "", ""))
            continue
        out.append(Address(decode_words(name) or "", f"{text_of(mailbox) or ''}@{text_of(host)}"))
    return tuple(out)


def parse_envelope(value: Atom) -> Envelope:
    """ENVELOPE (RFC 3501 §7.4.2) with subject and names decoded from RFC 2047 encoded words."""
    fields = tuple_of(value)
    if len(fields) < 10:
        raise ProtocolError("ENVELOPE with fewer than 10 fields")
    return Envelope(
        date=text_of(fields[0]) or None,
        subject=decode_words(fields[1]),
        from_=addresses(fields[2]),
        sender=addresses(fields[3]),
        reply_to=addresses(fields[4]),
        to=addresses(fields[5]),
        cc=addresses(fields[6]),
        bcc=addresses(fields[7]),
        in_reply_to=text_of(fields[8]) or None,
        message_id=text_of(fields[9]) or None,
    )
