from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapapi.errors import InvalidInputError
from imapapi.mail.ids import (
    MAX_PART_LENGTH,
    UINT32_MAX,
    decode_attachment_id,
    decode_message_id,
    decode_text_id,
    encode_attachment_id,
    encode_message_id,
    encode_text_id,
    is_valid_part,
)

indexes = st.integers(0, UINT32_MAX)
uids = st.integers(1, UINT32_MAX)
parts = (
    st.lists(st.integers(1, UINT32_MAX), min_size=1, max_size=6)
    .map(lambda numbers: ".".join(map(str, numbers)))
    .filter(lambda part: len(part) <= MAX_PART_LENGTH)
)
optional_parts = st.none() | parts
base64url_text = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40
)
any_id_text = (
    st.text()
    | base64url_text
    | st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
)
DECODERS = [decode_message_id, decode_text_id, decode_attachment_id]


def test_seed_example() -> None:
    # The seed README lists message uid 481 in mailbox 1 as "AAAAAQAAAeE".
    assert encode_message_id(1, 481) == "AAAAAQAAAeE"
    assert decode_message_id("AAAAAQAAAeE") == (1, 481)


@pytest.mark.parametrize(
    ("plain", "html", "expected"),
    [
        pytest.param("1", "2", "AAAAAQAAAeEbLw", id="alternative"),
        pytest.param("1", None, "AAAAAQAAAeEb", id="plain-only"),
        pytest.param(None, "1", "AAAAAQAAAeGx", id="html-only"),
        pytest.param("1.1", "1.2", "AAAAAQAAAeEaGxov", id="nested"),
    ],
)
def test_text_id_examples(plain: str | None, html: str | None, expected: str) -> None:
    assert encode_text_id(1, 481, plain, html) == expected
    assert decode_text_id(expected) == (1, 481, plain, html)


def test_text_ids_are_compact() -> None:
    # Two bytes over the message id for the usual "1" + "2" (the seed's format spent eight).
    assert len(encode_text_id(1, 481, "1", "2")) == len("AAAAAQAAAeE") + 3
    assert len(encode_attachment_id(1, 481, "2")) == len("AAAAAQAAAeE") + 1


@given(indexes, uids)
def test_message_id_round_trip(index: int, uid: int) -> None:
    assert decode_message_id(encode_message_id(index, uid)) == (index, uid)


@given(indexes, uids, optional_parts, optional_parts)
def test_text_id_round_trip(index: int, uid: int, plain: str | None, html: str | None) -> None:
    if plain is None and html is None:
        with pytest.raises(ValueError):
            encode_text_id(index, uid, plain, html)
        return
    assert decode_text_id(encode_text_id(index, uid, plain, html)) == (index, uid, plain, html)


@given(indexes, uids, parts)
def test_attachment_id_round_trip(index: int, uid: int, part: str) -> None:
    assert decode_attachment_id(encode_attachment_id(index, uid, part)) == (index, uid, part)


@given(any_id_text)
def test_decoders_raise_only_invalid_input(value: str) -> None:
    for decode in DECODERS:
        try:
            decode(value)
        except InvalidInputError:
            pass


@given(any_id_text)
def test_decoding_is_canonical(value: str) -> None:
    # Whatever decodes re-encodes to the very same string: one id, one spelling.
    try:
        index, uid, plain, html = decode_text_id(value)
    except InvalidInputError:
        return
    assert encode_text_id(index, uid, plain, html) == value


@given(indexes, uids, parts, optional_parts, optional_parts)
def test_kinds_are_never_confused(
    index: int, uid: int, part: str, plain: str | None, html: str | None
) -> None:
    message_id = encode_message_id(index, uid)
    attachment_id = encode_attachment_id(index, uid, part)
    with pytest.raises(InvalidInputError):
        decode_text_id(message_id)
    with pytest.raises(InvalidInputError):
        decode_text_id(attachment_id)
    with pytest.raises(InvalidInputError):
        decode_attachment_id(message_id)
    with pytest.raises(InvalidInputError):
        decode_message_id(attachment_id)
    if plain is not None or html is not None:
        text_id = encode_text_id(index, uid, plain, html)
        with pytest.raises(InvalidInputError):
            decode_attachment_id(text_id)
        with pytest.raises(InvalidInputError):
            decode_message_id(text_id)


def _id(nibbles: str) -> str:
    """Id of message 1/481 with a tail written as nibbles: digits, a = ".", b = ";", f = pad."""
    raw = bytes.fromhex("00000001000001e1" + nibbles)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("decode", "value", "reason"),
    [
        pytest.param(decode_message_id, "", "missing id", id="empty"),
        pytest.param(decode_message_id, "AAAAAQAAAeE=", "not a valid id", id="padding"),
        pytest.param(decode_message_id, "AAAAAQAAAe+", "not a valid id", id="standard-alphabet"),
        pytest.param(decode_message_id, "AAAAAQAAAeF", "not a valid id", id="trailing-bits"),
        pytest.param(decode_message_id, "AAAAAQAAAe", "not a valid id", id="too-short"),
        pytest.param(decode_message_id, "AAAAAQAAAeEAA", "not a valid id", id="bad-length"),
        pytest.param(decode_message_id, " AAAAAQAAAeE", "not a valid id", id="whitespace"),
        pytest.param(decode_message_id, "A" * 500, "not a valid id", id="huge"),
        pytest.param(decode_message_id, "AAAAAAAAAAA", "uid out of range", id="uid-zero"),
        pytest.param(decode_message_id, _id("1f"), "not a message id", id="message-with-part"),
        pytest.param(decode_attachment_id, _id("0f"), "invalid MIME", id="part-zero"),
        pytest.param(decode_attachment_id, _id("01"), "invalid MIME", id="leading-0"),
        pytest.param(decode_attachment_id, _id("1a"), "invalid MIME", id="dot-end"),
        pytest.param(decode_attachment_id, _id("a1"), "invalid MIME", id="dot-start"),
        pytest.param(decode_attachment_id, _id("1c"), "not a valid id", id="nibble-c"),
        pytest.param(decode_attachment_id, _id("f1"), "not a valid id", id="pad-first"),
        pytest.param(decode_attachment_id, _id("ff"), "not a valid id", id="two-pads"),
        pytest.param(
            decode_attachment_id,
            _id("4294967296"),  # uint32 max + 1
            "invalid MIME",
            id="part-number-overflow",
        ),
        pytest.param(decode_text_id, _id("bf"), "names no part", id="text-empty"),
        pytest.param(decode_text_id, _id("1bb2"), "not a text id", id="two-seps"),
    ],
)
def test_malformed(decode: object, value: str, reason: str) -> None:
    assert callable(decode)
    with pytest.raises(InvalidInputError) as caught:
        decode(value)
    assert reason in caught.value.reason


def test_error_names_the_field() -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_attachment_id("nope")
    assert caught.value.field == "attachmentId"
    with pytest.raises(InvalidInputError) as caught:
        decode_message_id("nope", field="reference.message")
    assert caught.value.field == "reference.message"


@pytest.mark.parametrize(
    ("part", "valid"),
    [
        ("1", True),
        ("1.2.3", True),
        ("10.200", True),
        ("0", False),
        ("01", False),
        ("1.", False),
        ("", False),
        ("1..2", False),
        ("\u0661", False),  # Arabic-Indic digit one: \d would accept it
        ("4294967296", False),
        (".".join(["1"] * 33), False),
    ],
)
def test_is_valid_part(part: str, valid: bool) -> None:
    assert is_valid_part(part) is valid


@pytest.mark.parametrize(
    ("index", "uid", "part"),
    [(-1, 1, "1"), (UINT32_MAX + 1, 1, "1"), (1, 0, "1"), (1, UINT32_MAX + 1, "1"), (1, 1, "0")],
)
def test_encoders_refuse_out_of_range(index: int, uid: int, part: str) -> None:
    with pytest.raises(ValueError):
        encode_attachment_id(index, uid, part)
