"""The OutboxStore contract on both backends: in-order heads per account, retries, dead events."""

from __future__ import annotations

import random

from imapapi.store.base import NewEvent, Store
from imapapi.store.sqlite.outbox import HEAD_WINDOW
from tests.unit.store.conftest import event


async def test_due_events_hands_out_only_each_accounts_head(store: Store) -> None:
    await store.add_events([event("a1", "a"), event("a2", "a"), event("b1", "b")])
    due = await store.due_events(now=1000.0, limit=10)
    assert [e.event_id for e in due] == ["a1", "b1"]

    await store.event_retry(due[0].seq, attempts=1, next_attempt=2000.0, error="HTTP 500")
    due = await store.due_events(now=1000.0, limit=10)
    assert [e.event_id for e in due] == ["b1"]  # a1 waits, and a2 waits behind it
    await store.events_delivered([due[0].seq])
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
    await store.events_delivered([due.seq])
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


async def test_due_events_hand_out_each_accounts_run_behind_its_head(store: Store) -> None:
    await store.add_events(
        [event(f"a{n}", "a") for n in range(4)] + [event("b0", "b"), event("c0", "c")]
    )
    await store.event_dead((await store.due_events(1000.0, 1))[0].seq, 9, "gone")  # a0

    due = await store.due_events(now=1000.0, limit=10, per_account=2)
    assert [e.event_id for e in due] == ["a1", "a2", "b0", "c0"]  # a3 beyond the run, a0 dead

    # Accounts being delivered are passed over, and `limit` counts accounts, not events.
    due = await store.due_events(now=1000.0, limit=1, per_account=9, exclude=["a"])
    assert [e.event_id for e in due] == ["b0"]


async def test_a_run_waits_while_its_head_is_not_due(store: Store) -> None:
    await store.add_events([event("a1", "a"), event("a2", "a")])
    [head, _] = await store.due_events(now=1000.0, limit=10, per_account=5)
    await store.event_retry(head.seq, attempts=1, next_attempt=2000.0, error="HTTP 500")
    assert await store.due_events(now=1000.0, limit=10, per_account=5) == []
    due = await store.due_events(now=2000.0, limit=10, per_account=5)
    assert [(e.event_id, e.attempts) for e in due] == [("a1", 1), ("a2", 0)]


async def test_events_delivered_removes_a_batch_across_accounts(store: Store) -> None:
    await store.add_events([event(f"{a}{n}", a) for a in "ab" for n in range(3)])
    due = await store.due_events(now=1000.0, limit=10, per_account=2)
    await store.events_delivered([e.seq for e in due])
    await store.events_delivered([due[0].seq])  # already gone: nothing happens
    await store.events_delivered([])
    left = await store.due_events(now=1000.0, limit=10, per_account=5)
    assert [e.event_id for e in left] == ["a2", "b2"]
    assert (await store.outbox_stats(now=1000.0))["pending"] == 2


async def test_a_waiting_backlog_does_not_hide_the_accounts_behind_it(store: Store) -> None:
    """An account whose head waits (a retry later) with a backlog longer than SQLite's first
    look at the oldest rows (`HEAD_WINDOW` per account asked for): the next account's head is
    still handed out, at once."""
    await store.add_events(
        [event(f"a{n}", "a") for n in range(3 * HEAD_WINDOW)] + [event("b0", "b")]
    )
    [head] = await store.due_events(now=1000.0, limit=1)
    assert head.event_id == "a0"
    await store.event_retry(head.seq, attempts=1, next_attempt=5000.0, error="HTTP 503")
    assert [e.event_id for e in await store.due_events(now=1000.0, limit=1)] == ["b0"]
    assert [e.event_id for e in await store.due_events(now=1000.0, limit=5)] == ["b0"]
    busy = await store.due_events(now=1000.0, limit=1, exclude=["b"])
    assert busy == []


async def test_due_heads_match_a_model_of_the_queue(store: Store) -> None:
    """Random queues (interleaved accounts, waiting heads, dead rows, busy accounts) against
    the rule itself: the oldest `limit` due heads, each with its run behind it."""
    rng = random.Random(17)
    pending: dict[str, list[tuple[int, str]]] = {}  # account → [(seq, event id)] in order
    waiting: set[str] = set()
    for n in range(600):
        account = f"acct{rng.randrange(40) if n % 3 else rng.randrange(4)}"
        await store.add_events([event(f"e{n}", account)])
    for due in await store.due_events(now=1000.0, limit=1000, per_account=1000):
        pending.setdefault(due.account, []).append((due.seq, due.event_id))
    for account, run in pending.items():  # some heads wait, some die
        roll = rng.random()
        if roll < 0.2:
            await store.event_retry(run[0][0], 1, next_attempt=9000.0, error="HTTP 500")
            waiting.add(account)
        elif roll < 0.3:
            await store.event_dead(run[0][0], 9, "gone")
            run.pop(0)
    for limit, per_account in [(1, 1), (2, 3), (5, 1), (16, 2), (64, 4)]:
        exclude = sorted(rng.sample(sorted(pending), 3))
        heads = sorted(
            (run[0][0], account)
            for account, run in pending.items()
            if run and account not in waiting and account not in exclude
        )[:limit]
        expected = [eid for _, account in heads for _, eid in pending[account][:per_account]]
        due = await store.due_events(
            now=1000.0, limit=limit, per_account=per_account, exclude=exclude
        )
        assert [e.event_id for e in due] == expected, (limit, per_account)
