"""Sync state on SQLite: mailbox indexes, folder states, and `commit_sync`, which writes them
with their events in one transaction (`SyncStore`)."""

from __future__ import annotations

from collections.abc import Sequence

from imapapi.errors import StoreError
from imapapi.store import keys
from imapapi.store.records import FolderState, NewEvent
from imapapi.store.sqlite.connection import SqliteConnection
from imapapi.store.sqlite.outbox import insert_events


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
        async with self._tx() as db:
            rows = list(await db.execute_fetchall(self._INDEX_OF, (account, path, uid_validity)))
            if rows:  # another coroutine allocated it between the read and this transaction
                return int(rows[0][0])
            rows = list(
                await db.execute_fetchall(
                    f"SELECT COALESCE(MAX(idx), 0) FROM {keys.MAILBOX_INDEX} WHERE account = ?",
                    (account,),
                )
            )
            index = int(rows[0][0]) + 1
            if index > 0xFFFFFFFF:
                raise StoreError(f"account {account!r} ran out of mailbox indexes")
            await db.execute(
                f"INSERT INTO {keys.MAILBOX_INDEX} (account, idx, path, uid_validity) "
                "VALUES (?,?,?,?)",
                (account, index, path, uid_validity),
            )
            return index

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
        async with self._tx() as db:
            # Events first, in the same transaction as the state that produced them: a crash
            # before COMMIT loses both (the change is detected again), after it keeps both.
            await insert_events(db, events)
            for folder in folders:
                await db.execute(
                    f"INSERT OR REPLACE INTO {keys.FOLDERS} (account, path, idx, uid_validity, "
                    "uid_next, highest_modseq, messages, special_use, blob) "
                    "VALUES (?,?,?,?,?,?,?,?,?)",
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
                    ),
                )
            for path in removed_paths:
                await db.execute(
                    f"DELETE FROM {keys.FOLDERS} WHERE account = ? AND path = ?", (account, path)
                )
