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
