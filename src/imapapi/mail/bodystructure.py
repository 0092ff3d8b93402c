"""Which BODYSTRUCTURE parts (RFC 3501 §7.4.2) are the message text and which are attachments.

Shared by the listing/webhook summary and the message API, so that the part numbers named in a
text or attachment id are always chosen the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote_to_bytes

from imapapi.imap.types import BodyPart
from imapapi.mail.headers import decode_header_value, looks_encoded

# Encapsulated messages (RFC 2046 §5.2.1, RFC 6532 §3.7) are one attachment: their own text and
# attachments belong to them, not to the outer message.
_ENCAPSULATED = frozenset({"message/rfc822", "message/global"})


def leaves(root: BodyPart) -> Iterator[tuple[BodyPart, bool]]:
    """Every non-multipart part in MIME order, with whether it sits inside multipart/related."""
    stack: list[tuple[BodyPart, bool]] = [(root, False)]
    while stack:  # iterative: a hostile message can nest multiparts very deep
        part, in_related = stack.pop()
        if part.is_multipart:
            related = in_related or part.subtype == "related"
            stack.extend((child, related) for child in reversed(part.children))
        else:
            yield part, in_related


def find_text_parts(root: BodyPart) -> tuple[BodyPart | None, BodyPart | None]:
    """(first text/plain, first text/html) that are message text rather than attachments."""
    plain: BodyPart | None = None
    html: BodyPart | None = None
    for part, _ in leaves(root):
        if part.type != "text" or _is_attached(part):
            continue
        if part.subtype == "plain" and plain is None:
            plain = part
        elif part.subtype == "html" and html is None:
            html = part
        if plain is not None and html is not None:
            break
    return plain, html


def find_attachments(root: BodyPart) -> list[BodyPart]:
    """Every leaf that is not one of the chosen text parts, in MIME order."""
    return [part for part, _ in attachments_with_inline(root)]


def is_inline(part: BodyPart, *, in_related: bool) -> bool:
    """Shown within the text: disposition inline, or referenced by Content-ID (RFC 2387)."""
    return part.disposition == "inline" or (in_related and bool(part.id))


def attachments_with_inline(
    root: BodyPart, text_parts: tuple[BodyPart | None, BodyPart | None] | None = None
) -> list[tuple[BodyPart, bool]]:
    """`find_attachments` with each part's `inline` flag; pass `text_parts` if already known."""
    chosen = find_text_parts(root) if text_parts is None else text_parts
    excluded = {part.part for part in chosen if part is not None}
    return [
        (part, is_inline(part, in_related=in_related))
        for part, in_related in leaves(root)
        if part.part not in excluded
    ]


def part_filename(part: BodyPart) -> str | None:
    """File name from Content-Disposition `filename`, else Content-Type `name`.

    The parser already decodes RFC 2231 and RFC 2047; this decodes again when a value still looks
    encoded (servers differ in what they decode) or when only raw RFC 2231 parameters survived.
    """
    # Paired by position, not told apart by identity: equal parameter lists may be one object
    # (the lean reader shares them), and the Content-Type `name` must still be read.
    for key, params in (("filename", part.disposition_params), ("name", part.params)):
        value = _param(params, key)
        if value is None:
            value = _rfc2231_param(params, key)
        if value is not None:
            value = value.strip()
            if looks_encoded(value):
                value = decode_header_value(value)
            if value:
                return value
    return None


def _is_attached(part: BodyPart) -> bool:
    # A named text part is a file (e.g. notes.txt), even when shown inline.
    return part.disposition == "attachment" or part_filename(part) is not None


def _param(params: tuple[tuple[str, str], ...], name: str) -> str | None:
    for key, value in params:
        if key == name:
            return value
    return None


def _rfc2231_param(params: tuple[tuple[str, str], ...], name: str) -> str | None:
    """Join and decode `name*` or `name*0*`, `name*1`, … (RFC 2231 §3, §4) if left raw."""
    prefix = name + "*"
    sections: list[tuple[int, str, bool]] = []
    for key, value in params:
        if key == prefix:
            sections.append((0, value, True))
        elif key.startswith(prefix):
            number, star, rest = key[len(prefix) :].partition("*")
            if number.isdigit() and not rest:
                sections.append((int(number), value, bool(star)))
    if not sections:
        return None
    sections.sort()
    charset = "us-ascii"
    data = bytearray()
    for position, (_, value, encoded) in enumerate(sections):
        if not encoded:
            data += value.encode("utf-8")
            continue
        if position == 0 and value.count("'") >= 2:
            # RFC 2231 §4: only the first section carries charset'language'.
            charset, _, value = value.split("'", 2)
        data += unquote_to_bytes(value)
    try:
        return data.decode(charset or "us-ascii", errors="replace")
    except LookupError:  # unknown charset: UTF-8 is the likeliest truth
        return data.decode("utf-8", errors="replace")
