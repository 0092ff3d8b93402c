"""The OutboxStore contract on both backends: in-order heads per account, retries, dead events."""

from __future__ import annotations

from imapapi.store.base import NewEvent, Store
from tests.unit.store.conftest import event


async def test_due_events_hands_out_only_each_accounts_head(store: Store) -> None:
    await store.add_events([event("a1", "a"), event("a2", "a"), event("b1", "b")])
    due = await store.due_events(now=1000.0, limit=10)
    assert [e.event_id for e in due] == ["a1", "b1"]

    await store.event_retry(due[0].seq, attempts=1, next_attempt=2000.0, error="HTTP 500")
    due = await store.due_events(now=1000.0, limit=10)
    assert [e.event_id for e in due] == ["b1"]  # a1 waits, and a2 waits behind it
    await store.event_delivered(due[0].seq)
    assert await store.due_events(now=1000.0, limit=10) == []
    later = await store.due_events(now=2000.0, limit=10)
    assert [(e.event_id, e.attempts, e.last_error) for e in later] == [("a1", 1, "HTTP 500")]


async def test_dead_events_are_kept_listed_and_replayed(store: Store) -> None:
    await store.add_events([event("a1"), event("a2")])
    head = (await store.due_events(now=1000.0, limit=10))[0]
    await store.event_dead(head.seq, attempts=9, error="gone")
    assert [e.event_id for e in await store.due_events(1000.0, 10)] == ["a2"]
    dead = await store.list_dead_events(0, 10)
    assert dead.total == 1 and dead.items[0].event_id == "a1" and dead.items[0].dead
    stats = await store.outbox_stats(now=1000.0)
    assert stats["pending"] == 1 and stats["dead"] == 1
    assert await store.replay_dead_events(["a1"], now=3000.0) == 1
    assert (await store.list_dead_events(0, 10)).total == 0
    assert [e.event_id for e in await store.due_events(3000.0, 10)] == ["a1"]


async def test_delivered_event_id_can_be_written_again(store: Store) -> None:
    new = NewEvent(event_id="e", account="a", payload={"n": 1}, created=1.0)
    await store.add_events([new])
    [due] = await store.due_events(10.0, 10)
    await store.event_delivered(due.seq)
    await store.add_events([new])  # only pending or dead ids are remembered
    [again] = await store.due_events(10.0, 10)
    assert again.event_id == "e" and again.seq > due.seq


async def test_replay_all_dead_events(store: Store) -> None:
    await store.add_events(
        [NewEvent(event_id=f"e{i}", account=f"acct{i}", payload={}, created=1.0) for i in range(3)]
    )
    for due in await store.due_events(10.0, 10):
        await store.event_dead(due.seq, 5, "gone")
    assert await store.due_events(10.0, 10) == []
    assert await store.replay_dead_events(None, now=20.0) == 3
    replayed = await store.due_events(20.0, 10)
    assert [(e.event_id, e.attempts, e.created) for e in replayed] == [
        ("e0", 0, 20.0),
        ("e1", 0, 20.0),
        ("e2", 0, 20.0),
    ]
    assert (await store.outbox_stats(now=25.0))["oldestAge"] == 5.0
