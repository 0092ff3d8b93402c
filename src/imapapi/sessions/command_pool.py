"""A small pool of command connections per account, for API calls (issue 5, DESIGN.md §5).

One command connection made concurrent API calls of an account queue behind each other; a few
let them overlap (the mail server works on one while imapapi parses another). Connections are
opened on demand, only when every open one is busy, and each is closed after it was idle for a
while. Each keeps the folder it last selected, with a `FolderView` fed by the untagged responses
the server sends on it, and a caller that names a folder is given, when one is free, the
connection that has it selected already: no SELECT/EXAMINE round trip.

Waiting callers are served in order as connections come free (a connection goes first to a
waiter that wants its selected folder), and give up with ServerTimeoutError after
`wait_timeout` so an overloaded account answers 503 instead of piling up requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from imapapi.errors import CommandFailedError, ImapApiError, MailServerError, ServerTimeoutError
from imapapi.imap import ConnectionState, ImapConnection
from imapapi.imap.core import EventCallback
from imapapi.sessions.folder_view import FolderView

log = logging.getLogger(__name__)

# Opens a logged-in connection whose untagged events go to the callback given.
Opener = Callable[[EventCallback], Awaitable[ImapConnection]]


@dataclass(eq=False)
class _Slot:
    view: FolderView = field(default_factory=FolderView)
    conn: ImapConnection | None = None
    busy: bool = False
    closer: asyncio.TimerHandle | None = None
    used: float = 0.0  # when it was last given back (loop time)

    @property
    def usable(self) -> bool:
        return self.conn is not None and self.conn.state not in (
            ConnectionState.LOGOUT,
            ConnectionState.NOT_CONNECTED,
        )


class CommandPool:
    """Up to `size` command connections of one account; see the module docstring."""

    def __init__(
        self,
        opener: Opener,
        *,
        size: int,
        idle_close: float,
        wait_timeout: float,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one connection")
        self._opener = opener
        self._slots = [_Slot() for _ in range(size)]
        self._idle_close = idle_close
        self._wait_timeout = wait_timeout
        self._spawn = spawn
        self._waiters: deque[tuple[str | None, asyncio.Future[_Slot]]] = deque()

    def __repr__(self) -> str:
        busy = sum(s.busy for s in self._slots)
        return f"<CommandPool open={self.open_count} busy={busy} size={len(self._slots)}>"

    @property
    def open_count(self) -> int:
        return sum(slot.conn is not None for slot in self._slots)

    def view(self, conn: ImapConnection) -> FolderView:
        """The folder view of a connection this pool handed out."""
        for slot in self._slots:
            if slot.conn is conn:
                return slot.view
        raise LookupError(f"{conn!r} is not a connection of this pool")

    def views(self) -> list[FolderView]:
        """Views of the open connections (busy or not), e.g. to find a mailbox index's path."""
        return [slot.view for slot in self._slots if slot.usable]

    @contextlib.asynccontextmanager
    async def connection(self, *, folder: str | None = None) -> AsyncIterator[ImapConnection]:
        """A logged-in connection for one API call, preferably one with `folder` selected.

        A connection that failed below the IMAP level (network, timeout, protocol) is closed,
        so the next call opens a fresh one; a NO/BAD leaves it open.
        """
        slot = await self._acquire(folder)
        try:
            conn = await self._ready(slot)
            try:
                yield conn
            except ImapApiError as exc:
                if isinstance(exc, MailServerError) and not isinstance(exc, CommandFailedError):
                    await self._close_slot(slot)
                raise
        finally:
            self._release(slot)

    async def close(self) -> None:
        """Log out of every connection (used or not) and fail the callers still waiting."""
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(ServerTimeoutError("the account is stopping"))
        self._waiters.clear()
        await asyncio.gather(*(self._close_slot(slot) for slot in self._slots))

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
                if slot.view.is_selected(folder):
                    return slot
        for slot in opened:
            if slot.view.path is None:
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
        path = slot.view.path if slot.usable else None
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
        if slot.conn is not None:
            slot.closer = asyncio.get_running_loop().call_later(
                self._idle_close, lambda: self._spawn(self._close_idle(slot))
            )

    async def _ready(self, slot: _Slot) -> ImapConnection:
        if slot.closer is not None:
            slot.closer.cancel()
            slot.closer = None
        if slot.usable:
            assert slot.conn is not None
            return slot.conn
        await self._close_slot(slot)  # a dead one: drop it before opening anew
        slot.view.reset()
        conn = await self._opener(slot.view.on_event)
        hook = conn.on_command

        def on_command(name: str, outcome: str, seconds: float) -> None:
            slot.view.on_command(name)
            if hook is not None:
                hook(name, outcome, seconds)

        # The view must hear of every SELECT/EXAMINE/UNSELECT, whoever sends it.
        conn.on_command = on_command
        slot.conn = conn
        return conn

    # --- closing ----------------------------------------------------------------------------------

    async def _close_idle(self, slot: _Slot) -> None:
        if not slot.busy:
            await self._close_slot(slot)

    async def _close_slot(self, slot: _Slot) -> None:
        if slot.closer is not None:
            slot.closer.cancel()
            slot.closer = None
        conn, slot.conn = slot.conn, None
        slot.view.reset()
        if conn is not None:
            with contextlib.suppress(ImapApiError, TimeoutError):
                await asyncio.wait_for(conn.logout(), 2.0)
            await conn.close()
