"""Wires the store, account manager, event dispatcher and API together, and runs them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from imapapi.accounts.manager import AccountManager, SessionFactory
from imapapi.accounts.registry import AccountRegistry
from imapapi.config import Settings
from imapapi.credentials.crypto import SecretBox, load_key
from imapapi.credentials.tokens import create_token
from imapapi.runtime import RuntimeSettings
from imapapi.store.base import Store
from imapapi.store.sqlite import SqliteStore

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> Store:
    """The store chosen by configuration (SQLite unless a Redis URL is set)."""
    if settings.redis_url:
        raise NotImplementedError("the Redis store is not available yet; unset IMAPAPI_REDIS_URL")
    return SqliteStore(settings.database_path)


@dataclass
class Service:
    """One imapapi process: build with `Service.create(settings)`, then `start()`/`stop()`."""

    settings: Settings
    store: Store
    box: SecretBox
    runtime: RuntimeSettings
    accounts: AccountManager
    started_at: float = field(default_factory=time.time)

    @classmethod
    def create(
        cls, settings: Settings, *, session_factory: SessionFactory | None = None
    ) -> Service:
        store = open_store(settings)
        box = SecretBox(load_key(settings.secret, settings.key_path))
        registry = AccountRegistry(store, box)
        return cls(
            settings=settings,
            store=store,
            box=box,
            runtime=RuntimeSettings(store, box),
            accounts=AccountManager(registry, session_factory),
        )

    @staticmethod
    def default_session_factory(settings: Settings) -> SessionFactory | None:
        """Real IMAP sessions for every account."""
        from imapapi.accounts.session import AccountSession

        return AccountSession.factory(settings)

    async def start(self) -> None:
        await self.store.open()
        await self.accounts.start()
        log.info("imapapi started (store %r)", self.store)

    async def stop(self) -> None:
        await self.accounts.stop()
        await self.store.close()
        log.info("imapapi stopped")

    async def first_start_token(self) -> str | None:
        """When the API is protected and no token exists yet, create one to print once."""
        if self.settings.insecure or await self.store.list_tokens():
            return None
        _, token = await create_token(self.store, "created at first start")
        return token
