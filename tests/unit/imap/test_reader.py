"""ResponseReader: splitting a byte stream into responses (RFC 3501 §2.2.2, §4.3)."""

from __future__ import annotations

import pytest

from imapapi.errors import ProtocolError
from imapapi.imap.reader import Response, ResponseReader

FETCH_WITH_LITERALS = (
    b"* 12 FETCH (UID 7 BODY[HEADER] {21}\r\nSubject: * BYE )(\r\n\r\n"
    b' BODY[1] {7}\r\n* 3 ) { FLAGS (\\Seen "a)b"))\r\n'
)
FETCH_RECORDS = (
    (b"12 FETCH (UID 7 BODY[HEADER] {21}", b"Subject: * BYE )(\r\n\r\n"),
    (b" BODY[1] {7}", b"* 3 ) {"),
    b' FLAGS (\\Seen "a)b"))',
)

CASES = [
    # id, input, expected responses as (tag, records)
    ("tagged_ok", b"A1 OK done\r\n", [("A1", (b"OK done",))]),
    ("untagged_exists", b"* 3 EXISTS\r\n", [("*", (b"3 EXISTS",))]),
    ("continuation", b"+ idling\r\n", [("+", (b"idling",))]),
    ("bare_continuation", b"+\r\n", [("+", (b"",))]),
    ("two_responses", b"* 1 EXISTS\r\nA2 OK x\r\n", [("*", (b"1 EXISTS",)), ("A2", (b"OK x",))]),
    ("literals_with_star_and_parens", FETCH_WITH_LITERALS, [("*", FETCH_RECORDS)]),
    (
        "quoted_star_and_unbalanced_parens",
        b'* LIST () "/" "a * (b"\r\n',
        [("*", (b'LIST () "/" "a * (b"',))],
    ),
    (
        "quoted_escaped_quote",
        b'* LIST () "/" "x\\" * OK"\r\n',
        [("*", (b'LIST () "/" "x\\" * OK"',))],
    ),
    (
        "empty_literal",
        b"* 1 FETCH (BODY[] {0}\r\n)\r\n",
        [("*", ((b"1 FETCH (BODY[] {0}", b""), b")"))],
    ),
    (
        "binary_literal8_marker_normalised",
        b"* 1 FETCH (BINARY[1] ~{3}\r\n\x00\x01\x02)\r\n",
        [("*", ((b"1 FETCH (BINARY[1] {3}", b"\x00\x01\x02"), b")"))],
    ),
    (
        "literal_plus_marker_tolerated",
        b"* 1 FETCH (BODY[] {2+}\r\nab)\r\n",
        [("*", ((b"1 FETCH (BODY[] {2}", b"ab"), b")"))],
    ),
    (
        "literal_with_crlf_inside",
        b"* 1 FETCH (BODY[] {4}\r\n\r\n\r\n)\r\n",
        [("*", ((b"1 FETCH (BODY[] {4}", b"\r\n\r\n"), b")"))],
    ),
    ("brace_not_at_end_is_text", b"* OK {5} text\r\n", [("*", (b"OK {5} text",))]),
    ("partial_line_waits", b"* 3 EXI", []),
]


def _responses(items: list[tuple[str, tuple[object, ...]]]) -> list[Response]:
    return [Response(tag, data) for tag, data in items]  # type: ignore[arg-type]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_feed_whole(data: bytes, expected: list[tuple[str, tuple[object, ...]]]) -> None:
    assert ResponseReader().feed(data) == _responses(expected)


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_feed_split_at_every_offset(
    data: bytes, expected: list[tuple[str, tuple[object, ...]]]
) -> None:
    for cut in range(1, len(data)):
        reader = ResponseReader()
        got = reader.feed(data[:cut]) + reader.feed(data[cut:])
        assert got == _responses(expected), f"split at {cut}"


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_feed_byte_by_byte(data: bytes, expected: list[tuple[str, tuple[object, ...]]]) -> None:
    reader = ResponseReader()
    got: list[Response] = []
    for i in range(len(data)):
        got += reader.feed(data[i : i + 1])
    assert got == _responses(expected)


def test_buffer_released_after_complete_response() -> None:
    reader = ResponseReader()
    reader.feed(b"* 1 FETCH (BODY[] {100000}\r\n" + b"x" * 100000 + b")\r\n")
    assert reader.pending == 0
    assert reader._buf == bytearray()


def test_pending_counts_partial_response() -> None:
    reader = ResponseReader()
    reader.feed(b"* 1 FETCH (BODY[] {10}\r\nabc")
    assert reader.pending == len(b"* 1 FETCH (BODY[] {10}") + 3


def test_many_lines_in_one_read_do_not_recurse() -> None:
    # aioimaplib crashed with RecursionError past ~975 lines in one read (DESIGN.md §6).
    data = b"".join(b"* %d FETCH (UID %d FLAGS ())\r\n" % (i, i) for i in range(1, 5001))
    responses = ResponseReader().feed(data)
    assert len(responses) == 5000
    assert responses[-1].data == (b"5000 FETCH (UID 5000 FLAGS ())",)


def test_long_line_in_small_reads_completes() -> None:
    reader = ResponseReader()
    line = b"* SEARCH " + b" ".join(b"%d" % i for i in range(1, 20001)) + b"\r\n"
    got: list[Response] = []
    for i in range(0, len(line), 7):
        got += reader.feed(line[i : i + 7])
    assert [r.first_line for r in got] == [line[2:-2]]


@pytest.mark.parametrize(
    ("data", "kwargs"),
    [
        (b"* OK " + b"x" * 50, {"max_line": 20}),
        (b"* 1 FETCH (BODY[] {1000}\r\n", {"max_literal": 999}),
    ],
    ids=["line_too_long", "literal_too_big"],
)
def test_limits(data: bytes, kwargs: dict[str, int]) -> None:
    with pytest.raises(ProtocolError):
        ResponseReader(**kwargs).feed(data)


def test_first_line_of_literal_response() -> None:
    (response,) = ResponseReader().feed(b"* 1 FETCH (BODY[] {1}\r\nx)\r\n")
    assert response.untagged and not response.continuation
    assert response.first_line == b"1 FETCH (BODY[] {1}"
