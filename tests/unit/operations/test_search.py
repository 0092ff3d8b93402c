"""Search terms compiled to IMAP SEARCH: dates the servers cannot take never reach them."""

from __future__ import annotations

import datetime as _dt

import pytest

from imapapi.errors import InvalidInputError
from imapapi.operations.search import SearchTerms, compile_search


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (SearchTerms(since=_dt.date(239, 3, 9)), "search.since"),
        (SearchTerms(before=_dt.date(1969, 12, 31)), "search.before"),
    ],
    ids=["year-239", "before-1970"],
)
def test_dates_before_1970_are_refused_naming_the_field(terms: SearchTerms, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        compile_search(terms)
    assert info.value.field == field


def test_dates_from_1970_are_imap_dates() -> None:
    parts, _ = compile_search(SearchTerms(since=_dt.date(1970, 1, 1), before=_dt.date(2024, 2, 9)))
    assert parts == [b"SINCE", b"1-Jan-1970", b"BEFORE", b"9-Feb-2024"]
