"""What one command connection knows of the folder selected on it (issue 5).

A folder stays selected on its command connection between API calls, so a listing of a big
folder costs one FETCH instead of an EXAMINE whose price grows with the folder (~40 ms for
20,000 messages on Dovecot). That is only correct while the connection's picture of the folder
matches the server's session, so `FolderView` follows the untagged responses the server sends
with every command anyway (RFC 3501 §7.3.1 EXISTS, §7.4.1 EXPUNGE, RFC 7162 §3.2.10 VANISHED)
and keeps the message sequence → UID map that turns a newest-first page into UIDs.

Pure: fed with events and command names, no I/O, so it is unit-tested with scripted events.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable

from imapapi.imap import (
    Alert,
    Bye,
    ConnectionClosed,
    Exists,
    Expunge,
    FetchResult,
    FetchUpdate,
    Vanished,
)
from imapapi.imap.unsolicited import UnsolicitedEvent

# Commands after which the server's session shows another folder, or none (RFC 3501 §6.3.1:
# a SELECT deselects even when it fails), so what was known no longer holds. DELETE and RENAME
# can remove the selected folder from under the session.
_DESELECTING = frozenset({"SELECT", "EXAMINE", "UNSELECT", "CLOSE", "DELETE", "RENAME"})
MAX_EXPUNGED = 10_000
MAX_UPDATES = 1_000


class FolderView:
    """The selected folder of one connection: path, UIDVALIDITY, mailbox index, EXISTS and
    (once a listing asked for it) the UID of every message sequence number.

    `changes` counts the membership changes the server reported (arrivals and expunges), so a
    caller can tell whether the folder moved while its command ran. Flag changes do not count:
    they are kept in `updates` for the results they refresh. `expunged` holds the UIDs reported
    gone since the folder was selected (UIDs are never reused, RFC 3501 §2.3.1.1), so a message
    the server still served from its session's view is known to be gone all the same.
    """

    __slots__ = (
        "changes",
        "exists",
        "expunged",
        "highest_modseq",
        "index",
        "path",
        "read_only",
        "uid_validity",
        "uids",
        "updates",
    )

    def __init__(self) -> None:
        self.changes = 0
        self.updates: dict[int, FetchResult] = {}
        self.expunged: set[int] = set()
        self.reset()

    def __repr__(self) -> str:
        mapped = "-" if self.uids is None else len(self.uids)
        return f"<FolderView {self.path!r} exists={self.exists} mapped={mapped}>"

    def reset(self) -> None:
        """Nothing is known (nothing selected, or the selection changed under us)."""
        self.path: str | None = None
        self.uid_validity = 0
        self.index = 0
        self.read_only = True
        self.exists = 0
        self.highest_modseq: int | None = None
        self.uids: array[int] | None = None
        self.updates.clear()
        self.expunged.clear()
        self.changes += 1

    def opened(
        self,
        path: str,
        *,
        uid_validity: int,
        index: int,
        exists: int,
        read_only: bool,
        highest_modseq: int | None = None,
    ) -> None:
        """A SELECT/EXAMINE of `path` just completed with these values."""
        self.reset()
        self.path = path
        self.uid_validity = uid_validity
        self.index = index
        self.exists = exists
        self.read_only = read_only
        self.highest_modseq = highest_modseq

    def is_selected(self, path: str) -> bool:
        return self.path is not None and self.path == path

    # --- the sequence → UID map -------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """The map names every message the server's session has."""
        return self.uids is not None and len(self.uids) == self.exists

    def set_uids(self, uids: Iterable[int]) -> None:
        """All UIDs of the folder, from a UID SEARCH ALL that no change report interrupted."""
        self.uids = array("I", sorted(set(uids)))
        self.exists = len(self.uids)

    def extend_uids(self, new: Iterable[int]) -> None:
        """UIDs of messages that arrived after the map was built (above its last UID).

        When they do not account for every arrival, the map is dropped to be built again,
        rather than trusted with a gap.
        """
        if self.uids is None:
            return
        last = self.uids[-1] if self.uids else 0
        self.uids.extend(sorted({uid for uid in new if uid > last}))
        if len(self.uids) != self.exists:
            self.uids = None

    def page(self, page: int, page_size: int) -> list[int]:
        """UIDs of a newest-first page (sequence numbers are in UID order, RFC 3501 §2.3.1.2);
        needs a complete map."""
        assert self.uids is not None
        high = self.exists - page * page_size
        if high < 1:
            return []
        low = max(1, high - page_size + 1)
        return list(reversed(self.uids[low - 1 : high]))

    # --- what the server reports ------------------------------------------------------------------

    def on_command(self, name: str) -> None:
        """A command ran on the connection (its owner's hook): some end what we know."""
        if name.upper() in _DESELECTING:
            self.reset()

    def on_event(self, event: UnsolicitedEvent) -> None:
        """An untagged response that was not part of a command's result."""
        if isinstance(event, ConnectionClosed | Bye):
            self.reset()
        elif isinstance(event, Alert) and event.status != "OK":
            # Dovecot's answer when the selected folder was deleted and created again under
            # the session ("* NO Internal error"): nothing known about it can be trusted.
            self.reset()
        elif self.path is None:
            return
        elif isinstance(event, Exists):
            self._on_exists(event.count)
        elif isinstance(event, Expunge):
            self._on_expunge(event.seq)
        elif isinstance(event, Vanished):
            if not event.earlier:  # EARLIER only answers a command that asked (RFC 7162)
                self._on_vanished(event.uids)
        elif isinstance(event, FetchUpdate) and event.result.uid is not None:
            if len(self.updates) >= MAX_UPDATES:
                self.updates.clear()  # only the command running now reads them
            self.updates[event.result.uid] = event.result
        if len(self.expunged) > MAX_EXPUNGED:
            # A folder that churns this much while selected: start afresh (the next call
            # selects it again) rather than keep a set that only grows.
            self.reset()

    def _on_exists(self, count: int) -> None:
        if count == self.exists:
            return
        if count < self.exists:
            # EXISTS never shrinks without an expunge report (RFC 3501 §7.3.1): we lost track.
            self.uids = None
        self.exists = count
        self.changes += 1

    def _on_expunge(self, seq: int) -> None:
        # RFC 3501 §7.4.1: later sequence numbers shift down by one at once.
        if self.uids is not None:
            if seq <= len(self.uids):
                self.expunged.add(self.uids[seq - 1])
                del self.uids[seq - 1]
            elif seq > self.exists:
                self.uids = None  # a number we never had
        self.exists = max(0, self.exists - 1)
        self.changes += 1

    def _on_vanished(self, uids: Iterable[int]) -> None:
        # RFC 7162 §3.2.10: like EXPUNGE by UID (the count drops by each message removed).
        self.expunged.update(uids)
        if self.uids is None:
            self.exists = max(0, self.exists - len(tuple(uids)))
            self.changes += 1
            return
        known = self.uids
        last = known[-1] if known else 0
        for uid in sorted(set(uids), reverse=True):
            at = bisect.bisect_left(known, uid)
            if at < len(known) and known[at] == uid:
                del known[at]
                self.exists -= 1
            elif uid > last and self.exists > len(known):
                self.exists -= 1  # one of the arrivals whose UID we had not fetched yet
        self.changes += 1
