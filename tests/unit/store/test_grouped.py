"""The group-call queue the stores' hot writes go through (`store/grouped.py`)."""

from __future__ import annotations

import asyncio

from imapapi.store.grouped import Call, Grouped


async def test_calls_queued_meanwhile_go_in_the_next_batch_in_order() -> None:
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def send(batch: list[Call[int]]) -> None:
        batches.append([c.item for c in batch])
        if len(batches) == 1:
            await release.wait()  # the first batch is slow: others queue behind it
        for queued in batch:
            queued.settle(True, queued.item * 10)

    grouped: Grouped[int] = Grouped(send, "test")
    first = asyncio.create_task(grouped.call(1))
    await asyncio.sleep(0.01)
    rest = [asyncio.create_task(grouped.call(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0.01)
    release.set()
    assert await first == 10
    assert await asyncio.gather(*rest) == [20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


async def test_a_failed_send_fails_every_call_it_left_unsettled() -> None:
    async def send(batch: list[Call[int]]) -> None:
        batch[0].settle(True, "written")
        raise OSError("connection lost")

    grouped: Grouped[int] = Grouped(send, "test")
    outcomes = await asyncio.gather(
        grouped.call(1), grouped.call(2), grouped.call(3), return_exceptions=True
    )
    assert outcomes[0] == "written"
    assert [type(o) for o in outcomes[1:]] == [OSError, OSError]
    # The queue goes on: a later call is sent in a batch of its own.
    assert await grouped.call(4) == "written"


async def test_drain_waits_for_queued_calls() -> None:
    sent: list[int] = []

    async def send(batch: list[Call[int]]) -> None:
        await asyncio.sleep(0.01)
        sent.extend(c.item for c in batch)
        for queued in batch:
            queued.settle(True, None)

    grouped: Grouped[int] = Grouped(send, "test")
    calls = [asyncio.create_task(grouped.call(n)) for n in range(3)]
    await asyncio.sleep(0)
    await grouped.drain()
    assert sent == [0, 1, 2]
    await asyncio.gather(*calls)
