"""Fixtures for the dispatcher tests: a real store (SQLite and Redis) and a hand-driven clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from imapapi.events import WebhookDispatcher
from imapapi.store.base import Store
from imapapi.store.redis import RedisStore
from imapapi.store.sqlite import SqliteStore
from tests.integration.backends import BACKENDS
from tests.unit.store.conftest import fresh_prefix

# 2024-05-01T12:00:00Z: a fixed start so retries become due only when a test says so.
T0 = 1714564800.0


class Clock:
    """Epoch seconds that move only when the test advances them."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    db: Store
    if request.param == "redis":
        db = RedisStore(request.getfixturevalue("redis_server").url, prefix=fresh_prefix())
    else:
        db = SqliteStore(tmp_path / "imapapi.db")
    await db.open()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def make_dispatcher(
    store: Store, clock: Clock
) -> AsyncIterator[Callable[..., WebhookDispatcher]]:
    """Build dispatchers on the test store and clock; rng 1.0 = the longest backoff, so one
    `clock.advance(3600)` (the cap) always makes a retry due."""
    made: list[WebhookDispatcher] = []

    def make(**kwargs: Any) -> WebhookDispatcher:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("rng", lambda: 1.0)
        dispatcher = WebhookDispatcher(kwargs.pop("store", store), **kwargs)
        made.append(dispatcher)
        return dispatcher

    try:
        yield make
    finally:
        for dispatcher in made:
            await dispatcher.stop(grace=0)
