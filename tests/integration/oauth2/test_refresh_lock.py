"""One refresh at a time per account: the provider rotates refresh tokens and revokes the whole
grant when a rotated-out one is used again, so two refreshes racing with the same refresh
token would end the grant. Concurrent refreshes in one process (an asyncio lock), and in two
processes on one Redis (the store's refresh lock, then a fresh read of the grant)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imapapi.credentials.crypto import SecretBox
from imapapi.credentials.oauth2 import OAuth2Tokens
from imapapi.credentials.oauth2_apps import OAuth2App, OAuth2Apps
from imapapi.credentials.oauth2_client import OAuth2Client, TokenAnswer
from imapapi.credentials.oauth2_flow import Provider
from imapapi.store.base import Store
from imapapi.store.redis import RedisStore
from imapapi.store.sqlite import SqliteStore
from tests.servers.oidc import OidcProvider, OidcUser
from tests.servers.oidc_flow import introspect, login
from tests.servers.redis import RedisServer
from tests.unit.store.conftest import fresh_prefix

pytestmark = pytest.mark.integration

BOX = SecretBox(b"r" * 32)
ALWAYS_STALE = 10**6  # seconds of margin: every `get` refreshes


class Node:
    """What one imapapi process holds: its store client and token cache."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.client = OAuth2Client()
        self.apps = OAuth2Apps(store, BOX)
        self.tokens = OAuth2Tokens(store, BOX, self.apps, self.client, refresh_margin=ALWAYS_STALE)

    async def close(self) -> None:
        await self.client.aclose()
        await self.store.close()


@pytest.fixture(params=["sqlite", "redis"])
async def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Node]]:
    """One process on SQLite; two on one Redis prefix."""
    stores: list[Store]
    if request.param == "sqlite":
        stores = [SqliteStore(tmp_path / "db.sqlite")]
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        prefix = fresh_prefix()
        stores = [RedisStore(server.url, prefix=prefix), RedisStore(server.url, prefix=prefix)]
    for store in stores:
        await store.open()
    made = [Node(store) for store in stores]
    try:
        yield made
    finally:
        for node in made:
            await node.close()


async def test_concurrent_refreshes_keep_the_grant(
    nodes: list[Node], oidc_provider: OidcProvider, oidc_user: OidcUser
) -> None:
    client = oidc_provider.client
    first = nodes[0]
    await first.apps.put(
        OAuth2App(
            id="corp",
            name="corp",
            provider=Provider.OIDC,
            client_id=client.client_id,
            client_secret=client.client_secret,
            issuer=oidc_provider.issuer,
        )
    )
    tokens = await login(oidc_provider, oidc_user, client)
    assert tokens.refresh_token is not None
    answer = TokenAnswer(tokens.access_token, tokens.expires_in, tokens.refresh_token)
    await first.tokens.store_grant("acc", "corp", oidc_user.email, answer)

    # Every call refreshes; eight at once, spread over the nodes.
    got = await asyncio.gather(*(nodes[i % len(nodes)].tokens.get("acc") for i in range(8)))
    assert {c.user for c in got} == {oidc_user.email}
    # Had two refreshes used one refresh token, the provider would have revoked the grant:
    # every token would be dead and this refresh would be invalid_grant.
    last = await nodes[-1].tokens.get("acc")
    assert last.access_token is not None
    assert (await introspect(oidc_provider, last.access_token))["active"] is True
