"""The sent index on SQLite: Message-IDs sent from each account, for reply tracking
(`SubmissionStore`, with `submissions.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from imapapi.store import keys
from imapapi.store.records import SentRecord
from imapapi.store.sqlite.connection import SqliteConnection


class SqliteSentIndex(SqliteConnection):
    """The sent-index half of the `SubmissionStore` part of `SqliteStore`."""

    async def get_sent(self, account: str, message_id: str) -> SentRecord | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT account, message_id, queue_id, sent_at FROM {keys.SENT_INDEX} "
                    "WHERE account = ? AND message_id = ?",
                    (account, message_id),
                )
            )
        if not rows:
            return None
        row = rows[0]
        return SentRecord(account=row[0], message_id=row[1], queue_id=row[2], sent_at=row[3])

    async def find_sent(self, account: str, message_ids: Sequence[str]) -> list[SentRecord]:
        wanted = list(dict.fromkeys(message_ids))[:500]  # a References chain is short
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT account, message_id, queue_id, sent_at FROM {keys.SENT_INDEX} "
                f"WHERE account = ? AND message_id IN ({marks})",
                (account, *wanted),
            )
        return [
            SentRecord(account=r[0], message_id=r[1], queue_id=r[2], sent_at=r[3]) for r in rows
        ]

    async def track_message_ids(self, account: str, message_ids: Sequence[str], now: float) -> int:
        async with self._tx() as db:
            before = db.total_changes
            await db.executemany(
                f"INSERT OR IGNORE INTO {keys.SENT_INDEX} (account, message_id, queue_id, sent_at)"
                " VALUES (?,?,?,?)",
                [(account, message_id, "", now) for message_id in message_ids],
            )
            return db.total_changes - before

    async def untrack_message_ids(self, account: str, message_ids: Sequence[str]) -> int:
        async with self._tx() as db:
            before = db.total_changes
            await db.executemany(
                f"DELETE FROM {keys.SENT_INDEX} WHERE account = ? AND message_id = ?",
                [(account, message_id) for message_id in message_ids],
            )
            return db.total_changes - before

    async def purge_sent(self, before: float) -> int:
        async with self._tx() as db:
            cur = await db.execute(f"DELETE FROM {keys.SENT_INDEX} WHERE sent_at < ?", (before,))
            return cur.rowcount
