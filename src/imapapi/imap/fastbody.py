"""A lean, exact reader for the BODYSTRUCTURE of a listing line (RFC 3501 §7.4.2, §9 body).

The generic path tokenizes the structure and then walks the tokens (`parse._body`). Nearly every
structure a server sends is made of two shapes: a leaf `("type" "subtype" params id description
encoding size [lines] [md5 disposition language location])` and a multipart of such parts
`(part part "subtype" [params disposition language location])`. Each is matched here by one
compiled regex and converted at once by the same functions (`params.decode_params`,
`envelope.decode_words`), numbered as `parse.parse_body_structure` numbers its parts.

Never a different answer, only a faster one: None (the generic path) whenever unsure: a literal,
an atom or NIL where a string is expected, a message/rfc822 or message/global part (its
envelope and inner body), extension data past the location, spacing other than one space (or
none between the parts of a multipart), nesting deeper than `_MAX_DEPTH`. Pure: bytes in,
`BodyPart` out.
"""

from __future__ import annotations

import re

from imapapi.imap.envelope import decode_words
from imapapi.imap.fastparse import QUOTED, remember, unquote
from imapapi.imap.params import decode_params
from imapapi.imap.types import BodyPart

_NSTRING = rb"(?:NIL|" + QUOTED + rb")"
_PAIRS = rb"\(" + QUOTED + rb" " + QUOTED + rb"(?: " + QUOTED + rb" " + QUOTED + rb")*\)"
_PARAMS = rb"(NIL|" + _PAIRS + rb")"
# body-fld-dsp: NIL or ("type" params); captured whole, then its type and params.
_DISPOSITION = rb"(NIL|\((" + QUOTED + rb") (NIL|" + _PAIRS + rb")\))"
_LANGUAGE = rb"(?:NIL|" + QUOTED + rb"|\(" + QUOTED + rb"(?: " + QUOTED + rb")*\))"
_NUMBER = rb"(\d{1,18})"  # far below int()'s digit limit, so never an error the generic lacks
# The extension data after md5 (leaves) or params (multiparts), each field optional from the
# right (RFC 3501 §9 body-ext-1part, body-ext-mpart): disposition, language, location.
_EXTENSION_TAIL = rb"(?: " + _DISPOSITION + rb"(?: " + _LANGUAGE + rb"(?: " + _NSTRING + rb")?)?)?"

_LEAF = re.compile(
    rb"\((" + QUOTED + rb") (" + QUOTED + rb") " + _PARAMS
    + rb" (" + _NSTRING + rb") (" + _NSTRING + rb") (" + _NSTRING + rb") " + _NUMBER,
    re.DOTALL,
)  # fmt: skip
# After a leaf's seven fields: [md5 extension]; a text leaf has its line count first.
_LEAF_TAIL = re.compile(rb"(?: " + _NSTRING + _EXTENSION_TAIL + rb")?\)", re.DOTALL)
_TEXT_TAIL = re.compile(
    rb"(?: (\d{1,18}|NIL)(?: " + _NSTRING + _EXTENSION_TAIL + rb")?)?\)", re.DOTALL
)
# After a multipart's parts: "subtype" [params extension].
_MULTIPART_TAIL = re.compile(
    rb" (" + QUOTED + rb")(?: " + _PARAMS + _EXTENSION_TAIL + rb")?\)", re.DOTALL
)
_QUOTED = re.compile(QUOTED, re.DOTALL)
_MAX_DEPTH = 32  # the generic walk recurses too; deeper structures are its to refuse

# Parameter lists repeat across a listing ("charset" "utf-8", a file name…): each spelling is
# read once. Bounded: cleared when full.
_PARAM_LISTS: dict[bytes, tuple[tuple[str, str], ...]] = {}
_CACHE_MAX = 4096

Params = tuple[tuple[str, str], ...]


def _text(raw: bytes) -> str | None:
    """A string as `envelope.text_of(token)` reads it: NIL is None, "" stays ""."""
    return None if raw == b"NIL" else unquote(raw).decode("utf-8", "replace")


def _params(raw: bytes | None) -> Params:
    if raw is None or raw == b"NIL":
        return ()
    cached = _PARAM_LISTS.get(raw)
    if cached is None:
        params = decode_params(tuple(map(unquote, _QUOTED.findall(raw))))
        cached = remember(_PARAM_LISTS, raw, params, _CACHE_MAX)
    return cached


def _disposition(
    whole: bytes | None, kind: bytes | None, params: bytes | None
) -> tuple[str | None, Params]:
    """As `parse._disposition` reads a body-fld-dsp; `whole` is None when it was not sent."""
    if whole is None or kind is None:  # absent or NIL
        return None, ()
    name = unquote(kind).decode("utf-8", "replace")
    return (name.lower() if name else None), _params(params)


def read_body(line: bytes, pos: int) -> tuple[BodyPart, int] | None:
    """The body structure opening at `line[pos]` (a `(`) as `parse.parse_body_structure` reads
    it, and the position just after it; None when unsure."""
    return _part(line, pos, "", 0)


def _part(line: bytes, pos: int, number: str, depth: int) -> tuple[BodyPart, int] | None:
    """The part at `pos`; `number` is its section number, "" for the message's own body."""
    if depth > _MAX_DEPTH:
        return None
    if line[pos + 1 : pos + 2] == b"(":
        return _multipart(line, pos + 1, number, depth)
    leaf = _LEAF.match(line, pos)
    if leaf is None:
        return None
    kind_raw, subtype_raw, params, content_id, description, encoding, size = leaf.groups()
    kind = (unquote(kind_raw).decode("utf-8", "replace") or "text").lower()
    subtype = (unquote(subtype_raw).decode("utf-8", "replace") or "plain").lower()
    if kind == "message" and subtype in ("rfc822", "global"):
        return None  # an envelope and a body inside: the generic walk's
    lines: int | None = None
    if kind == "text":
        tail = _TEXT_TAIL.match(line, leaf.end())
        if tail is None:
            return None
        count, *extension = tail.groups()
        lines = int(count) if count is not None and count != b"NIL" else None
    else:
        tail = _LEAF_TAIL.match(line, leaf.end())
        if tail is None:
            return None
        extension = list(tail.groups())
    disposition, disposition_params = _disposition(*extension)
    encoding_text = _text(encoding)
    part = BodyPart(
        part=number or "1",
        type=kind,
        subtype=subtype,
        params=_params(params),
        id=_text(content_id),
        description=decode_words(None if description == b"NIL" else unquote(description)),
        encoding=encoding_text.lower() if encoding_text else None,
        size=int(size),
        lines=lines,
        disposition=disposition,
        disposition_params=disposition_params,
    )
    return part, tail.end()


def _multipart(line: bytes, pos: int, number: str, depth: int) -> tuple[BodyPart, int] | None:
    """The multipart whose first part opens at `pos`."""
    children: list[BodyPart] = []
    while line[pos : pos + 1] == b"(":
        child_number = str(len(children) + 1)
        read = _part(line, pos, f"{number}.{child_number}" if number else child_number, depth + 1)
        if read is None:
            return None
        child, pos = read
        children.append(child)
        if line[pos : pos + 2] == b" (":
            pos += 1
    tail = _MULTIPART_TAIL.match(line, pos)
    if tail is None:
        return None
    subtype_raw, params, *extension = tail.groups()
    disposition, disposition_params = _disposition(*extension)
    part = BodyPart(
        part=number or "TEXT",
        type="multipart",
        subtype=(unquote(subtype_raw).decode("utf-8", "replace") or "mixed").lower(),
        params=_params(params),
        disposition=disposition,
        disposition_params=disposition_params,
        children=tuple(children),
    )
    return part, tail.end()
