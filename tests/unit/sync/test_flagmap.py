"""The stored uid → flags map: exact round trips, small size, clear errors on damage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapapi.errors import CorruptRecordError
from imapapi.sync import flagmap

FLAGS = st.sampled_from(
    [
        "\\Seen",
        "\\Answered",
        "\\Flagged",
        "\\Deleted",
        "\\Draft",
        "$Label1",
        "Ünïcödé",
        "$Forwarded",
    ]
)


@given(st.dictionaries(st.integers(1, 2**32 - 1), st.frozensets(FLAGS, max_size=4), max_size=200))
def test_round_trip(mapping: dict[int, frozenset[str]]) -> None:
    assert flagmap.decode(flagmap.encode(mapping)) == mapping


def test_twenty_thousand_messages_cost_under_ten_bytes_each() -> None:
    mapping = {
        uid: frozenset({"\\Seen"} if uid % 3 else {"\\Seen", "\\Answered"})
        for uid in range(1, 20_001)
    }
    for uid in range(5, 20_000, 97):  # some gaps from expunged mail
        mapping.pop(uid)
    blob = flagmap.encode(mapping)
    assert len(blob) / len(mapping) < 10


@pytest.mark.parametrize(
    "blob",
    [
        pytest.param(b"not zlib", id="not-zlib"),
        pytest.param(__import__("zlib").compress(b"\x09"), id="unknown-version"),
        pytest.param(__import__("zlib").compress(b"\x01\x01\x01\x05ab"), id="truncated-name"),
        pytest.param(__import__("zlib").compress(b"\x01\x00\x01\x01\x03"), id="bad-table-index"),
    ],
)
def test_damaged_blobs_raise_corrupt_record(blob: bytes) -> None:
    with pytest.raises(CorruptRecordError):
        flagmap.decode(blob)


def test_empty_blob_is_empty_map() -> None:
    assert flagmap.decode(b"") == {}


# Version 1 blobs (gap and set index interleaved per message) are still in stores: they must
# keep reading. {1: {}, 2: {\Seen}} has one-byte numbers only; 202 needs a two-byte gap.
V1_TABLE = b"\x01\x02\x00\x01\x05\\Seen"
V1_BLOBS = [
    pytest.param(V1_TABLE + b"\x02\x01\x00\x01\x01", {1: set(), 2: {"\\Seen"}}, id="one-byte"),
    pytest.param(
        V1_TABLE + b"\x03\x01\x00\x01\x01\xc8\x01\x01",
        {1: set(), 2: {"\\Seen"}, 202: {"\\Seen"}},
        id="varints",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), V1_BLOBS)
def test_version_1_blobs_still_decode(raw: bytes, expected: dict[int, set[str]]) -> None:
    assert flagmap.decode(__import__("zlib").compress(raw)) == expected


def test_many_flag_sets_and_big_gaps_round_trip() -> None:
    # Set indexes past 127 and gaps past 127 take several bytes: the slow path of each column.
    mapping = {uid * 1000: frozenset({f"k{uid}"}) for uid in range(1, 400)}
    assert flagmap.decode(flagmap.encode(mapping)) == mapping


def test_any_iterable_of_flags_is_accepted() -> None:
    mapping = {3: ["\\Seen", "\\Seen"], 1: ("a", "b"), 2: {"b", "a"}}
    assert flagmap.decode(flagmap.encode(mapping)) == {
        1: frozenset({"a", "b"}),
        2: frozenset({"a", "b"}),
        3: frozenset({"\\Seen"}),
    }
