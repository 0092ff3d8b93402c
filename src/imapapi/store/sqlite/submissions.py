"""The submission queue on SQLite: one row per queued message, claimed under a lease, its raw
message dropped once final (`SubmissionStore`, with `sent.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import aiosqlite

from imapapi.errors import CorruptRecordError
from imapapi.store import keys
from imapapi.store.payload import dump, load
from imapapi.store.records import NewEvent, Page, SentRecord, Submission, SubmissionState
from imapapi.store.sqlite.connection import SqliteConnection
from imapapi.store.sqlite.outbox import insert_events


class SqliteSubmissions(SqliteConnection):
    """The queue half of the `SubmissionStore` part of `SqliteStore`."""

    _SUBMISSION_COLUMNS = (
        "queue_id, account, idempotency_key, message_id, {raw}, envelope, reference, state, "
        "created, send_at, next_attempt, attempts, last_response, smtp_code, updated"
    )

    @classmethod
    def _submission_select(cls, *, with_raw: bool = True) -> str:
        columns = cls._SUBMISSION_COLUMNS.format(raw="raw" if with_raw else "NULL")
        return f"SELECT {columns} FROM {keys.SUBMISSIONS}"

    @staticmethod
    def _submission(row: Any) -> Submission:
        envelope = load(row[5], f"submission {row[0]!r} envelope")
        reference = load(row[6], f"submission {row[0]!r} reference") if row[6] else None
        try:
            return Submission(
                queue_id=row[0],
                account=row[1],
                idempotency_key=row[2],
                message_id=row[3],
                raw=row[4],
                envelope_from=str(envelope["from"]),
                envelope_to=tuple(str(a) for a in envelope["to"]),
                reference=reference,
                state=SubmissionState(row[7]),
                created=row[8],
                send_at=row[9],
                next_attempt=row[10],
                attempts=row[11],
                last_response=row[12],
                smtp_code=row[13],
                updated=row[14],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptRecordError(f"stored submission {row[0]!r} is invalid") from exc

    async def _submission_by_key(
        self, db: aiosqlite.Connection, account: str, key: str, since: float
    ) -> Submission | None:
        rows = list(
            await db.execute_fetchall(
                f"{self._submission_select()} WHERE account = ? AND idempotency_key = ? "
                "AND created >= ?",
                (account, key, since),
            )
        )
        return self._submission(rows[0]) if rows else None

    async def add_submission(
        self, submission: Submission, idempotency_since: float
    ) -> tuple[Submission, bool]:
        s = replace(submission, updated=submission.updated or submission.created)
        async with self._tx() as db:
            if s.idempotency_key is not None:
                existing = await self._submission_by_key(
                    db, s.account, s.idempotency_key, idempotency_since
                )
                if existing is not None:
                    return existing, False
                # The key is free again after the window: the old submission forgets it, so
                # the unique index holds only keys still in force.
                await db.execute(
                    f"UPDATE {keys.SUBMISSIONS} SET idempotency_key = NULL "
                    "WHERE account = ? AND idempotency_key = ?",
                    (s.account, s.idempotency_key),
                )
            await db.execute(
                f"INSERT INTO {keys.SUBMISSIONS} ({self._SUBMISSION_COLUMNS.format(raw='raw')}) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    s.queue_id,
                    s.account,
                    s.idempotency_key,
                    s.message_id,
                    s.raw,
                    dump({"from": s.envelope_from, "to": list(s.envelope_to)}),
                    dump(s.reference) if s.reference is not None else None,
                    s.state.value,
                    s.created,
                    s.send_at,
                    s.next_attempt,
                    s.attempts,
                    s.last_response,
                    s.smtp_code,
                    s.updated,
                ),
            )
        return s, True

    async def find_submission_by_key(
        self, account: str, idempotency_key: str, since: float
    ) -> Submission | None:
        async with self._read() as db:
            return await self._submission_by_key(db, account, idempotency_key, since)

    async def get_submission(self, queue_id: str) -> Submission | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"{self._submission_select()} WHERE queue_id = ?", (queue_id,)
                )
            )
        return self._submission(rows[0]) if rows else None

    async def list_submissions(
        self, account: str | None, states: Sequence[SubmissionState], offset: int, limit: int
    ) -> Page:
        if not states:
            return Page()
        where = f"state IN ({','.join('?' * len(states))})"
        params: list[Any] = [state.value for state in states]
        if account is not None:
            where += " AND account = ?"
            params.append(account)
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"{self._submission_select(with_raw=False)} WHERE {where} "
                "ORDER BY created, queue_id LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
            total = list(
                await db.execute_fetchall(
                    f"SELECT COUNT(*) FROM {keys.SUBMISSIONS} WHERE {where}", params
                )
            )
        return Page(items=[self._submission(row) for row in rows], total=int(total[0][0]))

    async def claim_submissions(self, now: float, lease: float, limit: int) -> list[Submission]:
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    f"{self._submission_select()} WHERE state IN (?, ?) AND next_attempt <= ? "
                    "ORDER BY next_attempt, created LIMIT ?",
                    (SubmissionState.QUEUED.value, SubmissionState.SENDING.value, now, limit),
                )
            )
            claimed = []
            for row in rows:
                await db.execute(
                    f"UPDATE {keys.SUBMISSIONS} SET state = ?, next_attempt = ?, updated = ? "
                    "WHERE queue_id = ?",
                    (SubmissionState.SENDING.value, now + lease, now, row[0]),
                )
                claimed.append(
                    replace(
                        self._submission(row),
                        state=SubmissionState.SENDING,
                        next_attempt=now + lease,
                        updated=now,
                    )
                )
            return claimed

    async def submission_retry(
        self,
        queue_id: str,
        attempts: int,
        next_attempt: float,
        response: str,
        smtp_code: int | None,
        now: float,
    ) -> None:
        async with self._tx() as db:
            await db.execute(
                f"UPDATE {keys.SUBMISSIONS} SET state = ?, attempts = ?, next_attempt = ?, "
                "last_response = ?, smtp_code = ?, updated = ? WHERE queue_id = ? AND state = ?",
                (
                    SubmissionState.QUEUED.value,
                    attempts,
                    next_attempt,
                    response,
                    smtp_code,
                    now,
                    queue_id,
                    SubmissionState.SENDING.value,
                ),
            )

    async def finish_submission(
        self,
        queue_id: str,
        state: SubmissionState,
        *,
        attempts: int,
        response: str | None,
        smtp_code: int | None,
        now: float,
        events: list[NewEvent],
        sent: SentRecord | None = None,
    ) -> None:
        async with self._tx() as db:
            # The message is gone from the store the moment it is final (DESIGN.md §4: no
            # message bodies kept); the events and the sent index are written with it.
            await db.execute(
                f"UPDATE {keys.SUBMISSIONS} SET state = ?, raw = NULL, attempts = ?, "
                "last_response = ?, smtp_code = ?, updated = ? WHERE queue_id = ?",
                (state.value, attempts, response, smtp_code, now, queue_id),
            )
            await insert_events(db, events)
            if sent is not None:
                await db.execute(
                    f"INSERT OR REPLACE INTO {keys.SENT_INDEX} (account, message_id, queue_id, "
                    "sent_at) VALUES (?,?,?,?)",
                    (sent.account, sent.message_id, sent.queue_id, sent.sent_at),
                )

    async def cancel_submission(self, queue_id: str, now: float) -> Submission | None:
        async with self._tx() as db:
            await db.execute(
                f"UPDATE {keys.SUBMISSIONS} SET state = ?, raw = NULL, updated = ? "
                "WHERE queue_id = ? AND state = ?",
                (SubmissionState.CANCELLED.value, now, queue_id, SubmissionState.QUEUED.value),
            )
            rows = list(
                await db.execute_fetchall(
                    f"{self._submission_select()} WHERE queue_id = ?", (queue_id,)
                )
            )
        return self._submission(rows[0]) if rows else None

    async def purge_submissions(self, before: float) -> int:
        async with self._tx() as db:
            cur = await db.execute(
                f"DELETE FROM {keys.SUBMISSIONS} WHERE state IN (?, ?, ?) AND updated < ?",
                (
                    SubmissionState.SENT.value,
                    SubmissionState.FAILED.value,
                    SubmissionState.CANCELLED.value,
                    before,
                ),
            )
            return cur.rowcount
