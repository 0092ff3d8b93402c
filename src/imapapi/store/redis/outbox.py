"""The event outbox on Redis: its Lua scripts, their invariants, and the `OutboxStore` methods.

Outbox invariants (all maintained by `OUTBOX_FUNCS`, which `COMMIT_SYNC` in sync.py and
`FINISH_SUBMISSION` in submissions.py include too):
- `event:<seq>` hash: event_id, account, payload, created, attempts, next_attempt, last_error
  (absent = None), dead ("0"/"1"); `outbox-ids` maps each stored event_id to its seq.
- `account-events:<account>` zset: the account's pending (not dead) seqs; `outbox-pending` the
  same over all accounts scored by created (stats); `outbox-dead` the dead seqs.
- `outbox-heads` maps each account with pending events to the seq of its oldest one, and
  `outbox-due` holds exactly those head seqs scored by next_attempt: due_events is one range.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from imapapi.store.keys import RedisKeys
from imapapi.store.payload import dump, load, stored_text
from imapapi.store.records import NewEvent, Page, QueuedEvent
from imapapi.store.redis.codec import _f, _fields, _opt, _s
from imapapi.store.redis.connection import RedisConnection

# Binds the outbox keys for OUTBOX_FUNCS; every outbox script starts with it.
OUTBOX_BIND = """
local ids, seqkey, heads, due, pending, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local event_stem, account_events_stem = ARGV[1], ARGV[2]
"""

OUTBOX_FUNCS = """
local function refresh_head(account)
  local old = redis.call('HGET', heads, account)
  if old then redis.call('ZREM', due, old) end
  local first = redis.call('ZRANGE', account_events_stem .. account, 0, 0)[1]
  if first then
    redis.call('ZADD', due, redis.call('HGET', event_stem .. first, 'next_attempt'), first)
    redis.call('HSET', heads, account, first)
  else
    redis.call('HDEL', heads, account)
  end
end

-- ARGV[base] = n, then n times (event_id, account, payload, created). An event id that is
-- stored already is skipped (INSERT OR IGNORE: the writer chose it, STYLE.md 13).
-- Returns the ARGV index after the events.
local function insert_events(base)
  local n = tonumber(ARGV[base])
  local touched = {}
  for i = 0, n - 1 do
    local at = base + 1 + 4 * i
    local event_id, account, created = ARGV[at], ARGV[at + 1], ARGV[at + 3]
    if redis.call('HEXISTS', ids, event_id) == 0 then
      local seq = redis.call('INCR', seqkey)
      redis.call('HSET', ids, event_id, seq)
      redis.call('HSET', event_stem .. seq, 'event_id', event_id, 'account', account,
        'payload', ARGV[at + 2], 'created', created, 'attempts', 0, 'next_attempt', created,
        'dead', 0)
      redis.call('ZADD', account_events_stem .. account, seq, seq)
      redis.call('ZADD', pending, created, seq)
      touched[account] = true
    end
  end
  for account in pairs(touched) do refresh_head(account) end
  return base + 1 + 4 * n
end
"""

ADD_EVENTS = OUTBOX_BIND + OUTBOX_FUNCS + "insert_events(3) return 1"

# KEYS[1] outbox-due; ARGV event stem, now, limit, owner ('' or '+node'), lease stem, account
# stem, orphans (1/0), account-events stem, per_account, then the accounts to pass over. Up to
# `limit` due heads, oldest seq first, each with the pending events behind it (`per_account` in
# all); with an owner, only those of accounts whose lease it holds, and (orphans) of accounts no
# longer registered.
DUE_EVENTS = """
local heads = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local seqs = {}
for i, s in ipairs(heads) do seqs[i] = {tonumber(s), s} end
table.sort(seqs, function(a, b) return a[1] < b[1] end)
local owner = string.sub(ARGV[4], 2)
local skip = {}
for i = 10, #ARGV do skip[ARGV[i]] = true end
local out, taken = {}, 0
for i = 1, #seqs do
  if taken >= tonumber(ARGV[3]) then break end
  local s = seqs[i][2]
  local account = redis.call('HGET', ARGV[1] .. s, 'account')
  local take = not skip[account]
  if take and ARGV[4] ~= '' then
    local holder = redis.call('GET', ARGV[5] .. account)
    take = holder == owner or (not holder and ARGV[7] == '1'
      and redis.call('EXISTS', ARGV[6] .. account) == 0)
  end
  if take then
    taken = taken + 1
    local run = redis.call('ZRANGE', ARGV[8] .. account, 0, tonumber(ARGV[9]) - 1)
    for _, r in ipairs(run) do out[#out + 1] = {r, redis.call('HGETALL', ARGV[1] .. r)} end
  end
end
return out
"""

# ARGV the seqs, delivered (or not wanted): removed, each account's head refreshed once.
EVENTS_DELIVERED = (
    OUTBOX_BIND
    + OUTBOX_FUNCS
    + """
local touched, count = {}, 0
for i = 3, #ARGV do
  local key = event_stem .. ARGV[i]
  local account = redis.call('HGET', key, 'account')
  if account then
    redis.call('HDEL', ids, redis.call('HGET', key, 'event_id'))
    redis.call('DEL', key)
    redis.call('ZREM', account_events_stem .. account, ARGV[i])
    redis.call('ZREM', pending, ARGV[i])
    redis.call('ZREM', dead, ARGV[i])
    touched[account] = true
    count = count + 1
  end
end
for account in pairs(touched) do refresh_head(account) end
return count
"""
)

# ARGV seq, attempts, next_attempt, error.
EVENT_RETRY = (
    OUTBOX_BIND
    + OUTBOX_FUNCS
    + """
local key = event_stem .. ARGV[3]
local account = redis.call('HGET', key, 'account')
if not account then return 0 end
redis.call('HSET', key, 'attempts', ARGV[4], 'next_attempt', ARGV[5], 'last_error', ARGV[6])
refresh_head(account)
return 1
"""
)

# ARGV seq, attempts, error.
EVENT_DEAD = (
    OUTBOX_BIND
    + OUTBOX_FUNCS
    + """
local seq = ARGV[3]
local key = event_stem .. seq
local account = redis.call('HGET', key, 'account')
if not account then return 0 end
redis.call('HSET', key, 'dead', 1, 'attempts', ARGV[4], 'last_error', ARGV[5])
redis.call('ZREM', account_events_stem .. account, seq)
redis.call('ZREM', pending, seq)
redis.call('ZADD', dead, seq, seq)
refresh_head(account)
return 1
"""
)

# ARGV now, all ("1"/"0"), then the event ids. A replayed event goes back to its own seq, so it
# is again ahead of its account's later events (as the SQLite rows are).
REPLAY_DEAD = (
    OUTBOX_BIND
    + OUTBOX_FUNCS
    + """
local now = ARGV[3]
local seqs = {}
if ARGV[4] == '1' then
  seqs = redis.call('ZRANGE', dead, 0, -1)
else
  for i = 5, #ARGV do
    local s = redis.call('HGET', ids, ARGV[i])
    if s then seqs[#seqs + 1] = s end
  end
end
local touched, count = {}, 0
for _, s in ipairs(seqs) do
  if redis.call('ZSCORE', dead, s) then
    local key = event_stem .. s
    local account = redis.call('HGET', key, 'account')
    redis.call('HSET', key, 'dead', 0, 'attempts', 0, 'next_attempt', now, 'created', now)
    redis.call('ZREM', dead, s)
    redis.call('ZADD', account_events_stem .. account, s, s)
    redis.call('ZADD', pending, now, s)
    touched[account] = true
    count = count + 1
  end
end
for account in pairs(touched) do refresh_head(account) end
return count
"""
)

# KEYS[1] outbox-dead; ARGV event stem, offset, limit. Returns {total, {seq, fields}...}.
LIST_DEAD = """
local total = redis.call('ZCARD', KEYS[1])
local out = {}
local limit = tonumber(ARGV[3])
if limit > 0 then
  local offset = tonumber(ARGV[2])
  for _, s in ipairs(redis.call('ZRANGE', KEYS[1], offset, offset + limit - 1)) do
    out[#out + 1] = {s, redis.call('HGETALL', ARGV[1] .. s)}
  end
end
return {total, out}
"""


def outbox_keys(k: RedisKeys) -> list[str]:
    """The KEYS every script that includes `OUTBOX_BIND` starts with, in its order."""
    return [
        k.outbox_ids, k.outbox_seq, k.outbox_heads, k.outbox_due, k.outbox_pending,
        k.outbox_dead,
    ]  # fmt: skip


def outbox_stems(k: RedisKeys) -> list[str]:
    """The ARGV every script that includes `OUTBOX_BIND` starts with."""
    return [k.event_stem, k.account_events_stem]


def event_args(events: Sequence[NewEvent]) -> list[Any]:
    """The ARGV run that `insert_events` (OUTBOX_FUNCS) reads."""
    args: list[Any] = [len(events)]
    for e in events:
        args += [e.event_id, e.account, dump(e.payload), _f(e.created)]
    return args


class RedisOutbox(RedisConnection):
    """The `OutboxStore` part of `RedisStore`."""

    async def add_events(self, events: list[NewEvent]) -> None:
        if events:
            args = [*outbox_stems(self.keys), *event_args(events)]
            await self._run(ADD_EVENTS, outbox_keys(self.keys), args)

    @staticmethod
    def _event(seq: bytes, flat: Sequence[bytes]) -> QueuedEvent:
        row = _fields(flat)
        event_id = _s(row["event_id"])
        return QueuedEvent(
            seq=int(seq),
            event_id=event_id,
            account=_s(row["account"]),
            payload=load(row["payload"], f"event {event_id!r}"),
            created=float(row["created"]),
            attempts=int(row["attempts"]),
            next_attempt=float(row["next_attempt"]),
            last_error=_s(row["last_error"]) if "last_error" in row else None,
            dead=row["dead"] == b"1",
            body=stored_text(row["payload"]),
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
        if limit <= 0:
            return []
        k = self.keys
        rows = await self._run(
            DUE_EVENTS,
            [k.outbox_due],
            [
                k.event_stem, _f(now), limit, _opt(owner), k.lease_stem, k.account_stem,
                int(orphans), k.account_events_stem, max(per_account, 1), *exclude,
            ],
        )  # fmt: skip
        return [self._event(seq, flat) for seq, flat in rows]

    async def _outbox(self, script: str, *args: Any) -> int:
        return int(
            await self._run(script, outbox_keys(self.keys), [*outbox_stems(self.keys), *args])
        )

    async def events_delivered(self, seqs: Sequence[int]) -> None:
        if seqs:
            await self._outbox(EVENTS_DELIVERED, *seqs)

    async def event_retry(self, seq: int, attempts: int, next_attempt: float, error: str) -> None:
        await self._outbox(EVENT_RETRY, seq, attempts, _f(next_attempt), error)

    async def event_dead(self, seq: int, attempts: int, error: str) -> None:
        await self._outbox(EVENT_DEAD, seq, attempts, error)

    async def list_dead_events(self, offset: int, limit: int) -> Page:
        total, rows = await self._run(
            LIST_DEAD, [self.keys.outbox_dead], [self.keys.event_stem, max(offset, 0), limit]
        )
        return Page(items=[self._event(seq, flat) for seq, flat in rows], total=int(total))

    async def replay_dead_events(self, event_ids: list[str] | None, now: float) -> int:
        every = "1" if event_ids is None else "0"
        return await self._outbox(REPLAY_DEAD, _f(now), every, *(event_ids or ()))

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
