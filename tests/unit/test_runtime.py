"""Runtime settings: a read that overlaps an update never brings the old values back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from imapapi.credentials.crypto import SecretBox, load_key
from imapapi.runtime import RuntimeSettings
from imapapi.store.sqlite import SqliteStore


class _SlowReads:
    """The real store, but `get_settings` waits for `gate` after reading: a read in flight."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.gate = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def get_settings(self) -> dict[str, Any]:
        values = await self.store.get_settings()
        await self.gate.wait()
        return values


async def test_an_update_during_a_read_is_not_undone(sqlite_store: SqliteStore) -> None:
    slow: Any = _SlowReads(sqlite_store)
    runtime = RuntimeSettings(slow, SecretBox(load_key("material", Path("/nonexistent"))))
    reading = asyncio.create_task(runtime.webhook_target())  # e.g. the dispatcher's pass
    await asyncio.sleep(0.05)
    await runtime.update({"webhooks": "http://127.0.0.1:9/hooks"})
    slow.gate.set()
    await reading  # read before the update: may answer the old target, must not cache it
    assert (await runtime.webhook_target()).url == "http://127.0.0.1:9/hooks"
