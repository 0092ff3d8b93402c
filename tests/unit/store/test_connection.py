"""What every store call owes its caller on both backends, whatever its concern: a
cancellation is never lost."""

from __future__ import annotations

import asyncio

from imapapi.store.base import Store


async def test_a_cancelled_call_raises_cancelled_error(store: Store) -> None:
    """A cancellation that the call accepted is never lost: service.stop() cancels background
    loops that sit in store calls, and a loop whose cancel was swallowed sleeps on (on Redis,
    redis-py sends through asyncio.wait_for, which on 3.11 drops a cancel that lands as the
    send completes, gh-86296). The cancel is tried at every point of the call in turn."""
    lost = []
    for _ in range(3):
        for yields in range(12):
            call = asyncio.create_task(store.purge_sent(0.0))
            for _ in range(yields):
                await asyncio.sleep(0)
            if not call.cancel():
                continue  # already finished: nothing to lose
            try:
                await call
            except asyncio.CancelledError:
                continue
            lost.append(yields)
    assert lost == [], "cancelled store calls that returned normally (after n yields)"
