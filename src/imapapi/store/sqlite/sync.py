"""Sync state on SQLite: mailbox indexes, folder states, and `commit_sync`, which writes them
with their events in one transaction (`SyncStore`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from imapapi.errors import StoreError
from imapapi.store import keys
from imapapi.store.records import MAX_MAILBOX_INDEX, FolderState, NewEvent
from imapapi.store.sqlite.connection import SqliteConnection
from imapapi.store.sqlite.outbox import INSERT_EVENT, event_rows

_SAVE_FOLDER = (
    f"INSERT OR REPLACE INTO {keys.FOLDERS} (account, path, idx, uid_validity, uid_next, "
    "highest_modseq, messages, special_use, blob) VALUES (?,?,?,?,?,?,?,?,?)"
)
_DROP_FOLDER = f"DELETE FROM {keys.FOLDERS} WHERE account = ? AND path = ?"


class SqliteSync(SqliteConnection):
    """The `SyncStore` part of `SqliteStore`."""

    _INDEX_OF = (
        f"SELECT idx FROM {keys.MAILBOX_INDEX} WHERE account = ? AND path = ? AND uid_validity = ?"
    )

    async def mailbox_index(self, account: str, path: str, uid_validity: int) -> int:
        # Every folder sync asks, and the index nearly always exists: a plain read, not a
        # write transaction (a commit each) just to find it.
        async with self._read() as db:
            rows = list(await db.execute_fetchall(self._INDEX_OF, (account, path, uid_validity)))
        if rows:
            return int(rows[0][0])
        return (await self.mailbox_indexes(account, [(path, uid_validity)]))[0]

    async def mailbox_indexes(self, account: str, folders: Sequence[tuple[str, int]]) -> list[int]:
        # Four statements whatever the number of folders: each statement is a round trip to
        # aiosqlite's thread, and a first sync asks for a handful per account.
        async with self._tx() as db:
            # A binding that exists is left alone (UNIQUE (account, path, uid_validity)); a new
            # one takes the next index, one after the other in the order given.
            await db.executemany(
                f"INSERT OR IGNORE INTO {keys.MAILBOX_INDEX} (account, idx, path, uid_validity) "
                f"SELECT ?1, COALESCE(MAX(idx), 0) + 1, ?2, ?3 FROM {keys.MAILBOX_INDEX} "
                "WHERE account = ?1",
                [(account, path, uid_validity) for path, uid_validity in folders],
            )
            rows = await db.execute_fetchall(
                f"SELECT path, uid_validity, idx FROM {keys.MAILBOX_INDEX} WHERE account = ?",
                (account,),
            )
            bound = {(row[0], int(row[1])): int(row[2]) for row in rows}
            indexes = [bound[(path, uid_validity)] for path, uid_validity in folders]
            if any(index > MAX_MAILBOX_INDEX for index in indexes):
                raise StoreError(f"account {account!r} ran out of mailbox indexes")
            return indexes

    async def resolve_mailbox_index(self, account: str, index: int) -> tuple[str, int] | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT path, uid_validity FROM {keys.MAILBOX_INDEX} "
                    "WHERE account = ? AND idx = ?",
                    (account, index),
                )
            )
        return (rows[0][0], int(rows[0][1])) if rows else None

    async def get_folders(self, account: str) -> list[FolderState]:
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT path, idx, uid_validity, uid_next, highest_modseq, messages, "
                f"special_use, blob FROM {keys.FOLDERS} WHERE account = ? ORDER BY path",
                (account,),
            )
        return [
            FolderState(
                account=account,
                path=row[0],
                index=row[1],
                uid_validity=row[2],
                uid_next=row[3],
                highest_modseq=row[4],
                messages=row[5],
                special_use=row[6],
                messages_blob=bytes(row[7]),
            )
            for row in rows
        ]

    async def commit_sync(
        self,
        account: str,
        events: list[NewEvent],
        folders: list[FolderState],
        removed_paths: Sequence[str] = (),
        *,
        fence: int | None = None,  # one process owns every account: nobody to fence out
    ) -> None:
        events_rows = event_rows(events)
        folder_rows = [
            (
                account,
                folder.path,
                folder.index,
                folder.uid_validity,
                folder.uid_next,
                folder.highest_modseq,
                folder.messages,
                folder.special_use,
                folder.messages_blob,
            )
            for folder in folders
        ]
        removed_rows = [(account, path) for path in removed_paths]

        def write(conn: sqlite3.Connection) -> None:
            # Events first, in the same transaction as the state that produced them: a crash
            # before COMMIT loses both (the change is detected again), after it keeps both.
            conn.executemany(INSERT_EVENT, events_rows)
            conn.executemany(_SAVE_FOLDER, folder_rows)
            conn.executemany(_DROP_FOLDER, removed_rows)

        # One hop to aiosqlite's thread for the whole transaction (`_tx_whole`).
        await self._tx_whole(write)
