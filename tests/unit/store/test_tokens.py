"""Token revocation notices (`TokenStore.watch_token_revocations`): the store object a revoke
went through tells its listeners at once; on Redis every other store object on the same prefix
hears it through the channel, also after its subscription was cut."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis.asyncio as aioredis

from imapapi.credentials.tokens import create_token, grants, hash_token, sees_account
from imapapi.store.base import Store
from imapapi.store.redis import RedisStore
from tests.servers.redis import RedisServer
from tests.unit.store.conftest import fresh_prefix

NOTICE_DEADLINE = 10.0  # seconds: a bound for a test that failed, never a measure


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(NOTICE_DEADLINE):
        while not condition():  # noqa: ASYNC110 (a listener list has no event to wait on)
            await asyncio.sleep(0.01)


async def test_revoke_is_told_to_this_store_objects_listeners(store: Store) -> None:
    heard: list[str | None] = []
    store.watch_token_revocations(heard.append)
    record, _ = await create_token(store, "crm")
    assert await store.revoke_token(record.id, 1.0)
    assert record.id in heard  # before revoke_token returned (Redis echoes it later too)
    assert not await store.revoke_token("no-such-id", 2.0)
    assert "no-such-id" not in heard


async def test_redis_revoke_reaches_every_store_on_the_prefix(redis_server: RedisServer) -> None:
    prefix = fresh_prefix()
    node = RedisStore(redis_server.url, prefix=prefix)
    cli = RedisStore(redis_server.url, prefix=prefix)  # `imapapi token revoke`, another process
    elsewhere = RedisStore(redis_server.url, prefix=fresh_prefix())
    for s in (node, cli, elsewhere):
        await s.open()
    try:
        heard: list[str | None] = []
        node.watch_token_revocations(heard.append)
        await eventually(lambda: None in heard)  # subscribed: told to forget everything
        first, _ = await create_token(cli, "first")
        assert await cli.revoke_token(first.id, 1.0)
        await eventually(lambda: first.id in heard)

        other, _ = await create_token(elsewhere, "another deployment")
        assert await elsewhere.revoke_token(other.id, 1.0)

        # Cut the subscription: redis-py subscribes again, and the listener is told to forget
        # everything, since notices published meanwhile are lost.
        heard.clear()
        admin = aioredis.Redis.from_url(redis_server.url)
        try:
            assert await admin.client_kill_filter(_type="pubsub") >= 1
        finally:
            await admin.aclose()
        await eventually(lambda: None in heard)
        second, _ = await create_token(cli, "second")
        assert await cli.revoke_token(second.id, 1.0)
        await eventually(lambda: second.id in heard)
        assert other.id not in heard  # another prefix is another deployment
    finally:
        for s in (node, cli, elsewhere):
            await s.close()


async def test_bound_accounts_are_kept(store: Store) -> None:
    bound, token = await create_token(store, "agent", ("read", "send"), ("alice", "bob"))
    unbound, _ = await create_token(store, "ops")
    found = await store.get_token_by_hash(hash_token(token))
    assert found is not None and found.accounts == ("alice", "bob")
    assert found.scopes == ("read", "send")
    listed = {t.id: t.accounts for t in await store.list_tokens()}
    assert listed == {bound.id: ("alice", "bob"), unbound.id: ()}


async def test_redis_token_written_before_binding_reads_unbound(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, prefix=fresh_prefix())
    await store.open()
    try:
        record, token = await create_token(store, "old", ("api",), ("alice",))
        # A hash as imapapi wrote it before accounts could be bound: no `accounts` field.
        await store._call("HDEL", store.keys.token(record.id), "accounts")
        found = await store.get_token_by_hash(hash_token(token))
        assert found is not None and found.accounts == () and found.scopes == ("api",)
        assert grants(found, "admin") and sees_account(found, "anyone")
    finally:
        await store.close()
