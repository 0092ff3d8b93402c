"""The in-process token cache (credentials/tokens.py) on a real SQLite store: what it keeps, for
how long, and which revokes it hears at once. A second store object on the same file stands for
`imapapi token revoke` run beside the service (another process: its revokes are not heard)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imapapi.credentials.tokens import TokenCache, check_token, create_token, hash_token
from imapapi.errors import ForbiddenError, UnauthorizedError
from imapapi.store.sqlite import SqliteStore

TTL = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """The service's store and another process's store on the same file."""
    ours, other = SqliteStore(tmp_path / "db.sqlite"), SqliteStore(tmp_path / "db.sqlite")
    await ours.open()
    await other.open()
    try:
        yield ours, other
    finally:
        await other.close()
        await ours.close()


async def test_revoke_elsewhere_shows_once_the_record_is_older_than_the_ttl(
    stores: tuple[SqliteStore, SqliteStore],
) -> None:
    ours, other = stores
    clock = Clock()
    cache = TokenCache(ours, TTL, clock=clock)
    record, token = await create_token(ours, "crm")
    assert (await check_token(cache, token)).id == record.id
    assert await other.revoke_token(record.id, 1.0)

    clock.now += TTL - 0.1
    assert (await check_token(cache, token)).revoked is None  # the kept copy
    clock.now += 0.2
    with pytest.raises(ForbiddenError):
        await check_token(cache, token)


@pytest.mark.parametrize(
    ("ttl", "revoker"),
    [(TTL, 0), (0.0, 1)],
    ids=["through_this_store", "elsewhere_with_ttl_zero"],
)
async def test_revoke_applies_at_once(
    stores: tuple[SqliteStore, SqliteStore], ttl: float, revoker: int
) -> None:
    ours = stores[0]
    cache = TokenCache(ours, ttl, clock=Clock())
    record, token = await create_token(ours, "crm")
    kept, other_token = await create_token(ours, "other")
    await check_token(cache, token)
    await check_token(cache, other_token)
    assert await stores[revoker].revoke_token(record.id, 1.0)
    with pytest.raises(ForbiddenError):
        await check_token(cache, token)
    assert (await check_token(cache, other_token)).id == kept.id


async def test_unknown_tokens_are_not_kept(stores: tuple[SqliteStore, SqliteStore]) -> None:
    ours, other = stores
    cache = TokenCache(ours, TTL, clock=Clock())
    _, token = await create_token(ours, "probe")
    missing = "0" * 64
    with pytest.raises(UnauthorizedError):
        await check_token(cache, missing)
    # A token created by another process a moment after a miss works at once.
    assert await cache.get_token_by_hash(hash_token(token)) is not None
    record, created = await create_token(other, "new")
    assert (await check_token(cache, created)).id == record.id


async def test_a_lookup_under_way_at_a_revoke_is_not_kept(
    stores: tuple[SqliteStore, SqliteStore],
) -> None:
    ours, _ = stores
    cache = TokenCache(ours, TTL, clock=Clock())
    record, token = await create_token(ours, "crm")
    read = ours.get_token_by_hash

    async def revoked_while_reading(token_hash: str):  # type: ignore[no-untyped-def]
        found = await read(token_hash)  # read before the revoke: still active
        await ours.revoke_token(record.id, 1.0)
        return found

    ours.get_token_by_hash = revoked_while_reading  # type: ignore[method-assign]
    assert (await check_token(cache, token)).revoked is None
    ours.get_token_by_hash = read  # type: ignore[method-assign]
    with pytest.raises(ForbiddenError):
        await check_token(cache, token)
