"""A revoked API token on the Redis store: refused at once by the node that revoked it, and by
every other node as soon as the revoke notice arrives (the nodes cache token records for
`token_cache_seconds`, set far longer than these tests wait, so only the notice can end it),
also when `imapapi token revoke` wrote it from the command line."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from imapapi.credentials.tokens import create_token
from tests.integration.conftest import running_api
from tests.servers.redis import RedisServer
from tests.servers.service import base_env, run_cli
from tests.unit.store.conftest import fresh_prefix

pytestmark = pytest.mark.integration

CACHE_SECONDS = 300.0
NOTICE_DEADLINE = 10.0  # seconds: a bound for a test that failed, never a measure


async def refused_soon(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """GET /v1/accounts with `token` until it is refused (the notice travels through Redis)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with asyncio.timeout(NOTICE_DEADLINE):
        while True:
            response = await client.get("/v1/accounts", headers=headers)
            if response.status_code != 200:
                return response
            await asyncio.sleep(0.02)


async def subscribed(url: str, prefix: str, nodes: int) -> None:
    """Until `nodes` processes listen for revokes on `prefix` (each subscribes at its first
    token check). Each forgets every token when its subscription starts, so a test fills the
    caches after this: then only a revoke notice can end a cached record."""
    client = aioredis.Redis.from_url(url)
    try:
        async with asyncio.timeout(NOTICE_DEADLINE):
            channel = f"{prefix}:token-revoked"
            listening = dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0)
            while listening < nodes:
                await asyncio.sleep(0.02)
                listening = dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0)
    finally:
        await client.aclose()


async def test_revoke_on_one_node_is_refused_on_another(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    on_redis = {
        "redis_url": redis_server.url,
        "redis_prefix": fresh_prefix(),
        "token_cache_seconds": CACHE_SECONDS,
    }
    async with (
        running_api(tmp_path / "a", **on_redis) as node_a,
        running_api(tmp_path / "b", **on_redis) as node_b,
    ):
        record, token = await create_token(node_a.service.store, "crm backend")
        headers = {"Authorization": f"Bearer {token}"}
        for node in (node_a, node_b):
            assert (await node.client.get("/v1/accounts")).status_code == 200
        await subscribed(redis_server.url, on_redis["redis_prefix"], nodes=2)
        for node in (node_a, node_b):  # both have the record in memory now
            assert (await node.client.get("/v1/accounts", headers=headers)).status_code == 200
        assert await node_a.service.store.revoke_token(record.id, time.time())
        response = await node_a.client.get("/v1/accounts", headers=headers)
        assert response.status_code == 403, response.text
        response = await refused_soon(node_b.client, token)
        assert (response.status_code, response.json()["code"]) == (403, "Forbidden")
        # The nodes' own tokens are untouched.
        assert (await node_b.client.get("/v1/accounts")).status_code == 200


async def test_cli_revoke_is_refused_by_the_running_node(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    prefix = fresh_prefix()
    async with running_api(
        tmp_path / "node",
        redis_url=redis_server.url,
        redis_prefix=prefix,
        token_cache_seconds=CACHE_SECONDS,
    ) as node:
        record, token = await create_token(node.service.store, "crm backend")
        headers = {"Authorization": f"Bearer {token}"}
        assert (await node.client.get("/v1/accounts")).status_code == 200
        await subscribed(redis_server.url, prefix, nodes=1)
        assert (await node.client.get("/v1/accounts", headers=headers)).status_code == 200
        env = base_env(
            {
                "IMAPAPI_REDIS_URL": redis_server.url,
                "IMAPAPI_REDIS_PREFIX": prefix,
                "IMAPAPI_SECRET": node.service.settings.secret or "",
                "IMAPAPI_DATA_DIR": str(tmp_path / "cli"),
            }
        )
        revoked = await asyncio.to_thread(run_cli, "token", "revoke", record.id, env=env)
        assert revoked.returncode == 0, revoked.stderr
        response = await refused_soon(node.client, token)
        assert (response.status_code, response.json()["code"]) == (403, "Forbidden")
