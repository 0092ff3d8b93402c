"""The scheduler publishes the states of the sessions it runs, on a real redis-server: in order
per account, so the last state published is the one other nodes read."""

from __future__ import annotations

import asyncio
import os

from imapapi.accounts.model import AccountConfig, AccountState
from imapapi.accounts.registry import AccountRegistry
from imapapi.cluster.manager import AccountManager
from imapapi.cluster.scheduler import Scheduler
from imapapi.credentials.crypto import SecretBox
from imapapi.servers import ServerConfig
from imapapi.store.redis import RedisStore
from tests.servers.redis import RedisServer
from tests.unit.store.conftest import fresh_prefix

ACCOUNTS = [f"acct-{n}" for n in range(50)]
STATES = [AccountState.CONNECTING, AccountState.CONNECTED, AccountState.CONNECT_ERROR]


async def test_every_account_ends_with_its_last_published_state(
    redis_server: RedisServer,
) -> None:
    store = RedisStore(redis_server.url, prefix=fresh_prefix())
    await store.open()
    registry = AccountRegistry(store, SecretBox(os.urandom(32)))
    for account in ACCOUNTS:
        await registry.upsert(AccountConfig(account, ServerConfig("imap.invalid", 143)))
    # No session factory: the scheduler leases the accounts, nothing connects.
    scheduler = Scheduler(store, AccountManager(registry, None), node="n1", lease_ttl=30.0)
    try:
        await scheduler.start()
        assert set(scheduler.owned) == set(ACCOUNTS)
        last: dict[str, tuple[str, str | None]] = {}
        # Many changes per account, interleaved, while earlier ones are still being sent.
        for step in range(12):
            for n, account in enumerate(ACCOUNTS):
                state = STATES[(n + step) % len(STATES)]
                error = f"try {step}" if state is AccountState.CONNECT_ERROR else None
                scheduler.publish(account, state, error)
                last[account] = (state.value, error)
            await asyncio.sleep(0)
        async with asyncio.timeout(10):
            while True:
                statuses = await store.account_statuses()
                seen = {a: (s.state, s.error) for a, s in statuses.items()}
                if seen == last:
                    break
                await asyncio.sleep(0.02)
        assert {s.node for s in statuses.values()} == {"n1"}
    finally:
        await scheduler.stop()
        await store.close()
