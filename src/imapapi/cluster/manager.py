"""The account manager: one AccountSession per registered account, and the registry behind it.

Every change to an account goes through here so the stored configuration and the live session
never disagree: upsert stores and (re)starts the session, delete stops it and forgets its state.

With several nodes on one store (issue 8) a Scheduler (cluster/scheduler.py) is attached: every
node keeps a session per account for API calls, but only the node holding an account's lease
starts it (syncs); upsert and delete then let the scheduler apply the change everywhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from imapapi.accounts.model import AccountConfig, AccountState
from imapapi.accounts.registry import AccountRegistry
from imapapi.accounts.status import AccountStatus, SessionLike
from imapapi.errors import NotConnectedError
from imapapi.sessions.session import AccountSession

log = logging.getLogger(__name__)

SETTLE_GRACE = 5.0  # seconds stop() waits for stopped sessions' background steps


class Placement(Protocol):
    """What the manager asks of the scheduler (cluster/scheduler.py) that places accounts on
    nodes; a protocol so that the scheduler, which drives the manager, is not imported here."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def refresh(self, account: str) -> None: ...

    async def signal(self, account: str) -> None: ...

    def owns(self, account: str) -> bool: ...


SessionFactory = Callable[[AccountConfig], SessionLike]


class AccountManager:
    """Owns the sessions of all accounts of this process."""

    def __init__(self, registry: AccountRegistry, session_factory: SessionFactory | None) -> None:
        self.registry = registry
        self._factory = session_factory
        self._sessions: dict[str, SessionLike] = {}
        # Background steps of stopped sessions, awaited (briefly) by stop() before the store
        # closes: an account event emitted while stopping is written, not lost.
        self._settling: set[asyncio.Task[None]] = set()
        self.scheduler: Placement | None = None  # set by Scheduler(): several nodes

    def __repr__(self) -> str:
        return f"<AccountManager sessions={len(self._sessions)}>"

    async def start(self) -> None:
        """Start a session for every stored account (with a scheduler: those it assigns us)."""
        if self.scheduler is not None:
            await self.scheduler.start()
            return
        for config in await self.registry.list():
            await self._start_session(config)
        log.info("started %d account sessions", len(self._sessions))

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()  # stops the sessions it started, then gives up leases
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.stop()
            self._settle(session)
        # Once for all sessions, bounded: a store that hangs must not hold up the shutdown.
        pending, self._settling = self._settling, set()
        if pending:
            await asyncio.wait(pending, timeout=SETTLE_GRACE)

    async def _start_session(self, config: AccountConfig) -> None:
        if self._factory is None:
            return
        session = self._factory(config)
        self._sessions[config.account] = session
        await session.start()

    async def upsert(self, config: AccountConfig) -> tuple[AccountConfig, bool]:
        stored, created = await self.registry.upsert(config)
        if self.scheduler is not None:
            await self.scheduler.refresh(stored.account)  # claims it or leaves it to its node
            return stored, created
        old = self._sessions.pop(stored.account, None)
        if old is not None:
            await old.stop()
        await self._start_session(stored)
        return stored, created

    async def delete(self, account: str) -> None:
        await self.registry.delete(account)
        if self.scheduler is not None:
            await self.scheduler.refresh(account)  # stops and forgets it, gives up the lease
            return
        session = self._sessions.pop(account, None)
        if session is not None:
            await session.stop()

    async def reconnect(self, account: str) -> None:
        await self.registry.get(account)  # 404 for unknown accounts
        if self.scheduler is not None and not self.scheduler.owns(account):
            await self.scheduler.signal(account)  # the owning node restarts it
            return
        session = self._sessions.get(account)
        if session is not None:
            await session.reconnect()

    # --- for the scheduler --------------------------------------------------------------------
    async def replace(self, config: AccountConfig, fence: int | None) -> None:
        """A fresh session for `config`, syncing under `fence` unless it is None (API only)."""
        old = self._sessions.pop(config.account, None)
        remote = old.remote if old is not None else None
        if old is not None:
            await old.stop()
        if self._factory is None:
            return
        session = self._factory(config)
        session.remote = remote
        self._sessions[config.account] = session
        if fence is not None:
            await session.start(fence)

    async def demote(self, account: str) -> None:
        """Stop syncing `account` but keep serving its API calls on the same session and its
        open command connections (no store read: this runs when the store may be unreachable).
        Taking the account back later makes a fresh session."""
        session = self._sessions.get(account)
        if session is not None:
            last = session.status
            await session.stop_sync()
            session.remote = last  # until the next round reads what the new owner publishes

    async def forget(self, account: str) -> None:
        session = self._sessions.pop(account, None)
        if session is not None:
            await session.stop()
            self._settle(session)

    def _settle(self, session: SessionLike) -> None:
        self._settling = {task for task in self._settling if not task.done()}
        self._settling |= session.background()

    def accounts(self) -> list[str]:
        return list(self._sessions)

    def session(self, account: str) -> SessionLike | None:
        return self._sessions.get(account)

    async def live_session(self, account: str) -> AccountSession:
        """The live session of `account`: `AccountNotFoundError` for an unknown account,
        `NotConnectedError` when it has no session in this process. A registered account's
        session is in memory, so only an unknown one costs a store read."""
        session = self._sessions.get(account)
        if isinstance(session, AccountSession):
            return session
        await self.registry.get(account)  # AccountNotFoundError for unknown accounts
        raise NotConnectedError(f"account {account!r} has no IMAP session here")

    def status(self, account: str) -> AccountStatus:
        session = self._sessions.get(account)
        if session is None:
            return AccountStatus(AccountState.INIT)
        return session.status

    def count_by_state(self) -> dict[str, int]:
        """States of the accounts this process syncs (with several nodes, each counts its own
        share, so the gauges of all nodes add up)."""
        counts: dict[str, int] = {}
        scheduler = self.scheduler
        for account, session in self._sessions.items():
            if scheduler is not None and not scheduler.owns(account):
                continue
            key = session.status.state.value
            counts[key] = counts.get(key, 0) + 1
        return counts
