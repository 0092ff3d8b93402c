"""classify/fields.py: the short path of `address` answers exactly as parseaddr does."""

from __future__ import annotations

from email.utils import parseaddr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapapi.classify import fields

# Pieces that make plain addresses and near misses: atext, dots, specials, spaces, non-ASCII.
PIECES = st.lists(
    st.sampled_from(
        ["a", "Z", "0", ".", "..", "@", "-", "+", "_", "!", "{", "}", "%", "'", "=", "~", "/",
         " ", "<", ">", '"', "(", ")", ",", ";", ":", "[", "]", "\\", "é", "\t", "MAILER-DAEMON"]
    ),
    min_size=1,
    max_size=12,
).map("".join)  # fmt: skip


def by_parseaddr(value: str) -> str | None:
    _name, addr = parseaddr(value)
    return addr.strip().lower() or None


@pytest.mark.parametrize(
    "value",
    [
        "sender1@bench.test",
        "MAILER-DAEMON@Example.COM",
        "first.last+tag@sub.example.org",
        "o'brien@x.ie",
        "a..b@c",
        ".a@b",
        "a@b.",
        "Name <a@b>",
        "a@b, c@d",
        "a@[127.0.0.1]",
        '"quoted local"@x.y',
        "a@b (comment)",
        "ünï@example.com",
    ],
)
def test_address_equals_parseaddr(value: str) -> None:
    assert fields.address(value) == by_parseaddr(value)


@settings(max_examples=2000)
@given(PIECES)
def test_random_values_equal_parseaddr(value: str) -> None:
    assert fields.address(value) == by_parseaddr(value)
