"""The submission queue on Redis: its Lua scripts and the queue half of `SubmissionStore`; the
raw message is dropped once final, with the events and the sent-index entry in one script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from imapapi.errors import CorruptRecordError
from imapapi.store.payload import dump, load
from imapapi.store.records import NewEvent, Page, SentRecord, Submission, SubmissionState
from imapapi.store.redis.codec import _f, _fields, _hash, _opt, _s
from imapapi.store.redis.connection import RedisConnection
from imapapi.store.redis.outbox import (
    OUTBOX_BIND,
    OUTBOX_FUNCS,
    event_args,
    outbox_keys,
    outbox_stems,
)
from imapapi.store.redis.sent import sent_member, sent_value

# Per submission `submission:<qid>` hash; `submissions-state:<state>` zsets scored by created
# (the listing order: created, then queue id); `submissions-account:<account>` the same per
# account; `submissions-due` the pending ones by next_attempt; `submissions-final` the final ones
# by updated (the purge); `idempotency:<account>` key -> qid of the latest holder.
SUBMISSION_BIND = """
local sub_due, sub_final = KEYS[1], KEYS[2]
local sub_stem, state_stem = ARGV[1], ARGV[2]
"""

SUBMISSION_FUNCS = """
local PENDING = {queued = true, sending = true}

-- The one place a submission changes state: keeps the state, due and final indexes in step.
local function set_state(qid, key, new, next_attempt, updated)
  local old = redis.call('HGET', key, 'state')
  if old ~= new then
    redis.call('ZREM', state_stem .. old, qid)
    redis.call('ZADD', state_stem .. new, redis.call('HGET', key, 'created'), qid)
  end
  redis.call('HSET', key, 'state', new, 'updated', updated)
  if PENDING[new] then
    if next_attempt then redis.call('HSET', key, 'next_attempt', next_attempt) end
    redis.call('ZADD', sub_due, redis.call('HGET', key, 'next_attempt'), qid)
    redis.call('ZREM', sub_final, qid)
  else
    redis.call('ZREM', sub_due, qid)
    redis.call('ZADD', sub_final, updated, qid)
  end
end

-- Optional values come as '' (None: field removed) or '+' followed by the value.
local function set_opt(key, field, value)
  if value == '' then redis.call('HDEL', key, field)
  else redis.call('HSET', key, field, string.sub(value, 2)) end
end
"""

# KEYS due, final, submission, idempotency hash, account zset; ARGV stems, qid, key ('' none),
# since, state, created, next_attempt, updated, then field/value pairs of the hash.
ADD_SUBMISSION = (
    SUBMISSION_BIND
    + SUBMISSION_FUNCS
    + """
local qid, ikey, since = ARGV[3], ARGV[4], ARGV[5]
local state, created, next_attempt, updated = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local holder = false
if ikey ~= '' then
  holder = redis.call('HGET', KEYS[4], ikey)
  if holder then
    local held = redis.call('HGET', sub_stem .. holder, 'created')
    if held and tonumber(held) >= tonumber(since) then
      return {0, redis.call('HGETALL', sub_stem .. holder)}
    end
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then return redis.error_reply('queue id exists already') end
if holder then
  -- The key is free again after the window: the old submission forgets it.
  redis.call('HDEL', sub_stem .. holder, 'idempotency_key')
end
redis.call('HSET', KEYS[3], unpack(ARGV, 10))
if ikey ~= '' then redis.call('HSET', KEYS[4], ikey, qid) end
redis.call('ZADD', state_stem .. state, created, qid)
redis.call('ZADD', KEYS[5], created, qid)
if PENDING[state] then redis.call('ZADD', sub_due, next_attempt, qid)
else redis.call('ZADD', sub_final, updated, qid) end
return {1}
"""
)

# ARGV stems, now, lease end, limit. QUEUED past next_attempt and SENDING past the lease are
# both just "in submissions-due with a score <= now".
CLAIM_SUBMISSIONS = (
    SUBMISSION_BIND
    + SUBMISSION_FUNCS
    + """
local now, lease_end, limit = ARGV[3], ARGV[4], tonumber(ARGV[5])
local cands, seen = {}, {}
local function add(rows)
  for i = 1, #rows, 2 do
    if not seen[rows[i]] then
      seen[rows[i]] = true
      local created = tonumber(redis.call('HGET', sub_stem .. rows[i], 'created'))
      cands[#cands + 1] = {rows[i], tonumber(rows[i + 1]), created, #cands + 1}
    end
  end
end
local rows = redis.call('ZRANGEBYSCORE', sub_due, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
add(rows)
if #rows == 2 * limit then
  -- Ties on next_attempt beyond the LIMIT are ordered by created, which the zset cannot know.
  add(redis.call('ZRANGEBYSCORE', sub_due, rows[#rows], rows[#rows], 'WITHSCORES'))
end
table.sort(cands, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  if a[3] ~= b[3] then return a[3] < b[3] end
  return a[4] < b[4]
end)
local out = {}
for i = 1, math.min(limit, #cands) do
  local qid = cands[i][1]
  local key = sub_stem .. qid
  set_state(qid, key, 'sending', lease_end, now)
  out[i] = redis.call('HGETALL', key)
end
return out
"""
)

# KEYS due, final, submission; ARGV stems, qid, attempts, next_attempt, response, smtp_code
# (optional), now. Only a SENDING submission goes back to the queue.
SUBMISSION_RETRY = (
    SUBMISSION_BIND
    + SUBMISSION_FUNCS
    + """
local key = KEYS[3]
if redis.call('HGET', key, 'state') ~= 'sending' then return 0 end
set_state(ARGV[3], key, 'queued', ARGV[5], ARGV[8])
redis.call('HSET', key, 'attempts', ARGV[4], 'last_response', ARGV[6])
set_opt(key, 'smtp_code', ARGV[7])
return 1
"""
)

# KEYS 1-6 outbox, 7 due, 8 final, 9 submission, 10 sent hash, 11 sent-by-time. ARGV event
# stem, account-events stem, submission stem, state stem, qid, state, attempts, response (opt),
# smtp_code (opt), now, sent ('' or '+' JSON), sent_at, sent member, message id, then events.
FINISH_SUBMISSION = (
    OUTBOX_BIND
    + OUTBOX_FUNCS
    + """
local sub_due, sub_final = KEYS[7], KEYS[8]
local sub_stem, state_stem = ARGV[3], ARGV[4]
"""
    + SUBMISSION_FUNCS
    + """
local key = KEYS[9]
if redis.call('EXISTS', key) == 1 then
  set_state(ARGV[5], key, ARGV[6], false, ARGV[10])
  redis.call('HDEL', key, 'raw')
  redis.call('HSET', key, 'attempts', ARGV[7])
  set_opt(key, 'last_response', ARGV[8])
  set_opt(key, 'smtp_code', ARGV[9])
end
insert_events(15)
if ARGV[11] ~= '' then
  redis.call('HSET', KEYS[10], ARGV[14], string.sub(ARGV[11], 2))
  redis.call('ZADD', KEYS[11], ARGV[12], ARGV[13])
end
return 1
"""
)

# KEYS due, final, submission; ARGV stems, qid, now. Returns the submission as it is now.
CANCEL_SUBMISSION = (
    SUBMISSION_BIND
    + SUBMISSION_FUNCS
    + """
local key = KEYS[3]
if redis.call('HGET', key, 'state') == 'queued' then
  set_state(ARGV[3], key, 'cancelled', false, ARGV[4])
  redis.call('HDEL', key, 'raw')
end
return redis.call('HGETALL', key)
"""
)

# ARGV stems, account stem, idempotency stem, "(" before.
PURGE_SUBMISSIONS = (
    SUBMISSION_BIND
    + """
local qids = redis.call('ZRANGEBYSCORE', sub_final, '-inf', ARGV[5])
for _, qid in ipairs(qids) do
  local key = sub_stem .. qid
  local row = redis.call('HMGET', key, 'state', 'account', 'idempotency_key')
  redis.call('ZREM', sub_final, qid)
  if row[1] then
    redis.call('ZREM', state_stem .. row[1], qid)
    redis.call('ZREM', ARGV[3] .. row[2], qid)
    if row[3] and redis.call('HGET', ARGV[4] .. row[2], row[3]) == qid then
      redis.call('HDEL', ARGV[4] .. row[2], row[3])
    end
  end
  redis.call('DEL', key)
end
return #qids
"""
)

# Listing without the (large, encrypted) raw message.
_WITHOUT_RAW = """
local function without_raw(key)
  local fields, out = redis.call('HGETALL', key), {}
  for i = 1, #fields, 2 do
    if fields[i] ~= 'raw' then out[#out + 1] = fields[i]; out[#out + 1] = fields[i + 1] end
  end
  return out
end
"""

# KEYS[1] the account's zset; ARGV submission stem, offset, limit, states. Already in listing
# order (created, then queue id bytes), so filter and slice here.
LIST_ACCOUNT_SUBMISSIONS = (
    _WITHOUT_RAW
    + """
local want = {}
for i = 4, #ARGV do want[ARGV[i]] = true end
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local total, out = 0, {}
for _, qid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local state = redis.call('HGET', ARGV[1] .. qid, 'state')
  if state and want[state] then
    total = total + 1
    if total > offset and #out < limit then out[#out + 1] = without_raw(ARGV[1] .. qid) end
  end
end
return {total, out}
"""
)

# KEYS the state zsets; ARGV submission stem, offset + limit. The first offset + limit of each
# state with scores; Python merges them (Lua string order follows the server's locale).
LIST_STATE_SUBMISSIONS = (
    _WITHOUT_RAW
    + """
local total, out = 0, {}
local count = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  total = total + redis.call('ZCARD', key)
  if count > 0 then
    local rows = redis.call('ZRANGE', key, 0, count - 1, 'WITHSCORES')
    for i = 1, #rows, 2 do
      out[#out + 1] = {rows[i], rows[i + 1], without_raw(ARGV[1] .. rows[i])}
    end
  end
end
return {total, out}
"""
)


class RedisSubmissions(RedisConnection):
    """The queue half of the `SubmissionStore` part of `RedisStore`."""

    def _submission_keys(self, *more: str) -> list[str]:
        return [self.keys.submissions_due, self.keys.submissions_final, *more]

    def _submission_stems(self) -> list[str]:
        return [self.keys.submission_stem, self.keys.submissions_state_stem]

    @staticmethod
    def _submission(row: dict[str, bytes]) -> Submission:
        queue_id = _s(row.get("queue_id", b"?"))
        try:
            envelope = load(row["envelope"], f"submission {queue_id!r} envelope")
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
                    load(reference, f"submission {queue_id!r} reference") if reference else None
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
            "envelope", dump({"from": s.envelope_from, "to": list(s.envelope_to)}),
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
            "reference": dump(s.reference) if s.reference is not None else None,
            "last_response": s.last_response,
            "smtp_code": s.smtp_code,
        }
        fields += [item for name, v in optional.items() if v is not None for item in (name, v)]
        k = self.keys
        # One script: the key lookup, the release of an expired key and the insert happen with
        # nothing in between, so two concurrent calls with one key queue one message.
        result = await self._run(
            ADD_SUBMISSION,
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
                LIST_ACCOUNT_SUBMISSIONS,
                [self.keys.submissions_account(account)],
                [stem, offset, limit, *wanted],
            )
            return Page(items=[self._submission(_fields(r)) for r in rows], total=int(total))
        total, rows = await self._run(
            LIST_STATE_SUBMISSIONS,
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
            CLAIM_SUBMISSIONS,
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
            SUBMISSION_RETRY,
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
            FINISH_SUBMISSION,
            [
                *outbox_keys(self.keys),
                *self._submission_keys(k.submission(queue_id), k.sent(sent_account)),
                k.sent_by_time,
            ],
            [
                *outbox_stems(self.keys),
                *self._submission_stems(),
                queue_id,
                state.value,
                attempts,
                _opt(response),
                _opt(smtp_code),
                _f(now),
                _opt(sent_value(sent.queue_id, sent.sent_at) if sent else None),
                _f(sent.sent_at) if sent else "",
                sent_member(sent.account, sent.message_id) if sent else "",
                sent.message_id if sent else "",
                *event_args(events),
            ],
        )

    async def cancel_submission(self, queue_id: str, now: float) -> Submission | None:
        row = await self._run(
            CANCEL_SUBMISSION,
            self._submission_keys(self.keys.submission(queue_id)),
            [*self._submission_stems(), queue_id, _f(now)],
        )
        return self._submission(_fields(row)) if row else None

    async def purge_submissions(self, before: float) -> int:
        k = self.keys
        args = [*self._submission_stems(), k.submissions_account_stem, k.idempotency_stem]
        return int(
            await self._run(PURGE_SUBMISSIONS, self._submission_keys(), [*args, "(" + _f(before)])
        )
