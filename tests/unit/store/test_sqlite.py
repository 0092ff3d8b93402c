"""What only the SQLite store has: its schema migrations and its file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from imapapi.credentials.tokens import grants, hash_token, sees_account
from imapapi.errors import StoreError
from imapapi.store import keys
from imapapi.store.base import FolderState
from imapapi.store.sqlite import MIGRATIONS, SqliteStore
from tests.unit.store.conftest import event


async def test_schema_is_migrated_and_reopening_keeps_data(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "db.sqlite")
    await first.open()
    assert await first.put_account("a", {"x": 1}, 1.0) is True
    await first.close()
    with sqlite3.connect(tmp_path / "db.sqlite") as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    second = SqliteStore(tmp_path / "db.sqlite")
    await second.open()
    record = await second.get_account("a")
    assert record is not None and record.data == {"x": 1}
    await second.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "db.sqlite") as raw:
        raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    store = SqliteStore(tmp_path / "db.sqlite")
    with pytest.raises(StoreError, match="newer"):
        await store.open()
    await store.close()


async def test_migration_two_creates_the_tables(tmp_path: Path, sqlite_store: SqliteStore) -> None:
    with sqlite3.connect(tmp_path / "db.sqlite") as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 2
    assert {"submissions", "sent_index"} <= tables


async def test_tokens_made_before_binding_become_unbound_admin(tmp_path: Path) -> None:
    # A database at schema version 2, with a token as imapapi wrote it then (scope "api").
    with sqlite3.connect(tmp_path / "db.sqlite") as raw:
        for script in MIGRATIONS[:2]:
            raw.executescript(script)
        raw.execute(
            f"INSERT INTO {keys.TOKENS} (id, token_hash, description, scopes, created, revoked)"
            " VALUES ('old', ?, 'from before', '[\"api\"]', 1.0, NULL)",
            (hash_token("old-token"),),
        )
        raw.execute("PRAGMA user_version = 2")
    store = SqliteStore(tmp_path / "db.sqlite")
    await store.open()
    try:
        record = await store.get_token_by_hash(hash_token("old-token"))
        assert record is not None and record.accounts == () and record.scopes == ("api",)
        assert grants(record, "admin") and sees_account(record, "anyone")
        assert not grants(record, "metrics")
    finally:
        await store.close()


def _good(account: str) -> FolderState:
    return FolderState(
        account=account, path="INBOX", index=1, uid_validity=7, uid_next=5, messages=4,
        messages_blob=b"",
    )  # fmt: skip


def _bad(account: str) -> FolderState:
    return FolderState(
        account=account, path="INBOX", index=1, uid_validity=7, uid_next=5, messages=4,
        messages_blob=None,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_a_failed_sync_commit_writes_nothing(tmp_path: Path) -> None:
    # The events are written first; a folder row the schema refuses (blob NOT NULL) must take
    # them back with it, as one transaction (crash safety: state and events together).
    store = SqliteStore(tmp_path / "db.sqlite")
    await store.open()
    try:
        with pytest.raises(StoreError):
            await store.commit_sync("a", [event("e1")], [_bad("a")])
        assert await store.due_events(now=1000.0, limit=10) == []
        # The connection is usable afterwards: nothing was left half-open.
        await store.commit_sync("a", [event("e2")], [])
        assert [e.event_id for e in await store.due_events(now=1000.0, limit=10)] == ["e2"]
    finally:
        await store.close()


async def test_commits_made_at_once_go_in_one_transaction_each_whole(tmp_path: Path) -> None:
    # Group commit: the commits queued while one is written go together, in one transaction,
    # each in its own savepoint. A commit the schema refuses loses only its own events and
    # state; the others of its batch are written, and their callers are told so.
    store = SqliteStore(tmp_path / "db.sqlite")
    await store.open()
    statements: list[str] = []
    assert store._db is not None
    await store._db.set_trace_callback(statements.append)
    try:
        accounts = [f"acc{n}" for n in range(6)]
        outcomes = await asyncio.gather(
            *(
                store.commit_sync(
                    a, [event(f"e-{a}", account=a)], [_bad(a) if a == "acc3" else _good(a)]
                )
                for a in accounts
            ),
            return_exceptions=True,
        )
        assert [type(o).__name__ for o in outcomes] == [
            "NoneType", "NoneType", "NoneType", "StoreError", "NoneType", "NoneType"
        ]  # fmt: skip
        due = await store.due_events(now=1000.0, limit=10)
        assert sorted(e.event_id for e in due) == sorted(f"e-{a}" for a in accounts if a != "acc3")
        assert [f.path for f in await store.get_folders("acc3")] == []
        assert [f.path for f in await store.get_folders("acc4")] == ["INBOX"]
        # All six were queued before the writer ran: one transaction, a savepoint each.
        assert statements.count("COMMIT") == 1
        assert statements.count("SAVEPOINT w") == len(accounts)
    finally:
        await store.close()


async def test_a_commit_cancelled_while_queued_is_not_written(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    await store.open()
    try:
        first = asyncio.create_task(store.commit_sync("a", [event("e1")], []))
        second = asyncio.create_task(store.commit_sync("b", [event("e2", account="b")], []))
        await asyncio.sleep(0)  # both queued; the first handed to the thread
        second.cancel()
        await first
        with pytest.raises(asyncio.CancelledError):
            await second
        assert [e.event_id for e in await store.due_events(now=1000.0, limit=10)] == ["e1"]
    finally:
        await store.close()


async def test_closing_the_store_lets_queued_commits_land(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    await store.open()
    pending = [asyncio.create_task(store.commit_sync("a", [event(f"e{n}")], [])) for n in range(3)]
    await asyncio.sleep(0)
    await store.close()
    await asyncio.gather(*pending)
    reopened = SqliteStore(tmp_path / "db.sqlite")
    await reopened.open()
    try:
        due = await reopened.due_events(now=1000.0, limit=10, per_account=10)
        assert [e.event_id for e in due] == ["e0", "e1", "e2"]
    finally:
        await reopened.close()
