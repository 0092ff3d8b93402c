"""Group calls: the calls made while one batch is being sent go together in the next.

The stores' hot writes (a sync's commit) use it: one hop to SQLite's thread, or one round trip to
Redis, for every commit queued meanwhile, instead of one each, each waiting for the event loop to
come round (issue 17: under a webhook burst 200 commits waited up to a second for their turn).
Each caller still gets its own outcome: the store's `send` settles every call of its batch.

A caller cancelled while its call is still queued drops it; once its batch is being sent, it is
sent whole. `drain()` (on close) waits for what is queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


@dataclass(slots=True)
class Call(Generic[Item]):
    """One queued call: what to send, and the future its caller awaits."""

    item: Item
    done: asyncio.Future[Any]

    def settle(self, ok: bool, value: Any) -> None:
        """The outcome: a result (`ok`) or an exception; ignored when the caller has gone."""
        if self.done.done():
            return
        if ok:
            self.done.set_result(value)
        else:
            self.done.set_exception(value)


class Grouped(Generic[Item]):
    """A queue of calls and the task that sends them, batch after batch, by `send(batch)`.

    `send` must settle every call of the batch (`Call.settle`); what it raises settles those it
    left with that error.
    """

    def __init__(self, send: Callable[[list[Call[Item]]], Awaitable[None]], name: str) -> None:
        self._send = send
        self._name = name
        self._queued: list[Call[Item]] = []
        self._task: asyncio.Task[None] | None = None

    async def call(self, item: Item) -> Any:
        """Queue `item` for the next batch; its outcome once that batch is sent."""
        queued = Call(item, asyncio.get_running_loop().create_future())
        self._queued.append(queued)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=self._name)
        return await queued.done

    async def drain(self) -> None:
        """Return once every queued call is sent (on close)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while self._queued:
            batch = [c for c in self._queued if not c.done.done()]  # done: cancelled
            self._queued = []
            if not batch:
                continue
            try:
                await self._send(batch)
            except Exception as exc:
                for queued in batch:
                    queued.settle(False, exc)
            except BaseException:  # this task cancelled (the loop ends): so are the calls
                for queued in batch:
                    queued.done.cancel()
                raise
