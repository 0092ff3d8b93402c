"""The compact uid → flags map stored per folder (DESIGN.md §4 "Storage", target ≤ 10 B/message).

Layout (then zlib-compressed): version byte; the table of distinct flag sets (most messages of
a folder share a handful: {}, {\\Seen}, {\\Seen \\Answered} …); the number of messages; then,
in uid order, one varint per message for the uid's distance from the previous uid, followed by
one varint per message for the index of its flag set. Consecutive uids cost one byte for the gap
and one for the flag set before compression, far less after.

Version 2 keeps the two columns apart (version 1 interleaved them, gap and index per message,
and is still read): a column of 1s and a column of small indexes compress as well at zlib's
fastest level as the interleaved bytes did at level 6, in a tenth of the time. While every gap
and index is below 128 (nearly every folder), both columns are made and read in C.
"""

from __future__ import annotations

import itertools
import operator
import zlib
from collections.abc import Iterable, Mapping, Sequence

from imapapi.errors import CorruptRecordError

VERSION = 2
_INTERLEAVED = 1  # the previous layout, still decoded
_LEVEL = 1
FlagSet = frozenset[str]
FlagMap = dict[int, FlagSet]


def _varint(value: int, out: bytearray) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varint(self) -> int:
        result = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise CorruptRecordError("flag map ends inside a number")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise CorruptRecordError("flag map number is too long")

    def text(self) -> str:
        length = self.varint()
        end = self.pos + length
        if end > len(self.data):
            raise CorruptRecordError("flag map ends inside a flag name")
        value = self.data[self.pos : end].decode("utf-8", errors="strict")
        self.pos = end
        return value


def _column(values: Iterable[int]) -> bytes:
    """Varints of `values`: in C when all are below 128 (then each is its own byte)."""
    values = list(values)
    try:
        column = bytes(values)
    except ValueError:  # a number above 255
        column = b""
    if column.isascii() and len(column) == len(values):
        return column
    out = bytearray()
    for value in values:
        _varint(value, out)
    return bytes(out)


def encode(flags_by_uid: Mapping[int, Iterable[str]]) -> bytes:
    """Serialize a uid → flags map."""
    uids = sorted(flags_by_uid)
    # frozenset() of a frozenset is the same object: free for the maps the sync builds, where
    # thousands of uids share a handful of sets.
    sets = list(map(frozenset, map(flags_by_uid.__getitem__, uids)))
    table = {flags: index for index, flags in enumerate(dict.fromkeys(sets))}  # first-seen order
    head = bytearray([VERSION])
    _varint(len(table), head)
    for flags in table:  # dicts keep insertion order, which is the index order
        _varint(len(flags), head)
        for flag in sorted(flags):
            raw = flag.encode()
            _varint(len(raw), head)
            head += raw
    _varint(len(uids), head)
    gaps = _column(map(operator.sub, uids, itertools.chain((0,), uids)))
    indexes = _column(map(table.__getitem__, sets))
    return zlib.compress(b"".join((head, gaps, indexes)), _LEVEL)


def decode(blob: bytes) -> FlagMap:
    """Parse what `encode` wrote (either version); an empty blob is an empty map."""
    if not blob:
        return {}
    try:
        raw = zlib.decompress(blob)
    except zlib.error as exc:
        raise CorruptRecordError("flag map is not valid zlib data") from exc
    if not raw or raw[0] not in (VERSION, _INTERLEAVED):
        raise CorruptRecordError("flag map has an unknown version")
    reader = _Reader(raw)
    reader.pos = 1
    try:
        table = [
            frozenset(reader.text() for _ in range(reader.varint())) for _ in range(reader.varint())
        ]
    except UnicodeDecodeError as exc:
        raise CorruptRecordError("flag map holds a flag that is not UTF-8") from exc
    count = reader.varint()
    body = raw[reader.pos :]
    gaps: Sequence[int]
    indexes: Sequence[int]
    if len(body) == 2 * count and body.isascii():  # every number one byte: in C
        if raw[0] == VERSION:
            gaps, indexes = body[:count], body[count:]
        else:
            gaps, indexes = body[0::2], body[1::2]
    else:
        numbers = [reader.varint() for _ in range(2 * count)]
        if raw[0] == VERSION:
            gaps, indexes = numbers[:count], numbers[count:]
        else:
            gaps, indexes = numbers[0::2], numbers[1::2]
    if count and max(indexes) >= len(table):
        raise CorruptRecordError("flag map points past its flag table")
    uids = itertools.accumulate(gaps)
    return dict(zip(uids, map(table.__getitem__, indexes), strict=True))
