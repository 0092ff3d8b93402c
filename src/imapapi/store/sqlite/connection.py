"""The SQLite connection: open/close/ping, schema migration, and the read and write
transactions that every other module of this package goes through.

One connection serializes every statement on aiosqlite's worker thread; an asyncio lock keeps
multi-statement transactions from interleaving between coroutines. The hot writes are grouped:
one transaction for all those queued meanwhile (`_tx_whole`, `store/grouped.py`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from imapapi.errors import StoreError
from imapapi.store.files import private_dir, private_file, tighten
from imapapi.store.grouped import Call, Grouped
from imapapi.store.sqlite.schema import MIGRATIONS

log = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteConnection:
    """The one connection of a `SqliteStore`; every concern's mixin derives from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._lock: Any = None  # asyncio.Lock, created on open() inside the running loop
        self._writes: Grouped[Callable[[sqlite3.Connection], Any]] = Grouped(
            self._write_batch, "sqlite-writes"
        )  # `_tx_whole`

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path} {'open' if self._db else 'closed'}>"

    # --- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        try:
            private_dir(self.path.parent)
            # SQLite gives the -wal and -shm files it creates the database file's mode; ones
            # left by an earlier run keep theirs, so they are tightened too.
            private_file(self.path)
            for suffix in ("-wal", "-shm"):
                tighten(self.path.with_name(self.path.name + suffix))
        except OSError as exc:
            raise StoreError(f"cannot create database {self.path}: {exc}") from exc
        try:
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=NORMAL")
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._db.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        self._lock = asyncio.Lock()
        await self._migrate()

    async def close(self) -> None:
        await self._writes.drain()  # queued writes land
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def ping(self) -> bool:
        try:
            async with self._read() as db:
                await db.execute_fetchall("SELECT 1")
        except StoreError:
            return False
        return True

    async def _migrate(self) -> None:
        async with self._tx() as db:
            rows = list(await db.execute_fetchall("PRAGMA user_version"))
            version = int(rows[0][0])
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"database schema version {version} is newer than this imapapi "
                    f"({len(MIGRATIONS)}); upgrade imapapi"
                )
            for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
                log.info("migrating %s to schema version %d", self.path, target)
                for statement in script.split(";"):
                    if statement.strip():
                        await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {target}")

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._db is None:
            raise StoreError("store is not open")
        async with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(f"database error: {exc}") from exc

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; rolled back whole on any error."""
        if self._db is None:
            raise StoreError("store is not open")
        async with self._lock:
            db = self._db
            try:
                await db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"database error: {exc}") from exc
            try:
                yield db
            except BaseException as exc:
                await db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"database error: {exc}") from exc
                raise
            else:
                await db.execute("COMMIT")

    async def _tx_whole(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One write transaction run whole on aiosqlite's thread: `work` gets the sqlite3
        connection between BEGIN and COMMIT, and what it changed is written whole or not at
        all. Raises what `work` raised (a `sqlite3.Error` as StoreError).

        For the hot writes (a sync's commit, delivered events). Group commit: the writes queued
        while one batch runs go together in the next, one hop to the thread and one COMMIT for
        all, each in its own SAVEPOINT, so one write's error rolls back only that write. One
        hop per write made them a queue of their own under a burst: each waited for the event
        loop to come round between two (issue 17: 200 syncs' commits waited up to a second for
        their turn, while the thread was busy a third of that time). A caller cancelled while
        its write is still queued drops it; once handed to the thread it is written whole.
        """
        if self._db is None:
            raise StoreError("store is not open")
        result: T = await self._writes.call(work)
        return result

    async def _write_batch(self, batch: list[Call[Callable[[sqlite3.Connection], Any]]]) -> None:
        """One transaction for a batch of `_tx_whole` writes (`grouped.py`)."""
        async with self._lock:
            if self._db is None:
                raise StoreError("store is not open")
            db = self._db
            try:
                # aiosqlite's own way to run a call on its thread (`execute` and friends are
                # built on it); it has no public name for a callable of ours.
                outcomes = await db._execute(  # type: ignore[no-untyped-call]
                    _one_transaction, db._conn, [c.item for c in batch]
                )
            except sqlite3.Error as exc:  # BEGIN or COMMIT failed: nothing was written
                raise _store_error(exc) from exc
        for queued, (ok, value) in zip(batch, outcomes, strict=True):
            queued.settle(ok, value if ok else _store_error(value))


def _store_error(exc: BaseException) -> BaseException:
    if isinstance(exc, sqlite3.Error):
        error = StoreError(f"database error: {exc}")
        error.__cause__ = exc
        return error
    return exc


def _one_transaction(
    conn: sqlite3.Connection, works: list[Callable[[sqlite3.Connection], Any]]
) -> list[tuple[bool, Any]]:
    """Run `works` in one transaction, each whole or not at all; (True, result) or (False,
    exception) for each. Raises when BEGIN or COMMIT fails (then nothing is written)."""
    conn.execute("BEGIN IMMEDIATE")
    outcomes: list[tuple[bool, Any]] = []
    try:
        for work in works:
            conn.execute("SAVEPOINT w")
            try:
                outcomes.append((True, work(conn)))
            except Exception as exc:
                conn.execute("ROLLBACK TO w")
                outcomes.append((False, exc))
            conn.execute("RELEASE w")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a failed COMMIT leaves it open
            conn.execute("ROLLBACK")
        raise
    return outcomes
