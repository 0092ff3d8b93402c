"""`params.decode_params` (its shortcut for plain lists) equals `decode_params_generic`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapapi.imap import params

CASES = [
    # id, tokens, expected
    ("plain", (b"charset", b"utf-8"), (("charset", "utf-8"),)),
    (
        "names_lowered",
        (b"CHARSET", b"UTF-8", b"Name", b"a b"),
        (("charset", "UTF-8"), ("name", "a b")),
    ),
    ("empty_value", (b"name", b""), (("name", ""),)),
    ("eight_bit", (b"name", b"\xc3\xbc\xff"), (("name", "ü\ufffd"),)),
    ("repeated_last_wins", (b"a", b"1", b"A", b"2"), (("a", "2"),)),
    ("rfc2231", (b"name*", b"utf-8''%C3%BC"), (("name", "ü"),)),
    ("encoded_word", (b"name", b"=?utf-8?q?=C3=BC?="), (("name", "ü"),)),
    ("nil_and_number", (b"a", None, b"b", 12), (("a", ""), ("b", "12"))),
    ("odd_length", (b"a", b"1", b"b"), (("a", "1"),)),
    ("nil_list", None, ()),
]


@pytest.mark.parametrize(("tokens", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decode_params(tokens: object, expected: tuple[tuple[str, str], ...]) -> None:
    assert params.decode_params(tokens) == expected
    assert params.decode_params_generic(tokens) == expected


PIECES = st.sampled_from(
    [b"a", b"B", b"*", b"0", b"1*", b"=?", b"=?utf-8?q?=C3=BC?=", b"''", b"%41", b"\xff", b"", b" "]
)
TOKENS = st.one_of(st.lists(PIECES, max_size=4).map(b"".join), st.none(), st.integers(0, 99))


@settings(max_examples=1000)
@given(tokens=st.lists(TOKENS, max_size=8).map(tuple))
def test_decode_params_equals_generic(tokens: tuple[object, ...]) -> None:
    assert params.decode_params(tokens) == params.decode_params_generic(tokens)
