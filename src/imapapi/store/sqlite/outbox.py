"""The event outbox on SQLite: one row per event, in seq order per account (`OutboxStore`).

`INSERT_EVENT` is the one INSERT of events; `commit_sync` (one hop, `_tx_whole`) and
`finish_submission` (`insert_events`) run it inside their own transactions.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import aiosqlite

from imapapi.store import keys
from imapapi.store.payload import dump, load, stored_text
from imapapi.store.records import NewEvent, Page, QueuedEvent
from imapapi.store.sqlite.connection import SqliteConnection

# INSERT OR IGNORE: the writer chose the event id, so a repeated write is a no-op (STYLE.md 13).
INSERT_EVENT = (
    f"INSERT OR IGNORE INTO {keys.OUTBOX} (event_id, account, payload, created, next_attempt) "
    "VALUES (?,?,?,?,?)"
)


# Pending rows per account asked for that `due_events` reads before it computes every head.
HEAD_WINDOW = 64

_EVENT_COLUMNS = (
    "o.seq, o.event_id, o.account, o.payload, o.created, o.attempts, o.next_attempt, "
    "o.last_error, o.dead"
)


def _due_heads(source: str) -> str:
    """The oldest `limit` due heads of the accounts in `source`, each with the run behind it,
    `per_account` rows deep (read through the (dead, account, seq) index)."""
    return (
        f"WITH heads AS (SELECT o.seq, o.account FROM {keys.OUTBOX} o "
        f"JOIN (SELECT MIN(seq) AS head FROM {source} WHERE dead = 0 "
        "GROUP BY account) h ON o.seq = h.head "
        "WHERE o.next_attempt <= ? AND o.account NOT IN (SELECT value FROM json_each(?)) "
        "ORDER BY o.seq LIMIT ?) "
        f"SELECT {_EVENT_COLUMNS} FROM heads JOIN {keys.OUTBOX} o "
        "ON o.account = heads.account "
        f"WHERE o.seq IN (SELECT seq FROM {keys.OUTBOX} WHERE dead = 0 "
        "AND account = heads.account ORDER BY seq LIMIT ?) "
        "ORDER BY heads.seq, o.seq"
    )


# Every account's head, and those among the oldest pending rows of the accounts not excluded
# (through the (dead, seq, account) index): `due_events`.
_DUE = _due_heads(keys.OUTBOX)
_DUE_IN_WINDOW = _due_heads(
    f"(SELECT seq, account, dead FROM {keys.OUTBOX} WHERE dead = 0 "
    "AND account NOT IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?)"
)


def event_rows(events: list[NewEvent]) -> list[tuple[str, str, str, float, float]]:
    """The parameters of INSERT_EVENT, one tuple per event."""
    return [(e.event_id, e.account, dump(e.payload), e.created, e.created) for e in events]


async def insert_events(db: aiosqlite.Connection, events: list[NewEvent]) -> None:
    await db.executemany(INSERT_EVENT, event_rows(events))


class SqliteOutbox(SqliteConnection):
    """The `OutboxStore` part of `SqliteStore`."""

    async def add_events(self, events: list[NewEvent]) -> None:
        if events:
            async with self._tx() as db:
                await insert_events(db, events)

    @staticmethod
    def _event(row: Any) -> QueuedEvent:
        payload = load(row[3], f"event {row[1]!r}")
        return QueuedEvent(
            seq=row[0],
            event_id=row[1],
            account=row[2],
            payload=payload,
            created=row[4],
            attempts=row[5],
            next_attempt=row[6],
            last_error=row[7],
            dead=bool(row[8]),
            body=stored_text(row[3]),
        )

    async def due_events(
        self,
        now: float,
        limit: int,
        *,
        owner: str | None = None,
        orphans: bool = True,
        per_account: int = 1,
        exclude: Collection[str] = (),
    ) -> list[QueuedEvent]:
        # A single process owns every account, so `owner` filters nothing here.
        #
        # The heads are first looked for among the oldest pending rows only (`HEAD_WINDOW`
        # per account asked for, through the (dead, seq, account) index). An account's oldest
        # row in that window is its head, and every head outside it is newer, so when the
        # window holds `limit` due heads they are the oldest `limit` of all. Otherwise (the
        # window was filled by a few accounts' backlogs, or heads that wait) every account's
        # head is computed, a walk of every pending row: done each time, that walk cost
        # O(pending) per call, and during a burst of 10,000 new accounts' events, quadratic.
        excluded = json.dumps(list(exclude))
        async with self._read() as db:
            rows = await db.execute_fetchall(
                _DUE_IN_WINDOW, (excluded, limit * HEAD_WINDOW, now, excluded, limit, per_account)
            )
            if len({row[2] for row in rows}) < limit:
                rows = await db.execute_fetchall(_DUE, (now, excluded, limit, per_account))
        return [self._event(row) for row in rows]

    async def events_delivered(self, seqs: Sequence[int]) -> None:
        if seqs:
            rows = [(seq,) for seq in seqs]
            await self._tx_whole(
                lambda conn: conn.executemany(f"DELETE FROM {keys.OUTBOX} WHERE seq = ?", rows)
            )

    async def event_retry(self, seq: int, attempts: int, next_attempt: float, error: str) -> None:
        async with self._tx() as db:
            await db.execute(
                f"UPDATE {keys.OUTBOX} SET attempts = ?, next_attempt = ?, last_error = ? "
                "WHERE seq = ?",
                (attempts, next_attempt, error, seq),
            )

    async def event_dead(self, seq: int, attempts: int, error: str) -> None:
        async with self._tx() as db:
            await db.execute(
                f"UPDATE {keys.OUTBOX} SET dead = 1, attempts = ?, last_error = ? WHERE seq = ?",
                (attempts, error, seq),
            )

    async def list_dead_events(self, offset: int, limit: int) -> Page:
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_EVENT_COLUMNS} FROM {keys.OUTBOX} o WHERE o.dead = 1 "
                "ORDER BY o.seq LIMIT ? OFFSET ?",
                (limit, offset),
            )
            total = list(
                await db.execute_fetchall(f"SELECT COUNT(*) FROM {keys.OUTBOX} WHERE dead = 1")
            )
        return Page(items=[self._event(row) for row in rows], total=int(total[0][0]))

    async def replay_dead_events(self, event_ids: list[str] | None, now: float) -> int:
        async with self._tx() as db:
            if event_ids is None:
                cur = await db.execute(
                    f"UPDATE {keys.OUTBOX} SET dead = 0, attempts = 0, next_attempt = ?, "
                    "created = ? WHERE dead = 1",
                    (now, now),
                )
                return cur.rowcount
            count = 0
            for event_id in event_ids:
                cur = await db.execute(
                    f"UPDATE {keys.OUTBOX} SET dead = 0, attempts = 0, next_attempt = ?, "
                    "created = ? WHERE dead = 1 AND event_id = ?",
                    (now, now, event_id),
                )
                count += cur.rowcount
            return count

    async def outbox_stats(self, now: float) -> dict[str, float]:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT SUM(dead = 0), SUM(dead = 1), MIN(CASE WHEN dead = 0 THEN created END)"
                    f" FROM {keys.OUTBOX}"
                )
            )
        pending, dead, oldest = rows[0]
        return {
            "pending": float(pending or 0),
            "dead": float(dead or 0),
            "oldestAge": float(now - oldest) if oldest is not None else 0.0,
        }
