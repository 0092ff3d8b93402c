"""The Store contract on both backends: upserts, mailbox indexes, folder state, the outbox."""

from __future__ import annotations

import asyncio

from imapapi.store.base import FolderState, NewEvent, Store


def event(event_id: str, account: str = "a", at: float = 100.0) -> NewEvent:
    return NewEvent(event_id=event_id, account=account, payload={"event": event_id}, created=at)


async def test_put_account_reports_create_then_update(store: Store) -> None:
    assert await store.put_account("a", {"v": 1}, 1.0) is True
    assert await store.put_account("a", {"v": 2}, 2.0) is False
    record = await store.get_account("a")
    assert record is not None
    assert (record.data, record.created, record.updated) == ({"v": 2}, 1.0, 2.0)
    assert await store.delete_account("a") is True
    assert await store.delete_account("a") is False


async def test_mailbox_index_is_stable_and_new_per_uidvalidity(store: Store) -> None:
    inbox = await store.mailbox_index("a", "INBOX", 7)
    assert await store.mailbox_index("a", "INBOX", 7) == inbox
    recreated = await store.mailbox_index("a", "INBOX", 8)
    assert recreated != inbox
    assert await store.resolve_mailbox_index("a", inbox) == ("INBOX", 7)
    assert await store.resolve_mailbox_index("a", recreated) == ("INBOX", 8)
    assert await store.resolve_mailbox_index("b", inbox) is None
    assert await store.mailbox_index("b", "INBOX", 7) == 1  # counters are per account


async def test_commit_sync_writes_events_and_state_together(store: Store) -> None:
    folder = FolderState(
        account="a",
        path="INBOX",
        index=1,
        uid_validity=7,
        uid_next=5,
        messages=4,
        messages_blob=b"\x01\x02",
    )
    await store.commit_sync("a", [event("e1"), event("e1")], [folder])
    await store.commit_sync("a", [event("e1")], [])  # the same event id again is a no-op
    assert await store.get_folders("a") == [folder]
    due = await store.due_events(now=1000.0, limit=10)
    assert [e.event_id for e in due] == ["e1"]
    await store.commit_sync("a", [], [], removed_paths=["INBOX"])
    assert await store.get_folders("a") == []


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


async def test_settings_merge_and_clear(store: Store) -> None:
    assert await store.update_settings({"a": 1, "b": [1, 2]}) == {"a": 1, "b": [1, 2]}
    assert await store.update_settings({"a": None, "c": "x"}) == {"b": [1, 2], "c": "x"}


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


async def test_deleting_an_account_keeps_its_events_and_forgets_its_folders(store: Store) -> None:
    await store.put_account("a", {}, 1.0)
    await store.mailbox_index("a", "INBOX", 1)
    event = NewEvent(event_id="e", account="a", payload={}, created=1.0)
    await store.commit_sync("a", [event], [FolderState("a", "INBOX", 1, 1)])
    assert await store.delete_account("a") is True
    assert await store.get_folders("a") == []
    assert await store.resolve_mailbox_index("a", 1) is None
    assert [e.event_id for e in await store.due_events(10.0, 10)] == ["e"]
    assert await store.list_accounts() == []


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
