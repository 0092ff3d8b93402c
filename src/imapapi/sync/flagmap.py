"""The compact uid → flags map stored per folder (DESIGN.md §4 "Storage", target ≤ 10 B/message).

Layout (then zlib-compressed): version byte; the table of distinct flag sets (most messages of
a folder share a handful: {}, {\\Seen}, {\\Seen \\Answered} …); then one pair of varints per
message: the uid's distance from the previous uid and the index of its flag set. Consecutive
uids cost one byte for the gap and one for the flag set before compression, far less after.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

from imapapi.errors import CorruptRecordError

VERSION = 1
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


def encode(flags_by_uid: Mapping[int, Iterable[str]]) -> bytes:
    """Serialize a uid → flags map."""
    table: dict[FlagSet, int] = {}
    body = bytearray()
    previous = 0
    for uid in sorted(flags_by_uid):
        flags = frozenset(flags_by_uid[uid])
        index = table.setdefault(flags, len(table))
        _varint(uid - previous, body)
        _varint(index, body)
        previous = uid
    head = bytearray([VERSION])
    _varint(len(table), head)
    for flags in table:  # dicts keep insertion order, which is the index order
        _varint(len(flags), head)
        for flag in sorted(flags):
            raw = flag.encode()
            _varint(len(raw), head)
            head += raw
    _varint(len(flags_by_uid), head)
    return zlib.compress(bytes(head + body), 6)


def decode(blob: bytes) -> FlagMap:
    """Parse what `encode` wrote; an empty blob is an empty map."""
    if not blob:
        return {}
    try:
        raw = zlib.decompress(blob)
    except zlib.error as exc:
        raise CorruptRecordError("flag map is not valid zlib data") from exc
    if not raw or raw[0] != VERSION:
        raise CorruptRecordError("flag map has an unknown version")
    reader = _Reader(raw)
    reader.pos = 1
    try:
        table = [
            frozenset(reader.text() for _ in range(reader.varint())) for _ in range(reader.varint())
        ]
    except UnicodeDecodeError as exc:
        raise CorruptRecordError("flag map holds a flag that is not UTF-8") from exc
    result: FlagMap = {}
    uid = 0
    for _ in range(reader.varint()):
        uid += reader.varint()
        index = reader.varint()
        if index >= len(table):
            raise CorruptRecordError("flag map points past its flag table")
        result[uid] = table[index]
    return result
