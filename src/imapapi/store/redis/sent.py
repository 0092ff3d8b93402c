"""The sent index on Redis: a hash of Message-IDs per account and one zset by time for the
retention purge (the sent-index half of `SubmissionStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imapapi.store.payload import dump, load
from imapapi.store.records import SentRecord
from imapapi.store.redis.codec import _f
from imapapi.store.redis.connection import RedisConnection

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


def sent_value(queue_id: str, sent_at: float) -> str:
    return dump({"queueId": queue_id, "sentAt": sent_at})


def sent_member(account: str, message_id: str) -> str:
    # Length-prefixed so any account id and Message-ID split back apart (PURGE_SENT).
    return f"{len(account.encode())}:{account}{message_id}"


class RedisSentIndex(RedisConnection):
    """The sent-index half of the `SubmissionStore` part of `RedisStore`."""

    def _sent(self, account: str, message_id: str, raw: bytes) -> SentRecord:
        d = load(raw, f"sent entry {message_id!r}")
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
        args: list[Any] = [_f(now), sent_value("", now)]
        for m in message_ids:
            args += [m, sent_member(account, m)]
        keys = [self.keys.sent(account), self.keys.sent_by_time]
        return int(await self._run(TRACK, keys, args))

    async def untrack_message_ids(self, account: str, message_ids: Sequence[str]) -> int:
        if not message_ids:
            return 0
        args = [a for m in message_ids for a in (m, sent_member(account, m))]
        keys = [self.keys.sent(account), self.keys.sent_by_time]
        return int(await self._run(UNTRACK, keys, args))

    async def purge_sent(self, before: float) -> int:
        args = [self.keys.sent_stem, "(" + _f(before)]
        return int(await self._run(PURGE_SENT, [self.keys.sent_by_time], args))
