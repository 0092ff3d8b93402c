"""The AccountStore contract on both backends: upserts, and what deleting an account forgets."""

from __future__ import annotations

from imapapi.store.base import FolderState, NewEvent, Store


async def test_put_account_reports_create_then_update(store: Store) -> None:
    assert await store.put_account("a", {"v": 1}, 1.0) is True
    assert await store.put_account("a", {"v": 2}, 2.0) is False
    record = await store.get_account("a")
    assert record is not None
    assert (record.data, record.created, record.updated) == ({"v": 2}, 1.0, 2.0)
    assert await store.delete_account("a") is True
    assert await store.delete_account("a") is False


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
