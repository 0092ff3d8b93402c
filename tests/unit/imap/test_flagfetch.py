"""The bulk reader of `UID FETCH … (UID FLAGS)` answers (imap/flagfetch.py) ends exactly where
the per-line path ends: the same uid → flags map, the same MODSEQs, and the same responses left
over (unsolicited news, in the order they arrived). A table of line shapes first, then
sequences and arbitrary splits of the byte stream, then a property test over random mixtures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapapi.errors import ProtocolError
from imapapi.imap import parse
from imapapi.imap.flagfetch import FlagFetch
from imapapi.imap.reader import ResponseReader
from imapapi.imap.types import FetchResult

TAG = b"A1"
DONE = TAG + b" OK Fetch completed.\r\n"
Value = tuple[tuple[str, ...] | None, tuple[str, ...] | None]


def keep(flags: tuple[str, ...] | None, labels: tuple[str, ...] | None) -> Value:
    """A `convert` that keeps exactly what it was given, so any difference shows."""
    return flags, labels


@dataclass
class Outcome:
    values: dict[int, Value] = field(default_factory=dict)
    modseqs: dict[int, int] = field(default_factory=dict)
    # Everything not taken as part of the answer, in arrival order: unsolicited FETCH results,
    # other untagged responses, the tagged completion, or the parse error that ended reading.
    rest: list[Any] = field(default_factory=list)
    responses: int = 0  # untagged lines that became a `Response` (not taken in bulk)


def per_line(data: bytes) -> Outcome:
    """Today's path (`core._on_FETCH` for a UID FETCH 1:*): every line a `Response`, parsed by
    `parse.parse_fetch`; the first FETCH of each uid belongs to the answer, the rest is news."""
    out = Outcome()
    active = True
    for response in ResponseReader().feed(data):
        if not _route(response, out, active, None):
            break
        active = active and response.tag != TAG.decode()
    return out


def bulk(data: bytes, sizes: list[int] | None = None, **kwargs: Any) -> Outcome:
    """The new path as `core` drives it: the reader offers its buffer to `FlagFetch.scan` while
    the command runs, stops after each response it makes, and the bulk hook goes at the tag."""
    out = Outcome()
    answer: FlagFetch[Value] = FlagFetch(keep, **kwargs)
    reader = ResponseReader()
    reader.bulk = answer.scan
    chunks = _split(data, sizes or [len(data) or 1])
    for chunk in chunks:
        responses = reader.feed(chunk)
        while True:
            for response in responses:
                if not _route(response, out, reader.bulk is not None, answer):
                    return _with(out, answer)
                if response.tag == TAG.decode():
                    reader.bulk = None
            if not reader.more:
                break
            responses = reader.feed(b"")
    return _with(out, answer)


def _with(out: Outcome, answer: FlagFetch[Value]) -> Outcome:
    out.values, out.modseqs = answer.values, answer.modseqs
    return out


def _route(response: Any, out: Outcome, active: bool, answer: FlagFetch[Value] | None) -> bool:
    out.responses += response.tag == "*"
    if response.tag != "*" or parse.untagged_kind(response)[0] != "FETCH":
        out.rest.append((response.tag, response.data))
        return True
    try:
        result = parse.parse_fetch(response)
    except ProtocolError as exc:
        out.rest.append(type(exc))
        return False
    if active and _claim(result, out, answer):
        return True
    out.rest.append(result)
    return True


def _claim(result: FetchResult, out: Outcome, answer: FlagFetch[Value] | None) -> bool:
    if answer is not None:
        return answer.take(result)
    if result.uid is None or result.uid in out.values:
        return False
    out.values[result.uid] = keep(result.flags, result.gmail_labels)
    if result.modseq is not None:
        out.modseqs[result.uid] = result.modseq
    return True


def _split(data: bytes, sizes: list[int]) -> list[bytes]:
    chunks, pos, index = [], 0, 0
    while pos < len(data):
        size = max(1, sizes[index % len(sizes)])
        chunks.append(data[pos : pos + size])
        pos += size
        index += 1
    return chunks


def same(data: bytes, sizes: list[int] | None = None) -> Outcome:
    """Assert both paths agree on `data` (split as `sizes` says); the bulk outcome."""
    expected = per_line(data)
    got = bulk(data, sizes)
    assert (got.values, got.modseqs, got.rest) == (expected.values, expected.modseqs, expected.rest)
    return got


TAKEN = "taken"  # the bulk path must read the line itself
LEFT = "left"  # it must leave the line to the per-line parser

CASES = [
    # id, whole line without CRLF, taken in bulk or left to the per-line parser
    ("dovecot", rb"* 1 FETCH (UID 1 FLAGS (\Seen \Recent))", TAKEN),
    ("dovecot_condstore", rb"* 1 FETCH (UID 1 FLAGS (\Seen \Recent) MODSEQ (21))", TAKEN),
    ("recent_only", rb"* 2 FETCH (UID 5 FLAGS (\Recent))", TAKEN),
    ("empty_flags", rb"* 3 FETCH (UID 3 FLAGS ())", TAKEN),
    ("flags_first", rb"* 7 FETCH (FLAGS (\Answered \Seen) UID 42)", TAKEN),
    ("modseq_first", rb"* 7 FETCH (MODSEQ (99) UID 42 FLAGS ())", TAKEN),
    ("modseq_between", rb"* 7 FETCH (UID 42 MODSEQ (99) FLAGS (\Draft))", TAKEN),
    ("flags_modseq_uid", rb"* 7 FETCH (FLAGS (\Deleted) MODSEQ (3) UID 8)", TAKEN),
    ("keywords", rb"* 9 FETCH (UID 9 FLAGS ($Forwarded NonJunk $MDNSent \Flagged))", TAKEN),
    ("punctuated_keyword", rb"* 9 FETCH (UID 9 FLAGS (a.b-c_d:e/f+g'h&i!j#k|l}m~n))", TAKEN),
    ("digits_in_keyword", rb"* 9 FETCH (UID 9 FLAGS ($Label1 2x))", TAKEN),
    ("nil_inside_keyword", rb"* 9 FETCH (UID 9 FLAGS (NILS \NIL))", TAKEN),
    ("leading_zeros", rb"* 009 FETCH (UID 007 FLAGS () MODSEQ (0012))", TAKEN),
    ("max_numbers", rb"* 1 FETCH (UID 4294967295 FLAGS () MODSEQ (9223372036854775807))", TAKEN),
    ("long_sequence_number", rb"* 123456789012 FETCH (UID 1 FLAGS ())", TAKEN),
    # Shapes only the per-line parser may read (or reject).
    ("lower_case", rb"* 3 fetch (uid 3 flags (\seen))", LEFT),
    ("double_space_between_items", rb"* 1 FETCH (UID 1  FLAGS (\Seen))", LEFT),
    ("double_space_in_flags", rb"* 1 FETCH (UID 1 FLAGS (\Seen  \Answered))", LEFT),
    ("leading_space_in_flags", rb"* 1 FETCH (UID 1 FLAGS ( \Seen))", LEFT),
    ("trailing_space_in_flags", rb"* 1 FETCH (UID 1 FLAGS (\Seen ))", LEFT),
    ("space_only_flags", rb"* 1 FETCH (UID 1 FLAGS ( ))", LEFT),
    ("tab_between_items", b"* 1 FETCH (UID 1\tFLAGS (\\Seen))", LEFT),
    ("two_spaces_after_star", rb"*  1 FETCH (UID 1 FLAGS ())", LEFT),
    ("space_before_close", rb"* 1 FETCH (UID 1 FLAGS () )", LEFT),
    ("all_digit_flag", rb"* 1 FETCH (UID 1 FLAGS (123))", LEFT),
    ("nil_flag", rb"* 1 FETCH (UID 1 FLAGS (NIL))", LEFT),
    ("nil_flag_lower", rb"* 1 FETCH (UID 1 FLAGS (\Seen nil))", LEFT),
    ("backslash_inside_flag", rb"* 1 FETCH (UID 1 FLAGS (a\b))", LEFT),
    ("double_backslash", rb"* 1 FETCH (UID 1 FLAGS (\\Seen))", LEFT),
    ("quoted_flag", rb'* 1 FETCH (UID 1 FLAGS ("x y"))', LEFT),
    ("bracket_flag", rb"* 1 FETCH (UID 1 FLAGS (a[b c]))", LEFT),
    ("wildcard_flag", rb"* 1 FETCH (UID 1 FLAGS (\*))", LEFT),
    ("non_ascii_flag", "* 1 FETCH (UID 1 FLAGS (Über))".encode(), LEFT),
    ("only_uid", rb"* 3 FETCH (UID 3)", LEFT),
    ("only_flags", rb"* 3 FETCH (FLAGS (\Deleted))", LEFT),
    ("uid_twice", rb"* 9 FETCH (UID 9 UID 10 FLAGS ())", LEFT),
    ("modseq_without_parens", rb"* 1 FETCH (UID 1 FLAGS () MODSEQ 5)", LEFT),
    ("gmail_labels", rb'* 1 FETCH (X-GM-LABELS ("\\Inbox" foo) UID 1 FLAGS (\Seen))', LEFT),
    ("other_item", rb"* 1 FETCH (UID 1 RFC822.SIZE 300 FLAGS ())", LEFT),
    ("literal", b"* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[HEADER] {5}\r\nab\r\nc)", LEFT),
    ("trailing_data", rb"* 1 FETCH (UID 1 FLAGS ()) extra", LEFT),
    ("unclosed", rb"* 1 FETCH (UID 1 FLAGS (\Seen)", LEFT),
]


@pytest.mark.parametrize(("line", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_line_shapes_read_alike(line: bytes, expect: str) -> None:
    data = line + b"\r\n" + DONE
    for sizes in ([len(data)], [1], [7, 3]):
        got = same(data, sizes)
        assert got.responses == (0 if expect == TAKEN else 1)


def test_flag_lists_are_decoded_as_the_per_line_parser_does() -> None:
    got = same(CASES[0][1] + b"\r\n" + CASES[6][1] + b"\r\n" + DONE)
    assert got.values == {1: (("\\Seen", "\\Recent"), None), 42: (("\\Draft",), None)}
    assert got.modseqs == {42: 99}


INTERLEAVED = [
    # id, answer: untagged news, duplicates, lines either path reads, data after the tag
    (
        "unsolicited_between_lines",
        b"* 1 FETCH (UID 1 FLAGS ())\r\n* 4 EXISTS\r\n* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n"
        b"* 1 EXPUNGE\r\n* VANISHED 7:8\r\n* 1 FETCH (UID 2 FLAGS (\\Seen))\r\n" + DONE,
    ),
    (
        "uid_answered_twice_is_news_the_second_time",
        b"* 1 FETCH (UID 1 FLAGS ())\r\n* 2 FETCH (UID 2 FLAGS ())\r\n"
        b"* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n* 3 FETCH (UID 3 FLAGS ())\r\n" + DONE,
    ),
    (
        "twice_within_one_run",
        b"* 1 FETCH (UID 1 FLAGS ())\r\n* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n" + DONE,
    ),
    (
        "first_answer_from_the_per_line_parser_then_a_bulk_duplicate",
        b"* 1 fetch (uid 1 flags ())\r\n* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n" + DONE,
    ),
    (
        "literal_between_runs",
        b"* 1 FETCH (UID 1 FLAGS ())\r\n"
        b"* 2 FETCH (UID 2 BODY[] {28}\r\n* 3 FETCH (UID 3 FLAGS ())\r\n)\r\n"
        b"* 4 FETCH (UID 4 FLAGS ())\r\n" + DONE,
    ),
    (
        "fetch_after_the_tag_is_news",
        b"* 1 FETCH (UID 1 FLAGS ())\r\n" + DONE + b"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n",
    ),
    (
        "mixed_shapes_and_modseq",
        b"* 1 FETCH (UID 1 FLAGS () MODSEQ (5))\r\n* 2 FETCH (UID 2 FLAGS ())\r\n"
        b"* 3 FETCH (FLAGS (\\Seen) UID 3)\r\n* 4 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (6))\r\n"
        + DONE,
    ),
    ("tagged_no", b"* 1 FETCH (UID 1 FLAGS ())\r\nA1 NO [SERVERBUG] oops\r\n"),
    ("unparsable_fetch_ends_reading", b"* 1 FETCH (UID 1 FLAGS ())\r\n* 2 FETCH (UID x)\r\n"),
]


@pytest.mark.parametrize("data", [c[1] for c in INTERLEAVED], ids=[c[0] for c in INTERLEAVED])
def test_interleaved_responses_keep_their_order_and_meaning(data: bytes) -> None:
    for sizes in ([len(data)], [1], [2, 5, 11], [64]):
        same(data, sizes)


def test_a_duplicate_leaves_the_run_at_its_place() -> None:
    data = INTERLEAVED[1][1]
    got = same(data)
    assert got.values == {1: ((), None), 2: ((), None), 3: ((), None)}
    assert got.rest[0] == FetchResult(seq=1, uid=1, flags=("\\Flagged",))
    assert got.responses == 1


def test_accept_limits_the_uids_of_the_answer() -> None:
    data = b"* 1 FETCH (UID 1 FLAGS ())\r\n* 2 FETCH (UID 9 FLAGS ())\r\n" + DONE
    got = bulk(data, accept={1, 2}.__contains__)
    assert got.values == {1: ((), None)}
    assert got.rest[0] == FetchResult(seq=2, uid=9, flags=())


def test_each_distinct_flag_list_is_converted_once() -> None:
    calls: list[Value] = []

    def counting(flags: tuple[str, ...] | None, labels: tuple[str, ...] | None) -> Value:
        calls.append((flags, labels))
        return flags, labels

    answer: FlagFetch[Value] = FlagFetch(counting)
    lists = [b"", b"\\Seen", b"\\Seen \\Answered"]
    data = b"".join(
        b"* %d FETCH (UID %d FLAGS (%s))\r\n" % (n, n, lists[n % 3]) for n in range(1, 3001)
    )
    assert answer.scan(bytearray(data), 0, len(data)) == len(data)
    assert len(answer.values) == 3000
    assert len(calls) == 3
    assert set(calls) == {((), None), (("\\Seen",), None), (("\\Seen", "\\Answered"), None)}


def test_scan_takes_only_complete_lines() -> None:
    answer: FlagFetch[Value] = FlagFetch(keep)
    line = b"* 1 FETCH (UID 1 FLAGS ())\r\n"
    data = bytearray(line + line.replace(b"1", b"2")[:-1])  # the second one's LF is missing
    assert answer.scan(data, 0, len(data)) == len(line)
    assert list(answer.values) == [1]


def test_many_alternating_runs_read_alike() -> None:
    # A line only the per-line parser reads after every few simple ones: runs end early over
    # and over (the window that keeps this linear shrinks and grows again).
    rng = random.Random(5)
    lines = []
    for n in range(1, 3001):
        if rng.random() < 0.2:
            lines.append(b"* %d fetch (uid %d flags (\\seen))\r\n" % (n, n))
        else:
            lines.append(b"* %d FETCH (UID %d FLAGS (\\Seen))\r\n" % (n, n))
    data = b"".join(lines) + DONE
    got = same(data, [65536])
    assert len(got.values) == 3000
    assert got.responses < 1000  # most were taken in bulk


# --- property: random mixtures of every kind of line, split anywhere ---------------------------

POOL = [c[1] + b"\r\n" for c in CASES] + [
    b"* 5 EXISTS\r\n",
    b"* 3 EXPUNGE\r\n",
    b"* VANISHED 4\r\n",
    b"* OK [HIGHESTMODSEQ 9] x\r\n",
    b"* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n",
    b"* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (4))\r\n",
    b"* 2 FETCH (UID 2 BODY[] {3}\r\nx\r\n)\r\n",
]


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.sampled_from(POOL), max_size=40),
    tail=st.lists(st.sampled_from(POOL), max_size=3),
    sizes=st.lists(st.integers(1, 200), min_size=1, max_size=5),
)
def test_random_answers_read_alike(lines: list[bytes], tail: list[bytes], sizes: list[int]) -> None:
    same(b"".join(lines) + DONE + b"".join(tail), sizes)
