"""Argument encoding (RFC 3501 §4, §9; RFC 6855 §3) and CR/LF/NUL refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from imapapi.errors import InvalidInputError
from imapapi.imap import encode
from imapapi.imap.encode import Literal


@pytest.mark.parametrize(
    ("uids", "expected"),
    [
        ([1], b"1"),
        ([1, 2, 3, 4, 5, 9], b"1:5,9"),
        ([9, 3, 1, 2, 2], b"1:3,9"),
        ([1, 3, 5], b"1,3,5"),
        ([10, 11, 20, 21, 22, 30], b"10:11,20:22,30"),
        ([4294967295], b"4294967295"),
    ],
    ids=["single", "range_and_single", "unsorted_with_dups", "no_ranges", "three_runs", "max_uid"],
)
def test_sequence_set(uids: list[int], expected: bytes) -> None:
    assert encode.sequence_set(uids) == expected


@pytest.mark.parametrize(
    "uids", [[], [0], [4294967296], [-1]], ids=["empty", "zero", "too_big", "negative"]
)
def test_sequence_set_refuses(uids: list[int]) -> None:
    with pytest.raises(InvalidInputError):
        encode.sequence_set(uids)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1:*", b"1:*"), ("1,3:5", b"1,3:5"), ("*", b"*"), ("7", b"7")],
    ids=["open_range", "list", "star", "single"],
)
def test_raw_sequence_set(value: str, expected: bytes) -> None:
    assert encode.raw_sequence_set(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "1:", "a", "1 2", "1\r\n", "1,,2", "\u0661\u0662", "1:\uff13"],
    ids=["empty", "open", "alpha", "space", "crlf", "double_comma", "arabic_digits", "fullwidth"],
)
def test_raw_sequence_set_refuses(value: str) -> None:
    with pytest.raises(InvalidInputError):
        encode.raw_sequence_set(value)


@pytest.mark.parametrize(
    ("name", "utf8", "expected"),
    [
        ("INBOX", False, b'"INBOX"'),
        ("Sent Items", False, b'"Sent Items"'),
        ("Ünïcödé", False, b'"&ANw-n&AO8-c&APY-d&AOk-"'),
        ("Tom & Jerry", False, b'"Tom &- Jerry"'),
        ("日本語", False, b'"&ZeVnLIqe-"'),
        ("日本語", True, '"日本語"'.encode()),
        ('a"b\\c', False, b'"a\\"b\\\\c"'),
        ("NIL", False, b'"NIL"'),
    ],
    ids=[
        "inbox",
        "space",
        "umlauts_utf7",
        "ampersand",
        "japanese_utf7",
        "japanese_utf8_accept",
        "quote_backslash",
        "nil_is_quoted",
    ],
)
def test_mailbox(name: str, utf8: bool, expected: bytes) -> None:
    assert encode.mailbox(name, utf8=utf8) == expected


@pytest.mark.parametrize(
    "name",
    ["Ünïcödé", "Tom & Jerry", "日本語", "a/b&c/ü", "&", "~peter/mail/台北/日本語"],
    ids=["umlauts", "ampersand", "japanese", "nested", "lone_ampersand", "rfc3501_example"],
)
@pytest.mark.parametrize("utf8", [False, True], ids=["utf7", "utf8"])
def test_mailbox_round_trip(name: str, utf8: bool) -> None:
    encoded = encode.mailbox(name, utf8=utf8)
    assert isinstance(encoded, bytes)
    assert encode.decode_mailbox(encoded[1:-1], utf8=utf8) == name


BAD_VALUES = ["a\rb", "a\nb", "a\x00b", "INBOX\r\nA2 DELETE INBOX"]
BAD_IDS = ["cr", "lf", "nul", "injection"]


@pytest.mark.parametrize("value", BAD_VALUES, ids=BAD_IDS)
@pytest.mark.parametrize(
    "func",
    [
        lambda v: encode.mailbox(v),
        lambda v: encode.mailbox(v, utf8=True),
        lambda v: encode.quoted(v),
        lambda v: encode.string(v),
        lambda v: encode.string(v.encode() + b"\xff"),
        lambda v: encode.astring(v),
        lambda v: encode.atom(v),
        lambda v: encode.flag(v),
        lambda v: encode.flag_list(["\\Seen", v]),
        lambda v: encode.raw_sequence_set(v),
        lambda v: encode.check_parts([b"A1 X ", v.encode()]),
    ],
    ids=[
        "mailbox",
        "mailbox_utf8",
        "quoted",
        "string",
        "string_8bit_literal",
        "astring",
        "atom",
        "flag",
        "flag_list",
        "raw_sequence_set",
        "check_parts",
    ],
)
def test_refuses_cr_lf_nul(func: object, value: str) -> None:
    with pytest.raises(InvalidInputError):
        func(value)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "utf8", "expected"),
    [
        ("plain", False, b'"plain"'),
        ("smörgås", False, Literal("smörgås".encode())),
        ("smörgås", True, '"smörgås"'.encode()),
        ('say "hi"', False, b'"say \\"hi\\""'),
    ],
    ids=["ascii_quoted", "8bit_literal", "8bit_quoted_utf8_accept", "escaped_quotes"],
)
def test_string(value: str, utf8: bool, expected: bytes | Literal) -> None:
    assert encode.string(value, utf8=utf8) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("user", b"user"),
        ("a b", b'"a b"'),
        ("NIL", b'"NIL"'),
        ("", b'""'),
        ("x]", b'"x]"'),
        ("pässword", Literal("pässword".encode())),
    ],
    ids=["atom", "space_quoted", "nil_quoted", "empty_quoted", "bracket_quoted", "8bit_literal"],
)
def test_astring(value: str, expected: bytes | Literal) -> None:
    assert encode.astring(value) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("\\Seen", True),
        ("$Forwarded", True),
        ("NonJunk", True),
        ("\\", False),
        ("a b", False),
        ("(x", False),
        ('"x', False),
        ("a*", False),
    ],
    ids=[
        "system",
        "dollar_keyword",
        "keyword",
        "lone_backslash",
        "space",
        "paren",
        "quote",
        "star",
    ],
)
def test_flag(value: str, ok: bool) -> None:
    if ok:
        assert encode.flag(value) == value.encode()
    else:
        with pytest.raises(InvalidInputError):
            encode.flag(value)


def test_message_literal_allows_crlf_refuses_nul() -> None:
    assert encode.literal(b"a\r\nb").data == b"a\r\nb"
    with pytest.raises(InvalidInputError):
        encode.literal(b"a\x00b")
    assert encode.literal(b"a\x00b", binary=True).binary


def test_literal_repr_hides_contents() -> None:
    assert repr(Literal(b"secret")) == "Literal(6 bytes)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            dt.datetime(2024, 2, 1, 13, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            b'"01-Feb-2024 13:05:00 +0100"',
        ),
        (
            dt.datetime(
                2024, 12, 31, 23, 59, 59, tzinfo=dt.timezone(-dt.timedelta(hours=7, minutes=30))
            ),
            b'"31-Dec-2024 23:59:59 -0730"',
        ),
        (dt.datetime(2024, 7, 4, 0, 0, 0), b'"04-Jul-2024 00:00:00 +0000"'),
    ],
    ids=["plus_one", "negative_half_hour", "naive_is_utc"],
)
def test_date_time(value: dt.datetime, expected: bytes) -> None:
    assert encode.date_time(value) == expected


def test_search_date() -> None:
    assert encode.date(dt.date(2024, 3, 9)) == b"9-Mar-2024"


def test_join_merges_bytes_around_literals() -> None:
    parts = encode.join([b"A", b"B", Literal(b"x"), b"C"])
    assert parts == [b"A B ", Literal(b"x"), b" C"]


def test_chunks() -> None:
    assert encode.chunks([5, 1, 2, 3, 4, 4], 2) == [[1, 2], [3, 4], [5]]


@pytest.mark.parametrize("value", [-1, True, 1.5], ids=["negative", "bool", "float"])
def test_number_refuses(value: object) -> None:
    with pytest.raises(InvalidInputError):
        encode.number(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"Soak &AMQ-rzte 1", "Soak Ärzte 1", id="modified-utf7"),
        # Dovecot 2.3's NOTIFY STATUS names a mailbox in raw UTF-8 (a literal) even without
        # UTF8=ACCEPT: 8-bit octets cannot be modified UTF-7.
        pytest.param("Soak Ärzte 1".encode(), "Soak Ärzte 1", id="utf8-without-enable"),
        pytest.param(b"Tom &- Jerry", "Tom & Jerry", id="ascii-ampersand"),
    ],
)
def test_decode_mailbox_without_utf8_accept(raw: bytes, expected: str) -> None:
    assert encode.decode_mailbox(raw, utf8=False) == expected
