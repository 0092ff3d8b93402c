"""A small pool of command connections per account, for API calls (issue 5, DESIGN.md §5).

One command connection made concurrent API calls of an account queue behind each other; a few
let them overlap (the mail server works on one while imapapi parses another). Connections are
opened on demand through the account's `Connector` (connect.py), only when every open one is
busy, and each is closed after it was idle for a while. Each keeps the folder it last selected,
with a `FolderView` fed by the untagged responses the server sends on it. An API call leases a
`CommandConnection`, the connection with its view; a caller that names a folder is given, when
one is free, the connection that has it selected already: no SELECT/EXAMINE round trip.

Waiting callers are served in order as connections come free (a connection goes first to a
waiter that wants its selected folder), and give up with ServerTimeoutError after
`wait_timeout` so an overloaded account answers 503 instead of piling up requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from imapapi.errors import CommandFailedError, ImapApiError, MailServerError, ServerTimeoutError
from imapapi.imap import ConnectionState, ImapConnection
from imapapi.sessions.connect import Connector
from imapapi.sessions.folder_view import FolderView
from imapapi.sessions.summaries import SummaryCache, SummaryScope

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class CommandConnection:
    """A logged-in command connection of `account` and the `FolderView` of what is selected on
    it, handed to one API call at a time by `CommandPool.lease`. The same object comes back
    for as long as the connection stays open; the view follows every selection made on it.
    `summaries`: the account's kept message summaries (`summaries.py`), shared by its
    connections."""

    account: str
    conn: ImapConnection
    view: FolderView
    summaries: SummaryScope


class CommandLeases(Protocol):
    """Where an API operation leases command connections of one account, and sees what they
    have selected (`CommandPool.views`). `AccountSession` is one: its leases answer 503 at
    once while the account is not connected."""

    def command(
        self, folder: str | None = None
    ) -> contextlib.AbstractAsyncContextManager[CommandConnection]: ...

    def command_views(self) -> list[FolderView]: ...


@dataclass(eq=False)
class _Slot:
    command: CommandConnection | None = None
    busy: bool = False
    closer: asyncio.TimerHandle | None = None
    used: float = 0.0  # when it was last given back (loop time)

    @property
    def usable(self) -> bool:
        return self.command is not None and self.command.conn.state not in (
            ConnectionState.LOGOUT,
            ConnectionState.NOT_CONNECTED,
        )

    @property
    def path(self) -> str | None:
        """The folder selected on its connection, if it is open."""
        return self.command.view.path if self.command is not None else None


class CommandPool:
    """Up to `size` command connections of one account; see the module docstring."""

    def __init__(
        self,
        connector: Connector,
        *,
        size: int,
        idle_close: float,
        wait_timeout: float,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        summaries: SummaryScope | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one connection")
        self._connector = connector
        self._slots = [_Slot() for _ in range(size)]
        self._idle_close = idle_close
        self._wait_timeout = wait_timeout
        self._spawn = spawn
        self._waiters: deque[tuple[str | None, asyncio.Future[_Slot]]] = deque()
        self.summaries = summaries if summaries is not None else SummaryCache(0).scope()

    def __repr__(self) -> str:
        busy = sum(s.busy for s in self._slots)
        return f"<CommandPool open={self.open_count} busy={busy} size={len(self._slots)}>"

    @property
    def open_count(self) -> int:
        return sum(slot.command is not None for slot in self._slots)

    def views(self) -> list[FolderView]:
        """Views of the open connections (busy or not), e.g. to find a mailbox index's path."""
        return [slot.command.view for slot in self._slots if slot.command and slot.usable]

    @contextlib.asynccontextmanager
    async def lease(self, *, folder: str | None = None) -> AsyncIterator[CommandConnection]:
        """A logged-in connection for one API call, preferably one with `folder` selected.

        A connection that failed below the IMAP level (network, timeout, protocol) is closed,
        so the next call opens a fresh one; a NO/BAD leaves it open.
        """
        slot = await self._acquire(folder)
        try:
            command = await self._ready(slot)
            try:
                yield command
            except ImapApiError as exc:
                if isinstance(exc, MailServerError) and not isinstance(exc, CommandFailedError):
                    await self._close_slot(slot)
                raise
        finally:
            self._release(slot)

    def folder_synced(self, path: str, uid_validity: int | None) -> None:
        """The account's sync found `path` at `uid_validity` (None: deleted). A kept selection
        of it at another UIDVALIDITY is forgotten, so the next call SELECTs anew: a server
        session may go on serving the old folder's messages for a command or more after it
        was deleted and created again (Dovecot 2.3 does, before it notices). The summaries of
        the old folder go too."""
        for slot in self._slots:
            view = slot.command.view if slot.command is not None else None
            if view is not None and view.is_selected(path) and view.uid_validity != uid_validity:
                view.reset()
        self.summaries.folder_synced(path, uid_validity)

    async def close(self) -> None:
        """Log out of every connection (used or not) and fail the callers still waiting."""
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(ServerTimeoutError("the account is stopping"))
        self._waiters.clear()
        await asyncio.gather(*(self._close_slot(slot) for slot in self._slots))
        self.summaries.close()

    # --- handing out ------------------------------------------------------------------------------

    def _pick(self, folder: str | None) -> _Slot | None:
        """A free slot for a call that reads `folder` (None: no folder in particular).

        First one that has `folder` selected; else an open one with nothing selected; else,
        for a folder, a new connection rather than one whose folder is kept (changing it
        costs a SELECT now and another when that folder is read again); else the open one
        used least recently.
        """
        free = [slot for slot in self._slots if not slot.busy]
        if not free:
            return None
        opened = sorted((slot for slot in free if slot.usable), key=lambda slot: slot.used)
        if folder is not None:
            for slot in opened:
                if slot.path == folder:
                    return slot
        for slot in opened:
            if slot.path is None:
                return slot
        unopened = [slot for slot in free if not slot.usable]
        if opened and (folder is None or not unopened):
            return opened[0]
        return unopened[0]

    async def _acquire(self, folder: str | None) -> _Slot:
        slot = None if self._waiters else self._pick(folder)  # no overtaking of waiters
        if slot is not None:
            slot.busy = True
            return slot
        waiter: asyncio.Future[_Slot] = asyncio.get_running_loop().create_future()
        entry = (folder, waiter)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(self._wait_timeout):
                return await waiter
        except BaseException as exc:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed over just as we gave up: pass it on
            else:
                waiter.cancel()
            if isinstance(exc, TimeoutError):
                raise ServerTimeoutError("the account's connections are busy; try again") from exc
            raise

    def _release(self, slot: _Slot) -> None:
        """Give the slot to the next waiter (one that wants its folder first), or mark it free
        and start its idle timer."""
        chosen = None
        path = slot.path if slot.usable else None
        if path is not None:
            chosen = next(
                (entry for entry in self._waiters if entry[0] == path and not entry[1].done()),
                None,
            )
        if chosen is None:
            chosen = next((entry for entry in self._waiters if not entry[1].done()), None)
        if chosen is not None:
            self._waiters.remove(chosen)
            chosen[1].set_result(slot)  # stays busy: it changes hands
            return
        slot.busy = False
        slot.used = asyncio.get_running_loop().time()
        if slot.command is not None:
            slot.closer = asyncio.get_running_loop().call_later(
                self._idle_close, lambda: self._spawn(self._close_idle(slot))
            )

    async def _ready(self, slot: _Slot) -> CommandConnection:
        if slot.closer is not None:
            slot.closer.cancel()
            slot.closer = None
        if slot.usable:
            assert slot.command is not None
            return slot.command
        await self._close_slot(slot)  # a dead one: drop it before opening anew
        view = FolderView()
        # COMPRESS=DEFLATE on command connections only (DESIGN.md §6); a caller waits on it.
        conn = await self._connector.open(
            "command", compress=True, on_event=view.on_event, bounded=True
        )
        hook = conn.on_command

        def on_command(name: str, outcome: str, seconds: float) -> None:
            view.on_command(name)
            if hook is not None:
                hook(name, outcome, seconds)

        # The view must hear of every SELECT/EXAMINE/UNSELECT, whoever sends it.
        conn.on_command = on_command
        slot.command = CommandConnection(self._connector.account, conn, view, self.summaries)
        return slot.command

    # --- closing ----------------------------------------------------------------------------------

    async def _close_idle(self, slot: _Slot) -> None:
        if not slot.busy:
            await self._close_slot(slot)

    async def _close_slot(self, slot: _Slot) -> None:
        if slot.closer is not None:
            slot.closer.cancel()
            slot.closer = None
        command, slot.command = slot.command, None
        if command is not None:
            command.view.reset()
            with contextlib.suppress(ImapApiError, TimeoutError):
                await asyncio.wait_for(command.conn.logout(), 2.0)
            await command.conn.close()
