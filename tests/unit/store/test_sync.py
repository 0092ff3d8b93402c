"""The SyncStore contract on both backends: mailbox indexes, folder state, and commit_sync."""

from __future__ import annotations

import asyncio

from imapapi.store.base import FolderState, Store
from tests.unit.store.conftest import event


async def test_mailbox_index_is_stable_and_new_per_uidvalidity(store: Store) -> None:
    inbox = await store.mailbox_index("a", "INBOX", 7)
    assert await store.mailbox_index("a", "INBOX", 7) == inbox
    recreated = await store.mailbox_index("a", "INBOX", 8)
    assert recreated != inbox
    assert await store.resolve_mailbox_index("a", inbox) == ("INBOX", 7)
    assert await store.resolve_mailbox_index("a", recreated) == ("INBOX", 8)
    assert await store.resolve_mailbox_index("b", inbox) is None
    assert await store.mailbox_index("b", "INBOX", 7) == 1  # counters are per account


async def test_mailbox_index_asked_at_once_is_allocated_once(store: Store) -> None:
    # Found by a plain read when it exists; only the first ask allocates, the rest find it.
    asked = await asyncio.gather(*(store.mailbox_index("a", f"F{n % 3}", 5) for n in range(30)))
    assert sorted(set(asked)) == [1, 2, 3]
    for n, index in enumerate(asked):
        assert await store.resolve_mailbox_index("a", index) == (f"F{n % 3}", 5)


async def test_mailbox_indexes_binds_many_at_once_as_one_at_a_time_would(store: Store) -> None:
    inbox = await store.mailbox_index("a", "INBOX", 7)
    wanted = [("Sent", 3), ("INBOX", 7), ("Trash", 3), ("Sent", 3), ("INBOX", 9)]
    indexes = await store.mailbox_indexes("a", wanted)
    # Known bindings keep their index; new ones take the next free ones, in the order given;
    # the same folder twice in one call is one binding.
    assert indexes == [inbox + 1, inbox, inbox + 2, inbox + 1, inbox + 3]
    for (path, uid_validity), index in zip(wanted, indexes, strict=True):
        assert await store.resolve_mailbox_index("a", index) == (path, uid_validity)
    assert await store.mailbox_index("a", "Junk", 1) == inbox + 4
    assert await store.mailbox_indexes("a", []) == []
    assert await store.mailbox_indexes("b", [("INBOX", 7)]) == [1]  # counters are per account


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
