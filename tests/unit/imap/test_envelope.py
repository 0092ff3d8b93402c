"""`envelope.parse_internal_date` (its shortcut for the plain spelling) equals the datetime path
`parse_internal_date_generic`, valid dates or not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapapi.imap import envelope

CASES = [
    # id, INTERNALDATE content, ISO 8601 or None
    ("plain", b"21-Nov-2026 10:00:00 +0000", "2026-11-21T10:00:00+00:00"),
    ("negative_offset", b"17-Jul-1996 02:44:25 -0700", "1996-07-17T02:44:25-07:00"),
    ("space_day", b" 7-Oct-2019 06:05:23 +0530", "2019-10-07T06:05:23+05:30"),
    ("one_digit_day", b"7-oct-2019 06:05:23 +0000", "2019-10-07T06:05:23+00:00"),
    ("minutes_over_59", b"1-Jan-2020 00:00:00 -0099", "2020-01-01T00:00:00-01:39"),
    ("minus_zero", b"1-Jan-2020 00:00:00 -0000", "2020-01-01T00:00:00+00:00"),
    ("leap_day", b"29-Feb-2024 23:59:59 +0100", "2024-02-29T23:59:59+01:00"),
    ("no_leap_day", b"29-Feb-2023 23:59:59 +0100", None),
    ("day_zero", b"00-Jan-2020 00:00:00 +0000", None),
    ("year_zero", b"01-Jan-0000 00:00:00 +0000", None),
    ("offset_a_day", b"1-Jan-2020 00:00:00 +2400", None),
    ("hour_24", b"1-Jan-2020 24:00:00 +0000", None),
    ("minute_60", b"1-Jan-2020 00:60:00 +0000", None),
    ("second_60", b"1-Jan-2020 00:00:60 +0000", None),
    ("bad_month", b"1-Xyz-2020 00:00:00 +0000", None),
    ("garbage", b"yesterday", None),
    ("unicode_digits", "\u0661-Jan-2020 00:00:00 +0000".encode(), "2020-01-01T00:00:00+00:00"),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_internal_date(value: bytes, expected: str | None) -> None:
    assert envelope.parse_internal_date(value) == expected
    assert envelope.parse_internal_date_generic(value) == expected


def test_plain_spelling_takes_the_shortcut() -> None:
    assert envelope._PLAIN_INTERNALDATE.fullmatch(CASES[0][1]) is not None


def test_caches_are_bounded() -> None:
    for n in range(envelope._CACHE_MAX + 10):
        day = b"%02d-Jan-%04d" % (n % 28 + 1, 1000 + n)
        assert envelope.parse_internal_date(day + b" 00:00:00 +0000") is not None
    assert len(envelope._ISO_DAYS) <= envelope._CACHE_MAX


DATES = st.builds(
    lambda day, month, year, h, m, s, sign, oh, om, space: (
        b"%s%s-%s-%s %s:%s:%s %s%s%s"
        % (b" " if space else b"", day, month, year, h, m, s, sign, oh, om)
    ),
    st.integers(0, 32).map(lambda n: b"%d" % n) | st.integers(0, 32).map(lambda n: b"%02d" % n),
    st.sampled_from([b"Jan", b"feb", b"MAR", b"Apr", b"Sep", b"Dec", b"Xyz", b"Ja"]),
    st.integers(0, 9999).map(lambda n: b"%04d" % n) | st.just(b"12345"),
    st.integers(0, 25).map(lambda n: b"%02d" % n),
    st.integers(0, 61).map(lambda n: b"%02d" % n),
    st.integers(0, 61).map(lambda n: b"%02d" % n),
    st.sampled_from([b"+", b"-", b"*"]),
    st.integers(0, 25).map(lambda n: b"%02d" % n),
    st.integers(0, 99).map(lambda n: b"%02d" % n),
    st.booleans(),
)


@settings(max_examples=3000)
@given(value=DATES)
def test_internal_date_equals_generic(value: bytes) -> None:
    assert envelope.parse_internal_date(value) == envelope.parse_internal_date_generic(value)
