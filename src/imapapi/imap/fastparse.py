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
from typing import TypeVar

from imapapi.imap.types import FetchResult

K = TypeVar("K")
V = TypeVar("V")


def remember(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    """`value` kept under `key` in one of the lean readers' memos (flag lists, address lists,
    parameter lists, days, zones), and returned. Bounded: cleared when full, since the values
    recur and a fresh start costs one read each."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


# A flag is an atom, optionally after a backslash (RFC 3501 §9: flag-keyword / flag-extension).
# Atom characters are CHAR minus atom-specials `( ) { SP CTL % * " \ ]`; `[` is left out as well
# because imapclient's lexer reads `[...]` as one token, spaces included.
FLAG = rb"\\?[!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|}~]+"
_HEAD = re.compile(rb"(\d{1,10}) FETCH \(", re.IGNORECASE)
_ITEM = re.compile(
    rb"(?:UID (?P<uid>\d{1,10})"
    rb"|FLAGS \((?P<flags>" + FLAG + rb"(?: " + FLAG + rb")*)?\)"
    rb"|MODSEQ \((?P<modseq>\d{1,20})\))"
    rb"(?P<end>\)\Z| )",
    re.IGNORECASE,
)
# Flag lists repeat endlessly within a folder ("\Seen", "\Seen \Answered" …): decode each once.
_FLAGS_CACHE: dict[bytes, tuple[str, ...] | None] = {}
_FLAGS_CACHE_MAX = 4096


def flag_names(raw: bytes) -> tuple[str, ...] | None:
    """A well-formed, non-empty flag list (`FLAG( FLAG)*`) decoded, or None when imapclient would
    read one of its flags differently."""
    cached = _FLAGS_CACHE.get(raw, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    names = raw.split(b" ")
    result: tuple[str, ...] | None = tuple(n.decode("ascii") for n in names)
    # imapclient turns an all-digit atom into an int ("007" → 7) and NIL into None.
    if any(n.isdigit() or n.upper() == b"NIL" for n in names):
        result = None
    return remember(_FLAGS_CACHE, raw, result, _FLAGS_CACHE_MAX)


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
                    flags = flag_names(raw)
                    if flags is None:
                        return None
        if item.group("end") == b")":
            break
        pos = item.end()
    return FetchResult(seq=int(head.group(1)), uid=uid, flags=flags, modseq=modseq)


# --- a lean tokenizer for whole responses (ENVELOPE, BODYSTRUCTURE …) ---------------------------
#
# The same tokens as `imapclient.response_parser.parse_response` (bytes, int, None, nested
# tuples, literals from imaplib-style records), from one C-level `findall` per record instead of
# imapclient's byte-at-a-time lexer (~240 µs for an ENVELOPE + BODYSTRUCTURE line; this is a
# small fraction of that). Its lexer's rules, reproduced: whitespace is SP/HT/CR/LF; an atom is
# a run of any octet but CTL and SP ( ) % " [ , where `[...]` is taken whole (spaces included,
# as in `BODY[HEADER.FIELDS (A B)]`); a quoted string unescapes only \\ and \" (a backslash
# before anything else is kept); `NIL` (exact case) is None; digits without a leading zero are
# an int; `{n}` ending a record stands for its literal. Whatever its lexer would reject or read
# oddly (`%`, control octets, a quote glued to an atom, an unclosed bracket or quote, a `{`
# token anywhere else, unbalanced parentheses) is left to it: the answer is None.
_ATOM_CHAR = rb'[^\x00-\x1f ()%"\[]'
QUOTED = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'  # with re.DOTALL: any octet may be escaped
_BRACKETS = rb"\[[^\]]*\]"
# Possessive (`++`, `*+`): an atom glued to a quote or `%` must not match a shorter atom; it falls
# through to the second group, which marks the response as one for imapclient.
_TOKEN = re.compile(
    rb"[ \t\r\n]*+(?:("
    rb"\(|\)"
    rb"|" + QUOTED + rb"|(?:" + _ATOM_CHAR + rb"++|" + _BRACKETS + rb")"
    rb"(?:" + _ATOM_CHAR + rb"++|" + _BRACKETS + rb")*+(?![^ \t\r\n()])"
    rb")|([^ \t\r\n]))",
    re.DOTALL,
)
_UNESCAPE = re.compile(rb'\\(["\\])')


def unquote(token: bytes) -> bytes:
    """A quoted string's content as imapclient reads it: only \\\\ and \\" are escapes."""
    inner = token[1:-1]
    return _UNESCAPE.sub(rb"\1", inner) if b"\\" in inner else inner


Token = object  # bytes, int, None or a tuple of tokens


def tokens(data: list[bytes | tuple[bytes, bytes]]) -> tuple[Token, ...] | None:
    """Records (plain lines, or (line ending in `{n}`, literal)) as imapclient's tokens, or None
    when imapclient must be asked (see above): never a different answer."""
    out: list[Token] = []
    stack: list[list[Token]] = []
    for record in data:
        literal: bytes | None = None
        if isinstance(record, tuple):
            text, literal = record
        else:
            text = record
        found = _TOKEN.findall(text)
        if literal is not None:
            if not found or found[-1][0][:1] != b"{":
                return None  # imapclient would drop or misplace this literal
            size = found.pop()[0][1:-1]
            if not size.isdigit() or int(size) != len(literal):
                return None
        for token, bad in found:
            if bad:
                return None
            first = token[0]
            if first == 0x28:  # (
                stack.append(out)
                out = []
            elif first == 0x29:  # )
                if not stack:
                    return None
                done = tuple(out)
                out = stack.pop()
                out.append(done)
            elif first == 0x22:  # "
                out.append(unquote(token))
            elif first == 0x7B:  # { not ending a record
                return None
            elif token == b"NIL":
                out.append(None)
            elif token.isdigit() and (first != 0x30 or len(token) == 1):
                out.append(int(token))
            else:
                out.append(token)
        if literal is not None:
            out.append(literal)
    if stack:
        return None
    return tuple(out)
