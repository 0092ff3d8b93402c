"""What only the Redis store has: key prefixes, reconnects, and atomicity across clients.

Several stores on one prefix stand for several imapapi processes on one Redis (DESIGN.md §7):
each has its own connection pool, so their scripts really do race at the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest
import redis.asyncio as aioredis

from imapapi.errors import StoreError
from imapapi.store.base import FolderState, NewEvent, Submission, SubmissionState
from imapapi.store.keys import REDIS_SCHEMA_VERSION, RedisKeys
from imapapi.store.redis import RedisStore
from imapapi.store.redis.connection import REDIS_MAX_CONNECTIONS
from tests.servers.ports import free_port
from tests.servers.redis import RedisServer
from tests.unit.store.conftest import fresh_prefix

OpenStore = Callable[..., Awaitable[RedisStore]]
BLOB = bytes(range(256)) * 4  # every byte value, as the sync engine's packed flags may hold


@pytest.fixture
async def open_store(redis_server: RedisServer) -> AsyncIterator[OpenStore]:
    """Open RedisStores on the test Redis (closed at teardown); `prefix` defaults to a new one."""
    async with AsyncExitStack() as stack:

        async def make(prefix: str | None = None) -> RedisStore:
            store = RedisStore(redis_server.url, prefix=prefix or fresh_prefix())
            await store.open()
            stack.push_async_callback(store.close)
            return store

        yield make


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


def event(event_id: str, account: str, at: float = 100.0) -> NewEvent:
    return NewEvent(event_id=event_id, account=account, payload={"event": event_id}, created=at)


def submission(queue_id: str, at: float = 100.0) -> Submission:
    return Submission(
        queue_id=queue_id,
        account="a",
        message_id=f"<{queue_id}@example.com>",
        envelope_from="me@example.com",
        envelope_to=("you@example.com",),
        created=at,
        send_at=at,
        next_attempt=at,
        raw="enc1:ciphertext",
        idempotency_key=queue_id,
    )


async def fill(store: RedisStore) -> None:
    """Something in every part of the store."""
    await store.put_account("acct", {"name": "x"}, 1.0)
    await store.update_settings({"webhooks": "http://example.test/hook"})
    index = await store.mailbox_index("acct", "INBOX", 7)
    folder = FolderState("acct", "INBOX", index, 7, uid_next=9, messages_blob=BLOB)
    await store.commit_sync("acct", [event("e1", "acct")], [folder])
    await store.add_submission(submission("q1"), 0.0)
    await store.track_message_ids("acct", ["<m@example.com>"], 1.0)


async def test_two_prefixes_on_one_redis_never_see_each_other(
    open_store: OpenStore, raw: aioredis.Redis
) -> None:
    first = await open_store()
    second = await open_store()
    before = set(await raw.keys("*"))
    await fill(first)
    written = set(await raw.keys("*")) - before
    assert written and all(k.startswith(first.keys.prefix.encode() + b":") for k in written)

    assert await second.list_accounts() == []
    assert await second.get_settings() == {}
    assert await second.get_folders("acct") == []
    assert await second.resolve_mailbox_index("acct", 1) is None
    assert await second.due_events(1e9, 10) == []
    assert await second.get_submission("q1") is None
    assert await second.claim_submissions(1e9, 60.0, 10) == []
    assert await second.get_sent("acct", "<m@example.com>") is None
    assert await second.outbox_stats(1e9) == {"pending": 0.0, "dead": 0.0, "oldestAge": 0.0}
    # The same ids in the second deployment are new there, and the first one is untouched.
    assert await second.mailbox_index("acct", "Other", 1) == 1
    assert await second.put_account("acct", {"name": "y"}, 2.0) is True
    record = await first.get_account("acct")
    assert record is not None and record.data == {"name": "x"}


async def test_data_survives_reconnect_and_reopen(open_store: OpenStore) -> None:
    prefix = fresh_prefix()
    store = await open_store(prefix)
    await fill(store)
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.get_account("acct")

    again = await open_store(prefix)
    record = await again.get_account("acct")
    assert record is not None and record.data == {"name": "x"}
    [folder] = await again.get_folders("acct")
    assert folder.messages_blob == BLOB and folder.uid_next == 9
    assert await again.mailbox_index("acct", "INBOX", 7) == folder.index
    assert [e.event_id for e in await again.due_events(1e9, 10)] == ["e1"]
    [claimed] = await again.claim_submissions(1e9, 60.0, 10)
    assert claimed.queue_id == "q1" and claimed.raw == "enc1:ciphertext"
    # The event id is still known: writing it again after the reopen is a no-op.
    await again.add_events([event("e1", "acct")])
    assert (await again.outbox_stats(1e9))["pending"] == 1


async def test_concurrent_mailbox_index_allocations_give_one_index(
    open_store: OpenStore,
) -> None:
    prefix = fresh_prefix()
    stores = [await open_store(prefix) for _ in range(4)]
    indexes = await asyncio.gather(
        *(stores[i % 4].mailbox_index("a", f"F{i % 3}", 5) for i in range(120))
    )
    by_folder = {f"F{n}": {indexes[i] for i in range(n, 120, 3)} for n in range(3)}
    assert all(len(found) == 1 for found in by_folder.values()), by_folder
    assert sorted(next(iter(found)) for found in by_folder.values()) == [1, 2, 3]
    for path, (index,) in by_folder.items():
        assert await stores[0].resolve_mailbox_index("a", index) == (path, 5)


async def test_concurrent_claims_never_hand_one_submission_to_two(
    open_store: OpenStore,
) -> None:
    prefix = fresh_prefix()
    stores = [await open_store(prefix) for _ in range(4)]
    for i in range(40):
        await stores[0].add_submission(submission(f"q{i:02}", at=100.0 + i % 5), 0.0)
    batches = await asyncio.gather(
        *(stores[i % 4].claim_submissions(now=500.0, lease=60.0, limit=3) for i in range(20))
    )
    claimed = [s.queue_id for batch in batches for s in batch]
    assert len(claimed) == len(set(claimed)) == 40
    assert all(s.state is SubmissionState.SENDING for batch in batches for s in batch)
    assert await stores[1].claim_submissions(now=559.0, lease=60.0, limit=50) == []
    page = await stores[2].list_submissions(None, [SubmissionState.SENDING], 0, 100)
    assert page.total == 40


async def test_due_events_keep_each_accounts_order(open_store: OpenStore) -> None:
    store = await open_store()
    events = [event(f"{account}{n}", account, at=100.0 + n) for n in range(5) for account in "abc"]
    await store.add_events(events)
    delivered: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    retried = False
    while due := await store.due_events(now=1e9, limit=10):
        assert [e.seq for e in due] == sorted(e.seq for e in due)
        assert len({e.account for e in due}) == len(due)  # one head per account
        for e in due:
            if e.event_id == "b2" and not retried:
                # A failed head holds back its account only; it is due again later.
                await store.event_retry(e.seq, 1, 2e9, "HTTP 500")
                retried = True
                continue
            delivered[e.account].append(e.event_id)
            await store.events_delivered([e.seq])
    assert delivered["a"] == [f"a{n}" for n in range(5)]
    assert delivered["c"] == [f"c{n}" for n in range(5)]
    assert delivered["b"] == ["b0", "b1"]
    assert [e.event_id for e in await store.due_events(now=2e9, limit=10)] == ["b2"]


async def test_newer_layout_is_refused(open_store: OpenStore, raw: aioredis.Redis) -> None:
    prefix = fresh_prefix()
    await raw.set(RedisKeys(prefix).schema, REDIS_SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="newer"):
        await open_store(prefix)


async def test_unreachable_redis_is_a_store_error() -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreError):
        await store.open()
    assert await store.ping() is False
    await store.close()


async def test_bad_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        RedisStore("redis://127.0.0.1:1/0", prefix="a:b")


async def test_more_callers_than_connections_wait_for_one(open_store: OpenStore) -> None:
    # Hundreds of accounts commit at once under a burst: past the pool's size a caller waits
    # for a connection instead of failing with "Too many connections".
    store = await open_store()
    callers = 3 * REDIS_MAX_CONNECTIONS
    await asyncio.gather(*(store.add_events([event(f"e{n}", f"acct{n}")]) for n in range(callers)))
    assert (await store.outbox_stats(now=100.0))["pending"] == callers


def _folder(account: str) -> FolderState:
    return FolderState(
        account=account, path="INBOX", index=1, uid_validity=7, uid_next=5, messages=4,
        messages_blob=BLOB,
    )  # fmt: skip


async def test_commits_made_at_once_go_in_one_pipeline_each_with_its_answer(
    open_store: OpenStore, raw: aioredis.Redis
) -> None:
    # Group commit: the syncs' commits queued while one is answered go in one round trip. Each
    # script still runs whole, and each caller is told its own outcome: the commit fenced on
    # an account this node never leased is refused, the others are written.
    store = await open_store()
    await raw.script_flush()  # the first batch finds no script loaded: each is loaded once
    assert store._redis is not None
    client = store._redis
    pipelines = 0
    make_pipeline = client.pipeline

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal pipelines
        pipelines += 1
        return make_pipeline(*args, **kwargs)

    client.pipeline = counted
    accounts = [f"acc{n}" for n in range(6)]

    async def commit(account: str) -> None:
        fence = 1 if account == "acc3" else None
        await store.commit_sync(
            account, [event(f"e-{account}", account)], [_folder(account)], fence=fence
        )

    outcomes = await asyncio.gather(*(commit(a) for a in accounts), return_exceptions=True)
    assert [type(o).__name__ for o in outcomes] == [
        "NoneType", "NoneType", "NoneType", "LeaseLostError", "NoneType", "NoneType"
    ]  # fmt: skip
    assert pipelines == 1  # all six were queued before the first was sent
    due = await store.due_events(now=1000.0, limit=10)
    assert sorted(e.event_id for e in due) == [f"e-{a}" for a in accounts if a != "acc3"]
    assert await store.get_folders("acc3") == []
    assert [f.messages_blob for f in await store.get_folders("acc4")] == [BLOB]
    # Loaded now: the next batch is answered in its one round trip.
    pipelines = 0
    outcomes = await asyncio.gather(
        *(store.commit_sync(a, [event(f"f-{a}", a)], [_folder(a)]) for a in accounts)
    )
    assert pipelines == 1 and outcomes == [None] * len(accounts)


async def test_a_commit_cancelled_while_queued_is_not_sent(open_store: OpenStore) -> None:
    store = await open_store()
    first = asyncio.create_task(store.commit_sync("a", [event("e1", "a")], []))
    second = asyncio.create_task(store.commit_sync("b", [event("e2", "b")], []))
    await asyncio.sleep(0)  # both queued; the grouping task has not run yet
    second.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    assert [e.event_id for e in await store.due_events(now=1000.0, limit=10)] == ["e1"]
