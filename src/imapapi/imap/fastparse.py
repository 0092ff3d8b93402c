"""A lean, exact parser for the FETCH responses a sync asks for by the thousand.

`UID FETCH 1:* (UID FLAGS)` on a 20,000-message folder is 20,000 lines of one shape,
`* n FETCH (UID u FLAGS (...) [MODSEQ (m)])` (RFC 3501 §7.4.2, RFC 7162 §3.1.4.1), items in any
order. imapclient's generic tokenizer spends ~35 µs on each; this spends a few. It accepts only
what it can read exactly as `parse.parse_fetch_generic` would and answers None for anything
else (another item, a literal, a quoted string, odd spacing, a flag imapclient would turn into
a number or NIL), so the caller falls back to the generic path: never a different answer, only
a faster one. Pure: bytes in, `FetchResult` or None out.
"""

from __future__ import annotations

import re

from imapapi.imap.types import FetchResult

# A flag is an atom, optionally after a backslash (RFC 3501 §9: flag-keyword / flag-extension).
# Atom characters are CHAR minus atom-specials `( ) { SP CTL % * " \ ]`; `[` is left out as well
# because imapclient's lexer reads `[...]` as one token, spaces included.
_FLAG = rb"\\?[!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|}~]+"
_HEAD = re.compile(rb"(\d{1,10}) FETCH \(", re.IGNORECASE)
_ITEM = re.compile(
    rb"(?:UID (?P<uid>\d{1,10})"
    rb"|FLAGS \((?P<flags>" + _FLAG + rb"(?: " + _FLAG + rb")*)?\)"
    rb"|MODSEQ \((?P<modseq>\d{1,20})\))"
    rb"(?P<end>\)\Z| )",
    re.IGNORECASE,
)
# Flag lists repeat endlessly within a folder ("\Seen", "\Seen \Answered" …): decode each once.
_FLAGS_CACHE: dict[bytes, tuple[str, ...] | None] = {}
_FLAGS_CACHE_MAX = 4096


def _flags(raw: bytes) -> tuple[str, ...] | None:
    """The decoded flag list, or None when imapclient would read a flag differently."""
    cached = _FLAGS_CACHE.get(raw, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    names = raw.split(b" ")
    result: tuple[str, ...] | None = tuple(n.decode("ascii") for n in names)
    # imapclient turns an all-digit atom into an int ("007" → 7) and NIL into None.
    if any(n.isdigit() or n.upper() == b"NIL" for n in names):
        result = None
    if len(_FLAGS_CACHE) >= _FLAGS_CACHE_MAX:
        _FLAGS_CACHE.clear()
    _FLAGS_CACHE[raw] = result
    return result


def parse_fetch_line(line: bytes) -> FetchResult | None:
    """`12 FETCH (UID 7 FLAGS (\\Seen) MODSEQ (9))` (the untagged `* ` already removed) as a
    `FetchResult`, or None when the line is not one of the shapes this parser knows."""
    head = _HEAD.match(line)
    if head is None:
        return None
    pos = head.end()
    uid: int | None = None
    flags: tuple[str, ...] | None = None
    modseq: int | None = None
    while True:
        item = _ITEM.match(line, pos)
        if item is None:
            return None
        value = item.group("uid")
        if value is not None:
            uid = int(value)
        else:
            value = item.group("modseq")
            if value is not None:
                modseq = int(value)
            else:
                raw = item.group("flags")
                if raw is None:
                    flags = ()
                else:
                    flags = _flags(raw)
                    if flags is None:
                        return None
        if item.group("end") == b")":
            break
        pos = item.end()
    return FetchResult(seq=int(head.group(1)), uid=uid, flags=flags, modseq=modseq)
