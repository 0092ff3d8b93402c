"""A lean, exact reader for the FETCH lines of a message listing (ENVELOPE, BODYSTRUCTURE …).

A listing page asks `UID FETCH uids (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)`
and reads one line per message; the generic path tokenizes the whole line and then converts the
tokens. Most of such a line has a fixed shape (RFC 3501 §7.4.2, §9): numbers, a flag list, a
quoted date and an envelope of ten nstrings and address lists. Those items are matched here by
compiled regexes and converted at once by the same functions the generic path uses
(`envelope.py`, `fastparse.flag_names`), with address lists read once per spelling; the
BODYSTRUCTURE by `fastbody.read_body`. The first item that is not one of those shapes (another
item, odd spacing, a body structure `fastbody` declines) and everything after it are left as
tokens, read by `fastparse.tokens`, for the generic item loop of `parse.py`.

A response with literals (a listing's BODY[HEADER.FIELDS ...] section) is read the same way up
to its first literal; when that is a body section ending the response (the usual answer), its
name and literal are taken as they are, else the literals and what follows them go to the
tokenizer.

Never a different answer, only a faster one: None (the generic path) whenever unsure: a
line that does not end with its item list, a flag the tokenizer would turn into a
number or NIL, anything `tokens` declines. Pure: bytes in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from imapapi.imap import envelope, fastbody
from imapapi.imap.fastparse import FLAG, QUOTED, Token, flag_names, remember, tokens, unquote
from imapapi.imap.types import Address, Envelope

_HEAD = re.compile(rb"(\d+) FETCH \(", re.IGNORECASE)
_NUMBER_FIELDS = {
    b"UID": "uid",
    b"RFC822.SIZE": "size",
    b"X-GM-MSGID": "gmail_msgid",
    b"X-GM-THRID": "gmail_thrid",
}
# One item of a known name and shape, then one space and the next item or the `)` ending the
# line. Names are case-insensitive (the generic loop upper-cases them); NIL never is.
_ITEM = re.compile(
    rb"(?:(?:(?P<name>(?i:UID|RFC822\.SIZE|X-GM-MSGID|X-GM-THRID)) (?P<number>\d+)"
    rb"|(?i:MODSEQ) \((?P<modseq>\d+)\)"
    rb"|(?i:FLAGS) \((?P<flags>(?:" + FLAG + rb"(?: " + FLAG + rb")*)?)\)"
    rb"|(?i:INTERNALDATE) (?P<date>" + QUOTED + rb"))(?= |\)\Z)"
    rb"|(?i:ENVELOPE) (?P<envelope>\()"
    rb"|(?i:BODY(?:STRUCTURE)?) (?P<body>\())",
    re.DOTALL,
)

# ENVELOPE: date subject from sender reply-to to cc bcc in-reply-to message-id, each an nstring
# or an address list `NIL | "(" 1*address ")"` (an empty list is read too, as the tokenizer
# would). NIL is case-sensitive, as in the tokenizer: `nil` would be an atom.
_NSTRING = rb"(?:NIL|" + QUOTED + rb")"
_ADDRESS = re.compile(rb"\((" + rb") (".join([_NSTRING] * 4) + rb")\)", re.DOTALL)
_ADDRESS_LIST = rb"(NIL|\((?:\(" + rb" ".join([_NSTRING] * 4) + rb"\) ?)*\))"
_ENVELOPE = re.compile(
    rb"\((" + _NSTRING + rb") (" + _NSTRING + rb") "
    + rb" ".join([_ADDRESS_LIST] * 6)
    + rb" (" + _NSTRING + rb") (" + _NSTRING + rb")\)(?= |\)\Z)",
    re.DOTALL,
)  # fmt: skip

# A body section with its literal ending the response (the listing's and the sync's header
# fields, RFC 3501 §7.4.2 `BODY[section]<origin>`): its name is one token, as the tokenizer
# reads it (brackets taken whole), then the literal. Names with other octets go to the tokenizer.
_SECTION_LITERAL = re.compile(rb"(?i:BODY)\[[A-Za-z0-9.\-() ]*\](?:<\d+>)? \{(\d+)\}")

# Address lists repeat (one sender, the same "to me" in every message, From = Sender = Reply-To
# within one): each spelling is read once. Bounded: cleared when full.
_ADDRESS_LISTS: dict[bytes, tuple[Address, ...]] = {}
_CACHE_MAX = 4096


def _nstring(raw: bytes) -> bytes | None:
    return None if raw == b"NIL" else unquote(raw)


def _text(raw: bytes) -> str | None:
    """An nstring as `envelope.text_of(token) or None` would read it."""
    return None if raw == b"NIL" else (unquote(raw).decode("utf-8", "replace") or None)


def _addresses(raw: bytes) -> tuple[Address, ...]:
    cached = _ADDRESS_LISTS.get(raw)
    if cached is None:
        # Read here, not through `envelope.addresses`: its memo of the same list by tokens
        # would hold every entry twice.
        read = () if raw == b"NIL" else envelope.read_addresses(
            tuple(tuple(map(_nstring, fields)) for fields in _ADDRESS.findall(raw))
        )  # fmt: skip
        cached = remember(_ADDRESS_LISTS, raw, read, _CACHE_MAX)
    return cached


def _envelope(line: bytes, pos: int) -> tuple[Envelope, int] | None:
    match = _ENVELOPE.match(line, pos)
    if match is None:
        return None
    date, subject, from_, sender, reply_to, to, cc, bcc, in_reply_to, message_id = match.groups()
    value = Envelope(
        date=_text(date),
        subject=envelope.decode_words(_nstring(subject)),
        from_=_addresses(from_),
        sender=_addresses(sender),
        reply_to=_addresses(reply_to),
        to=_addresses(to),
        cc=_addresses(cc),
        bcc=_addresses(bcc),
        in_reply_to=_text(in_reply_to),
        message_id=_text(message_id),
    )
    return value, match.end()


def read_listing(line: bytes) -> tuple[int, dict[str, object], tuple[Token, ...]] | None:
    """`12 FETCH (UID 7 ...)` (the untagged `* ` already removed) as (sequence number, the
    `FetchResult` fields read so far, the remaining items as tokens); None when unsure."""
    head = _HEAD.match(line)
    if head is None or line[-1:] != b")":
        return None
    end = len(line) - 1  # the `)` closing the item list
    values, pos = _read_items(line, head.end(), end)
    if pos >= end:
        return int(head.group(1)), values, ()
    # BODYSTRUCTURE, another item, odd spacing: the tokenizer reads the rest of the line.
    rest = tokens([line[pos:end]])
    return None if rest is None else (int(head.group(1)), values, rest)


def read_listing_records(
    records: Sequence[bytes | tuple[bytes, bytes]],
) -> tuple[int, dict[str, object], tuple[Token, ...]] | None:
    """`read_listing` for a response with literals, as the reader splits it: (text ending in
    `{n}`, literal) records and the line's last text. A listing's header fields (BODY[HEADER
    .FIELDS ...], RFC 3501 §6.4.5) come as a literal; the items before the first literal are
    read as in a plain line, the rest (the literals included) by the tokenizer."""
    first, last = records[0], records[-1]
    if not isinstance(first, tuple) or not isinstance(last, bytes) or last[-1:] != b")":
        return None
    text = first[0]
    head = _HEAD.match(text)
    if head is None:
        return None
    # No item of the fixed shapes reaches the `{n}` ending `text`, so the loop stops before it.
    values, pos = _read_items(text, head.end(), len(text))
    literal = first[1]
    if len(records) == 2 and last == b")":
        section = _SECTION_LITERAL.fullmatch(text, pos)
        if section is not None and int(section.group(1)) == len(literal):
            return int(head.group(1)), values, (text[pos : section.start(1) - 2], literal)
    rest = tokens([(text[pos:], literal), *records[1:-1], last[:-1]])
    return None if rest is None else (int(head.group(1)), values, rest)


def _read_items(line: bytes, pos: int, end: int) -> tuple[dict[str, object], int]:
    """The items of known shapes from `pos` on, up to `end` or the first other one: the
    `FetchResult` fields read, and where reading stopped."""
    values: dict[str, object] = {}
    while pos < end:
        item = _ITEM.match(line, pos)
        if item is None:
            break
        kind = item.lastgroup
        text = item.group(kind)  # type: ignore[arg-type]
        if kind == "number":
            values[_NUMBER_FIELDS[item.group("name").upper()]] = int(text)
        elif kind == "modseq":
            values["modseq"] = int(text)
        elif kind == "date":
            values["internal_date"] = envelope.parse_internal_date(unquote(text))
        elif kind == "flags":
            flags = flag_names(text) if text else ()
            if flags is None:
                break
            values["flags"] = flags
        elif kind == "envelope":
            read = _envelope(line, item.start(kind))
            if read is None:
                break
            values["envelope"], pos = read[0], read[1] + 1
            continue
        else:
            body = fastbody.read_body(line, item.start(kind))  # type: ignore[arg-type]
            if body is None or (body[1] != end and line[body[1] : body[1] + 1] != b" "):
                break
            values["body_structure"], pos = body[0], body[1] + 1
            continue
        pos = item.end() + 1  # past the space, or onto `end`
    return values, pos
