"""The lean tokenizer (`fastparse.tokens`) gives imapclient's tokens exactly, or declines: a table
of edge cases, then hypothesis over random records built from IMAP's awkward pieces."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imapclient import response_parser
from imapclient.exceptions import ProtocolError as ImapclientProtocolError

from imapapi.imap import fastparse, parse
from imapapi.imap.reader import ResponseReader

Records = list[bytes | tuple[bytes, bytes]]
DECLINED = "declined"


def reference(records: Records) -> Any:
    """imapclient's answer, or the exception type it raises (how parse._tokens sees it)."""
    try:
        return response_parser.parse_response(list(records))
    except (ImapclientProtocolError, ValueError, IndexError, RecursionError) as exc:
        return type(exc)


LISTING = (
    b'12 FETCH (UID 12 FLAGS (\\Seen) MODSEQ (3) INTERNALDATE "07-Oct-2019 06:05:23 +0000" '
    b'RFC822.SIZE 345 ENVELOPE ("Mon, 07 Oct 2019 06:05:23 +0000" "filler 12" '
    b'(("Bench Sender" NIL "sender" "bench.test")) NIL NIL ((NIL NIL "user" "bench.test")) '
    b'NIL NIL NIL "<fill-12@bench.test>") BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") '
    b'NIL NIL "7bit" 26 1 NIL NIL NIL NIL)("image" "png" ("name" "a b.png") "<c@d>" NIL '
    b'"base64" 100 NIL ("inline" ("filename" "a b.png")) NIL NIL) "mixed" ("boundary" "x") '
    b"NIL NIL NIL))"
)

CASES: list[tuple[str, Records, str]] = [
    # id, records, "same" (must tokenize, equal to imapclient) or DECLINED
    ("listing_line", [LISTING], "same"),
    ("nil_exact_case", [b"(NIL nil Nil)"], "same"),
    ("quoted_nil_stays_bytes", [b'("NIL" "")'], "same"),
    ("numbers", [b"(0 7 007 12345678901234567890 -1 1.5)"], "same"),
    ("quoted_digits_stay_bytes", [b'("42")'], "same"),
    ("escaped_quote_and_backslash", [b'("a\\"b" "c\\\\d" "e\\xf")'], "same"),
    ("quote_after_quote", [b'("a""b")'], "same"),
    ("no_space_around_parens", [b'(a(b)c)"d"(e)'], "same"),
    ("tabs_and_runs_of_spaces", [b"( a \t  b  )  "], "same"),
    ("brackets_with_spaces", [b"(BODY[HEADER.FIELDS (A B)] NIL)"], "same"),
    ("bracket_first", [b"([A B]x y)"], "same"),
    ("eight_bit_atoms_and_strings", ['(caf\u00e9 "\u65e5\u672c")'.encode()], "same"),
    ("braces_inside_atom", [b"(x{3} }{ a}b)"], "same"),
    ("backslash_atom", [b"(\\Seen \\* $Junk)"], "same"),
    ("empty_list", [b"()"], "same"),
    ("literal", [(b"1 FETCH (BODY[1] {3}", b"abc"), b" UID 5)"], "same"),
    ("two_literals", [(b"(a {1}", b"x"), (b" b {0}", b""), b")"], "same"),
    ("literal_then_nothing", [(b"1 FETCH (BODY[] {2}", b"\r\n"), b")"], "same"),
    ("literal_wrong_size", [(b"(a {5}", b"abc"), b")"], DECLINED),
    ("literal_marker_glued", [(b"(a x{3}", b"abc"), b")"], DECLINED),
    ("brace_token_midline", [b"({3} a)"], DECLINED),
    ("percent", [b"(a % b)"], DECLINED),
    ("control_octet", [b"(a \x01 b)"], DECLINED),
    ("quote_glued_to_atom", [b'(a"b")'], DECLINED),
    ("unclosed_quote", [b'("abc)'], DECLINED),
    ("unclosed_bracket", [b"(BODY[1 x)"], DECLINED),
    ("unclosed_paren", [b"(a (b)"], DECLINED),
    ("stray_close", [b"a) b"], DECLINED),
    ("trailing_backslash_in_quote", [b'("abc\\'], DECLINED),
]


@pytest.mark.parametrize(("records", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tokens_equal_imapclient(records: Records, expect: str) -> None:
    lean = fastparse.tokens(records)
    if expect == DECLINED:
        assert lean is None
    else:
        assert lean is not None
        assert lean == reference(records)


def test_parse_fetch_reads_a_listing_line_like_imapclient() -> None:
    """The whole path: the lean tokens give the same FetchResult as imapclient's tokens."""
    (resp,) = ResponseReader().feed(b"* " + LISTING + b"\r\n")
    ours = parse.parse_fetch_generic(resp)
    original = parse.fastparse.tokens
    try:
        parse.fastparse.tokens = lambda data: None  # type: ignore[assignment]
        theirs = parse.parse_fetch_generic(resp)
    finally:
        parse.fastparse.tokens = original  # type: ignore[assignment]
    assert ours == theirs
    assert ours.body_structure is not None and len(ours.body_structure.children) == 2


# Pieces chosen for the lexer's corners: specials, quotes with escapes, brackets, NIL spellings,
# numbers with leading zeros, 8-bit octets, stray control octets and percent signs.
PIECES = st.sampled_from(
    [
        b"(", b")", b" ", b"  ", b"\t", b"NIL", b"nil", b"0", b"7", b"007", b"123", b"a", b"Ab.c",
        b"\\Seen", b"$x", b'"', b'"q"', b'""', b'"a\\"b"', b'"a\\\\"', b'"a\\b"', b"\\", b"[",
        b"]", b"[x y]", b"BODY[1]", b"{", b"}", b"{3}", b"%", b"*", b"\x01", b"\xc3\xa9", b"<0>",
    ]
)  # fmt: skip
TEXT = st.lists(PIECES, max_size=25).map(b"".join)


@st.composite
def records(draw: st.DrawFn) -> Records:
    out: Records = []
    for _ in range(draw(st.integers(1, 3))):
        text = draw(TEXT)
        if draw(st.booleans()):
            literal = draw(st.binary(max_size=8))
            size = len(literal) + draw(st.sampled_from([0, 0, 0, 1]))
            out.append((text + b" {%d}" % size, literal))
        else:
            out.append(text)
    return out


@settings(max_examples=3000)
@given(records())
def test_random_records_tokenize_alike(data: Records) -> None:
    lean = fastparse.tokens(data)
    if lean is not None:
        assert lean == reference(data)
