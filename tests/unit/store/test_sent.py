"""The sent index on both backends: track, find, untrack and purge Message-IDs."""

from __future__ import annotations

from imapapi.store.base import Store


async def test_sent_index_track_find_untrack_and_purge(store: Store) -> None:
    assert await store.track_message_ids("a", ["<x@e>", "<y@e>", "<x@e>"], now=100.0) == 2
    assert await store.track_message_ids("a", ["<x@e>"], now=300.0) == 0  # kept, not re-dated
    assert await store.track_message_ids("b", ["<x@e>"], now=300.0) == 1
    found = await store.find_sent("a", ["<y@e>", "<nope@e>", "<x@e>", "<y@e>"])
    assert sorted((r.message_id, r.queue_id, r.sent_at) for r in found) == [
        ("<x@e>", "", 100.0),
        ("<y@e>", "", 100.0),
    ]
    assert await store.untrack_message_ids("a", ["<y@e>", "<nope@e>"]) == 1
    assert await store.get_sent("a", "<y@e>") is None
    assert await store.purge_sent(before=200.0) == 1  # a's <x@e>; b's is newer
    assert await store.find_sent("a", ["<x@e>"]) == []
    assert await store.get_sent("b", "<x@e>") is not None
