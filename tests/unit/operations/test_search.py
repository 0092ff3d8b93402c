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


ROOT_ID = "TYUB4"  # <a@x>
HEADERS_A_AT_X = [
    *(b"HEADER", b"Message-ID", b'"a@x"'),
    *(b"HEADER", b"References", b'"a@x"'),
    *(b"HEADER", b"In-Reply-To", b'"a@x"'),
]


@pytest.mark.parametrize(
    ("thread_id", "gmail", "parts"),
    [
        pytest.param(
            ROOT_ID,
            False,
            [b"OR", b"OR", *HEADERS_A_AT_X],
            id="root",
        ),
        pytest.param("MAAAAAQAAAeE", False, [b"UID", b"481"], id="message-without-ids"),
        pytest.param("123", True, [b"X-GM-THRID", b"123"], id="gmail"),
        pytest.param("123", False, [b"NOT", b"ALL"], id="gmail-id-elsewhere"),
        pytest.param(ROOT_ID, True, [b"NOT", b"ALL"], id="root-id-on-gmail"),
    ],
)
def test_thread_ids_search_by_what_the_server_can_match(
    thread_id: str, gmail: bool, parts: list[bytes]
) -> None:
    assert compile_search(SearchTerms(thread_id=thread_id), gmail=gmail) == (parts, None)


def test_a_malformed_thread_id_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as info:
        compile_search(SearchTerms(thread_id="Tbm8gYXQ"))  # "no at": a root with a space
    assert info.value.field == "search.threadId"
