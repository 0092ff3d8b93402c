"""The answer of `UID FETCH 1:* (UID FLAGS)` read in bulk: a uid → flags map, no per-line objects.

Indexing a folder reads one line per message, `* n FETCH (UID u FLAGS (...) [MODSEQ (m)])`
(RFC 3501 §7.4.2, RFC 7162 §3.1.4.1): 20,000 lines for a 20,000-message INBOX. Through the
general path each becomes a `Response`, is dispatched by name and parsed into a `FetchResult`
(~7 µs a line, about 10x what the server needs to send it). Here the reader hands whole buffers
to `FlagFetch.scan`, which matches every line of a run with one compiled pattern (`re.split`),
checks that the run is contiguous, and turns the captured uids and flag lists into map entries
with C-level `map`/`zip`; each distinct flag list is decoded (and `convert`ed) once.

Only lines it can read exactly as `parse.parse_fetch` would are taken; anything else (another
item, a literal, lower case, odd spacing, a flag imapclient would read as a number or NIL, a
uid answered twice, an unsolicited EXISTS in between) ends the run and goes through the general
path, which feeds its FETCH results back through `take()`. Pure: bytes in, dicts out.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Generic, TypeVar

from imapapi.imap import fastparse
from imapapi.imap.types import FetchResult

T = TypeVar("T")
# flags, labels (X-GM-LABELS) → what the caller keeps per uid. Called once per distinct flag
# list, so it must depend on its arguments alone.
Convert = Callable[[tuple[str, ...] | None, tuple[str, ...] | None], T]

# Atom characters (as fastparse.FLAG) plus backslash and space; whether the list is well formed
# is checked once per distinct value by `_decode`, not on every line. Possessive repeats (`*+`,
# `++`): nothing after them could match what they gave back, and not saving backtracking
# positions makes the scan ~10% faster.
_FLAG_LIST_CHARS = rb"[\\!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|}~ ]*+"
_FLAG_LIST = re.compile(rb"(?:" + fastparse.FLAG + rb"(?: " + fastparse.FLAG + rb")*)?")
_ITEMS = {
    "UID": rb"UID ([0-9]++)",
    "FLAGS": rb"FLAGS \((" + _FLAG_LIST_CHARS + rb")\)",
    "MODSEQ": rb"MODSEQ \(([0-9]++)\)",
}
# A run is usually one 64 KiB read; after a run that ended early the next one looks at no more
# than twice what it took, so interleaved lines cannot make the scanning quadratic.
_MIN_WINDOW = 4096
_MAX_WINDOW = 1 << 30


class _Shape:
    """One item order of a simple line: its pattern and where each value sits in a
    `re.split` result (each match yields `gap, value, value…`)."""

    __slots__ = ("flags", "modseq", "pattern", "stride", "uid")

    def __init__(self, order: tuple[str, ...]) -> None:
        items = b" ".join(_ITEMS[name] for name in order)
        self.pattern = re.compile(rb"\* [0-9]++ FETCH \(" + items + rb"\)\r\n")
        self.stride = len(order) + 1
        self.uid = order.index("UID") + 1
        self.flags = order.index("FLAGS") + 1
        self.modseq = order.index("MODSEQ") + 1 if "MODSEQ" in order else 0


# Dovecot's orders first (UID FLAGS, then UID FLAGS MODSEQ with CONDSTORE), then the others.
_SHAPES = tuple(
    _Shape(order)
    for order in itertools.chain(
        itertools.permutations(("UID", "FLAGS")),
        itertools.permutations(("UID", "FLAGS", "MODSEQ")),
    )
)


def _decode(raw: bytes) -> tuple[str, ...] | None:
    """The flag list as `parse.parse_fetch` reads it, or None when only it may read it."""
    if not raw:
        return ()
    if _FLAG_LIST.fullmatch(raw) is None:  # double, leading or trailing space; `\` inside
        return None
    return fastparse.flag_names(raw)


class FlagFetch(Generic[T]):
    """uid → `convert(flags, labels)` (and uid → MODSEQ) of one `UID FETCH … (UID FLAGS …)`.

    `scan()` takes runs of simple lines from the reader's buffer; `take()` takes the FETCH
    results the general path parsed. A uid is taken once: a second FETCH for it is unsolicited
    news (RFC 3501 §7.4.2 allows it at any time), which both refuse so the caller reports it.
    `accept`, when given, limits which uids belong to this answer.
    """

    __slots__ = ("_accept", "_by_raw", "_convert", "_window", "modseqs", "values", "vanished")

    def __init__(self, convert: Convert[T], accept: Callable[[int], bool] | None = None) -> None:
        self.values: dict[int, T] = {}
        self.modseqs: dict[int, int] = {}
        self.vanished: list[int] = []  # VANISHED (EARLIER) uids, filled by the command
        self._convert = convert
        self._accept = accept
        self._by_raw: dict[bytes, T] = {}
        self._window = _MAX_WINDOW

    # --- the general path ---------------------------------------------------------------------

    def take(self, result: FetchResult) -> bool:
        """Keep a FETCH result the general parser read; False when it is not part of this
        answer (no uid, a uid already answered, or one `accept` refuses)."""
        uid = result.uid
        if uid is None or uid in self.values:
            return False
        if self._accept is not None and not self._accept(uid):
            return False
        self.values[uid] = self._convert(result.flags, result.gmail_labels)
        if result.modseq is not None:
            self.modseqs[uid] = result.modseq
        return True

    # --- the bulk path ------------------------------------------------------------------------

    def scan(self, buf: bytes | bytearray, pos: int, end: int) -> int:
        """Take the complete simple lines that start at `pos` (a response boundary) and follow
        each other without a gap; returns where the first line not taken starts."""
        shape = self._shape_at(buf, pos, end)
        if shape is None:
            return pos
        last = buf.rfind(b"\r\n", pos, min(end, pos + self._window))
        if last < pos:  # the window ends inside the first line
            last = buf.find(b"\r\n", pos, end)
        stop = last + 2
        region = bytes(buf[pos:stop])
        parts = shape.pattern.split(region)
        if not any(parts[0 : -1 : shape.stride]) and self._take_run(parts, shape):
            self._window = min(self._window * 2, _MAX_WINDOW)
            return stop - len(parts[-1])
        # A gap, a duplicate or a flag list only the general parser may read: take the lines
        # before it one at a time.
        taken = self._take_lines(region, shape)
        self._window = max(_MIN_WINDOW, 2 * taken)
        return pos + taken

    @staticmethod
    def _shape_at(buf: bytes | bytearray, pos: int, end: int) -> _Shape | None:
        if not buf.startswith(b"* ", pos, end):
            return None
        for shape in _SHAPES:
            if shape.pattern.match(buf, pos, end) is not None:
                return shape
        return None

    def _readable(self, raw: bytes) -> bool:
        """Whether this path may read the flag list `raw`; its value is then in `_by_raw`."""
        if raw in self._by_raw:
            return True
        names = _decode(raw)
        if names is None:
            return False
        self._by_raw[raw] = self._convert(names, None)
        return True

    def _take_run(self, parts: list[bytes], shape: _Shape) -> bool:
        """Add every line of a contiguous run, or nothing (False) when one of them must go
        through the general path."""
        stride = shape.stride
        raws = parts[shape.flags : -1 : stride]
        if not all(map(self._readable, set(raws).difference(self._by_raw))):
            return False
        uids = list(map(int, parts[shape.uid : -1 : stride]))
        if self._accept is not None and not all(map(self._accept, uids)):
            return False
        values = self.values
        if not values.keys().isdisjoint(uids):
            return False  # a uid answered twice: the second one is news, in its place
        before = len(values)
        values.update(zip(uids, map(self._by_raw.__getitem__, raws), strict=True))
        if len(values) != before + len(uids):  # twice within the run: undo, go line by line
            for uid in set(uids):
                del values[uid]
            return False
        if shape.modseq:
            self.modseqs.update(zip(uids, map(int, parts[shape.modseq : -1 : stride]), strict=True))
        return True

    def _take_lines(self, region: bytes, shape: _Shape) -> int:
        """Add lines from the start of `region` while they are simple and new; returns the
        number of bytes taken."""
        pos = 0
        match = shape.pattern.match
        while (found := match(region, pos)) is not None:
            uid = int(found.group(shape.uid))
            raw = found.group(shape.flags)
            if uid in self.values or not self._readable(raw):
                break
            if self._accept is not None and not self._accept(uid):
                break
            self.values[uid] = self._by_raw[raw]
            if shape.modseq:
                self.modseqs[uid] = int(found.group(shape.modseq))
            pos = found.end()
        return pos
