"""Group commit of delivery outcomes: many delivered events removed from the outbox in one write.

A store write per delivered event cost more than the POST itself (a transaction on SQLite, a
script on Redis). Deliveries add their outcome here and go on; `flush()` writes every outcome
added so far in one `events_delivered` call. While one write runs, new outcomes gather for the
next, so the writes grow with the load instead of their number.

At-least-once holds: an outcome not yet written when the process dies leaves its event pending,
and it is posted again after the restart (DESIGN.md §4). An outcome is reported (metrics, UI)
only once written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")


class AckBuffer(Generic[Item]):
    """Outcomes known but not yet written; `flush()` writes them all in one call."""

    def __init__(
        self,
        write: Callable[[Sequence[int]], Awaitable[None]],
        written: Callable[[list[Item]], None],
    ) -> None:
        """`write(seqs)` removes events from the outbox; `written(items)` is told afterwards."""
        self._write = write
        self._written = written
        self._pending: list[tuple[int, Item]] = []
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, seq: int, item: Item) -> None:
        self._pending.append((seq, item))

    async def flush(self) -> None:
        """Return once everything added before the call is written (or its write failed).

        A write error is raised to the caller whose call made the write; those events stay
        pending in the store, to be posted again. A cancelled caller's write still completes.
        """
        async with self._lock:
            # Whoever held the lock before us wrote everything added up to its start; what is
            # left (ours included) goes now, in one write.
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            items = [item for _, item in batch]
            try:
                await settle(self._write([seq for seq, _ in batch]))
            except asyncio.CancelledError:
                self._written(items)  # settle() raises this only once the write is done
                raise
        self._written(items)


async def settle(operation: Awaitable[None]) -> None:
    """Await a store write to completion even if the caller is cancelled meanwhile.

    The HTTP request may be abandoned on shutdown (the event stays pending), but once its
    outcome is known the record is written whole: never half-marked.
    """
    task = asyncio.ensure_future(operation)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
