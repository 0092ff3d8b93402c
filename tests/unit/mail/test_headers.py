from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapapi.mail.headers import (
    decode_8bit,
    normalize_msgid,
    parse_header_block,
    parse_msgid_list,
)

RECEIVED = (
    b"Received: from mx.example.com (mx.example.com [192.0.2.1])\r\n"
    b"\tby mail.example.org; Mon, 7 Oct 2019 09:05:23 +0300\r\n"
    b"Received: from localhost by mx.example.com; Mon, 7 Oct 2019 09:05:20 +0300\r\n"
    b"Subject: hi\r\n"
    b"Received: late one\r\n"
)


def test_repeated_headers_kept_in_order() -> None:
    headers = parse_header_block(RECEIVED)
    assert headers["received"] == [
        "from mx.example.com (mx.example.com [192.0.2.1])\tby mail.example.org;"
        " Mon, 7 Oct 2019 09:05:23 +0300",
        "from localhost by mx.example.com; Mon, 7 Oct 2019 09:05:20 +0300",
        "late one",
    ]
    assert list(headers) == ["received", "subject"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"Subject: plain", "plain", id="ascii"),
        pytest.param(b"Subject: =?UTF-8?B?8J+OiSBQw7VkZXI=?=", "🎉 Põder", id="utf8-b"),
        pytest.param(b"Subject: =?utf-8?q?Hello_=E2=82=AC?=", "Hello €", id="utf8-q"),
        pytest.param(b"Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème", id="latin1-q"),
        pytest.param(b"Subject: =?Shift_JIS?B?k/qWe4zq?=", "日本語", id="shift-jis"),
        pytest.param(b"Subject: =?iso-2022-jp?b?GyRCRnxLXDhsGyhC?=", "日本語", id="iso-2022-jp"),
        pytest.param(
            b"Subject: =?utf-8?q?one?=\r\n =?utf-8?q?_two?=", "one two", id="adjacent-words-folded"
        ),
        pytest.param(b"Subject: Re: =?utf-8?q?caf=C3=A9?= ok", "Re: café ok", id="mixed-text"),
        pytest.param(b"Subject: =?utf-8*en?q?lang?=", "lang", id="rfc2231-language"),
        pytest.param(b"Subject: =?x-unknown?q?abc?=", "abc", id="unknown-charset"),
        pytest.param(b"Subject: a =?utf-8?q?broken", "a =?utf-8?q?broken", id="unterminated"),
        pytest.param(
            b"Subject: this is\r\n  folded\r\n\tthrice", "this is  folded\tthrice", id="folded"
        ),
        pytest.param(b"Subject: caf\xc3\xa9", "café", id="raw-utf8"),
        pytest.param(b"Subject: caf\xe9", "café", id="raw-latin1"),
        pytest.param(b"Subject: \xc3\xa9t\xe9 \xff", "été ÿ", id="mixed-8bit-garbage"),
        pytest.param(b"Subject:", "", id="empty"),
        pytest.param(b"Subject :  spaced  ", "spaced", id="space-before-colon"),
    ],
)
def test_subject_decoding(raw: bytes, expected: str) -> None:
    assert parse_header_block(raw + b"\r\n\r\nbody") == {"subject": [expected]}


def test_address_headers_decoded_not_rewritten() -> None:
    raw = b'From: "=?utf-8?q?P=C3=B5der?=" <p@example.com>, broken <<\r\n'
    assert parse_header_block(raw)["from"] == ['"Põder" <p@example.com>, broken <<']


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            b"A: 1\r\nnot a header\r\n continued\r\nB: 2\r\n",
            {"a": ["1"], "b": ["2"]},
            id="garbage-line-skipped",
        ),
        pytest.param(
            b"From sender@example.com Mon Oct  7 09:05:23 2019\nA: 1\n",
            {"a": ["1"]},
            id="mbox-from-line",
        ),
        pytest.param(b"A: 1\n\nB: 2\n", {"a": ["1"]}, id="stops-at-blank-line"),
        pytest.param(b"\r\nA: 1\r\n", {"a": ["1"]}, id="leading-blank-line"),
        pytest.param(b" orphan fold\r\nA: 1\r\n", {"a": ["1"]}, id="orphan-continuation"),
        pytest.param(b"A: 1\rB: 2\r", {"a": ["1"], "b": ["2"]}, id="bare-cr"),
        pytest.param(b"X-Mixed-Case: v\r\n", {"x-mixed-case": ["v"]}, id="lowercased-names"),
        pytest.param(b"", {}, id="empty"),
    ],
)
def test_block_structure(raw: bytes, expected: dict[str, list[str]]) -> None:
    assert parse_header_block(raw) == expected


@given(st.binary(max_size=300))
def test_never_raises(raw: bytes) -> None:
    for name, values in parse_header_block(raw).items():
        assert name == name.lower()
        assert all(isinstance(value, str) for value in values)


@given(st.binary(max_size=100))
def test_decode_8bit_is_total_and_keeps_utf8(raw: bytes) -> None:
    text = decode_8bit(raw)
    assert "\ufffd" not in text or "\ufffd".encode() in raw
    try:
        assert text == raw.decode("utf-8")
    except UnicodeDecodeError:
        pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("<a@b> <c@d>", ["<a@b>", "<c@d>"], id="space-separated"),
        pytest.param("<a@b>\r\n\t<c@d>", ["<a@b>", "<c@d>"], id="folded"),
        pytest.param("<a@b>,<c@d>", ["<a@b>", "<c@d>"], id="commas"),
        pytest.param("a@b c@d", ["<a@b>", "<c@d>"], id="no-brackets"),
        pytest.param("a@b, <c@d>", ["<a@b>", "<c@d>"], id="mixed-brackets"),
        pytest.param("<a@b> (comment <x@y>) <c@d>", ["<a@b>", "<c@d>"], id="comment"),
        pytest.param("<a@b> (outer (inner) <x@y>) <c@d>", ["<a@b>", "<c@d>"], id="nested-comment"),
        pytest.param('Your message of "Mon" <a@b> junk; more', ["<a@b>"], id="obsolete-phrase"),
        pytest.param("<a@b> <c@d> <a@b>", ["<a@b>", "<c@d>"], id="duplicates-dropped"),
        pytest.param("<a@\r\n b>", ["<a@b>"], id="whitespace-inside"),
        pytest.param("<12345>", ["<12345>"], id="no-at-sign-in-brackets"),
        pytest.param("<> <a@b>", ["<a@b>"], id="empty-brackets"),
        pytest.param("just garbage", [], id="garbage"),
        pytest.param("", [], id="empty"),
        pytest.param(None, [], id="none"),
    ],
)
def test_parse_msgid_list(value: str | None, expected: list[str]) -> None:
    assert parse_msgid_list(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<0ebdd7b0@example.com>", "<0ebdd7b0@example.com>"),
        ("  <0ebdd7b0@example.com>  ", "<0ebdd7b0@example.com>"),
        ("0ebdd7b0@example.com", "<0ebdd7b0@example.com>"),
        ("<a@b> <c@d>", "<a@b>"),
        ("lonetoken", "<lonetoken>"),
        ("two words", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_msgid(value: str | None, expected: str | None) -> None:
    assert normalize_msgid(value) == expected
