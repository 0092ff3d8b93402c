"""Account ownership on the Redis store (issue 8): heartbeats, leases, fencing tokens, the
dispatcher's owner filter, published states and signals, on a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from imapapi.errors import LeaseLostError
from imapapi.store.base import FolderState, NewEvent
from imapapi.store.redis import RedisStore
from tests.servers.redis import RedisServer
from tests.unit.store.conftest import fresh_prefix


@pytest.fixture
async def redis_store(redis_server: RedisServer) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_server.url, prefix=fresh_prefix())
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def _event(n: int, account: str) -> NewEvent:
    return NewEvent(f"e{n}", account, {"event": "messageNew", "n": n}, float(n))


async def test_heartbeat_lists_live_nodes_and_forgets_the_silent(redis_store: RedisStore) -> None:
    assert await redis_store.heartbeat("b", 30) == ["b"]
    assert await redis_store.heartbeat("a", 0.2) == ["a", "b"]
    await asyncio.sleep(0.3)
    assert await redis_store.heartbeat("b", 30) == ["b"]  # "a" did not renew in time
    await redis_store.heartbeat("c", 30)
    await redis_store.leave("c")
    assert await redis_store.heartbeat("b", 30) == ["b"]


async def test_a_lease_is_taken_only_when_free_and_its_token_moves_with_the_owner(
    redis_store: RedisStore,
) -> None:
    held = await redis_store.claim_leases("a", ["x", "y"], 30)
    assert held == {"x": 1, "y": 1}
    assert await redis_store.claim_leases("b", ["x", "y", "z"], 30) == {"z": 1}
    # Renewal keeps the token; release and take-over move it on.
    assert await redis_store.claim_leases("a", ["x"], 30) == {"x": 1}
    await redis_store.release_leases("b", ["x"])  # not b's: nothing happens
    assert await redis_store.claim_leases("b", ["x"], 30) == {}
    await redis_store.release_leases("a", ["x"])
    assert await redis_store.claim_leases("b", ["x"], 30) == {"x": 2}
    assert await redis_store.claim_leases("a", ["x"], 30) == {}
    history = await redis_store.lease_history(100)
    assert [(h["account"], h["node"], h["action"], h["fence"]) for h in history] == [
        ("x", "a", "acquire", "1"),
        ("y", "a", "acquire", "1"),
        ("z", "b", "acquire", "1"),
        ("x", "a", "release", "1"),
        ("x", "b", "acquire", "2"),
    ]
    assert all(int(h["at"]) > 0 for h in history)


async def test_an_expired_lease_goes_to_the_next_claimant(redis_store: RedisStore) -> None:
    assert await redis_store.claim_leases("a", ["x"], 0.2) == {"x": 1}
    assert await redis_store.claim_leases("b", ["x"], 30) == {}
    await asyncio.sleep(0.3)
    assert await redis_store.claim_leases("b", ["x"], 30) == {"x": 2}
    assert await redis_store.claim_leases("a", ["x"], 30) == {}  # "a" cannot renew it back


async def test_a_commit_with_an_old_fencing_token_writes_nothing(redis_store: RedisStore) -> None:
    folder = FolderState(account="x", path="INBOX", index=1, uid_validity=7, uid_next=5)
    old = (await redis_store.claim_leases("a", ["x"], 0.1))["x"]
    await redis_store.commit_sync("x", [_event(1, "x")], [folder], fence=old)
    await asyncio.sleep(0.2)
    new = (await redis_store.claim_leases("b", ["x"], 30))["x"]
    assert new > old
    stale = FolderState(account="x", path="INBOX", index=1, uid_validity=7, uid_next=9)
    with pytest.raises(LeaseLostError):
        await redis_store.commit_sync("x", [_event(2, "x")], [stale], fence=old)
    assert [f.uid_next for f in await redis_store.get_folders("x")] == [5]
    assert [e.event_id for e in await redis_store.due_events(1e12, 10)] == ["e1"]
    await redis_store.events_delivered([(await redis_store.due_events(1e12, 10))[0].seq])
    await redis_store.commit_sync("x", [_event(3, "x")], [stale], fence=new)
    assert [f.uid_next for f in await redis_store.get_folders("x")] == [9]
    assert [e.event_id for e in await redis_store.due_events(1e12, 10)] == ["e3"]


async def test_a_commit_fenced_on_an_account_never_leased_is_refused(
    redis_store: RedisStore,
) -> None:
    with pytest.raises(LeaseLostError):
        await redis_store.commit_sync("x", [_event(1, "x")], [], fence=1)
    assert await redis_store.due_events(1e12, 10) == []


async def test_due_events_of_an_owner_are_those_of_its_accounts_and_orphans(
    redis_store: RedisStore,
) -> None:
    for account in ("mine", "theirs", "nobodys", "deleted"):
        if account != "deleted":
            await redis_store.put_account(account, {"account": account}, 1.0)
    await redis_store.add_events([_event(n, a) for n, a in enumerate(
        ["mine", "theirs", "nobodys", "deleted", "mine"]
    )])  # fmt: skip
    await redis_store.claim_leases("me", ["mine"], 30)
    await redis_store.claim_leases("other", ["theirs"], 30)

    def ids(events: list) -> list[str]:  # type: ignore[type-arg]
        return [e.event_id for e in events]

    assert ids(await redis_store.due_events(1e12, 10, owner="me", orphans=False)) == ["e0"]
    # The leader also takes what a deleted account left; an unleased live account waits.
    assert ids(await redis_store.due_events(1e12, 10, owner="me", orphans=True)) == ["e0", "e3"]
    assert ids(await redis_store.due_events(1e12, 10, owner="other")) == ["e1", "e3"]
    assert ids(await redis_store.due_events(1e12, 1, owner="other")) == ["e1"]
    assert len(await redis_store.due_events(1e12, 10)) == 4  # no owner: every account's head


async def test_versions_change_on_update_and_signal_and_states_are_shared(
    redis_store: RedisStore,
) -> None:
    await redis_store.put_account("x", {"account": "x"}, 1.0)
    await redis_store.put_account("y", {"account": "y"}, 1.0)
    before = await redis_store.account_versions()
    assert set(before) == {"x", "y"}
    assert await redis_store.account_versions(["y", "gone"]) == {"y": before["y"]}
    assert await redis_store.account_versions([]) == {}
    await redis_store.signal_account("x")
    await redis_store.put_account("y", {"account": "y", "name": "new"}, 2.0)
    after = await redis_store.account_versions()
    assert after["x"] != before["x"] and after["y"] != before["y"]

    await redis_store.set_account_status("x", "node-1", "connected", None, 5.0)
    await redis_store.set_account_status("y", "node-2", "connectError", "refused", 6.0)
    statuses = await redis_store.account_statuses()
    assert (statuses["x"].node, statuses["x"].state, statuses["x"].error) == (
        "node-1",
        "connected",
        None,
    )
    assert statuses["y"].error == "refused"
    await redis_store.delete_account("x")
    assert set(await redis_store.account_versions()) == {"y"}
    assert set(await redis_store.account_statuses()) == {"y"}
