"""Search terms of the API compiled to IMAP SEARCH criteria (RFC 3501 §6.4.4).

Every value goes through `imap/encode.py`: quoted strings with `\\` and `"` escaped, literals
for 8-bit text, CR/LF/NUL refused. Nothing the caller sends is ever pasted into the command, so
a term like `x" OR ALL "` or one with a line break cannot change what the server runs. Terms are
ANDed, as IMAP does with a list of search keys.

A `threadId` (`mail/threads.py`) is searched by what the server can match: X-GM-THRID on Gmail;
elsewhere its root Message-ID in Message-ID, References or In-Reply-To (RFC 3501 HEADER is a
substring match, so `in_thread` then keeps only the hits whose own threadId is the one asked
for: a References that merely mentions the root further on belongs to another thread).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

from imapapi.errors import InvalidInputError
from imapapi.imap import ImapConnection, encode
from imapapi.imap.encode import Literal, Part
from imapapi.mail.headers import parse_header_block
from imapapi.mail.threads import ThreadKey, headers_thread_id, parse_thread_id

# RFC 5322 §3.6.8: field-name = 1*ftext (printable US-ASCII except ":").
_FIELD_NAME = re.compile(r"[!-9;-~]+")
# Servers keep dates as Unix time: Dovecot answers BAD to `SINCE 9-Mar-0239`. Refused here, so
# the caller learns which field is wrong instead of getting the server's BAD.
FIRST_SEARCH_YEAR = 1970
# What a message's threadId is computed from (`mail/threads.py`).
THREAD_HEADERS = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES)]"
# RFC 3501 §6.4.4: a search that matches nothing, for a thread that cannot be on this server.
_NOTHING: list[Part] = [b"NOT", b"ALL"]

# API field → IMAP search key taking a string (RFC 3501 §6.4.4).
_STRING_KEYS = (
    ("from_", "from", b"FROM"),
    ("to", "to", b"TO"),
    ("cc", "cc", b"CC"),
    ("bcc", "bcc", b"BCC"),
    ("subject", "subject", b"SUBJECT"),
    ("body", "body", b"BODY"),
    ("text", "text", b"TEXT"),
)
# API field → (key when true, key when false).
_FLAG_KEYS = (
    ("seen", b"SEEN", b"UNSEEN"),
    ("unseen", b"UNSEEN", b"SEEN"),
    ("flagged", b"FLAGGED", b"UNFLAGGED"),
    ("answered", b"ANSWERED", b"UNANSWERED"),
)


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """What `POST /search` accepts; unset fields do not restrict the search."""

    from_: str | None = None
    to: str | None = None
    cc: str | None = None
    bcc: str | None = None
    subject: str | None = None
    body: str | None = None
    text: str | None = None
    header: dict[str, str] = field(default_factory=dict)
    since: _dt.date | None = None  # internal date, day granularity (RFC 3501 SINCE)
    before: _dt.date | None = None
    seen: bool | None = None
    unseen: bool | None = None
    flagged: bool | None = None
    answered: bool | None = None
    larger: int | None = None
    smaller: int | None = None
    uid: str | None = None  # a UID set, "1:100,205"
    message_id: str | None = None
    thread_id: str | None = None


def _date(value: _dt.date, field: str) -> bytes:
    if value.year < FIRST_SEARCH_YEAR:
        raise InvalidInputError(field, f"must be a date from {FIRST_SEARCH_YEAR} on")
    return encode.date(value)


def compile_search(
    terms: SearchTerms, *, utf8: bool = False, gmail: bool = False
) -> tuple[list[Part], str | None]:
    """(criteria parts, CHARSET or None) for `ImapConnection.uid_search`; `gmail`: the server
    offers X-GM-EXT-1.

    8-bit values travel as literals with `CHARSET UTF-8` (RFC 3501 §6.4.4), or as quoted
    UTF-8 once UTF8=ACCEPT is enabled, when CHARSET must not be sent (RFC 6855 §3).
    """
    parts: list[Part] = []

    def add(key: bytes, value: str, name: str) -> None:
        parts.append(key)
        parts.append(encode.string(value, f"search.{name}", utf8=utf8))

    for attr, name, key in _STRING_KEYS:
        value = getattr(terms, attr)
        if value is not None:
            add(key, value, name)
    for name, value in terms.header.items():
        encode.check_safe(f"search.header.{name}", name)
        if not _FIELD_NAME.fullmatch(name):
            raise InvalidInputError(f"search.header.{name}", "not a valid header field name")
        parts += [b"HEADER", encode.quoted(name, "search.header")]
        parts.append(encode.string(value, f"search.header.{name}", utf8=utf8))
    if terms.message_id is not None:
        parts += [b"HEADER", b"Message-ID"]
        parts.append(encode.string(terms.message_id, "search.messageId", utf8=utf8))
    if terms.thread_id is not None:
        thread = parse_thread_id(terms.thread_id, field="search.threadId")
        parts += thread_criteria(thread, gmail=gmail, utf8=utf8)
    if terms.since is not None:
        parts += [b"SINCE", _date(terms.since, "search.since")]
    if terms.before is not None:
        parts += [b"BEFORE", _date(terms.before, "search.before")]
    for name, if_true, if_false in _FLAG_KEYS:
        value = getattr(terms, name)
        if value is not None:
            parts.append(if_true if value else if_false)
    if terms.larger is not None:
        parts += [b"LARGER", encode.number(terms.larger, "search.larger")]
    if terms.smaller is not None:
        parts += [b"SMALLER", encode.number(terms.smaller, "search.smaller")]
    if terms.uid is not None:
        parts += [b"UID", encode.raw_sequence_set(terms.uid.replace(" ", ""), "search.uid")]
    if not parts:
        return [b"ALL"], None
    eight_bit = any(isinstance(part, Literal) for part in parts)
    return parts, ("UTF-8" if eight_bit and not utf8 else None)


def thread_criteria(key: ThreadKey, *, gmail: bool, utf8: bool = False) -> list[Part]:
    """Search keys that find every message of the thread `key` (and maybe a few more)."""
    if key.gmail is not None:  # Gmail's own thread ids exist only there, and vice versa
        return [b"X-GM-THRID", str(key.gmail).encode()] if gmail else _NOTHING
    if gmail:
        return _NOTHING
    if key.message is not None:
        return [b"UID", encode.number(key.message[1], "search.threadId")]
    assert key.root is not None
    root = encode.string(key.root, "search.threadId", utf8=utf8)
    keys: list[Part] = [b"OR", b"OR"]
    for name in (b"Message-ID", b"References", b"In-Reply-To"):
        keys += [b"HEADER", name, root]
    return keys


async def in_thread(
    conn: ImapConnection, uids: list[int], thread_id: str, *, index: int
) -> list[int]:
    """The `uids` (of the selected folder, bound to mailbox `index`) whose threadId is
    `thread_id`, in the same order: the exact check after `thread_criteria`'s search."""
    key = parse_thread_id(thread_id, field="search.threadId")
    if key.gmail is not None or not uids:
        return uids  # X-GM-THRID is matched exactly by the server
    if key.message is not None:
        return [uid for uid in uids if (index, uid) == key.message]
    kept = set()
    async for result in conn.uid_fetch(uids, ["UID", THREAD_HEADERS]):
        if result.uid is None:
            continue
        headers = parse_header_block(next(iter(result.sections.values()), b""))
        if headers_thread_id(headers, index=index, uid=result.uid) == thread_id:
            kept.add(result.uid)
    return [uid for uid in uids if uid in kept]
