"""mail/decode.py: transfer encodings and charsets, whole, cut, and fed in pieces."""

from __future__ import annotations

import base64
import quopri

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapapi.mail.decode import (
    TransferDecoder,
    codec_for,
    decode_charset,
    decode_text,
    decode_transfer,
)


@pytest.mark.parametrize(
    ("encoded", "encoding", "expected"),
    [
        (b"SGVsbG8=", "base64", b"Hello"),
        (b"SGVs\r\nbG8=\r\n", "BASE64", b"Hello"),
        (b"SGVsbG8", "base64", b"Hello"),  # padding missing
        (b"SGVsbG8=SGk=", "base64", b"HelloHi"),  # two blocks glued together
        (b"SG!!Vs*bG8=", "base64", b"Hello"),  # junk ignored (RFC 2045 \xc2\xa76.8)
        (b"S", "base64", b""),  # a lone character carries no octet
        (b"", "base64", b""),
        (b"caf=C3=A9 =\r\nsoft", "quoted-printable", b"caf\xc3\xa9 soft"),
        (b"a=\nb", "quoted-printable", b"ab"),
        (b"=ZZ bad escape", "quoted-printable", b"=ZZ bad escape"),
        (b"raw \xff bytes", "8bit", b"raw \xff bytes"),
        (b"raw", None, b"raw"),
        (b"raw", "x-unknown-encoding", b"raw"),
    ],
)
def test_decode_transfer(encoded: bytes, encoding: str | None, expected: bytes) -> None:
    assert decode_transfer(encoded, encoding) == expected


@pytest.mark.parametrize(
    ("encoded", "encoding", "expected"),
    [
        (b"SGVsbG8gV2", "base64", b"Hello "),  # the incomplete quantum is left out
        (b"caf=C3=A", "quoted-printable", b"caf\xc3"),  # a cut escape is not shown as text
        (b"caf=", "quoted-printable", b"caf"),
    ],
)
def test_cut_input_drops_only_the_cut_piece(encoded: bytes, encoding: str, expected: bytes) -> None:
    assert decode_transfer(encoded, encoding, complete=False) == expected


@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 3000), max_size=6))
def test_base64_in_any_pieces(data: bytes, cuts: list[int]) -> None:
    encoded = base64.encodebytes(data)
    assert _in_pieces(encoded, "base64", cuts) == data


@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 3000), max_size=6))
def test_quoted_printable_in_any_pieces(data: bytes, cuts: list[int]) -> None:
    encoded = quopri.encodestring(data).replace(b"\n", b"\r\n")
    assert _in_pieces(encoded, "quoted-printable", cuts) == quopri.decodestring(encoded)


def test_quoted_printable_holds_back_only_a_cut_escape() -> None:
    decoder = TransferDecoder("quoted-printable")
    assert decoder.feed(b"x" * 5000 + b"=4") == b"x" * 5000
    assert decoder.feed(b"1 =") == b"A "
    assert decoder.feed(b"\r") == b""
    assert decoder.feed(b"\nz") == b"z"  # "=\r\n" was a soft line break
    assert decoder.finish() == b""


def _in_pieces(encoded: bytes, encoding: str, cuts: list[int]) -> bytes:
    decoder = TransferDecoder(encoding)
    out = b""
    start = 0
    for cut in sorted(c % (len(encoded) + 1) for c in cuts):
        out += decoder.feed(encoded[start:cut])
        start = cut
    return out + decoder.feed(encoded[start:]) + decoder.finish()


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf-8"),
        ('"utf8"', "utf-8"),
        ("ISO-8859-1", "cp1252"),  # WHATWG: Latin-1 labels mean windows-1252
        ("windows-1252", "cp1252"),
        ("Shift_JIS", "cp932"),
        ("ks_c_5601-1987", "cp949"),
        ("gb2312", "gb18030"),
        ("us-ascii", None),
        ("", None),
        (None, None),
        ("x-no-such-charset", None),
        ("zlib", None),  # a codec, but bytes-to-bytes: not a charset
        ("rot13", None),
        ("base64", None),
    ],
)
def test_codec_for(label: str | None, codec: str | None) -> None:
    assert codec_for(label) == codec


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("Grüße".encode("cp1252"), "iso-8859-1", "Grüße"),
        ("5 \u20ac \u2013 ok".encode("cp1252"), "iso-8859-1", "5 \u20ac \u2013 ok"),
        ("日本語".encode("shift_jis"), "shift_jis", "日本語"),
        ("①".encode("cp932"), "shift_jis", "①"),  # a Windows extension of Shift_JIS
        ("Grüße".encode(), None, "Grüße"),  # unlabelled but valid UTF-8
        ("Grüße".encode("cp1252"), None, "Grüße"),  # unlabelled and not UTF-8
        ("Grüße".encode(), "us-ascii", "Grüße"),  # mislabelled
        ("Grüße".encode(), "x-bogus", "Grüße"),
        (b"ok \xff", "utf-8", "ok \ufffd"),  # labelled UTF-8 but broken: replaced, not raised
    ],
)
def test_decode_charset(data: bytes, charset: str | None, expected: str) -> None:
    assert decode_charset(data, charset) == expected


def test_cut_multibyte_character_is_dropped() -> None:
    data = "aü日".encode()
    assert decode_charset(data[:-1], "utf-8", complete=False) == "aü"
    assert decode_charset(data[:-1], "utf-8") == "aü\ufffd"
    sjis = "日本".encode("shift_jis")
    assert decode_charset(sjis[:-1], "shift_jis", complete=False) == "日"


def test_decode_text_combines_both_layers() -> None:
    encoded = base64.b64encode("日本語のテキスト".encode("shift_jis"))
    assert decode_text(encoded, "base64", "Shift_JIS") == "日本語のテキスト"
    assert decode_text(encoded[:9], "base64", "Shift_JIS", complete=False) == "日本語"
