"""The lean BODYSTRUCTURE reader (imap/fastbody.py) gives exactly the generic `BodyPart` tree, or
declines: a table of shapes, then a property test over random structures, plain and odd."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapapi.errors import ProtocolError
from imapapi.imap import fastbody, parse
from imapapi.imap.types import BodyPart
from tests.unit.imap.test_fastfetch import (
    MIXED,
    NSTRING,
    NUMBER,
    PARAMS,
    RFC822,
    TEXT,
    TEXT_PLAIN,
    body_read_directly,
    check,
    listing,
    quoted,
)

READ = "read"  # the lean reader must read the structure itself
DECLINED = "declined"  # it must leave it to the generic walk

ALTERNATIVE = (  # as Dovecot sends it
    b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)'
    b'("text" "html" ("charset" "utf-8") NIL NIL "7bit" 18 1 NIL NIL NIL NIL) "alternative" '
    b'("boundary" "===============6248350370339119948==") NIL NIL NIL)'
)
SHORT = b'("text" "plain" NIL NIL NIL "7bit" 3 1)'


def nested(depth: int) -> bytes:
    return b"(" * depth + SHORT + b' "mixed")' * depth


CASES = [
    # id, structure, read or declined
    ("text_plain", TEXT_PLAIN, READ),
    ("multipart_alternative", ALTERNATIVE, READ),
    ("multipart_mixed_attachment", MIXED, READ),
    ("nested_multiparts", b"(" + ALTERNATIVE + MIXED + b' "mixed" NIL NIL NIL)', READ),
    ("parts_spaced", b"(" + SHORT + b" " + SHORT + b' "mixed")', READ),
    ("multipart_no_extension", b"(" + SHORT + b' "related")', READ),
    ("multipart_params_only", b"(" + SHORT + b' "mixed" ("boundary" "b"))', READ),
    (
        "multipart_full_extension",
        b"(" + SHORT + b' "mixed" NIL ("inline" NIL) ("en" "de") "http://x/")',
        READ,
    ),
    ("text_no_lines", b'("text" "plain" NIL NIL NIL "7bit" 3)', READ),
    ("text_lines_nil", b'("text" "plain" NIL NIL NIL "7bit" 3 NIL)', READ),
    ("text_md5_only", b'("text" "plain" NIL NIL NIL "7bit" 3 1 "abc")', READ),
    ("text_disposition", b'("text" "plain" NIL NIL NIL "7bit" 3 1 NIL ("INLINE" NIL))', READ),
    ("leaf_language_list", b'("image" "png" NIL NIL NIL "base64" 3 NIL NIL ("en" "de"))', READ),
    ("leaf_location", b'("image" "png" NIL NIL NIL "base64" 3 NIL NIL "en" "cid:x")', READ),
    (
        "id_description_encoded_word",
        b'("IMAGE" "PNG" ("NAME" "a.png") "<logo@x>" "=?utf-8?q?Gr=C3=BC=C3=9Fe?=" "BASE64" 9 '
        b'NIL ("attachment" ("filename" "a.png")) NIL NIL)',
        READ,
    ),
    ("empty_strings_default", b'("" "" NIL "" "" "" 0)', READ),
    ("leading_zeros", b'("text" "plain" NIL NIL NIL "7bit" 007 0012)', READ),
    (
        "rfc2231_and_encoded_params",
        b'("application" "pdf" ("name*0*" "UTF-8\'\'%C3%9C" "name*1*" "%20x" "title" '
        b'"=?utf-8?B?w7w=?=") NIL NIL "base64" 12 NIL ("attachment" ("filename*" '
        b"\"UTF-8''a%20b\")) NIL NIL)",
        READ,
    ),
    ("params_repeated", b'("text" "plain" ("charset" "a" "CHARSET" "b") NIL NIL "7bit" 1 1)', READ),
    (
        "escapes_and_8bit",
        '("text" "plain" ("name" "a \\"b\\" ü") NIL "d\\\\" "7bit" 1 1)'.encode(),
        READ,
    ),
    (
        "delivery_status",
        b'("message" "delivery-status" NIL NIL NIL "7bit" 300 NIL NIL NIL NIL)',
        READ,
    ),
    ("nested_deep_enough", nested(fastbody._MAX_DEPTH - 1), READ),
    # left to the generic walk
    ("message_rfc822", RFC822, DECLINED),
    ("message_global", RFC822.replace(b'"rfc822"', b'"GLOBAL"'), DECLINED),
    ("rfc822_inside_multipart", b"(" + SHORT + RFC822 + b' "mixed")', DECLINED),
    ("nil_type", b'(NIL NIL NIL NIL NIL "7bit" 3)', DECLINED),
    ("atoms", b"(text plain NIL NIL NIL 7bit 3 1)", DECLINED),
    ("lower_case_nil", b'("text" "plain" nil NIL NIL "7bit" 3 1)', DECLINED),
    (
        "extension_past_location",
        b'("image" "png" NIL NIL NIL "base64" 3 NIL NIL NIL NIL "x")',
        DECLINED,
    ),
    ("nested_extension_list", b'("image" "png" NIL NIL NIL "base64" 3 NIL NIL (("en")))', DECLINED),
    ("double_space", b'("text" "plain"  NIL NIL NIL "7bit" 3 1)', DECLINED),
    ("tab", b'("text" "plain"\tNIL NIL NIL "7bit" 3 1)', DECLINED),
    ("space_after_paren", b'( "text" "plain" NIL NIL NIL "7bit" 3 1)', DECLINED),
    ("size_nil", b'("text" "plain" NIL NIL NIL "7bit" NIL 1)', DECLINED),
    ("size_quoted", b'("text" "plain" NIL NIL NIL "7bit" "3" 1)', DECLINED),
    ("size_too_long", b'("text" "plain" NIL NIL NIL "7bit" 1234567890123456789 1)', DECLINED),
    ("lines_quoted", b'("text" "plain" NIL NIL NIL "7bit" 3 "1")', DECLINED),
    ("empty_params", b'("text" "plain" () NIL NIL "7bit" 3 1)', DECLINED),
    ("odd_params", b'("text" "plain" ("charset") NIL NIL "7bit" 3 1)', DECLINED),
    ("fewer_than_seven_fields", b'("text" "plain" NIL NIL "7bit" 3)', DECLINED),
    ("multipart_no_subtype", b"(" + SHORT + b")", DECLINED),
    ("multipart_nil_subtype", b"(" + SHORT + b" NIL)", DECLINED),
    ("unclosed", b'("text" "plain" NIL NIL NIL "7bit" 3 1', DECLINED),
    ("too_deep", nested(fastbody._MAX_DEPTH + 1), DECLINED),
]


def generic(structure: bytes) -> BodyPart | type[Exception]:
    try:
        (tokens,) = parse._tokens([structure])
        return parse.parse_body_structure(tokens)
    except (ProtocolError, ValueError) as exc:  # ValueError: more than one token
        return type(exc)


def lean(structure: bytes) -> BodyPart | None:
    read = fastbody.read_body(structure, 0)
    if read is None or read[1] != len(structure):
        # Bytes left right after what it read (`...NIL)")`): fastfetch declines the line then,
        # as it accepts a structure only before a space or the line's end.
        return None
    return read[0]


def read_alike(structure: bytes) -> bool:
    """lean == generic whenever lean reads, alike inside a listing line too; whether it read."""
    part = lean(structure)
    if part is not None:
        assert part == generic(structure)
    line = listing(b"UID 1", b"BODYSTRUCTURE " + structure, b"RFC822.SIZE 2")
    check(line)
    assert body_read_directly(line) == (part is not None)
    return part is not None


@pytest.mark.parametrize(("structure", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lean_body_equals_generic(structure: bytes, expect: str) -> None:
    assert read_alike(structure) == (expect == READ)


def test_body_item_alone_and_last() -> None:
    assert check(listing(b"BODY " + SHORT))  # the non-extensible BODY reads alike
    assert body_read_directly(listing(b"BODY " + SHORT))
    assert not body_read_directly(listing(b"BODYSTRUCTURE " + SHORT + b"x"))


def test_param_cache_is_bounded() -> None:
    for n in range(fastbody._CACHE_MAX + 10):
        assert fastbody._params(b'("name" "%d")' % n) == (("name", str(n)),)
    assert len(fastbody._PARAM_LISTS) <= fastbody._CACHE_MAX


# --- property: random structures, the plain shapes always read ---------------------------------

KINDS = st.sampled_from([b"text", b"TEXT", b"image", b"application", b"message", b""])
SUBTYPES = st.sampled_from([b"plain", b"HTML", b"png", b"delivery-status", b"rfc822", b""])
LANGUAGE = st.one_of(
    st.just(b"NIL"),
    TEXT.map(quoted),
    st.lists(TEXT.map(quoted), min_size=1, max_size=2).map(lambda ls: b"(" + b" ".join(ls) + b")"),
)
DISPOSITION = st.one_of(
    st.just(b"NIL"),
    st.tuples(st.sampled_from([b"attachment", b"INLINE", b""]), PARAMS).map(
        lambda d: b"(" + quoted(d[0]) + b" " + d[1] + b")"
    ),
)
LINES = st.one_of(NUMBER, st.just(b"NIL"))


def extension(first: bytes, disposition: bytes, language: bytes, location: bytes, n: int) -> bytes:
    """The first `n` extension fields, each with its leading space."""
    return b"".join(b" " + f for f in [first, disposition, language, location][:n])


@st.composite
def leaves(draw: st.DrawFn) -> tuple[bytes, bool]:
    kind, subtype = draw(KINDS), draw(SUBTYPES)
    fields = [quoted(kind), quoted(subtype), draw(PARAMS), draw(NSTRING), draw(NSTRING)]
    fields += [draw(NSTRING), draw(NUMBER)]
    out = b"(" + b" ".join(fields)
    is_text = (kind or b"text").lower() == b"text"
    with_lines = is_text and draw(st.booleans())
    if with_lines:
        out += b" " + draw(LINES)
    if with_lines or not is_text:  # a text part's extension comes after its line count
        ext = (draw(NSTRING), draw(DISPOSITION), draw(LANGUAGE), draw(NSTRING))
        out += extension(*ext, draw(st.integers(0, 4)))
    message = kind.lower() == b"message" and subtype.lower() in (b"rfc822", b"global")
    return out + b")", not message


@st.composite
def multiparts(
    draw: st.DrawFn, children: st.SearchStrategy[tuple[bytes, bool]]
) -> tuple[bytes, bool]:
    parts = draw(st.lists(children, min_size=1, max_size=3))
    out = b"(" + draw(st.sampled_from([b"", b" "])).join(p for p, _ in parts)
    out += b" " + quoted(draw(st.sampled_from([b"mixed", b"ALTERNATIVE", b""])))
    ext = (draw(PARAMS), draw(DISPOSITION), draw(LANGUAGE), draw(NSTRING))
    out += extension(*ext, draw(st.integers(0, 4)))
    return out + b")", all(plain for _, plain in parts)


STRUCTURES = st.recursive(leaves(), multiparts, max_leaves=6)
# Odd spellings the lean reader must refuse or read alike: each replaces one piece of a plain one.
ODDITIES = st.sampled_from(
    [(b" NIL", b"  NIL"), (b" NIL", b" nil"), (b'" ', b'"\t'), (b" NIL)", b" NIL NIL)"),
     (b"NIL)", b"(NIL))"), (b' "', b" {1}\r\n"), (b") ", b")"), (b'"', b"")]
)  # fmt: skip


@settings(max_examples=500)
@given(structure=STRUCTURES)
def test_random_body_structures_read_alike(structure: tuple[bytes, bool]) -> None:
    text, plain = structure
    assert read_alike(text) == plain


@settings(max_examples=500)
@given(structure=STRUCTURES, oddity=ODDITIES, where=st.integers(0, 50))
def test_odd_body_structures_read_alike_or_declined(
    structure: tuple[bytes, bool], oddity: tuple[bytes, bytes], where: int
) -> None:
    text, _ = structure
    old, new = oddity
    at = text.find(old, min(where, len(text)))
    if at >= 0:
        text = text[:at] + new + text[at + len(old) :]
    read_alike(text)
