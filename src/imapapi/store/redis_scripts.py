"""Lua scripts of the Redis store (store/redis.py): every multi-key write, and the reads that must
see one consistent state.

Why Lua and not MULTI/EXEC + WATCH: these operations read before they write (is the event id
pending already? which submissions are due? is the idempotency key still in force?). With WATCH,
every concurrent writer of a watched key aborts the transaction and the caller must retry, which
under contention (many coroutines allocating one mailbox index, several workers claiming
submissions, every session appending events) becomes a retry storm; a script runs to completion
with nothing interleaved, in one round trip. MULTI/EXEC alone is used where nothing is read
first (delete_account, update_settings, outbox_stats).

A script is not rolled back when it fails halfway, so each one checks everything that could make
it fail before its first write, and payloads are built and validated in Python. Key names come
from `store/keys.py`: a script gets fixed keys as KEYS and the stems of per-record keys as ARGV,
and only appends an id to a stem. The scripts compute keys from data (an event's account), so
they target one Redis (with replicas), not Redis Cluster.

Floats (timestamps) are passed as Python `repr` strings and stored verbatim: Lua's own number
formatting keeps 14 digits, so a script never formats a float, it only compares (`tonumber`).

Outbox invariants (all maintained by `OUTBOX_FUNCS`):
- `event:<seq>` hash: event_id, account, payload, created, attempts, next_attempt, last_error
  (absent = None), dead ("0"/"1"); `outbox-ids` maps each stored event_id to its seq.
- `account-events:<account>` zset: the account's pending (not dead) seqs; `outbox-pending` the
  same over all accounts scored by created (stats); `outbox-dead` the dead seqs.
- `outbox-heads` maps each account with pending events to the seq of its oldest one, and
  `outbox-due` holds exactly those head seqs scored by next_attempt: due_events is one range.
"""

# ruff: noqa: S105  (names like ADD_TOKEN hold Lua source, not secrets)
from __future__ import annotations

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

# KEYS[7] folders hash, KEYS[8] folder blobs hash, KEYS[9] the account's fencing token.
# ARGV[3] the writer's token ('' when unfenced, else '+token'); then the events, nf, nf times
# (path, metadata JSON, blob bytes), nr, nr removed paths. Events first, as in SQLite.
# Returns 0, having written nothing, when another node took the account over (token moved on).
COMMIT_SYNC = (
    OUTBOX_BIND
    + OUTBOX_FUNCS
    + """
if ARGV[3] ~= '' and redis.call('GET', KEYS[9]) ~= string.sub(ARGV[3], 2) then return 0 end
local at = insert_events(4)
local nf = tonumber(ARGV[at])
for i = 0, nf - 1 do
  local p = at + 1 + 3 * i
  redis.call('HSET', KEYS[7], ARGV[p], ARGV[p + 1])
  redis.call('HSET', KEYS[8], ARGV[p], ARGV[p + 2])
end
at = at + 1 + 3 * nf
for i = 1, tonumber(ARGV[at]) do
  redis.call('HDEL', KEYS[7], ARGV[at + i])
  redis.call('HDEL', KEYS[8], ARGV[at + i])
end
return 1
"""
)

# KEYS[1] outbox-due; ARGV event stem, now, limit, owner ('' or '+node'), lease stem, account
# stem, orphans (1/0). The heads that are due, oldest seq first; with an owner, only those of
# accounts whose lease it holds, and (orphans) of accounts no longer registered.
DUE_EVENTS = """
local heads = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local seqs = {}
for i, s in ipairs(heads) do seqs[i] = {tonumber(s), s} end
table.sort(seqs, function(a, b) return a[1] < b[1] end)
local owner = string.sub(ARGV[4], 2)
local out = {}
for i = 1, #seqs do
  if #out >= tonumber(ARGV[3]) then break end
  local s = seqs[i][2]
  local take = ARGV[4] == ''
  if not take then
    local account = redis.call('HGET', ARGV[1] .. s, 'account')
    local holder = redis.call('GET', ARGV[5] .. account)
    take = holder == owner or (not holder and ARGV[7] == '1'
      and redis.call('EXISTS', ARGV[6] .. account) == 0)
  end
  if take then out[#out + 1] = {s, redis.call('HGETALL', ARGV[1] .. s)} end
end
return out
"""

EVENT_DELIVERED = (
    OUTBOX_BIND
    + OUTBOX_FUNCS
    + """
local seq = ARGV[3]
local key = event_stem .. seq
local account = redis.call('HGET', key, 'account')
if not account then return 0 end
redis.call('HDEL', ids, redis.call('HGET', key, 'event_id'))
redis.call('DEL', key)
redis.call('ZREM', account_events_stem .. account, seq)
redis.call('ZREM', pending, seq)
redis.call('ZREM', dead, seq)
refresh_head(account)
return 1
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

# KEYS[1] the account's mailboxes hash; ARGV path field, value, the largest index.
MAILBOX_INDEX = """
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found then return tonumber(found) end
local index = tonumber(redis.call('HGET', KEYS[1], 'n') or '0') + 1
if index > tonumber(ARGV[3]) then return redis.error_reply('mailbox indexes exhausted') end
redis.call('HSET', KEYS[1], 'n', index, ARGV[1], index, 'i' .. index, ARGV[2])
return index
"""

# KEYS[1] account hash, KEYS[2] accounts index; ARGV data, now, account id. 1 when created.
PUT_ACCOUNT = """
local existed = redis.call('EXISTS', KEYS[1])
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'updated', ARGV[2])
if existed == 0 then redis.call('HSET', KEYS[1], 'created', ARGV[2]) end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
return 1 - existed
"""

# KEYS[1] accounts index (score 0: ordered by id bytes, as SQLite's BINARY collation).
LIST_ACCOUNTS = """
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local row = redis.call('HMGET', ARGV[1] .. id, 'data', 'created', 'updated')
  if row[1] then out[#out + 1] = {id, row[1], row[2], row[3]} end
end
return out
"""

# KEYS token hash, tokens set, token-hashes; ARGV id, hash, then field/value pairs.
ADD_TOKEN = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then
  return redis.error_reply('token id or hash exists already')
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
return 1
"""

REVOKE_TOKEN = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'revoked', ARGV[1])
return 1
"""

# --- submissions -------------------------------------------------------------------------------
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

# --- sent index --------------------------------------------------------------------------------
# KEYS sent hash, sent-by-time; ARGV now, value, then (message_id, member) pairs.
TRACK = """
local n = 0
for i = 3, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[2]) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i + 1])
    n = n + 1
  end
end
return n
"""

UNTRACK = """
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    redis.call('ZREM', KEYS[2], ARGV[i + 1])
    n = n + 1
  end
end
return n
"""

# KEYS[1] sent-by-time; ARGV sent stem, "(" before. Members are "<len(account)>:<account><id>".
PURGE_SENT = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
for _, m in ipairs(members) do
  local colon = string.find(m, ':', 1, true)
  local len = tonumber(string.sub(m, 1, colon - 1))
  local account = string.sub(m, colon + 1, colon + len)
  redis.call('HDEL', ARGV[1] .. account, string.sub(m, colon + len + 1))
  redis.call('ZREM', KEYS[1], m)
end
return #members
"""


# --- account ownership (issue 8) -------------------------------------------------------------
# Account ownership on Redis: node heartbeats, per-account leases with fencing tokens, the
# owners' published account states and restart signals (issue 8, DESIGN.md §7).
#
# A lease is `lease:<account>` = node id with a millisecond expiry (SET NX semantics inside a
# script), so a node that dies loses its accounts when the keys expire, by Redis's clock, with no
# node's clock involved. `fence:<account>` is incremented whenever a lease changes hands and never
# reset (not even when the account is deleted), so a token is never handed out twice; COMMIT_SYNC
# refuses a write carrying an older token. Every acquisition and release is appended to the
# capped `lease-log` stream, whose entry ids carry Redis's time: the audit trail the failover tests
# and the demo read.

# Redis's clock in milliseconds, as every script below reads it.
_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS[1] nodes zset; ARGV node, ttl ms. Drops expired nodes, renews this one, lists the rest.
HEARTBEAT = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""
)

# KEYS[1] lease log; ARGV lease stem, fence stem, node, ttl ms, log length, accounts...
# Returns a flat list account, fence for every lease the node holds afterwards.
CLAIM_LEASES = """
local out = {}
for i = 6, #ARGV do
  local account = ARGV[i]
  local lease = ARGV[1] .. account
  local holder = redis.call('GET', lease)
  if holder == ARGV[3] then
    redis.call('PEXPIRE', lease, ARGV[4])
    out[#out + 1] = account
    out[#out + 1] = redis.call('GET', ARGV[2] .. account) or '0'
  elseif not holder then
    redis.call('SET', lease, ARGV[3], 'PX', ARGV[4])
    local fence = redis.call('INCR', ARGV[2] .. account)
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'account', account,
      'node', ARGV[3], 'fence', fence, 'action', 'acquire')
    out[#out + 1] = account
    out[#out + 1] = tostring(fence)
  end
end
return out
"""

# KEYS[1] lease log; ARGV lease stem, fence stem, node, log length, accounts...
RELEASE_LEASES = """
for i = 5, #ARGV do
  local account = ARGV[i]
  if redis.call('GET', ARGV[1] .. account) == ARGV[3] then
    redis.call('DEL', ARGV[1] .. account)
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'account', account,
      'node', ARGV[3], 'fence', redis.call('GET', ARGV[2] .. account) or '0',
      'action', 'release')
  end
end
return 1
"""

# KEYS[1] accounts index, KEYS[2] signals hash; ARGV account stem, then the ids to read (all
# when none). Flat list id, version, for the ids that exist.
ACCOUNT_VERSIONS = """
local ids = {}
if #ARGV > 1 then ids = {unpack(ARGV, 2)} else ids = redis.call('ZRANGE', KEYS[1], 0, -1) end
local out = {}
for _, id in ipairs(ids) do
  local updated = redis.call('HGET', ARGV[1] .. id, 'updated')
  if updated then
    out[#out + 1] = id
    out[#out + 1] = updated .. '/' .. (redis.call('HGET', KEYS[2], id) or '0')
  end
end
return out
"""
