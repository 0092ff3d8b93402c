"""The account manager: one AccountSession per registered account, and the registry behind it.

Every change to an account goes through here so the stored configuration and the live session
never disagree: upsert stores and (re)starts the session, delete stops it and forgets its state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from imapapi.accounts.model import AccountConfig, AccountState
from imapapi.accounts.registry import AccountRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountStatus:
    state: AccountState
    last_error: str | None = None


class SessionLike:
    """What the manager needs of a session (the real one lives in accounts/session.py)."""

    @property
    def status(self) -> AccountStatus:
        raise NotImplementedError

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def reconnect(self) -> None:
        raise NotImplementedError


SessionFactory = Callable[[AccountConfig], SessionLike]


class AccountManager:
    """Owns the sessions of all accounts of this process."""

    def __init__(self, registry: AccountRegistry, session_factory: SessionFactory | None) -> None:
        self.registry = registry
        self._factory = session_factory
        self._sessions: dict[str, SessionLike] = {}

    def __repr__(self) -> str:
        return f"<AccountManager sessions={len(self._sessions)}>"

    async def start(self) -> None:
        """Start a session for every stored account."""
        for config in await self.registry.list():
            await self._start_session(config)
        log.info("started %d account sessions", len(self._sessions))

    async def stop(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.stop()

    async def _start_session(self, config: AccountConfig) -> None:
        if self._factory is None:
            return
        session = self._factory(config)
        self._sessions[config.account] = session
        await session.start()

    async def upsert(self, config: AccountConfig) -> tuple[AccountConfig, bool]:
        stored, created = await self.registry.upsert(config)
        old = self._sessions.pop(stored.account, None)
        if old is not None:
            await old.stop()
        await self._start_session(stored)
        return stored, created

    async def delete(self, account: str) -> None:
        await self.registry.delete(account)
        session = self._sessions.pop(account, None)
        if session is not None:
            await session.stop()

    async def reconnect(self, account: str) -> None:
        await self.registry.get(account)  # 404 for unknown accounts
        session = self._sessions.get(account)
        if session is not None:
            await session.reconnect()

    def session(self, account: str) -> SessionLike | None:
        return self._sessions.get(account)

    def status(self, account: str) -> AccountStatus:
        session = self._sessions.get(account)
        if session is None:
            return AccountStatus(AccountState.INIT)
        return session.status

    def count_by_state(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for session in self._sessions.values():
            key = session.status.state.value
            counts[key] = counts.get(key, 0) + 1
        return counts
