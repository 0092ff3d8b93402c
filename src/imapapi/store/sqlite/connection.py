"""The SQLite connection: open/close/ping, schema migration, and the read and write
transactions that every other module of this package goes through.

One connection serializes every statement on aiosqlite's worker thread; an asyncio lock keeps
multi-statement transactions from interleaving between coroutines.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from imapapi.errors import StoreError
from imapapi.store.files import private_dir, private_file, tighten
from imapapi.store.sqlite.schema import MIGRATIONS

log = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteConnection:
    """The one connection of a `SqliteStore`; every concern's mixin derives from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._lock: Any = None  # asyncio.Lock, created on open() inside the running loop

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path} {'open' if self._db else 'closed'}>"

    # --- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        import asyncio

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
        connection between BEGIN and COMMIT (rolled back whole on any error).

        For the hot writes (a sync's commit, delivered events): `_tx` costs a hop to the thread
        and back per statement, and every hop waits for the event loop's thread to let go of
        the GIL. Under a webhook burst a four-statement commit held the lock for ~10 ms, and
        the dispatcher waited behind the syncs' commits for half of its time (issue 17).
        aiosqlite runs what is queued on its thread one at a time, in order, so nothing else
        interleaves even if the caller is cancelled meanwhile.
        """
        if self._db is None:
            raise StoreError("store is not open")
        db = self._db
        async with self._lock:
            try:
                # aiosqlite's own way to run a call on its thread (`execute` and friends are
                # built on it); it has no public name for a callable of ours.
                result: T = await db._execute(_whole, db._conn, work)  # type: ignore[no-untyped-call]
                return result
            except sqlite3.Error as exc:
                raise StoreError(f"database error: {exc}") from exc


def _whole(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a failed COMMIT leaves it open
            conn.execute("ROLLBACK")
        raise
    return result
