"""Account ownership on Redis (`ClusterStore`, issue 8, DESIGN.md §7): node heartbeats,
per-account leases with fencing tokens, the owners' published account states and restart
signals, with the Lua scripts that keep them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from imapapi.store.records import RemoteStatus
from imapapi.store.redis.codec import _hash, _s
from imapapi.store.redis.connection import RedisConnection

LEASE_LOG_LENGTH = 100_000  # lease-log entries kept (approximately: MAXLEN ~)

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


class RedisOwnership(RedisConnection):
    """The `ClusterStore` part of `RedisStore` (beyond `Store`)."""

    async def heartbeat(self, node: str, ttl: float) -> list[str]:
        live = await self._run(HEARTBEAT, [self.keys.nodes], [node, _ms(ttl)])
        return sorted(_s(n) for n in live)

    async def leave(self, node: str) -> None:
        await self._call("ZREM", self.keys.nodes, node)

    async def claim_leases(self, node: str, accounts: Sequence[str], ttl: float) -> dict[str, int]:
        if not accounts:
            return {}
        k = self.keys
        flat = await self._run(
            CLAIM_LEASES,
            [k.lease_log],
            [k.lease_stem, k.fence_stem, node, _ms(ttl), LEASE_LOG_LENGTH, *accounts],
        )
        return {_s(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def release_leases(self, node: str, accounts: Sequence[str]) -> None:
        if not accounts:
            return
        k = self.keys
        await self._run(
            RELEASE_LEASES,
            [k.lease_log],
            [k.lease_stem, k.fence_stem, node, LEASE_LOG_LENGTH, *accounts],
        )

    async def account_versions(self, accounts: Sequence[str] | None = None) -> dict[str, str]:
        k = self.keys
        if accounts is not None and not accounts:
            return {}
        flat = await self._run(
            ACCOUNT_VERSIONS, [k.accounts, k.account_signals], [k.account_stem, *(accounts or ())]
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
