"""Message summaries kept in memory between API calls, without their flags (issue 17).

Most of a listing's message object comes from what a message never changes once it has a UID:
ENVELOPE, BODYSTRUCTURE, header fields, size, internal date, thread id, the classification
(RFC 3501 §2.3.1.1: within one UIDVALIDITY a UID names the same message for ever; flags and
Gmail labels are the only parts another client can change). A page whose messages were listed
before then needs only `UID FETCH uids (UID FLAGS)` instead of ENVELOPE, BODYSTRUCTURE and
header fields, parsed and classified again. Flags and labels are always fetched fresh.

One `SummaryCache` per process, an LRU bounded by entries (`IMAPAPI_SUMMARY_CACHE`; 0 turns it
off), each entry the JSON of a summary without its flags (`orjson`: about a fifth of the memory
of the dict). Each session reads and writes it through a `SummaryScope` of its own, so an
account deleted and registered again (perhaps on another server) never sees the old entries,
and a session that ends takes its entries with it. Memory only: nothing is ever written out.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Mapping

DEFAULT_ENTRIES = 20_000
# A summary's JSON is ~0.5 KiB; one bigger than this (megabyte subjects or address lists are cut
# to 16 KiB per value, mail/summary.py) is fetched afresh each time rather than let a few such
# messages take the room of hundreds.
MAX_ENTRY_BYTES = 8 * 1024

_Key = tuple[int, str, int, int, bool]  # scope, folder path, UIDVALIDITY, UID, whole


class SummaryCache:
    """The process's summaries: an LRU of at most `max_entries` (0: nothing is kept)."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[_Key, bytes] = OrderedDict()
        self._scopes = itertools.count(1)
        # Each scope's keys: ending a session or dropping a folder touches its own entries
        # only, not the whole LRU (thousands of sessions end together at shutdown).
        self._keys: dict[int, set[_Key]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<SummaryCache {len(self._entries)}/{self.max_entries}>"

    def scope(self) -> SummaryScope:
        """A new scope, for one session: its entries are its own."""
        return SummaryScope(self, next(self._scopes))

    def _get(self, key: _Key) -> bytes | None:
        data = self._entries.get(key)
        if data is not None:
            self._entries.move_to_end(key)
        return data

    def _put(self, key: _Key, data: bytes) -> None:
        if not self.max_entries or len(data) > MAX_ENTRY_BYTES:
            return
        self._keys.setdefault(key[0], set()).add(key)
        self._entries[key] = data
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            evicted, _ = self._entries.popitem(last=False)
            self._forget(evicted)

    def _drop(self, scope: int, path: str | None = None) -> None:
        """Every entry of `scope` (of its folder `path` only, when given)."""
        doomed = [k for k in self._keys.get(scope, ()) if path is None or k[1] == path]
        for key in doomed:
            del self._entries[key]
            self._forget(key)

    def _forget(self, key: _Key) -> None:
        keys = self._keys[key[0]]
        keys.discard(key)
        if not keys:
            del self._keys[key[0]]


class SummaryScope:
    """One session's part of the `SummaryCache`."""

    __slots__ = ("_cache", "_id", "_validity")

    def __init__(self, cache: SummaryCache, scope: int) -> None:
        self._cache = cache
        self._id = scope
        self._validity: dict[str, int] = {}  # the UIDVALIDITY last seen per folder

    def __repr__(self) -> str:
        return f"<SummaryScope {self._id} of {self._cache!r}>"

    def get(
        self, path: str, uid_validity: int, uids: Iterable[int], *, whole: bool = False
    ) -> dict[int, bytes]:
        """The kept summaries among `uids` of `path` as it is now (`uid_validity`); `whole`:
        those of the message details (values not cut, all header fields), kept apart."""
        self._seen(path, uid_validity)
        found = {}
        for uid in uids:
            data = self._cache._get((self._id, path, uid_validity, uid, whole))
            if data is not None:
                found[uid] = data
        return found

    def put(
        self,
        path: str,
        uid_validity: int,
        summaries: Mapping[int, bytes],
        *,
        whole: bool = False,
    ) -> None:
        self._seen(path, uid_validity)
        for uid, data in summaries.items():
            self._cache._put((self._id, path, uid_validity, uid, whole), data)

    def folder_synced(self, path: str, uid_validity: int | None) -> None:
        """The sync found `path` at `uid_validity` (None: deleted): other entries of it go."""
        if uid_validity is not None:
            self._seen(path, uid_validity)
        elif self._validity.pop(path, None) is not None:
            self._cache._drop(self._id, path)

    def close(self) -> None:
        """The session ended: its entries go."""
        self._validity.clear()
        self._cache._drop(self._id)

    def _seen(self, path: str, uid_validity: int) -> None:
        # A new UIDVALIDITY (the folder was recreated or renumbered, RFC 3501 §2.3.1.1): the
        # old entries could never be asked for again (the key holds the UIDVALIDITY); the
        # memory they hold goes at once.
        known = self._validity.get(path)
        if known != uid_validity:
            if known is not None:
                self._cache._drop(self._id, path)
            self._validity[path] = uid_validity
