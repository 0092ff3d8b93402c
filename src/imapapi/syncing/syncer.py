"""The sync loop of one account: sync every folder, then wait for the next change and sync what
changed, until the connection fails (DESIGN.md §5).

Change detection: NOTIFY (RFC 5465) where offered, so every folder is watched on the one primary
connection; otherwise IDLE on INBOX and STATUS polling of the other folders. One folder's sync
is `folder.py` (the comparisons themselves are the pure functions of `sync/`); this module keeps
the folder list, decides which folders need a sync, and commits (a first sync all at once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from imapapi.accounts.model import AccountConfig
from imapapi.errors import CommandFailedError, NetworkError
from imapapi.imap import ImapConnection
from imapapi.imap import unsolicited as u
from imapapi.imap.types import FetchResult, MailboxInfo, MailboxStatus
from imapapi.store.base import FolderState, NewEvent, Store
from imapapi.sync import events as ev
from imapapi.sync.diff import counters_changed
from imapapi.sync.mailboxes import assign_special_use, diff_listing
from imapapi.syncing.folder import EmptyFolder, FolderSync, known_uids, select_for_sync
from imapapi.syncing.model import Folder, SyncStats, stored_flags

__all__ = ["FULL_RESCAN_POLLS", "AccountSyncer", "known_uids", "stored_flags"]

log = logging.getLogger(__name__)

# Gmail shows one message under every label; imapapi syncs only these (DESIGN.md §5), so each
# message is reported once, with its labels.
GMAIL_FOLDERS = ("\\All", "\\Junk", "\\Trash")
# Every folder's changes on the primary connection: new and expunged messages, flag changes
# (reported as STATUS with HIGHESTMODSEQ for non-selected mailboxes), created/deleted folders.
NOTIFY_ALL = "(PERSONAL (MessageNew MessageExpunge FlagChange MailboxName))"
# The selected mailbox (while a folder is being synced) reports as EXISTS/EXPUNGE/FETCH.
NOTIFY_SELECTED = "(SELECTED (MessageNew MessageExpunge FlagChange))"
# Rechecks in a row that found a change (a long burst) before the loop waits anyway: the
# notifications of the changes still to come are not lost, only no longer needed.
MAX_RECHECKS = 20
# Without NOTIFY and CONDSTORE, every Nth STATUS poll also compares all folders' flags.
FULL_RESCAN_POLLS = 10


class AccountSyncer:
    """Syncs one account over its primary connection; `run()` returns only by raising."""

    def __init__(
        self,
        account: AccountConfig,
        store: Store,
        *,
        on_committed: Callable[[], None],
        poll_interval: float,
        idle_restart: float,
        relist_interval: float = 300.0,
        fetch_chunk: int = 500,
        reply_text_max: int = 4096,
        on_folder: Callable[[str, int | None], None] | None = None,
    ) -> None:
        self.account = account
        self.store = store
        self._on_committed = on_committed
        # Told (path, UIDVALIDITY; None: deleted) of each folder state before it is committed,
        # so what the events report holds for the API's reads once they are sent.
        self._on_folder = on_folder
        self._poll_interval = poll_interval
        self._idle_restart = idle_restart
        self._relist_interval = relist_interval
        self._folders: dict[str, Folder] = {}
        self._first_sync = False  # True while indexing an account that was never synced
        # During the first sync nothing is committed until every folder is indexed: a crash
        # half-way must leave the account "never synced", or the folders not yet indexed would
        # look new on the next start and flood the receiver with messageNew for old mail.
        self._held: tuple[list[NewEvent], list[FolderState]] = ([], [])
        # The account's stored folder states, read once per run and kept by `_commit`: this
        # syncer is their only writer (the fence stops a node that lost the account), so every
        # sync need not read them all back (on Redis, every folder's flag map).
        self._stored: dict[str, FolderState] | None = None
        self.stats = SyncStats()
        self._folder_sync = FolderSync(
            account,
            store,
            commit=self._commit,
            stats=self.stats,
            fetch_chunk=fetch_chunk,
            reply_text_max=reply_text_max,
        )
        self.synced = asyncio.Event()  # set once every folder was synced after a connect
        self._dirty: set[str] = set()
        self._reported: set[str] = set()  # folders NOTIFY sent a STATUS for, to compare
        self._pushed: dict[str, dict[int, FetchResult]] = {}  # unsolicited FETCH by folder
        # A folder was synced since the last wait (or the relist interval passed): compare
        # every folder once more before waiting, see `_recheck`.
        self._recheck_due = False
        self._relist = False
        self._polls = 0
        self._statuses: dict[str, MailboxStatus] = {}  # from the last LIST-STATUS
        self._gmail = False  # X-GM-EXT-1 with an \All folder: labels instead of folders
        self._watched = "INBOX"  # the folder IDLE watches without NOTIFY
        # The fencing token of this node's lease on the account (several nodes on one Redis);
        # every commit carries it, so a node that lost the account cannot write stale state.
        self.fence: int | None = None

    @property
    def folders(self) -> dict[str, Folder]:
        return self._folders

    # --- the loop -----------------------------------------------------------------------------
    async def run(self, conn: ImapConnection) -> None:
        """Full sync, then wait for changes and sync what changed, until the connection fails.

        With NOTIFY the watch is set up before the first LIST, so nothing that happens during
        the initial sync is missed: it arrives as events and makes its folder dirty again.
        """
        self.synced.clear()
        self._dirty, self._relist, self._reported = set(), False, set()
        self._pushed, self._recheck_due = {}, False
        self._held = ([], [])
        self._stored = None  # read afresh: another node may have held the account meanwhile
        self._gmail = conn.has_capability("X-GM-EXT-1")
        notify = conn.has_capability("NOTIFY")
        if notify:
            await conn.notify_set(NOTIFY_SELECTED, NOTIFY_ALL, status=False)
        await self.sync_listing(conn)
        # Every folder after a (re)connect: changes made while we were away are found here.
        await self._sync_paths(conn, await self._needing_sync(conn, set(self._folders)))
        if self._first_sync:
            self._first_sync = False
            held, self._held = self._held, ([], [])
            await self._commit(*held, [])
        self.synced.set()
        rechecks = 0
        while True:
            if not (self._dirty or self._relist or self._reported):
                if notify and self._recheck_due and rechecks < MAX_RECHECKS:
                    # Close the sync window before waiting: see `_recheck`.
                    found = await self._recheck(conn)
                    rechecks = rechecks + 1 if found else 0
                    continue
                rechecks = 0
                if not notify and self._watched in self._folders:
                    await self._select_watched_for_idle(conn)
                if not self._dirty:
                    await self._wait(conn, notify)
            if self._relist:
                self._relist = False
                added = await self.sync_listing(conn)
                self._dirty |= await self._needing_sync(conn, added)
            if self._reported:
                reported, self._reported = self._reported, set()
                self._dirty |= await self._needing_sync(conn, reported)
            dirty, self._dirty = self._dirty, set()
            await self._sync_paths(conn, dirty)

    async def _recheck(self, conn: ImapConnection) -> bool:
        """Compare the folders synced since the last wait with the server once more, now that
        none is selected; True if any differs (it is dirty again).

        A change that lands while the folders are being synced is in neither the answers
        already read nor, on every server, a notification: Dovecot reports changes to the
        selected mailbox only with the next command's answer, and its NOTIFY STATUS for the
        other mailboxes (RFC 5465 §5.1) leaves out some of what happened while one was
        selected, so under a burst a change could wait unreported until the folder's next one.
        Every folder is compared (one LIST-STATUS, RFC 5819): the lost notifications are not
        only the synced folders'. What happens after this check is reported by NOTIFY, as no
        folder is selected any more.
        """
        self._recheck_due = False
        if conn.has_capability("LIST-STATUS"):
            # One round trip for every folder; also finds folders created meanwhile.
            added = await self.sync_listing(conn)
            dirty = await self._needing_sync(conn, set(self._folders) | added, strict=False)
        else:
            dirty = await self._poll_status(conn)  # none is selected: every folder
        self._take_events(conn)
        self._dirty |= dirty
        if dirty:
            log.debug("%s: changed while synced: %s", self.account.account, sorted(dirty))
        return bool(dirty)

    async def _select_watched_for_idle(self, conn: ImapConnection) -> None:
        """Without NOTIFY, IDLE watches the selected INBOX (All Mail on Gmail; RFC 2177); a
        change that slipped in since it was last synced shows in the EXAMINE answer."""
        path = self._watched
        if conn.selected == path:
            return
        selected = await select_for_sync(conn, path, conn.has_capability("CONDSTORE"))
        known = (await self._stored_folders()).get(path)
        if counters_changed(
            known,
            uid_validity=selected.uid_validity,
            uid_next=selected.uid_next,
            messages=selected.exists,
            highest_modseq=selected.highest_modseq,
            unknown_modseq_is_change=False,
        ):
            self._dirty.add(path)

    async def _sync_paths(self, conn: ImapConnection, paths: set[str]) -> None:
        if not paths:
            return
        stored = await self._stored_folders()
        # INBOX first: it is where the news usually is.
        for path in sorted(paths, key=lambda p: (p.upper() != "INBOX", p)):
            folder = self._folders.get(path)
            if folder is None:
                continue
            try:
                await self.sync_folder(conn, folder, stored.get(path))
            except CommandFailedError as exc:
                # A NO/BAD leaves the connection up: the folder was deleted or created again
                # since it was listed (Dovecot: "Mailbox was deleted under us"), or the server
                # cannot open it. Dropping the connection would stop every folder's sync (and
                # the account's API calls) for that one. It is tried again when the server
                # reports it (NOTIFY, a poll) or the folders are listed again; not at once,
                # which would loop for a folder the server never opens.
                log.info(
                    "%s: %s not synced: %s", self.account.account, path, exc.message,
                    extra={"account": self.account.account},
                )  # fmt: skip
            else:
                self._recheck_due = True
            self._take_events(conn)
        if conn.selected is not None and conn.has_capability("NOTIFY"):
            # Without a selected mailbox every change arrives as STATUS (RFC 5465 §5.1), one
            # uniform signal for all folders.
            await conn.unselect()
            self._take_events(conn)

    def _take_events(self, conn: ImapConnection) -> int:
        """Drain the connection's unsolicited responses into dirty folders / a relist, each
        handled by name (`_ON_EVENT`: `_on_Bye`, `_on_FetchUpdate` …); those without a handler
        (RECENT, FLAGS, an ALERT) change nothing here.

        EXISTS, EXPUNGE, VANISHED and FETCH name no mailbox: they belong to the one selected
        while they arrived, which the connection notes on each (`mailbox`).
        """
        taken = 0
        while not conn.events.empty():
            event = conn.events.get_nowait()
            taken += 1
            handler = _ON_EVENT.get(type(event).__name__)
            if handler is not None:
                handler(self, conn, event)
        return taken

    def _on_ConnectionClosed(self, conn: ImapConnection, event: u.ConnectionClosed) -> None:
        raise NetworkError(event.reason)

    def _on_Bye(self, conn: ImapConnection, event: u.Bye) -> None:
        raise NetworkError(f"the server said BYE: {event.text}")

    def _on_MailboxStatusUpdate(self, conn: ImapConnection, event: u.MailboxStatusUpdate) -> None:
        # Compared with the stored state before anything is fetched: Dovecot, for one,
        # echoes a STATUS of every folder after the first IDLE, changed or not.
        self._statuses[event.status.path] = event.status
        self._reported.add(event.status.path)

    def _on_MailboxListUpdate(self, conn: ImapConnection, event: u.MailboxListUpdate) -> None:
        self._relist = True

    def _on_Exists(self, conn: ImapConnection, event: u.Exists) -> None:
        self._selected_changed(conn, event)

    def _on_Expunge(self, conn: ImapConnection, event: u.Expunge) -> None:
        self._selected_changed(conn, event)

    def _on_FetchUpdate(self, conn: ImapConnection, event: u.FetchUpdate) -> None:
        mailbox = self._selected_changed(conn, event)
        result = event.result
        if mailbox is not None and result.uid is not None:
            # Kept: not every server bumps MODSEQ for what it pushes (label changes, for
            # one), so CHANGEDSINCE alone could miss it.
            self._pushed.setdefault(mailbox, {})[result.uid] = result

    def _on_Vanished(self, conn: ImapConnection, event: u.Vanished) -> None:
        mailbox = self._selected_changed(conn, event)
        if mailbox is not None:
            # What was pushed for a message before it was expunged is void.
            pushed = self._pushed.get(mailbox, {})
            for uid in event.uids:
                pushed.pop(uid, None)

    def _selected_changed(
        self, conn: ImapConnection, event: u.Exists | u.Expunge | u.Vanished | u.FetchUpdate
    ) -> str | None:
        """Mark the event's mailbox dirty; the mailbox if what it pushed can be kept, else None.

        The mailbox selected when it arrived: by now another may be. Unknown (it came during a
        SELECT): the one selected now is synced again, to be sure, but nothing pushed is kept
        for a mailbox it may not belong to.
        """
        mailbox = event.mailbox or conn.selected
        if mailbox is None:
            return None
        self._dirty.add(mailbox)
        if event.mailbox is None:
            return None
        return mailbox

    async def _wait(self, conn: ImapConnection, notify: bool) -> None:
        """Block until the server reports a change (or a poll is due without NOTIFY)."""
        timeout = min(self._idle_restart, self._relist_interval if notify else self._poll_interval)
        if conn.has_capability("IDLE"):
            async with conn.idle():
                if notify:
                    arrived = await self._idle_until_change(conn, timeout)
                else:
                    arrived = await self._next_event(conn, timeout)
        else:
            arrived = await self._next_event(conn, min(timeout, 30.0))
            await conn.noop()
        self._take_events(conn)
        if not arrived and notify:
            self._recheck_due = True
        if not arrived and not notify:
            self._dirty |= await self._poll_status(conn)
            self._relist = True
            self._polls += 1
            if not conn.has_capability("CONDSTORE") and self._polls % FULL_RESCAN_POLLS == 0:
                # STATUS cannot see flag changes without HIGHESTMODSEQ (RFC 7162 §3.1.2):
                # compare every folder's flags now and then instead.
                self._dirty |= set(self._folders)

    async def _idle_until_change(self, conn: ImapConnection, timeout: float) -> bool:
        """In IDLE with NOTIFY: wait until the server reports something to sync; False when
        `timeout` passes first.

        A reported STATUS is compared with the stored state right here, still idling. When no
        folder differs (Dovecot echoes a STATUS of every folder after the first IDLE, changed
        or not) the IDLE goes on: ending it and starting it again would cost a round trip, and
        the server's work, per account. Anything else ends the IDLE as any event did before.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self._next_event(conn, deadline - loop.time()):
            self._take_events(conn)
            if self._dirty or self._relist or not self._reported:
                return True
            reported, self._reported = self._reported, set()
            self._dirty |= await self._needing_sync(conn, reported)
            if self._dirty:
                return True
        return False

    @staticmethod
    async def _next_event(conn: ImapConnection, timeout: float) -> bool:
        """Wait for the first unsolicited response (left in the queue); False on timeout."""
        try:
            async with asyncio.timeout(timeout):  # not wait_for: keeps a cancellation
                first = await conn.events.get()
        except TimeoutError:
            return False
        conn.events.put_nowait(first)  # the queue is ours alone; order is kept for 1 item
        return True

    async def _poll_status(self, conn: ImapConnection) -> set[str]:
        """STATUS every folder but the selected one; those that differ from the store are dirty."""
        stored = await self._stored_folders()
        dirty = set()
        for path in self._folders:
            if path == conn.selected:
                continue
            status = await conn.status(path)
            if counters_changed(
                stored.get(path),
                uid_validity=status.uid_validity,
                uid_next=status.uid_next,
                messages=status.messages,
                highest_modseq=status.highest_modseq,
                unknown_modseq_is_change=False,
            ):
                dirty.add(path)
        return dirty

    async def _stored_folders(self) -> dict[str, FolderState]:
        """path → stored state, including what a first sync holds back until it commits."""
        stored = dict(await self._committed_folders())
        stored.update({f.path: f for f in self._held[1]})
        return stored

    async def _committed_folders(self) -> dict[str, FolderState]:
        """path → state as committed to the store."""
        if self._stored is None:
            folders = await self.store.get_folders(self.account.account)
            self._stored = {f.path: f for f in folders}
        return self._stored

    # --- folder list --------------------------------------------------------------------------
    async def sync_listing(self, conn: ImapConnection) -> set[str]:
        """LIST the folders; forget removed ones (mailboxDeleted); returns the added paths."""
        everything, self._statuses = await conn.list_with_status()
        listed: list[MailboxInfo] = [m for m in everything if m.selectable]
        uses = assign_special_use(listed)
        self._watched = "INBOX"
        if self._gmail and "\\All" in uses.values():
            listed = [m for m in listed if uses.get(m.path) in GMAIL_FOLDERS]
            self._watched = next(p for p, use in uses.items() if use == "\\All")
        self._folders = {m.path: Folder(m.path, uses.get(m.path), m.delimiter) for m in listed}
        stored = dict(await self._committed_folders())
        self._first_sync = self._first_sync or not stored
        change = diff_listing(stored, self._folders)
        if change.removed:
            events = []
            for path in change.removed:
                state = stored[path]
                ref = ev.FolderRef(
                    self.account.account, path, state.special_use, state.index, state.uid_validity
                )
                events.append(ev.mailbox_deleted(ref))
            await self._commit(events, [], list(change.removed))
        return set(change.added)

    async def _needing_sync(
        self, conn: ImapConnection, paths: set[str], *, strict: bool = True
    ) -> set[str]:
        """The paths whose LIST-STATUS answer (RFC 5819) differs from what is stored.

        Unchanged folders are skipped and new empty folders are recorded straight from their
        STATUS, without an EXAMINE each: at start-up, thousands of accounts times a handful of
        folders is most of the work. Without HIGHESTMODSEQ a flag change is invisible to
        STATUS, so such folders are always compared.
        """
        stored = await self._stored_folders()
        condstore = conn.has_capability("CONDSTORE")
        dirty = set()
        empty = []
        for path in paths:
            status = self._statuses.get(path)
            known = stored.get(path)
            folder = self._folders.get(path)
            if status is None or folder is None or not status.uid_validity:
                # UIDVALIDITY 0 is no value (RFC 3501 §9: nz-number): Dovecot answers it for
                # a folder created an instant ago. Stored, it would make the first EXAMINE
                # look like a reset, and the folder's first messages would go unannounced.
                dirty.add(path)
            elif known is not None:
                if counters_changed(
                    known,
                    uid_validity=status.uid_validity,
                    uid_next=status.uid_next,
                    messages=status.messages,
                    highest_modseq=status.highest_modseq,
                    unknown_modseq_is_change=strict,
                ):
                    dirty.add(path)
            elif status.messages == 0 and status.uid_next is not None:
                modseq = status.highest_modseq if condstore else None
                empty.append(EmptyFolder(folder, status.uid_validity, status.uid_next, modseq))
            else:
                dirty.add(path)
        # Sorted: a first sync numbers the folders in the same order whatever the set's order.
        empty.sort(key=lambda e: e.folder.path)
        await self._folder_sync.record_empty(empty, first_sync=self._first_sync)
        return dirty

    # --- one folder ---------------------------------------------------------------------------
    async def sync_folder(
        self, conn: ImapConnection, folder: Folder, stored: FolderState | None
    ) -> None:
        """Compare one folder with its stored state and commit the events (`folder.py`)."""
        await self._folder_sync.sync(
            conn,
            folder,
            stored,
            first_sync=self._first_sync,
            gmail=self._gmail,
            pushed=self._pushed.pop(folder.path, {}),
        )

    async def _commit(
        self, events: list[NewEvent], folders: list[FolderState], removed: list[str]
    ) -> None:
        if self._on_folder is not None:
            for state in folders:
                self._on_folder(state.path, state.uid_validity)
            for path in removed:
                self._on_folder(path, None)
        if self._first_sync:
            self._held[0].extend(events)
            self._held[1].extend(folders)
            return
        await self.store.commit_sync(
            self.account.account, events, folders, removed, fence=self.fence
        )
        if self._stored is not None:
            self._stored.update({f.path: f for f in folders})
            for path in removed:
                self._stored.pop(path, None)
        self.stats.events += len(events)
        self.stats.last_sync = time.time()
        if events:
            self._on_committed()


# The handler of each unsolicited event (`imap/unsolicited.py`) by its class name, as the
# connection finds its untagged handlers (`imap/core.py`, `_UNTAGGED`).
_ON_EVENT: dict[str, Callable[[AccountSyncer, ImapConnection, Any], None]] = {
    attr[len("_on_") :]: getattr(AccountSyncer, attr)
    for attr in dir(AccountSyncer)
    if attr.startswith("_on_")
}
