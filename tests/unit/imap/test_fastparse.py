"""The lean FETCH parser (imap/fastparse.py) answers exactly what the generic imapclient path
answers, or declines: a table of edge cases, then a property test over random responses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapapi.errors import ProtocolError
from imapapi.imap import fastparse, parse
from imapapi.imap.reader import Response, ResponseReader
from imapapi.imap.types import FetchResult

PARSED = "parsed"  # the lean parser must read the line itself
DECLINED = "declined"  # it must hand the line to the generic parser


def response(line: bytes) -> Response:
    (resp,) = ResponseReader().feed(b"* " + line + b"\r\n")
    return resp


def outcome(fn: Any, resp: Response) -> FetchResult | type[Exception]:
    try:
        result: FetchResult = fn(resp)
    except ProtocolError as exc:
        return type(exc)
    return result


CASES = [
    # id, line after "* ", parsed or declined
    ("dovecot_condstore", rb"1 FETCH (UID 1 FLAGS (\Seen \Recent) MODSEQ (21))", PARSED),
    ("uid_flags", rb"7 FETCH (UID 42 FLAGS (\Seen))", PARSED),
    ("flags_first", rb"7 FETCH (FLAGS (\Answered \Seen) UID 42)", PARSED),
    ("modseq_first", rb"7 FETCH (MODSEQ (99) UID 42 FLAGS ())", PARSED),
    ("empty_flags", rb"3 FETCH (UID 3 FLAGS ())", PARSED),
    ("only_uid", rb"3 FETCH (UID 3)", PARSED),
    ("only_flags", rb"3 FETCH (FLAGS (\Deleted))", PARSED),
    ("only_modseq", rb"3 FETCH (MODSEQ (5))", PARSED),
    ("lower_case_items", rb"3 fetch (uid 3 flags (\seen) modseq (4))", PARSED),
    ("keywords", rb"9 FETCH (UID 9 FLAGS ($Forwarded NonJunk $MDNSent \Flagged))", PARSED),
    ("punctuated_keyword", rb"9 FETCH (UID 9 FLAGS (a.b-c_d:e/f+g'h&i!j#k|l}m~n))", PARSED),
    ("digits_in_keyword", rb"9 FETCH (UID 9 FLAGS ($Label1 2x))", PARSED),
    ("nil_inside_keyword", rb"9 FETCH (UID 9 FLAGS (NILS \NIL))", PARSED),
    ("duplicate_item_last_wins", rb"9 FETCH (UID 9 UID 10 FLAGS ())", PARSED),
    ("leading_zeros", rb"009 FETCH (UID 007 MODSEQ (0012))", PARSED),
    ("max_uid_and_modseq", rb"1 FETCH (UID 4294967295 MODSEQ (9223372036854775807))", PARSED),
    # imapclient reads these atoms as a number / as None: the generic path decides.
    ("all_digit_flag", rb"1 FETCH (UID 1 FLAGS (123))", DECLINED),
    ("nil_flag", rb"1 FETCH (UID 1 FLAGS (NIL))", DECLINED),
    ("nil_flag_lower", rb"1 FETCH (UID 1 FLAGS (\Seen nil))", DECLINED),
    ("double_space", rb"1 FETCH (UID 1  FLAGS (\Seen))", DECLINED),
    ("double_space_in_flags", rb"1 FETCH (UID 1 FLAGS (\Seen  \Answered))", DECLINED),
    ("quoted_flag", rb'1 FETCH (UID 1 FLAGS ("x y"))', DECLINED),
    ("bracket_flag", rb"1 FETCH (UID 1 FLAGS (a[b c]))", DECLINED),
    ("wildcard_flag", rb"1 FETCH (UID 1 FLAGS (\*))", DECLINED),
    ("non_ascii_flag", "1 FETCH (UID 1 FLAGS (Über))".encode(), DECLINED),
    ("modseq_without_parens", rb"1 FETCH (UID 1 MODSEQ 5)", DECLINED),
    ("other_item", rb"1 FETCH (UID 1 RFC822.SIZE 300 FLAGS ())", DECLINED),
    ("internaldate", rb'1 FETCH (UID 1 INTERNALDATE "17-Jul-1996 02:44:25 -0700")', DECLINED),
    ("empty_item_list", rb"1 FETCH ()", DECLINED),
    ("trailing_data", rb"1 FETCH (UID 1) extra", DECLINED),
    ("unclosed", rb"1 FETCH (UID 1 FLAGS (\Seen)", DECLINED),
    ("missing_uid_value", rb"1 FETCH (UID FLAGS ())", DECLINED),
    ("uid_too_long", rb"1 FETCH (UID 123456789012)", DECLINED),
    ("not_fetch", rb"1 EXISTS", DECLINED),
]


@pytest.mark.parametrize(("line", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fast_path_equals_generic(line: bytes, expect: str) -> None:
    resp = response(line)
    fast = fastparse.parse_fetch_line(resp.data[0])  # type: ignore[arg-type]
    generic = outcome(parse.parse_fetch_generic, resp)
    if expect == PARSED:
        assert fast is not None
        assert fast == generic
    else:
        assert fast is None
    assert outcome(parse.parse_fetch, resp) == generic


def test_literal_goes_to_the_generic_parser() -> None:
    resp = response(b"1 FETCH (UID 1 BODY[HEADER] {5}\r\nab\r\nc)")
    result = parse.parse_fetch(resp)
    assert result.uid == 1
    assert result.sections == {"BODY[HEADER]": b"ab\r\nc"}


def test_flag_cache_is_bounded() -> None:
    for n in range(fastparse._FLAGS_CACHE_MAX + 10):
        assert fastparse.parse_fetch_line(b"1 FETCH (FLAGS (k%d))" % n) is not None
    assert len(fastparse._FLAGS_CACHE) <= fastparse._FLAGS_CACHE_MAX


# --- property: random UIDs, flags and item order ------------------------------------------------

ATOM_CHARS = "!#$&'+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|}~"
SYSTEM_FLAGS = [
    "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent", "NIL", "nil", "1",
]  # fmt: skip
flags = st.lists(
    st.one_of(
        st.sampled_from(SYSTEM_FLAGS),
        st.text(ATOM_CHARS, min_size=1, max_size=12),
        st.text(ATOM_CHARS, min_size=1, max_size=12).map(lambda s: "\\" + s),
    ),
    max_size=6,
)


def spell(name: str, draw_case: bool) -> str:
    return name.lower() if draw_case else name


@given(
    seq=st.integers(1, 2**32 - 1),
    uid=st.one_of(st.none(), st.integers(1, 2**32 - 1)),
    modseq=st.one_of(st.none(), st.integers(1, 2**63 - 1)),
    flag_list=st.one_of(st.none(), flags),
    order=st.permutations(["UID", "FLAGS", "MODSEQ"]),
    lower=st.booleans(),
)
def test_random_fetch_lines_parse_alike(
    seq: int,
    uid: int | None,
    modseq: int | None,
    flag_list: list[str] | None,
    order: list[str],
    lower: bool,
) -> None:
    values = {
        "UID": None if uid is None else str(uid),
        "FLAGS": None if flag_list is None else "(" + " ".join(flag_list) + ")",
        "MODSEQ": None if modseq is None else f"({modseq})",
    }
    items = [f"{spell(k, lower)} {values[k]}" for k in order if values[k] is not None]
    if not items:
        items = ["UID 1"]
    line = f"{seq} {spell('FETCH', lower)} ({' '.join(items)})".encode()
    resp = response(line)
    generic = parse.parse_fetch_generic(resp)
    fast = fastparse.parse_fetch_line(line)
    tricky = any(f.isdigit() or f.upper() == "NIL" for f in flag_list or ())
    if tricky:
        assert fast is None  # imapclient reads those atoms as numbers / NIL
    else:
        assert fast == generic
    assert parse.parse_fetch(resp) == generic
