"""The embedded store: SQLite in WAL mode through aiosqlite, one connection, one writer.

One connection serializes every statement on aiosqlite's worker thread; an asyncio lock keeps
multi-statement transactions from interleaving between coroutines. The schema is versioned and
migrated forward on open (`MIGRATIONS`), never backward.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiosqlite

from imapapi.errors import CorruptRecordError, StoreError
from imapapi.store import keys
from imapapi.store.base import (
    AccountRecord,
    FolderState,
    NewEvent,
    Page,
    QueuedEvent,
    SentRecord,
    Submission,
    SubmissionState,
    TokenRecord,
)

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1

# Each entry migrates the schema from version i to i + 1. Append only.
MIGRATIONS: list[str] = [
    f"""
    CREATE TABLE {keys.ACCOUNTS} (
        account TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE {keys.SETTINGS} (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE {keys.TOKENS} (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created REAL NOT NULL,
        revoked REAL
    );
    CREATE TABLE {keys.MAILBOX_INDEX} (
        account TEXT NOT NULL,
        idx INTEGER NOT NULL,
        path TEXT NOT NULL,
        uid_validity INTEGER NOT NULL,
        PRIMARY KEY (account, idx),
        UNIQUE (account, path, uid_validity)
    ) WITHOUT ROWID;
    CREATE TABLE {keys.FOLDERS} (
        account TEXT NOT NULL,
        path TEXT NOT NULL,
        idx INTEGER NOT NULL,
        uid_validity INTEGER NOT NULL,
        uid_next INTEGER NOT NULL,
        highest_modseq INTEGER,
        messages INTEGER NOT NULL,
        special_use TEXT,
        blob BLOB NOT NULL,
        PRIMARY KEY (account, path)
    ) WITHOUT ROWID;
    CREATE TABLE {keys.OUTBOX} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        payload TEXT NOT NULL,
        created REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        dead INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_pending ON {keys.OUTBOX} (dead, account, seq);
    """,
    # 2: the submission queue and the index of sent Message-IDs (issue 6).
    f"""
    CREATE TABLE {keys.SUBMISSIONS} (
        queue_id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        idempotency_key TEXT,
        message_id TEXT NOT NULL,
        raw TEXT,
        envelope TEXT NOT NULL,
        reference TEXT,
        state TEXT NOT NULL,
        created REAL NOT NULL,
        send_at REAL NOT NULL,
        next_attempt REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_response TEXT,
        smtp_code INTEGER,
        updated REAL NOT NULL
    );
    CREATE UNIQUE INDEX submissions_idempotency
        ON {keys.SUBMISSIONS} (account, idempotency_key);
    CREATE INDEX submissions_due ON {keys.SUBMISSIONS} (state, next_attempt);
    CREATE INDEX submissions_account ON {keys.SUBMISSIONS} (account, created);
    CREATE TABLE {keys.SENT_INDEX} (
        account TEXT NOT NULL,
        message_id TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        sent_at REAL NOT NULL,
        PRIMARY KEY (account, message_id)
    ) WITHOUT ROWID;
    """,
]


def _dump(value: Any) -> str:
    """Serialize a stored document with its payload version (STYLE.md 12)."""
    return json.dumps({"v": PAYLOAD_VERSION, "d": value}, separators=(",", ":"), ensure_ascii=False)


def _load(text: str, what: str) -> Any:
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise CorruptRecordError(f"stored {what} is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("v") != PAYLOAD_VERSION or "d" not in doc:
        raise CorruptRecordError(f"stored {what} has an unknown payload version")
    return doc["d"]


class SqliteStore:
    """`Store` on one SQLite file (see `store/base.py` for the contract of each method)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._lock: Any = None  # asyncio.Lock, created on open() inside the running loop

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path} {'open' if self._db else 'closed'}>"

    # --- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        import asyncio

        self.path.parent.mkdir(parents=True, exist_ok=True)
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

    # --- accounts --------------------------------------------------------------------------------
    async def put_account(self, account: str, data: dict[str, Any], now: float) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                f"UPDATE {keys.ACCOUNTS} SET data = ?, updated = ? WHERE account = ?",
                (_dump(data), now, account),
            )
            if cur.rowcount:
                return False
            await db.execute(
                f"INSERT INTO {keys.ACCOUNTS} (account, data, created, updated) VALUES (?,?,?,?)",
                (account, _dump(data), now, now),
            )
            return True

    async def get_account(self, account: str) -> AccountRecord | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT account, data, created, updated FROM {keys.ACCOUNTS} "
                    "WHERE account = ?",
                    (account,),
                )
            )
        return self._account(rows[0]) if rows else None

    async def list_accounts(self) -> list[AccountRecord]:
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT account, data, created, updated FROM {keys.ACCOUNTS} ORDER BY account"
            )
        return [self._account(row) for row in rows]

    @staticmethod
    def _account(row: Any) -> AccountRecord:
        data = _load(row[1], f"account {row[0]!r}")
        if not isinstance(data, dict):
            raise CorruptRecordError(f"stored account {row[0]!r} is not an object")
        return AccountRecord(account=row[0], data=data, created=row[2], updated=row[3])

    async def delete_account(self, account: str) -> bool:
        async with self._tx() as db:
            cur = await db.execute(f"DELETE FROM {keys.ACCOUNTS} WHERE account = ?", (account,))
            existed = cur.rowcount > 0
            for table in (keys.FOLDERS, keys.MAILBOX_INDEX):
                await db.execute(f"DELETE FROM {table} WHERE account = ?", (account,))
            # Undelivered events of a deleted account still go out (e.g. its last changes);
            # only the sync state is forgotten.
            return existed

    # --- settings --------------------------------------------------------------------------------
    async def get_settings(self) -> dict[str, Any]:
        async with self._read() as db:
            rows = await db.execute_fetchall(f"SELECT key, value FROM {keys.SETTINGS}")
        return {row[0]: _load(row[1], f"setting {row[0]!r}") for row in rows}

    async def update_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        async with self._tx() as db:
            for key, value in values.items():
                if value is None:
                    await db.execute(f"DELETE FROM {keys.SETTINGS} WHERE key = ?", (key,))
                else:
                    await db.execute(
                        f"INSERT INTO {keys.SETTINGS} (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (key, _dump(value)),
                    )
        return await self.get_settings()

    # --- tokens ----------------------------------------------------------------------------------
    async def add_token(self, token: TokenRecord) -> None:
        async with self._tx() as db:
            await db.execute(
                f"INSERT INTO {keys.TOKENS} (id, token_hash, description, scopes, created, revoked)"
                " VALUES (?,?,?,?,?,?)",
                (
                    token.id,
                    token.token_hash,
                    token.description,
                    json.dumps(list(token.scopes)),
                    token.created,
                    token.revoked,
                ),
            )

    async def get_token_by_hash(self, token_hash: str) -> TokenRecord | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT id, token_hash, description, scopes, created, revoked "
                    f"FROM {keys.TOKENS} WHERE token_hash = ?",
                    (token_hash,),
                )
            )
        return self._token(rows[0]) if rows else None

    async def list_tokens(self) -> list[TokenRecord]:
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT id, token_hash, description, scopes, created, revoked "
                f"FROM {keys.TOKENS} ORDER BY created"
            )
        return [self._token(row) for row in rows]

    @staticmethod
    def _token(row: Any) -> TokenRecord:
        return TokenRecord(
            id=row[0],
            token_hash=row[1],
            description=row[2],
            scopes=tuple(json.loads(row[3])),
            created=row[4],
            revoked=row[5],
        )

    async def revoke_token(self, token_id: str, now: float) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                f"UPDATE {keys.TOKENS} SET revoked = ? WHERE id = ? AND revoked IS NULL",
                (now, token_id),
            )
            return cur.rowcount > 0

    # --- sync state ------------------------------------------------------------------------------
    async def mailbox_index(self, account: str, path: str, uid_validity: int) -> int:
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT idx FROM {keys.MAILBOX_INDEX} "
                    "WHERE account = ? AND path = ? AND uid_validity = ?",
                    (account, path, uid_validity),
                )
            )
            if rows:
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
            await self._insert_events(db, events)
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

    # --- outbox ----------------------------------------------------------------------------------
    @staticmethod
    async def _insert_events(db: aiosqlite.Connection, events: list[NewEvent]) -> None:
        # INSERT OR IGNORE: the writer chose the event id, so a repeated write is a no-op
        # (STYLE.md 13).
        await db.executemany(
            f"INSERT OR IGNORE INTO {keys.OUTBOX} (event_id, account, payload, created, "
            "next_attempt) VALUES (?,?,?,?,?)",
            [(e.event_id, e.account, _dump(e.payload), e.created, e.created) for e in events],
        )

    async def add_events(self, events: list[NewEvent]) -> None:
        if events:
            async with self._tx() as db:
                await self._insert_events(db, events)

    _EVENT_COLUMNS = (
        "o.seq, o.event_id, o.account, o.payload, o.created, o.attempts, o.next_attempt, "
        "o.last_error, o.dead"
    )

    @staticmethod
    def _event(row: Any) -> QueuedEvent:
        payload = _load(row[3], f"event {row[1]!r}")
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
        )

    async def due_events(
        self, now: float, limit: int, *, owner: str | None = None, orphans: bool = True
    ) -> list[QueuedEvent]:
        # A single process owns every account, so `owner` filters nothing here.
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT {self._EVENT_COLUMNS} FROM {keys.OUTBOX} o "
                f"JOIN (SELECT MIN(seq) AS head FROM {keys.OUTBOX} WHERE dead = 0 "
                "GROUP BY account) h ON o.seq = h.head "
                "WHERE o.next_attempt <= ? ORDER BY o.seq LIMIT ?",
                (now, limit),
            )
        return [self._event(row) for row in rows]

    async def event_delivered(self, seq: int) -> None:
        async with self._tx() as db:
            await db.execute(f"DELETE FROM {keys.OUTBOX} WHERE seq = ?", (seq,))

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
                f"SELECT {self._EVENT_COLUMNS} FROM {keys.OUTBOX} o WHERE o.dead = 1 "
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

    # --- submission queue and sent index ---------------------------------------------------------
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
        envelope = _load(row[5], f"submission {row[0]!r} envelope")
        reference = _load(row[6], f"submission {row[0]!r} reference") if row[6] else None
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
                    _dump({"from": s.envelope_from, "to": list(s.envelope_to)}),
                    _dump(s.reference) if s.reference is not None else None,
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
            await self._insert_events(db, events)
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
