"""Pure response parsing: `Response` records in, frozen dataclasses of `types.py` out.

Tokenising is done behind `_tokens()` alone: `fastparse.tokens` (a lean exact tokenizer) when it
can, else `imapclient.response_parser` (a pinned dependency, imported not copied), so another
parser can replace either in one place. Everything after the
tokens (ENVELOPE, BODYSTRUCTURE, codes, sets) is ours and works on plain tuples.

The one exception is the FETCH shape a sync reads by the thousand (UID, FLAGS, MODSEQ): it goes
through `fastparse.parse_fetch_line` first, behind `_fast_fetch()` alone, which answers exactly
what the generic path would or declines (DESIGN.md §6, §8).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from imapclient import response_parser
from imapclient.exceptions import ProtocolError as _ImapclientProtocolError

from imapapi.errors import ProtocolError
from imapapi.imap import fastfetch, fastparse
from imapapi.imap.encode import decode_mailbox
from imapapi.imap.envelope import decode_words, parse_envelope, parse_internal_date
from imapapi.imap.envelope import text_of as _str
from imapapi.imap.envelope import tuple_of as _tuple
from imapapi.imap.params import decode_params
from imapapi.imap.reader import Record, Response
from imapapi.imap.types import (
    AppendUid,
    BodyPart,
    CopyUid,
    ESearchResult,
    FetchResult,
    MailboxInfo,
    MailboxStatus,
    Namespace,
    Namespaces,
    ResponseCode,
    SelectedMailbox,
    StatusResponse,
)

log = logging.getLogger(__name__)

_SECTION_PREFIXES = (b"BODY[", b"BINARY[", b"RFC822", b"BINARY.SIZE[")

Atom = object  # what the tokenizer yields: bytes, int, None or nested tuples of those


def _tokens(data: Sequence[Record]) -> tuple[Atom, ...]:
    """The one place responses become tokens: the lean tokenizer of `fastparse.py` when it can
    read them exactly, else imapclient's parser (the reference it is tested against)."""
    lean = fastparse.tokens(list(data))
    if lean is not None:
        return lean
    try:
        return tuple(response_parser.parse_response(list(data)))
    except (_ImapclientProtocolError, ValueError, IndexError, RecursionError) as exc:
        raise ProtocolError(f"unparsable response: {exc}") from exc


# --- small conversions ------------------------------------------------------------------------


def _int(value: Atom, what: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"expected a number for {what}, got {value!r}") from exc


def _is_word(value: Atom, word: str) -> bool:
    return isinstance(value, bytes) and value.upper() == word.encode()


def parse_sequence_set(text: str | bytes | int) -> tuple[int, ...]:
    """Expand `1:3,7` to (1, 2, 3, 7) (RFC 3501 §9). `*` is not meaningful in server data."""
    if isinstance(text, int):
        return (text,)
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    out: list[int] = []
    try:
        for item in text.split(","):
            low, _, high = item.partition(":")
            a = int(low)
            b = int(high) if high else a
            if a > b:
                a, b = b, a
            out.extend(range(a, b + 1))
    except ValueError as exc:
        raise ProtocolError(f"bad sequence set {text!r}") from exc
    return tuple(out)


def untagged_kind(response: Response) -> tuple[str, int | None]:
    """("EXISTS", 3) for `* 3 EXISTS`, ("LIST", None) for `* LIST ...`: no full parse."""
    line = response.first_line
    first, _, rest = line.partition(b" ")
    if first.isdigit():
        name = rest.split(b" ", 1)[0]
        return name.upper().decode("ascii", "replace"), int(first)
    return first.upper().decode("ascii", "replace"), None


# --- status responses and response codes --------------------------------------------------------


def parse_status_response(line: bytes) -> StatusResponse:
    """`OK [CODE args] text` (RFC 3501 §7.1) without its tag."""
    status, _, rest = line.partition(b" ")
    code: ResponseCode | None = None
    if rest.startswith(b"["):
        end = rest.find(b"]")
        if end > 0:
            inner = rest[1:end].decode("utf-8", "replace")
            name, _, args = inner.partition(" ")
            code = ResponseCode(name.upper(), args)
            rest = rest[end + 1 :].lstrip(b" ")
    return StatusResponse(
        status.upper().decode("ascii", "replace"), code, rest.decode("utf-8", "replace")
    )


def parse_appenduid(code: ResponseCode | None) -> AppendUid | None:
    """APPENDUID uidvalidity uid-set (RFC 4315 §3)."""
    if code is None or code.name != "APPENDUID":
        return None
    parts = code.args.split()
    if len(parts) != 2:
        raise ProtocolError(f"bad APPENDUID {code.args!r}")
    return AppendUid(_int(parts[0], "APPENDUID"), parse_sequence_set(parts[1]))


def parse_copyuid(code: ResponseCode | None) -> CopyUid | None:
    """COPYUID uidvalidity source-set dest-set (RFC 4315 §3)."""
    if code is None or code.name != "COPYUID":
        return None
    parts = code.args.split()
    if len(parts) != 3:
        raise ProtocolError(f"bad COPYUID {code.args!r}")
    return CopyUid(
        _int(parts[0], "COPYUID"), parse_sequence_set(parts[1]), parse_sequence_set(parts[2])
    )


def parse_capabilities(words: bytes | str) -> frozenset[str]:
    """Capability names, upper case, from `* CAPABILITY ...` or a `[CAPABILITY ...]` code."""
    if isinstance(words, bytes):
        words = words.decode("ascii", "replace")
    names = words.split()
    if names and names[0].upper() == "CAPABILITY":
        names = names[1:]
    return frozenset(n.upper() for n in names)


def parse_enabled(response: Response) -> frozenset[str]:
    """`* ENABLED CONDSTORE QRESYNC` (RFC 5161 §3.2)."""
    words = response.first_line.decode("ascii", "replace").split()
    return frozenset(w.upper() for w in words[1:])


def parse_flags(response: Response) -> tuple[str, ...]:
    """`* FLAGS (\\Answered \\Seen)` (RFC 3501 §7.2.6)."""
    tokens = _tokens(response.data)
    return tuple(_str(f) or "" for f in _tuple(tokens[1] if len(tokens) > 1 else None))


def parse_code_flags(code: ResponseCode) -> tuple[str, ...]:
    """The flag list of a `[PERMANENTFLAGS (...)]` code."""
    tokens = _tokens([code.args.encode("utf-8")])
    return tuple(_str(f) or "" for f in _tuple(tokens[0] if tokens else None))


def parse_id(response: Response) -> dict[str, str | None] | None:
    """`* ID ("name" "Dovecot")` or `* ID NIL` (RFC 2971 §3.2)."""
    tokens = _tokens(response.data)
    fields = _tuple(tokens[1] if len(tokens) > 1 else None)
    return {
        (_str(k) or "").lower(): _str(v) for k, v in zip(fields[::2], fields[1::2], strict=False)
    } or None


# --- FETCH --------------------------------------------------------------------------------------


def _fast_fetch(data: Sequence[Record], utf8: bool) -> FetchResult | None:
    """The one call into the lean FETCH readers: None when they do not know the shape."""
    if len(data) != 1 or not isinstance(data[0], bytes):
        # Literals: a listing's header fields section (or a literal in its envelope).
        with_literals = fastfetch.read_listing_records(data)
        if with_literals is None:
            return None
        seq, values, rest = with_literals
        return _fetch_result(seq, rest, utf8=utf8, values=values)
    line = data[0]
    # Both readers answer as the generic path does, so the order only saves time: a line with
    # an ENVELOPE or BODYSTRUCTURE (a listing's) is never one for the UID/FLAGS/MODSEQ reader.
    if b"ENVELOPE" not in line and b"BODYSTRUCTURE" not in line:
        flags_only = fastparse.parse_fetch_line(line)
        if flags_only is not None:
            return flags_only
    # A listing line: its fixed-shape items read directly, the rest (BODYSTRUCTURE) as tokens.
    listing = fastfetch.read_listing(line)
    if listing is None:
        return None
    seq, values, rest = listing
    return _fetch_result(seq, rest, utf8=utf8, values=values)


def parse_fetch(response: Response, *, utf8: bool = False) -> FetchResult:
    """`* 12 FETCH (UID 7 FLAGS (\\Seen) ...)` (RFC 3501 §7.4.2) into a `FetchResult`."""
    return _fast_fetch(response.data, utf8) or parse_fetch_generic(response, utf8=utf8)


def parse_fetch_generic(response: Response, *, utf8: bool = False) -> FetchResult:
    """`parse_fetch` through the generic tokenizer alone: every shape."""
    tokens = _tokens(response.data)
    if len(tokens) < 3 or not isinstance(tokens[2], tuple):
        raise ProtocolError("FETCH response without an item list")
    return _fetch_result(tokens[0], tokens[2], utf8=utf8)


def _fetch_result(
    seq: Atom, items: tuple[Atom, ...], *, utf8: bool, values: dict[str, object] | None = None
) -> FetchResult:
    """A FETCH response's sequence number and item list tokens as a `FetchResult`; `values`
    holds the fields of items before these that were already read (by `fastfetch`)."""
    if len(items) % 2:
        raise ProtocolError("FETCH response with an odd number of items")
    values = {} if values is None else values
    sections: dict[str, bytes] = {}
    for key, value in zip(items[::2], items[1::2], strict=True):
        if not isinstance(key, bytes):
            raise ProtocolError(f"bad FETCH item name {key!r}")
        name = key.upper()
        if name.startswith(_SECTION_PREFIXES) and name != b"RFC822.SIZE":
            sections[key.decode("ascii", "replace")] = value if isinstance(value, bytes) else b""
        elif name == b"UID":
            values["uid"] = _int(value, "UID")
        elif name == b"FLAGS":
            values["flags"] = tuple(_str(f) or "" for f in _tuple(value))
        elif name == b"MODSEQ":  # RFC 7162 §3.1.4: MODSEQ (12345)
            modseq = _tuple(value)[0] if isinstance(value, tuple) and value else value
            values["modseq"] = _int(modseq, "MODSEQ")
        elif name == b"INTERNALDATE":
            values["internal_date"] = parse_internal_date(value)
        elif name == b"RFC822.SIZE":
            values["size"] = _int(value, "RFC822.SIZE")
        elif name == b"ENVELOPE":
            values["envelope"] = parse_envelope(value)
        elif name in (b"BODYSTRUCTURE", b"BODY"):
            values["body_structure"] = parse_body_structure(value)
        elif name == b"X-GM-LABELS":  # Gmail sends labels in modified UTF-7
            values["gmail_labels"] = tuple(
                decode_mailbox(_str(v) or "", utf8=utf8) for v in _tuple(value)
            )
        elif name == b"X-GM-MSGID":
            values["gmail_msgid"] = _int(value, "X-GM-MSGID")
        elif name == b"X-GM-THRID":
            values["gmail_thrid"] = _int(value, "X-GM-THRID")
        else:
            log.debug("ignoring FETCH item %s", name)
    return FetchResult(seq=_int(seq, "FETCH sequence number"), sections=sections, **values)  # type: ignore[arg-type]


def _disposition(value: Atom) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    fields = _tuple(value)
    if not fields:
        return None, ()
    kind = _str(fields[0])
    return (kind.lower() if kind else None), decode_params(fields[1] if len(fields) > 1 else None)


def parse_body_structure(value: Atom) -> BodyPart:
    """BODYSTRUCTURE (RFC 3501 §7.4.2) as a `BodyPart` tree numbered with IMAP sections.

    Leaves get their section number ("1", "2.1"). Multipart nodes get the number that fetches
    their body: a nested one its own number ("2"), the message's top-level one "TEXT", and one
    at the top of an attached message/rfc822 at "3" gets "3.TEXT" (RFC 3501 §6.4.5); a
    single-part attached message's body is "3.1".
    """
    if not isinstance(value, tuple):
        raise ProtocolError("BODYSTRUCTURE is not a list")
    return _body(value, "", message_root=True)


def _body(raw: tuple[Atom, ...], base: str, *, message_root: bool) -> BodyPart:
    if raw and isinstance(raw[0], tuple):
        count = 0
        while count < len(raw) and isinstance(raw[count], tuple):
            count += 1
        subtype = (_str(raw[count]) if count < len(raw) else None) or "mixed"
        ext = raw[count + 1 :]
        children = tuple(
            _body(child, f"{base}.{n}" if base else str(n), message_root=False)  # type: ignore[arg-type]
            for n, child in enumerate(raw[:count], 1)
        )
        own = (f"{base}.TEXT" if base else "TEXT") if message_root else base
        disposition, disposition_params = _disposition(ext[1] if len(ext) > 1 else None)
        return BodyPart(
            part=own,
            type="multipart",
            subtype=subtype.lower(),
            params=decode_params(ext[0] if ext else None),
            disposition=disposition,
            disposition_params=disposition_params,
            children=children,
        )
    if len(raw) < 7:
        raise ProtocolError("body part with fewer than 7 fields")
    own = (f"{base}.1" if base else "1") if message_root else base
    kind = (_str(raw[0]) or "text").lower()
    subtype = (_str(raw[1]) or "plain").lower()
    lines: int | None = None
    inner: tuple[BodyPart, ...] = ()
    ext_at = 7
    if kind == "text" and len(raw) > 7:
        lines = _int(raw[7], "body lines") if raw[7] is not None else None
        ext_at = 8
    elif kind == "message" and subtype in ("rfc822", "global") and len(raw) > 9:
        if isinstance(raw[8], tuple):
            inner = (_body(raw[8], own, message_root=True),)
        lines = _int(raw[9], "body lines") if raw[9] is not None else None
        ext_at = 10
    ext = raw[ext_at:]
    disposition, disposition_params = _disposition(ext[1] if len(ext) > 1 else None)
    encoding = _str(raw[5])
    return BodyPart(
        part=own,
        type=kind,
        subtype=subtype,
        params=decode_params(raw[2]),
        id=_str(raw[3]),
        description=decode_words(raw[4]),
        encoding=encoding.lower() if encoding else None,
        size=_int(raw[6], "body size") if raw[6] is not None else 0,
        lines=lines,
        disposition=disposition,
        disposition_params=disposition_params,
        children=inner,
    )


# --- mailboxes ----------------------------------------------------------------------------------


def _mailbox_name(value: Atom, utf8: bool) -> str:
    if value is None:
        return "NIL"  # an unquoted atom NIL is read as nil by the tokenizer
    if isinstance(value, int):
        return str(value)
    return decode_mailbox(value if isinstance(value, bytes) else str(value), utf8=utf8)


def parse_list(response: Response, *, utf8: bool = False) -> MailboxInfo:
    """`* LIST (\\HasNoChildren \\Sent) "/" "Sent"` (RFC 3501 §7.2.2, RFC 5258, RFC 6154);
    LSUB has the same shape."""
    tokens = _tokens(response.data)
    if len(tokens) < 4:
        raise ProtocolError("LIST response with fewer than 3 fields")
    flags = tuple(_str(f) or "" for f in _tuple(tokens[1]))
    delimiter = _str(tokens[2])
    return MailboxInfo(_mailbox_name(tokens[3], utf8), delimiter, flags)


def parse_namespace(response: Response, *, utf8: bool = False) -> Namespaces:
    """`* NAMESPACE (("INBOX." ".")) NIL (("#shared." "."))` (RFC 2342 §5): three lists
    (personal, other users', shared), each NIL or `(prefix delimiter [extensions])` groups.
    Prefixes are mailbox names, so modified UTF-7 unless UTF8=ACCEPT is enabled."""
    tokens = _tokens(response.data)
    if len(tokens) < 4:
        raise ProtocolError("NAMESPACE response with fewer than 3 lists")
    groups: list[tuple[Namespace, ...]] = []
    for raw in tokens[1:4]:
        spaces = []
        for entry in _tuple(raw) if raw is not None else ():
            parts = _tuple(entry)
            if len(parts) < 2 or not isinstance(parts[0], bytes | str):
                raise ProtocolError(f"unreadable namespace {entry!r}")
            spaces.append(Namespace(decode_mailbox(parts[0], utf8=utf8), _str(parts[1])))
        groups.append(tuple(spaces))
    return Namespaces(personal=groups[0], other_users=groups[1], shared=groups[2])


def parse_status(response: Response, *, utf8: bool = False) -> MailboxStatus:
    """`* STATUS "INBOX" (MESSAGES 3 UIDNEXT 4)` (RFC 3501 §7.2.4, RFC 7162 §3.1.9)."""
    tokens = _tokens(response.data)
    if len(tokens) < 3:
        raise ProtocolError("STATUS response with fewer than 2 fields")
    items = _tuple(tokens[2])
    values: dict[str, int] = {}
    names = {
        b"MESSAGES": "messages",
        b"UIDNEXT": "uid_next",
        b"UIDVALIDITY": "uid_validity",
        b"UNSEEN": "unseen",
        b"HIGHESTMODSEQ": "highest_modseq",
        b"RECENT": "recent",
    }
    for key, value in zip(items[::2], items[1::2], strict=False):
        field = names.get(key.upper()) if isinstance(key, bytes) else None
        if field:
            values[field] = _int(value, field)
    return MailboxStatus(path=_mailbox_name(tokens[1], utf8), **values)


def parse_select(
    path: str,
    untagged: Iterable[Response],
    tagged: StatusResponse,
    *,
    utf8: bool = False,
) -> SelectedMailbox:
    """The untagged data a SELECT / EXAMINE produced plus its tagged OK (RFC 3501 §6.3.1)."""
    values: dict[str, object] = {"read_only": bool(tagged.code and tagged.code.name == "READ-ONLY")}
    vanished: list[int] = []
    changed: list[FetchResult] = []
    for response in untagged:
        name, number = untagged_kind(response)
        if name == "EXISTS" and number is not None:
            values["exists"] = number
        elif name == "RECENT" and number is not None:
            values["recent"] = number
        elif name == "FLAGS":
            values["flags"] = parse_flags(response)
        elif name == "VANISHED":
            vanished.extend(parse_vanished(response)[0])
        elif name == "FETCH":
            changed.append(parse_fetch(response, utf8=utf8))
        elif name == "OK":
            code = parse_status_response(response.first_line).code
            if code is None:
                continue
            if code.name == "CLOSED":
                # RFC 7162 §3.2.11: what came before belonged to the previous mailbox.
                values = {"read_only": values["read_only"]}
                vanished.clear()
                changed.clear()
            elif code.name == "PERMANENTFLAGS":
                values["permanent_flags"] = parse_code_flags(code)
            elif code.name in ("UIDVALIDITY", "UIDNEXT", "UNSEEN", "HIGHESTMODSEQ"):
                field = {
                    "UIDVALIDITY": "uid_validity",
                    "UIDNEXT": "uid_next",
                    "UNSEEN": "unseen",
                    "HIGHESTMODSEQ": "highest_modseq",
                }[code.name]
                values[field] = _int(code.args.split()[0] if code.args else None, code.name)
            elif code.name == "NOMODSEQ":
                values["nomodseq"] = True
    return SelectedMailbox(
        path=path,
        vanished=tuple(vanished),
        changed=tuple(changed),
        **values,  # type: ignore[arg-type]
    )


# --- SEARCH, ESEARCH, VANISHED ------------------------------------------------------------------


def parse_search(response: Response) -> tuple[tuple[int, ...], int | None]:
    """`* SEARCH 2 5 7 (MODSEQ 917)` (RFC 3501 §7.2.5, RFC 7162 §3.1.5): ids and the modseq."""
    tokens = _tokens(response.data)
    ids: list[int] = []
    modseq: int | None = None
    for token in tokens[1:]:
        if isinstance(token, int):
            ids.append(token)
        elif isinstance(token, tuple) and len(token) == 2 and _is_word(token[0], "MODSEQ"):
            modseq = _int(token[1], "MODSEQ")
    return tuple(ids), modseq


def parse_esearch(response: Response) -> ESearchResult:
    """`* ESEARCH (TAG "A5") UID MIN 2 COUNT 3 ALL 2,10:11` (RFC 4731 §3.1, RFC 7162 §3.1.5)."""
    tokens = list(_tokens(response.data)[1:])
    values: dict[str, object] = {}
    if tokens and isinstance(tokens[0], tuple):
        corr = _tuple(tokens.pop(0))
        if len(corr) == 2 and (_str(corr[0]) or "").upper() == "TAG":
            values["tag"] = _str(corr[1])
    if tokens and (_str(tokens[0]) or "").upper() == "UID":
        values["uid"] = True
        tokens.pop(0)
    for key, value in zip(tokens[::2], tokens[1::2], strict=False):
        name = (_str(key) or "").upper()
        if name in ("MIN", "MAX", "COUNT", "MODSEQ"):
            values[name.lower()] = _int(value, name)
        elif name == "ALL":
            values["all"] = parse_sequence_set(value if isinstance(value, bytes | int) else b"")
    return ESearchResult(**values)  # type: ignore[arg-type]


def parse_vanished(response: Response) -> tuple[tuple[int, ...], bool]:
    """`* VANISHED (EARLIER) 41,43:116` (RFC 7162 §3.2.10): the UIDs and whether EARLIER."""
    tokens = _tokens(response.data)[1:]
    earlier = False
    if tokens and isinstance(tokens[0], tuple):
        earlier = any((_str(t) or "").upper() == "EARLIER" for t in tokens[0])
        tokens = tokens[1:]
    if not tokens or not isinstance(tokens[0], bytes | int):
        raise ProtocolError("VANISHED without a UID set")
    return parse_sequence_set(tokens[0]), earlier
