"""Header blocks and Message-ID lists, decoded to text (RFC 5322, RFC 2047, RFC 6532)."""

from __future__ import annotations

import re
from email.headerregistry import HeaderRegistry

# policy.default's header factory, except that every name maps to UnstructuredHeader: values come
# back with RFC 2047 encoded words decoded but otherwise as sent. policy.default's own mapping
# re-serializes address headers (dropping whatever its parser does not understand), and the
# `headers` API promises the decoded value, not a normalized one.
_UNSTRUCTURED = HeaderRegistry(use_default_map=False)

_WSP = b" \t"
# RFC 5322 §3.6.8: field-name = 1*ftext (printable US-ASCII except ":").
_FIELD_NAME = re.compile(rb"[!-9;-~]+")
_ENCODED_WORD_HINT = re.compile(r"=\?[^?\s]+\?[bBqQ]\?")


def parse_header_block(raw: bytes) -> dict[str, list[str]]:
    """Lowercase header names → decoded values in order; repeated headers are all kept.

    Never raises on malformed input: lines that are not headers are skipped, bytes that are not
    UTF-8 are read as Latin-1, undecodable encoded words are left as they are.
    """
    headers: dict[str, list[str]] = {}
    for name, value in _split_fields(raw):
        headers.setdefault(name.lower(), []).append(decode_header_value(decode_8bit(value)))
    return headers


def _split_fields(raw: bytes) -> list[tuple[str, bytes]]:
    # Split by hand rather than with email.parser.BytesHeaderParser(policy=policy.default): the
    # stdlib parser stops at the first line that is neither a header nor a continuation (taking
    # the rest for body), so one garbled line would hide every header after it.
    fields: list[tuple[str, list[bytes]]] = []
    current: list[bytes] | None = None
    for line in raw.splitlines():
        if not line.strip():
            if fields:
                break  # the empty line that ends the header block (RFC 5322 §2.1)
            continue
        if line[:1] in (b" ", b"\t"):
            # RFC 5322 §2.2.3: unfolding removes the CRLF, keeping the whitespace that follows.
            if current is not None:
                current.append(line)
            continue
        name, colon, value = line.partition(b":")
        name = name.rstrip(_WSP)  # obsolete syntax allows WSP before the colon (RFC 5322 §4.5)
        if not colon or _FIELD_NAME.fullmatch(name) is None:
            current = None  # garbage line (or an mbox "From " line): skip it and its folds
            continue
        current = [value.lstrip(_WSP)]
        fields.append((name.decode("ascii"), current))
    return [(name, b"".join(parts).rstrip()) for name, parts in fields]


def decode_8bit(raw: bytes) -> str:
    """Bytes of a header as text: UTF-8 (RFC 6532) where valid, each other byte as Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    while raw:
        try:
            out.append(raw.decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            out.append(raw[: exc.start].decode("utf-8"))
            out.append(raw[exc.start : exc.end].decode("latin-1"))
            raw = raw[exc.end :]
    return "".join(out)


def decode_header_value(value: str) -> str:
    """Decode RFC 2047 encoded words in an unfolded header value; anything else is kept."""
    if "=?" not in value:
        return value
    try:
        return str(_UNSTRUCTURED("x-unstructured", value))
    except Exception:  # the stdlib parser has had crash bugs on odd input; keep the raw text
        return value


def looks_encoded(value: str) -> bool:
    """True if `value` still holds something that looks like an RFC 2047 encoded word."""
    return _ENCODED_WORD_HINT.search(value) is not None


# --- Message-ID lists -------------------------------------------------------------------------

_COMMENT = re.compile(r"\([^()]*\)")
_BRACKETED = re.compile(r"<([^<>]*)>")
_BARE_ID = re.compile(r"[^\s<>(),;\"]+@[^\s<>(),;\"]+")


def parse_msgid_list(value: str | None) -> list[str]:
    """Message-IDs of a References or In-Reply-To value (RFC 5322 §3.6.4), as "<id>", in order.

    Tolerates what real mail contains: ids without angle brackets, commas between ids, comments,
    phrases from obsolete syntax, folded whitespace inside brackets. Duplicates are dropped.
    """
    if not value:
        return []
    text = value
    # RFC 5322 §3.2.2 comments may nest; strip innermost first until none are left.
    while True:
        stripped = _COMMENT.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    ids: list[str] = []
    position = 0
    for match in _BRACKETED.finditer(text):
        ids.extend(_BARE_ID.findall(text[position : match.start()]))
        inner = "".join(match.group(1).split())
        if inner:
            ids.append(inner)
        position = match.end()
    ids.extend(_BARE_ID.findall(text[position:]))
    return list(dict.fromkeys(f"<{msgid}>" for msgid in ids))


def normalize_msgid(value: str | None) -> str | None:
    """The one Message-ID in `value` as "<id>", or None if there is none.

    A lone token without brackets or "@" (seen from broken mailers) is accepted too, since a
    Message-ID header holds exactly one id.
    """
    ids = parse_msgid_list(value)
    if ids:
        return ids[0]
    token = (value or "").strip().strip("<>").strip()
    if token and not any(char.isspace() or char in "<>" for char in token):
        return f"<{token}>"
    return None
