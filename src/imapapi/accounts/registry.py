"""The account registry: stored account configurations, secrets encrypted on the way in."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from imapapi.accounts.model import AccountConfig, account_from_doc, account_to_doc
from imapapi.credentials.crypto import SecretBox
from imapapi.errors import AccountNotFoundError
from imapapi.store.base import AccountRecord, AccountStore

log = logging.getLogger(__name__)


class AccountRegistry:
    """Create, read, update and delete account configurations in the store."""

    def __init__(self, store: AccountStore, box: SecretBox, clock: Callable[[], float] = time.time):
        self._store = store
        self._box = box
        self._clock = clock

    def _from_record(self, record: AccountRecord) -> AccountConfig:
        return account_from_doc(
            record.data, self._box, created=record.created, updated=record.updated
        )

    async def upsert(self, config: AccountConfig) -> tuple[AccountConfig, bool]:
        """Store `config`; returns the stored config and whether the account is new."""
        now = self._clock()
        created = await self._store.put_account(
            config.account, account_to_doc(config, self._box), now
        )
        log.info("account %s %s", config.account, "created" if created else "updated")
        stored = await self.get(config.account)
        return stored, created

    async def find(self, account: str) -> AccountConfig | None:
        record = await self._store.get_account(account)
        return self._from_record(record) if record else None

    async def get(self, account: str) -> AccountConfig:
        config = await self.find(account)
        if config is None:
            raise AccountNotFoundError(f"account {account!r} is not registered")
        return config

    async def list(self) -> list[AccountConfig]:
        return [self._from_record(record) for record in await self._store.list_accounts()]

    async def delete(self, account: str) -> None:
        if not await self._store.delete_account(account):
            raise AccountNotFoundError(f"account {account!r} is not registered")
        log.info("account %s deleted", account)
