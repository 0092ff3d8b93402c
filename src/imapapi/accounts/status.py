"""A running account as the rest of the service sees it: its status, and the interface of a
session that the account manager (cluster/manager.py) drives."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from imapapi.accounts.model import AccountConfig, AccountState


@dataclass(frozen=True, slots=True)
class AccountStatus:
    state: AccountState
    last_error: str | None = None
    attempts: int = 0  # failed connection attempts since the last success
    next_attempt: float | None = None  # epoch seconds of the next scheduled attempt


class SessionLike:
    """What the manager needs of a session (the real one is sessions/session.py)."""

    @property
    def status(self) -> AccountStatus:
        raise NotImplementedError

    config: AccountConfig
    remote: AccountStatus | None = None  # the owning node's view, when another node syncs

    async def start(self, fence: int | None = None) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def stop_sync(self) -> None:
        raise NotImplementedError

    async def reconnect(self) -> None:
        raise NotImplementedError

    def background(self) -> set[asyncio.Task[None]]:
        return set()
