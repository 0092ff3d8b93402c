"""OAuth2 apps, grants, consents under way and the refresh lock (`OAuth2Store`), on both
backends."""

from __future__ import annotations

from imapapi.store.base import Store
from imapapi.store.redis import RedisStore


async def test_apps_are_created_replaced_listed_and_deleted(store: Store) -> None:
    assert await store.put_oauth2_app("b", {"name": "B"}, 10.0)
    assert await store.put_oauth2_app("a", {"name": "A"}, 11.0)
    assert not await store.put_oauth2_app("b", {"name": "B2"}, 12.0)
    record = await store.get_oauth2_app("b")
    assert record is not None
    assert (record.data, record.created, record.updated) == ({"name": "B2"}, 10.0, 12.0)
    assert [r.id for r in await store.list_oauth2_apps()] == ["a", "b"]
    assert await store.delete_oauth2_app("a")
    assert not await store.delete_oauth2_app("a")
    assert await store.get_oauth2_app("a") is None
    assert [r.id for r in await store.list_oauth2_apps()] == ["b"]


async def test_grants_are_replaced_and_go_with_their_account(store: Store) -> None:
    await store.put_account("acc", {"account": "acc"}, 1.0)
    await store.put_oauth2_grant("acc", {"app": "g", "refreshToken": "enc1:x"}, 2.0)
    await store.put_oauth2_grant("acc", {"app": "g", "refreshToken": "enc1:y"}, 3.0)
    assert await store.get_oauth2_grant("acc") == {"app": "g", "refreshToken": "enc1:y"}
    await store.delete_account("acc")
    assert await store.get_oauth2_grant("acc") is None
    await store.put_oauth2_grant("other", {"app": "g"}, 4.0)
    assert await store.delete_oauth2_grant("other")
    assert not await store.delete_oauth2_grant("other")


async def test_a_consent_is_taken_once_and_not_after_it_expired(store: Store) -> None:
    await store.put_oauth2_pending("k1", {"verifier": "enc1:v"}, expires=2_000_000_000.0)
    assert await store.take_oauth2_pending("k1", now=1_000_000_000.0) == {"verifier": "enc1:v"}
    assert await store.take_oauth2_pending("k1", now=1_000_000_000.0) is None  # used
    await store.put_oauth2_pending("k2", {"verifier": "enc1:w"}, expires=2_000_000_000.0)
    assert await store.take_oauth2_pending("k2", now=2_000_000_001.0) is None  # expired
    assert await store.take_oauth2_pending("never", now=1.0) is None


async def test_refresh_lock_is_given_back_by_its_holder_only(store: Store) -> None:
    assert await store.lock_oauth2_refresh("acc", "node-a", 30.0)
    await store.unlock_oauth2_refresh("acc", "node-b")  # not the holder: nothing happens
    taken = await store.lock_oauth2_refresh("acc", "node-b", 30.0)
    # One process on SQLite: its in-process lock is the only one, so the store always agrees;
    # on Redis, node-a still holds it.
    assert taken is not isinstance(store, RedisStore)
    await store.unlock_oauth2_refresh("acc", "node-a")
    assert await store.lock_oauth2_refresh("acc", "node-b", 30.0)
