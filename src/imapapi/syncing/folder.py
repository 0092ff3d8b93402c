"""One folder's sync: select it, choose how to compare it with its stored state (`Strategy`),
build the events from the difference (the pure functions of `sync/`), have the new messages
enriched (`enrich.py`), and commit the events with the folder's new state.

CONDSTORE/QRESYNC (RFC 7162) make a resync of an unchanged folder cost one SELECT; without them
the uid → flags maps are compared in full.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from imapapi.accounts.model import AccountConfig
from imapapi.errors import ProtocolError
from imapapi.imap import ImapConnection
from imapapi.imap.types import FetchResult, SelectedMailbox
from imapapi.store.base import FolderState, NewEvent, Store
from imapapi.sync import events as ev
from imapapi.sync import flagmap
from imapapi.sync.diff import FolderDiff, apply, diff_full, diff_partial, merge_pushed
from imapapi.sync.flagmap import FlagSet
from imapapi.syncing.enrich import Enricher
from imapapi.syncing.model import Folder, IndexTiming, SyncStats, stored_flags

log = logging.getLogger(__name__)

# The account's commit: events, folder states and removed paths written together.
Commit = Callable[[list[NewEvent], list[FolderState], list[str]], Awaitable[None]]


class Strategy(enum.Enum):
    """How a selected folder is compared with its stored state."""

    UNCHANGED = "unchanged"  # HIGHESTMODSEQ, UIDNEXT and count as stored, nothing pushed
    CHANGED_SINCE = "changedSince"  # UID FETCH (FLAGS) (CHANGEDSINCE the stored HIGHESTMODSEQ)
    FULL = "full"  # UID FETCH 1:* (UID FLAGS), compared with the whole stored map
    EMPTY = "empty"  # no message on the server: whatever is stored is gone


@dataclass(frozen=True, slots=True)
class Comparison:
    """What a strategy found: the difference, and the flags and MODSEQs it fetched."""

    diff: FolderDiff
    fetched: dict[int, FlagSet] = field(default_factory=dict)
    modseqs: dict[int, int] = field(default_factory=dict)


def choose_strategy(
    selected: SelectedMailbox,
    stored: FolderState | None,
    *,
    condstore: bool,
    pushed: Mapping[int, FetchResult],
) -> Strategy:
    """`stored` is None for a folder not synced before or whose UIDVALIDITY changed; `pushed`
    is what the server pushed as FETCH for the folder since it was last synced."""
    usable_modseq = (
        condstore
        and not selected.nomodseq
        and selected.highest_modseq is not None
        and stored is not None
        and stored.highest_modseq is not None
    )
    if (
        usable_modseq
        and not pushed
        and stored is not None
        and selected.highest_modseq == stored.highest_modseq
        and selected.uid_next == stored.uid_next
        and selected.exists == stored.messages
    ):
        return Strategy.UNCHANGED
    if usable_modseq and stored is not None and stored.highest_modseq is not None:
        return Strategy.CHANGED_SINCE
    if selected.exists:
        return Strategy.FULL
    return Strategy.EMPTY


async def compare(
    conn: ImapConnection,
    strategy: Strategy,
    selected: SelectedMailbox,
    stored: FolderState | None,
    old: dict[int, FlagSet],
    pushed: Mapping[int, FetchResult],
    *,
    gmail: bool,
) -> Comparison:
    """Run `strategy` on the selected folder: how it differs from `old`, the stored map."""
    if strategy is Strategy.UNCHANGED:
        return Comparison(FolderDiff())
    if strategy is Strategy.CHANGED_SINCE:
        assert stored is not None and stored.highest_modseq is not None  # see choose_strategy
        answer = await conn.uid_fetch_flags(
            stored_flags,
            uids=known_uids(old, stored.uid_next, selected.uid_next),
            labels=gmail,
            changed_since=stored.highest_modseq,
            vanished="QRESYNC" in conn.enabled,
        )
        fetched, modseqs = answer.values, answer.modseqs
        for uid, result in pushed.items():
            if uid in old and uid not in fetched:
                fetched[uid] = merge_pushed(old[uid], result.flags, result.gmail_labels)
        diff = diff_partial(old, fetched, answer.vanished)
        if len(apply(old, diff, fetched)) != selected.exists:
            # Without QRESYNC expunges are invisible to CHANGEDSINCE: ask which UIDs exist.
            present = set(await conn.uid_search([b"ALL"])) if selected.exists else set()
            diff = diff_partial(old, fetched, [uid for uid in old if uid not in present])
        return Comparison(diff, fetched, modseqs)
    if strategy is Strategy.FULL:
        answer = await conn.uid_fetch_flags(stored_flags, labels=gmail)
        return Comparison(diff_full(old, answer.values), answer.values, answer.modseqs)
    return Comparison(diff_full(old, {}))


class FolderSync:
    """Syncs one folder of an account at a time; commits through the account's syncer."""

    def __init__(
        self,
        account: AccountConfig,
        store: Store,
        *,
        commit: Commit,
        stats: SyncStats,
        fetch_chunk: int,
        reply_text_max: int = 4096,
    ) -> None:
        self.account = account
        self.store = store
        self._commit = commit
        self._stats = stats
        self._enricher = Enricher(
            account, store, fetch_chunk=fetch_chunk, reply_text_max=reply_text_max
        )
        # (path, UIDVALIDITY) → mailbox index, as bound in the store: a binding never changes
        # (only deleting the account removes it), so each folder asks the store once, not at
        # every sync.
        self._indexes: dict[tuple[str, int], int] = {}

    async def sync(
        self,
        conn: ImapConnection,
        folder: Folder,
        stored: FolderState | None,
        *,
        first_sync: bool,
        gmail: bool,
        pushed: dict[int, FetchResult],
    ) -> None:
        """Compare `folder` with `stored` and commit the events and its new state.

        `first_sync`: the account was never synced, its mail is indexed without messageNew
        (but for `notifyFrom`); `pushed`: FETCH the server pushed for it since its last sync.
        """
        started = time.monotonic()
        condstore = conn.has_capability("CONDSTORE")
        selected = await select_for_sync(conn, folder.path, condstore)
        if selected.uid_validity is None:
            raise ProtocolError(f"{folder.path}: the server sent no UIDVALIDITY")
        account = self.account.account
        events: list[NewEvent] = []
        announce = not first_sync  # quietly index what was there before registration
        index = await self._index(folder.path, selected.uid_validity)
        ref = ev.FolderRef(account, folder.path, folder.special_use, index, selected.uid_validity)
        if stored is not None and stored.uid_validity != selected.uid_validity:
            # RFC 3501 §2.3.1.1: every UID of the old folder is void. Ids of the old index now
            # answer 404; the folder is re-indexed without a messageNew flood.
            events.append(ev.mailbox_reset(ref, stored.uid_validity))
            stored, announce = None, False
        elif stored is None and announce:
            events.append(ev.mailbox_new(ref, folder.name))

        old = flagmap.decode(stored.messages_blob) if stored else {}
        strategy = choose_strategy(selected, stored, condstore=condstore, pushed=pushed)
        # A full index is timed for `stats.last_index`: from its fetch sent to its commit.
        index_started = time.perf_counter() if strategy is Strategy.FULL else None
        found = await compare(conn, strategy, selected, stored, old, pushed, gmail=gmail)

        diff, fetched, modseqs = found.diff, found.fetched, found.modseqs
        current = apply(old, diff, fetched)
        for uid in diff.deleted:
            events.append(ev.message_deleted(ref, uid))
        for change in diff.changed:
            events.append(
                ev.message_updated(ref, change, modseqs.get(change.uid, selected.highest_modseq))
            )
        events += await self._enricher.new_messages(
            conn, ref, list(diff.new), current, announce=announce, gmail=gmail
        )

        uid_next = selected.uid_next or (max(current) + 1 if current else 1)
        state = FolderState(
            account=account,
            path=folder.path,
            index=index,
            uid_validity=selected.uid_validity,
            uid_next=uid_next,
            highest_modseq=selected.highest_modseq if condstore else None,
            messages=len(current),
            special_use=folder.special_use,
            messages_blob=flagmap.encode(current),
        )
        await self._commit(events, [state], [])
        if index_started is not None:
            seconds = time.perf_counter() - index_started
            self._stats.last_index = IndexTiming(folder.path, len(current), seconds)
        self._stats.folders_synced += 1
        log.debug(
            "%s: synced %s (%d messages, %d events) in %.3fs",
            account,
            folder.path,
            len(current),
            len(events),
            time.monotonic() - started,
        )

    async def _index(self, path: str, uid_validity: int) -> int:
        index = self._indexes.get((path, uid_validity))
        if index is None:
            index = await self.store.mailbox_index(self.account.account, path, uid_validity)
            self._indexes[(path, uid_validity)] = index
        return index

    async def record_empty(self, empty: list[EmptyFolder], *, first_sync: bool) -> None:
        """Store empty folders straight from their STATUS, without selecting them; their
        indexes in one store round trip (a first sync finds several at once)."""
        if not empty:
            return
        account = self.account.account
        indexes = await self.store.mailbox_indexes(
            account, [(e.folder.path, e.uid_validity) for e in empty]
        )
        events = []
        states = []
        for e, index in zip(empty, indexes, strict=True):
            self._indexes[(e.folder.path, e.uid_validity)] = index
            folder = e.folder
            if not first_sync:
                ref = ev.FolderRef(account, folder.path, folder.special_use, index, e.uid_validity)
                events.append(ev.mailbox_new(ref, folder.name))
            states.append(
                FolderState(
                    account=account,
                    path=folder.path,
                    index=index,
                    uid_validity=e.uid_validity,
                    uid_next=e.uid_next,
                    highest_modseq=e.modseq,
                    messages=0,
                    special_use=folder.special_use,
                    messages_blob=flagmap.encode({}),
                )
            )
        await self._commit(events, states, [])


@dataclass(frozen=True, slots=True)
class EmptyFolder:
    """A folder whose STATUS says it holds no message: recorded without a SELECT."""

    folder: Folder
    uid_validity: int
    uid_next: int
    modseq: int | None


async def select_for_sync(conn: ImapConnection, path: str, condstore: bool) -> SelectedMailbox:
    """Select `path` read-write for syncing, although the sync never changes anything.

    Some servers keep their numbering only for what a read-write session has seen:
    Courier makes up a new UIDVALIDITY for every EXAMINE of a folder no client has
    selected read-write (each looked like a reset, RFC 3501 §2.3.1.1, and the folder's new
    mail went unannounced) and numbers the messages of a maildir's new/ afresh for each
    EXAMINE (one message was announced as uid 1, then again as uid 2). Read-write, the
    server files them. The cost is \\Recent for other clients, a flag RFC 9051 dropped.
    The connection never sends CLOSE, which would expunge: it leaves a folder by selecting
    the next one (RFC 3501 §6.3.1) or by `unselect`, which examines first where UNSELECT
    is missing.
    """
    return await conn.select(path, condstore=condstore)


def known_uids(old: dict[int, FlagSet], *uid_nexts: int | None) -> str:
    """The UID range of a CHANGEDSINCE fetch: every UID ever known, not `1:*`.

    `*` is the highest UID the folder holds now (RFC 3501 §6.4.8), and VANISHED (EARLIER)
    covers only the UIDs asked for (RFC 7162 §3.2.6): once the highest message is expunged,
    `1:*` no longer reaches it (Cyrus reads it so).
    """
    top = max([max(old, default=0), *((n - 1) for n in uid_nexts if n)])
    return f"1:{top}" if top > 0 else "1:*"
