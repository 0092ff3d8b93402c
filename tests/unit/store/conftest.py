"""The `store` fixture: every contract test in this directory runs on SQLite and on Redis."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imapapi.store.base import NewEvent, Store
from imapapi.store.redis import RedisStore
from imapapi.store.sqlite import SqliteStore
from tests.servers.redis import RedisServer

_prefixes = itertools.count(1)


def fresh_prefix() -> str:
    """A key prefix no other test uses, so tests share the session's Redis without flushing."""
    return f"test{next(_prefixes)}"


def event(event_id: str, account: str = "a", at: float = 100.0) -> NewEvent:
    return NewEvent(event_id=event_id, account=account, payload={"event": event_id}, created=at)


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s: Store
    if request.param == "sqlite":
        s = SqliteStore(tmp_path / "db.sqlite")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        s = RedisStore(server.url, prefix=fresh_prefix())
    await s.open()
    try:
        yield s
    finally:
        await s.close()
