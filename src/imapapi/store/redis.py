"""The distributed store: Redis through redis-py's asyncio client (DESIGN.md §2, §7).

Same contract as `store/sqlite.py`, method for method. Layout and key names: `store/keys.py`
(`RedisKeys`); the multi-key operations are Lua scripts in `store/redis_scripts.py`, whose
docstring says why Lua rather than WATCH. Stored documents carry the same `{"v":1,"d":…}`
envelope as in SQLite; folder blobs are raw bytes (the client runs with decode_responses=False).
Timestamps are stored as Python float reprs so they read back exactly.

Redis must run with `maxmemory-policy noeviction` (an evicted key would be silently lost state)
and with persistence (AOF `appendfsync everysec` or better) if a restart must not lose events.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from imapapi.errors import CorruptRecordError, LeaseLostError, StoreError
from imapapi.store import redis_scripts as lua
from imapapi.store.base import (
    AccountRecord,
    FolderState,
    NewEvent,
    Page,
    QueuedEvent,
    RemoteStatus,
    SentRecord,
    Submission,
    SubmissionState,
    TokenRecord,
)
from imapapi.store.keys import REDIS_DEFAULT_PREFIX, REDIS_SCHEMA_VERSION, RedisKeys
from imapapi.store.sqlite import PAYLOAD_VERSION

log = logging.getLogger(__name__)

LEASE_LOG_LENGTH = 100_000  # lease-log entries kept (approximately: MAXLEN ~)
REDIS_TIMEOUT = 10.0  # seconds for one Redis call or connect
MAX_MAILBOX_INDEX = 0xFFFFFFFF  # a uint32 in message ids (DESIGN.md §4)


def _dump(value: Any) -> str:
    """Serialize a stored document with its payload version (STYLE.md 12), as SQLite does."""
    return json.dumps({"v": PAYLOAD_VERSION, "d": value}, separators=(",", ":"), ensure_ascii=False)


def _load(raw: bytes | str, what: str) -> Any:
    try:
        doc = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise CorruptRecordError(f"stored {what} is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("v") != PAYLOAD_VERSION or "d" not in doc:
        raise CorruptRecordError(f"stored {what} has an unknown payload version")
    return doc["d"]


def _f(value: float) -> str:
    """A float as stored: repr round-trips exactly (Lua never formats one, it only compares)."""
    return repr(float(value))


def _s(raw: bytes) -> str:
    return raw.decode()


def _opt(value: str | int | None) -> str:
    """Optional script argument: '' for None, else '+value' (so '' itself stays a value)."""
    return "" if value is None else f"+{value}"


def _fields(flat: Sequence[bytes]) -> dict[str, bytes]:
    """A Lua HGETALL reply (flat list) as a dict."""
    return {_s(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}


def _hash(raw: Any) -> dict[str, bytes]:
    if isinstance(raw, dict):
        return {_s(k): v for k, v in raw.items()}
    return _fields(raw)


class RedisStore:
    """`ClusterStore` on one Redis (see `store/base.py` for the contract of each method)."""

    def __init__(self, url: str, *, prefix: str = REDIS_DEFAULT_PREFIX) -> None:
        self.url = url
        self.keys = RedisKeys(prefix)
        self._redis: Any = None  # redis.asyncio.Redis; Any because its stubs type replies loosely
        self._scripts: dict[str, Any] = {}

    def __repr__(self) -> str:
        state = "open" if self._redis is not None else "closed"
        return f"<RedisStore prefix={self.keys.prefix!r} {state}>"

    # --- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        try:
            # Explicit timeouts (redis-py's defaults changed between majors): a Redis that hangs
            # fails a call in seconds rather than holding it forever.
            client = aioredis.Redis.from_url(
                self.url,
                decode_responses=False,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
        except (RedisError, ValueError) as exc:
            raise StoreError(f"bad Redis URL: {exc}") from exc
        self._redis = client
        self._scripts = {
            name: client.register_script(getattr(lua, name))
            for name in dir(lua)
            if name.isupper() and not name.endswith(("_BIND", "_FUNCS")) and name[0] != "_"
        }
        async with self._errors():
            # The layout version, set once; a deployment written by a newer imapapi is refused
            # (as SQLite's user_version) rather than misread.
            await client.set(self.keys.schema, REDIS_SCHEMA_VERSION, nx=True)
            version = int(await self._call("GET", self.keys.schema))
        if version > REDIS_SCHEMA_VERSION:
            await self.close()
            raise StoreError(
                f"Redis layout version {version} under prefix {self.keys.prefix!r} is newer than "
                f"this imapapi ({REDIS_SCHEMA_VERSION}); upgrade imapapi"
            )

    async def close(self) -> None:
        if self._redis is not None:
            client, self._redis = self._redis, None
            try:
                await client.aclose()
            except RedisError as exc:  # closing a broken connection is not worth a failure
                log.debug("closing Redis: %s", exc)

    async def ping(self) -> bool:
        try:
            async with self._errors():
                return bool(await self._client().ping())
        except StoreError:
            return False

    def _client(self) -> Any:
        if self._redis is None:
            raise StoreError("store is not open")
        return self._redis

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """Translate redis-py's errors at the boundary (STYLE.md 8), and keep cancellations."""
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        try:
            yield
        except RedisError as exc:
            raise StoreError(f"Redis error: {exc}") from exc
        except OSError as exc:  # a socket error redis-py did not wrap
            raise StoreError(f"Redis connection error: {exc}") from exc
        # redis-py sends under asyncio.wait_for (it has a socket timeout by default since 8.0),
        # which before 3.12 drops a cancellation that lands as the send completes (gh-86296):
        # the call returned as if never cancelled, and a stopping loop would run on.
        if task is not None and task.cancelling() > cancels:
            raise asyncio.CancelledError

    async def _run(self, script: str, keys: Sequence[str], args: Iterable[Any]) -> Any:
        self._client()
        async with self._errors():
            return await self._scripts[script](keys=list(keys), args=list(args))

    async def _call(self, *command: Any) -> Any:
        async with self._errors():
            return await self._client().execute_command(*command)

    async def _transaction(self, *commands: Sequence[Any]) -> list[Any]:
        """Commands in one MULTI/EXEC: for writes that read nothing first, and snapshots."""
        async with self._errors():
            pipe = self._client().pipeline(transaction=True)
            for command in commands:
                pipe.execute_command(*command)
            return list(await pipe.execute())

    # --- accounts --------------------------------------------------------------------------------
    async def put_account(self, account: str, data: dict[str, Any], now: float) -> bool:
        k = self.keys
        created = await self._run(
            "PUT_ACCOUNT", [k.account(account), k.accounts], [_dump(data), _f(now), account]
        )
        return bool(created)

    async def get_account(self, account: str) -> AccountRecord | None:
        row = _hash(await self._call("HGETALL", self.keys.account(account)))
        if "data" not in row:
            return None
        return self._account(account, row["data"], row["created"], row["updated"])

    async def list_accounts(self) -> list[AccountRecord]:
        rows = await self._run("LIST_ACCOUNTS", [self.keys.accounts], [self.keys.account_stem])
        return [self._account(_s(r[0]), r[1], r[2], r[3]) for r in rows]

    @staticmethod
    def _account(account: str, data: bytes, created: bytes, updated: bytes) -> AccountRecord:
        doc = _load(data, f"account {account!r}")
        if not isinstance(doc, dict):
            raise CorruptRecordError(f"stored account {account!r} is not an object")
        return AccountRecord(
            account=account, data=doc, created=float(created), updated=float(updated)
        )

    async def delete_account(self, account: str) -> bool:
        k = self.keys
        # Undelivered events and submissions of a deleted account stay (as in SQLite); only the
        # account and its sync state go. Nothing is read first, so MULTI/EXEC is enough.
        removed, *_ = await self._transaction(
            ("ZREM", k.accounts, account),
            ("DEL", k.account(account)),
            ("DEL", k.folders(account)),
            ("DEL", k.folder_blobs(account)),
            ("DEL", k.mailboxes(account)),
            ("HDEL", k.account_status, account),
            ("HDEL", k.account_signals, account),
        )
        return bool(removed)

    # --- settings --------------------------------------------------------------------------------
    async def get_settings(self) -> dict[str, Any]:
        return self._settings(await self._call("HGETALL", self.keys.settings))

    @staticmethod
    def _settings(raw: Any) -> dict[str, Any]:
        return {key: _load(value, f"setting {key!r}") for key, value in _hash(raw).items()}

    async def update_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        key = self.keys.settings
        commands: list[tuple[Any, ...]] = [
            ("HDEL", key, name) if value is None else ("HSET", key, name, _dump(value))
            for name, value in values.items()
        ]
        # The merged result is read inside the same transaction, so it is what this call made.
        *_, merged = await self._transaction(*commands, ("HGETALL", key))
        return self._settings(merged)

    # --- tokens ----------------------------------------------------------------------------------
    async def add_token(self, token: TokenRecord) -> None:
        k = self.keys
        fields: list[str] = [
            "token_hash", token.token_hash,
            "description", token.description,
            "scopes", json.dumps(list(token.scopes)),
            "created", _f(token.created),
        ]  # fmt: skip
        if token.revoked is not None:
            fields += ["revoked", _f(token.revoked)]
        await self._run(
            "ADD_TOKEN",
            [k.token(token.id), k.tokens, k.token_hashes],
            [token.id, token.token_hash, *fields],
        )

    async def get_token_by_hash(self, token_hash: str) -> TokenRecord | None:
        token_id = await self._call("HGET", self.keys.token_hashes, token_hash)
        if token_id is None:
            return None
        return self._token(
            _s(token_id), _hash(await self._call("HGETALL", self.keys.token(_s(token_id))))
        )

    async def list_tokens(self) -> list[TokenRecord]:
        ids = sorted(_s(i) for i in await self._call("SMEMBERS", self.keys.tokens))
        rows = await self._transaction(*(("HGETALL", self.keys.token(i)) for i in ids))
        tokens = [self._token(i, _hash(row)) for i, row in zip(ids, rows, strict=True)]
        return sorted((t for t in tokens if t is not None), key=lambda t: t.created)

    @staticmethod
    def _token(token_id: str, row: dict[str, bytes]) -> TokenRecord | None:
        if "token_hash" not in row:
            return None
        return TokenRecord(
            id=token_id,
            token_hash=_s(row["token_hash"]),
            description=_s(row["description"]),
            scopes=tuple(json.loads(row["scopes"])),
            created=float(row["created"]),
            revoked=float(row["revoked"]) if "revoked" in row else None,
        )

    async def revoke_token(self, token_id: str, now: float) -> bool:
        return bool(await self._run("REVOKE_TOKEN", [self.keys.token(token_id)], [_f(now)]))

    # --- sync state ------------------------------------------------------------------------------
    async def mailbox_index(self, account: str, path: str, uid_validity: int) -> int:
        # One script: under many coroutines asking at once, the first allocates and the rest
        # read its index (WATCH would make all but one retry).
        bound = json.dumps([path, uid_validity])
        index = await self._run(
            "MAILBOX_INDEX",
            [self.keys.mailboxes(account)],
            ["p" + bound, bound, MAX_MAILBOX_INDEX],
        )
        return int(index)

    async def resolve_mailbox_index(self, account: str, index: int) -> tuple[str, int] | None:
        raw = await self._call("HGET", self.keys.mailboxes(account), f"i{index}")
        if raw is None:
            return None
        path, uid_validity = json.loads(raw)
        return str(path), int(uid_validity)

    async def get_folders(self, account: str) -> list[FolderState]:
        metas, blobs = await self._transaction(
            ("HGETALL", self.keys.folders(account)), ("HGETALL", self.keys.folder_blobs(account))
        )
        blobs = _hash(blobs)
        folders = []
        # Sorted as SQLite's ORDER BY path: code point order is UTF-8 byte order.
        for path, meta in sorted(_hash(metas).items()):
            d = _load(meta, f"folder {path!r} of {account!r}")
            folders.append(
                FolderState(
                    account=account,
                    path=path,
                    index=int(d["index"]),
                    uid_validity=int(d["uidValidity"]),
                    uid_next=int(d["uidNext"]),
                    highest_modseq=d["highestModseq"],
                    messages=int(d["messages"]),
                    special_use=d["specialUse"],
                    messages_blob=bytes(blobs.get(path, b"")),
                )
            )
        return folders

    async def commit_sync(
        self,
        account: str,
        events: list[NewEvent],
        folders: list[FolderState],
        removed_paths: Sequence[str] = (),
        *,
        fence: int | None = None,
    ) -> None:
        # One script: the events and the state that produced them are written together, events
        # first; a crash before it runs loses both (the change is found again), after keeps both.
        # The fencing token is checked before anything is written.
        args: list[Any] = [
            *self._outbox_stems(),
            _opt(fence),
            *self._event_args(events),
            len(folders),
        ]
        for f in folders:
            meta = {
                "index": f.index,
                "uidValidity": f.uid_validity,
                "uidNext": f.uid_next,
                "highestModseq": f.highest_modseq,
                "messages": f.messages,
                "specialUse": f.special_use,
            }
            args += [f.path, _dump(meta), bytes(f.messages_blob)]
        args += [len(removed_paths), *removed_paths]
        keys = [
            *self._outbox_keys(),
            self.keys.folders(account),
            self.keys.folder_blobs(account),
            self.keys.fence(account),
        ]
        if not await self._run("COMMIT_SYNC", keys, args):
            raise LeaseLostError(f"account {account!r} is synced by another node now")

    # --- outbox ----------------------------------------------------------------------------------
    def _outbox_keys(self) -> list[str]:
        k = self.keys
        return [
            k.outbox_ids, k.outbox_seq, k.outbox_heads, k.outbox_due, k.outbox_pending,
            k.outbox_dead,
        ]  # fmt: skip

    def _outbox_stems(self) -> list[str]:
        return [self.keys.event_stem, self.keys.account_events_stem]

    @staticmethod
    def _event_args(events: Sequence[NewEvent]) -> list[Any]:
        args: list[Any] = [len(events)]
        for e in events:
            args += [e.event_id, e.account, _dump(e.payload), _f(e.created)]
        return args

    async def add_events(self, events: list[NewEvent]) -> None:
        if events:
            args = [*self._outbox_stems(), *self._event_args(events)]
            await self._run("ADD_EVENTS", self._outbox_keys(), args)

    @staticmethod
    def _event(seq: bytes, flat: Sequence[bytes]) -> QueuedEvent:
        row = _fields(flat)
        event_id = _s(row["event_id"])
        return QueuedEvent(
            seq=int(seq),
            event_id=event_id,
            account=_s(row["account"]),
            payload=_load(row["payload"], f"event {event_id!r}"),
            created=float(row["created"]),
            attempts=int(row["attempts"]),
            next_attempt=float(row["next_attempt"]),
            last_error=_s(row["last_error"]) if "last_error" in row else None,
            dead=row["dead"] == b"1",
        )

    async def due_events(
        self, now: float, limit: int, *, owner: str | None = None, orphans: bool = True
    ) -> list[QueuedEvent]:
        if limit <= 0:
            return []
        k = self.keys
        rows = await self._run(
            "DUE_EVENTS",
            [k.outbox_due],
            [
                k.event_stem, _f(now), limit, _opt(owner), k.lease_stem, k.account_stem,
                int(orphans),
            ],
        )  # fmt: skip
        return [self._event(seq, flat) for seq, flat in rows]

    async def _outbox(self, script: str, *args: Any) -> int:
        return int(await self._run(script, self._outbox_keys(), [*self._outbox_stems(), *args]))

    async def event_delivered(self, seq: int) -> None:
        await self._outbox("EVENT_DELIVERED", seq)

    async def event_retry(self, seq: int, attempts: int, next_attempt: float, error: str) -> None:
        await self._outbox("EVENT_RETRY", seq, attempts, _f(next_attempt), error)

    async def event_dead(self, seq: int, attempts: int, error: str) -> None:
        await self._outbox("EVENT_DEAD", seq, attempts, error)

    async def list_dead_events(self, offset: int, limit: int) -> Page:
        total, rows = await self._run(
            "LIST_DEAD", [self.keys.outbox_dead], [self.keys.event_stem, max(offset, 0), limit]
        )
        return Page(items=[self._event(seq, flat) for seq, flat in rows], total=int(total))

    async def replay_dead_events(self, event_ids: list[str] | None, now: float) -> int:
        every = "1" if event_ids is None else "0"
        return await self._outbox("REPLAY_DEAD", _f(now), every, *(event_ids or ()))

    async def outbox_stats(self, now: float) -> dict[str, float]:
        k = self.keys
        pending, dead, oldest = await self._transaction(
            ("ZCARD", k.outbox_pending),
            ("ZCARD", k.outbox_dead),
            ("ZRANGE", k.outbox_pending, 0, 0, "WITHSCORES"),
        )
        # redis-py shapes WITHSCORES replies as (member, score) pairs in recent versions and as
        # a flat list in older ones.
        if oldest and isinstance(oldest[0], list | tuple):
            oldest = oldest[0]
        return {
            "pending": float(pending),
            "dead": float(dead),
            "oldestAge": float(now - float(oldest[1])) if oldest else 0.0,
        }

    # --- submission queue and sent index ---------------------------------------------------------
    def _submission_keys(self, *more: str) -> list[str]:
        return [self.keys.submissions_due, self.keys.submissions_final, *more]

    def _submission_stems(self) -> list[str]:
        return [self.keys.submission_stem, self.keys.submissions_state_stem]

    @staticmethod
    def _submission(row: dict[str, bytes]) -> Submission:
        queue_id = _s(row.get("queue_id", b"?"))
        try:
            envelope = _load(row["envelope"], f"submission {queue_id!r} envelope")
            reference = row.get("reference")
            return Submission(
                queue_id=queue_id,
                account=_s(row["account"]),
                idempotency_key=_s(row["idempotency_key"]) if "idempotency_key" in row else None,
                message_id=_s(row["message_id"]),
                raw=_s(row["raw"]) if "raw" in row else None,
                envelope_from=str(envelope["from"]),
                envelope_to=tuple(str(a) for a in envelope["to"]),
                reference=(
                    _load(reference, f"submission {queue_id!r} reference") if reference else None
                ),
                state=SubmissionState(_s(row["state"])),
                created=float(row["created"]),
                send_at=float(row["send_at"]),
                next_attempt=float(row["next_attempt"]),
                attempts=int(row["attempts"]),
                last_response=_s(row["last_response"]) if "last_response" in row else None,
                smtp_code=int(row["smtp_code"]) if "smtp_code" in row else None,
                updated=float(row["updated"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptRecordError(f"stored submission {queue_id!r} is invalid") from exc

    async def add_submission(
        self, submission: Submission, idempotency_since: float
    ) -> tuple[Submission, bool]:
        s = replace(submission, updated=submission.updated or submission.created)
        fields: list[Any] = [
            "queue_id", s.queue_id,
            "account", s.account,
            "message_id", s.message_id,
            "envelope", _dump({"from": s.envelope_from, "to": list(s.envelope_to)}),
            "state", s.state.value,
            "created", _f(s.created),
            "send_at", _f(s.send_at),
            "next_attempt", _f(s.next_attempt),
            "attempts", s.attempts,
            "updated", _f(s.updated),
        ]  # fmt: skip
        optional = {
            "raw": s.raw,
            "idempotency_key": s.idempotency_key,
            "reference": _dump(s.reference) if s.reference is not None else None,
            "last_response": s.last_response,
            "smtp_code": s.smtp_code,
        }
        fields += [item for name, v in optional.items() if v is not None for item in (name, v)]
        k = self.keys
        # One script: the key lookup, the release of an expired key and the insert happen with
        # nothing in between, so two concurrent calls with one key queue one message.
        result = await self._run(
            "ADD_SUBMISSION",
            self._submission_keys(
                k.submission(s.queue_id), k.idempotency(s.account), k.submissions_account(s.account)
            ),
            [
                *self._submission_stems(),
                s.queue_id,
                s.idempotency_key or "",
                _f(idempotency_since),
                s.state.value,
                _f(s.created),
                _f(s.next_attempt),
                _f(s.updated),
                *fields,
            ],
        )
        if int(result[0]) == 0:
            return self._submission(_fields(result[1])), False
        return s, True

    async def find_submission_by_key(
        self, account: str, idempotency_key: str, since: float
    ) -> Submission | None:
        queue_id = await self._call("HGET", self.keys.idempotency(account), idempotency_key)
        if queue_id is None:
            return None
        found = await self.get_submission(_s(queue_id))
        # Re-checked: the holder may have been purged or released the key in between.
        if found is None or found.idempotency_key != idempotency_key or found.created < since:
            return None
        return found

    async def get_submission(self, queue_id: str) -> Submission | None:
        row = _hash(await self._call("HGETALL", self.keys.submission(queue_id)))
        return self._submission(row) if row else None

    async def list_submissions(
        self, account: str | None, states: Sequence[SubmissionState], offset: int, limit: int
    ) -> Page:
        wanted = list(dict.fromkeys(state.value for state in states))
        if not wanted:
            return Page()
        offset, limit = max(offset, 0), max(limit, 0)
        stem = self.keys.submission_stem
        if account is not None:
            total, rows = await self._run(
                "LIST_ACCOUNT_SUBMISSIONS",
                [self.keys.submissions_account(account)],
                [stem, offset, limit, *wanted],
            )
            return Page(items=[self._submission(_fields(r)) for r in rows], total=int(total))
        total, rows = await self._run(
            "LIST_STATE_SUBMISSIONS",
            [self.keys.submissions_state_stem + state for state in wanted],
            [stem, offset + limit],
        )
        # ORDER BY created, queue_id across the states: merged here, where bytes compare as
        # bytes (Lua compares strings by the server's locale).
        rows.sort(key=lambda r: (float(r[1]), r[0]))
        page = [self._submission(_fields(r[2])) for r in rows[offset : offset + limit]]
        return Page(items=page, total=int(total))

    async def claim_submissions(self, now: float, lease: float, limit: int) -> list[Submission]:
        if limit <= 0:
            return []
        # One script: the due ones are picked and leased with nothing in between, so two
        # claimers (coroutines or, later, nodes) never get the same submission.
        rows = await self._run(
            "CLAIM_SUBMISSIONS",
            self._submission_keys(),
            [*self._submission_stems(), _f(now), _f(now + lease), limit],
        )
        return [self._submission(_fields(r)) for r in rows]

    async def submission_retry(
        self,
        queue_id: str,
        attempts: int,
        next_attempt: float,
        response: str,
        smtp_code: int | None,
        now: float,
    ) -> None:
        await self._run(
            "SUBMISSION_RETRY",
            self._submission_keys(self.keys.submission(queue_id)),
            [
                *self._submission_stems(),
                queue_id,
                attempts,
                _f(next_attempt),
                response,
                _opt(smtp_code),
                _f(now),
            ],
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
        k = self.keys
        sent_account = sent.account if sent is not None else ""
        # One script: final state, raw dropped, events and sent index together (DESIGN.md §4:
        # no message body kept once final).
        await self._run(
            "FINISH_SUBMISSION",
            [
                *self._outbox_keys(),
                *self._submission_keys(k.submission(queue_id), k.sent(sent_account)),
                k.sent_by_time,
            ],
            [
                *self._outbox_stems(),
                *self._submission_stems(),
                queue_id,
                state.value,
                attempts,
                _opt(response),
                _opt(smtp_code),
                _f(now),
                _opt(self._sent_value(sent.queue_id, sent.sent_at) if sent else None),
                _f(sent.sent_at) if sent else "",
                self._sent_member(sent.account, sent.message_id) if sent else "",
                sent.message_id if sent else "",
                *self._event_args(events),
            ],
        )

    async def cancel_submission(self, queue_id: str, now: float) -> Submission | None:
        row = await self._run(
            "CANCEL_SUBMISSION",
            self._submission_keys(self.keys.submission(queue_id)),
            [*self._submission_stems(), queue_id, _f(now)],
        )
        return self._submission(_fields(row)) if row else None

    async def purge_submissions(self, before: float) -> int:
        k = self.keys
        args = [*self._submission_stems(), k.submissions_account_stem, k.idempotency_stem]
        return int(
            await self._run("PURGE_SUBMISSIONS", self._submission_keys(), [*args, "(" + _f(before)])
        )

    @staticmethod
    def _sent_value(queue_id: str, sent_at: float) -> str:
        return _dump({"queueId": queue_id, "sentAt": sent_at})

    @staticmethod
    def _sent_member(account: str, message_id: str) -> str:
        # Length-prefixed so any account id and Message-ID split back apart (PURGE_SENT).
        return f"{len(account.encode())}:{account}{message_id}"

    def _sent(self, account: str, message_id: str, raw: bytes) -> SentRecord:
        d = _load(raw, f"sent entry {message_id!r}")
        return SentRecord(
            account=account,
            message_id=message_id,
            queue_id=str(d["queueId"]),
            sent_at=float(d["sentAt"]),
        )

    async def get_sent(self, account: str, message_id: str) -> SentRecord | None:
        raw = await self._call("HGET", self.keys.sent(account), message_id)
        return self._sent(account, message_id, raw) if raw is not None else None

    async def find_sent(self, account: str, message_ids: Sequence[str]) -> list[SentRecord]:
        wanted = list(dict.fromkeys(message_ids))[:500]  # a References chain is short
        if not wanted:
            return []
        values = await self._call("HMGET", self.keys.sent(account), *wanted)
        found = [self._sent(account, m, v) for m, v in zip(wanted, values, strict=True) if v]
        return sorted(found, key=lambda r: r.message_id.encode())  # the primary key's order

    async def track_message_ids(self, account: str, message_ids: Sequence[str], now: float) -> int:
        if not message_ids:
            return 0
        args: list[Any] = [_f(now), self._sent_value("", now)]
        for m in message_ids:
            args += [m, self._sent_member(account, m)]
        keys = [self.keys.sent(account), self.keys.sent_by_time]
        return int(await self._run("TRACK", keys, args))

    async def untrack_message_ids(self, account: str, message_ids: Sequence[str]) -> int:
        if not message_ids:
            return 0
        args = [a for m in message_ids for a in (m, self._sent_member(account, m))]
        keys = [self.keys.sent(account), self.keys.sent_by_time]
        return int(await self._run("UNTRACK", keys, args))

    async def purge_sent(self, before: float) -> int:
        args = [self.keys.sent_stem, "(" + _f(before)]
        return int(await self._run("PURGE_SENT", [self.keys.sent_by_time], args))

    # --- account ownership (issue 8; scripts and invariants in store/redis_scripts.py) -----
    async def heartbeat(self, node: str, ttl: float) -> list[str]:
        live = await self._run("HEARTBEAT", [self.keys.nodes], [node, _ms(ttl)])
        return sorted(_s(n) for n in live)

    async def leave(self, node: str) -> None:
        await self._call("ZREM", self.keys.nodes, node)

    async def claim_leases(self, node: str, accounts: Sequence[str], ttl: float) -> dict[str, int]:
        if not accounts:
            return {}
        k = self.keys
        flat = await self._run(
            "CLAIM_LEASES",
            [k.lease_log],
            [k.lease_stem, k.fence_stem, node, _ms(ttl), LEASE_LOG_LENGTH, *accounts],
        )
        return {_s(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def release_leases(self, node: str, accounts: Sequence[str]) -> None:
        if not accounts:
            return
        k = self.keys
        await self._run(
            "RELEASE_LEASES",
            [k.lease_log],
            [k.lease_stem, k.fence_stem, node, LEASE_LOG_LENGTH, *accounts],
        )

    async def account_versions(self, accounts: Sequence[str] | None = None) -> dict[str, str]:
        k = self.keys
        if accounts is not None and not accounts:
            return {}
        flat = await self._run(
            "ACCOUNT_VERSIONS", [k.accounts, k.account_signals], [k.account_stem, *(accounts or ())]
        )
        return {_s(flat[i]): _s(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def signal_account(self, account: str) -> None:
        await self._call("HINCRBY", self.keys.account_signals, account, 1)

    async def set_account_status(
        self, account: str, node: str, state: str, error: str | None, now: float
    ) -> None:
        doc = {"node": node, "state": state, "error": error, "updated": now}
        await self._call("HSET", self.keys.account_status, account, json.dumps(doc))

    async def account_statuses(self) -> dict[str, RemoteStatus]:
        statuses = {}
        for account, value in _hash(await self._call("HGETALL", self.keys.account_status)).items():
            try:
                doc = json.loads(value)
                statuses[account] = RemoteStatus(
                    node=str(doc["node"]),
                    state=str(doc["state"]),
                    error=doc["error"],
                    updated=float(doc["updated"]),
                )
            except (ValueError, KeyError, TypeError):
                continue  # a status is advisory; an unreadable one is as good as none
        return statuses

    async def lease_history(self, limit: int) -> list[dict[str, str]]:
        entries = await self._call("XREVRANGE", self.keys.lease_log, "+", "-", "COUNT", limit)
        history = []
        for entry_id, fields in reversed(entries):
            record = {name: _s(value) for name, value in _hash(fields).items()}
            record["at"] = _s(entry_id).split("-")[0]
            history.append(record)
        return history


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
