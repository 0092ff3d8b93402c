"""HTTP headers for serving one MIME part, and finding a part by its IMAP section number."""

from __future__ import annotations

import re
from urllib.parse import quote

from imapapi.imap.types import BodyPart

# RFC 2045 §5.1 token characters, so a type from a hostile message cannot break the header.
_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+")
_FALLBACK_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\%;]')
_MAX_FILENAME = 255


def find_part(root: BodyPart, number: str) -> BodyPart | None:
    """The non-multipart part numbered `number` (RFC 3501 §6.4.5), inside attached messages too."""
    stack = [root]
    while stack:  # iterative: nesting depth is attacker controlled
        part = stack.pop()
        if part.part == number and not part.is_multipart:
            return part
        stack.extend(part.children)
    return None


def content_type_header(part: BodyPart) -> str:
    """`type/subtype` (plus the charset of text parts) for serving the part's decoded octets."""
    if not (_TOKEN.fullmatch(part.type) and _TOKEN.fullmatch(part.subtype)):
        return "application/octet-stream"
    value = f"{part.type}/{part.subtype}"
    charset = part.param("charset")
    if part.type == "text" and charset and _TOKEN.fullmatch(charset):
        value += f"; charset={charset}"
    return value


def content_disposition(filename: str | None, disposition: str = "attachment") -> str:
    """Content-Disposition with an ASCII `filename` and, when needed, RFC 6266 §4.3 `filename*`.

    RFC 6266 §4.3: `filename*` (RFC 5987/8187 UTF-8 percent encoding) carries the real name,
    the plain `filename` a fallback for old clients; path separators and control characters are
    replaced so the name cannot point outside a download directory.
    """
    if not filename:
        return disposition
    name = "".join("_" if ch in "/\\" or ord(ch) < 0x20 or ch == "\x7f" else ch for ch in filename)
    name = name.strip().lstrip(".") or "attachment"
    name = name[:_MAX_FILENAME]
    fallback = _FALLBACK_UNSAFE.sub("_", name)
    value = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value
