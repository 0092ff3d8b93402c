"""The distributed store: Redis through redis-py's asyncio client (DESIGN.md §2, §7).

Same contract as `store/sqlite/`, method for method. Layout and key names: `store/keys.py`
(`RedisKeys`); the multi-key operations are Lua scripts, each in the module of the concern it
serves. Stored documents carry the same `{"v":1,"d":…}` envelope as in SQLite
(`store/payload.py`); folder blobs are raw bytes (the client runs with decode_responses=False).
Timestamps are stored as Python float reprs so they read back exactly.

Redis must run with `maxmemory-policy noeviction` (an evicted key would be silently lost state)
and with persistence (AOF `appendfsync everysec` or better) if a restart must not lose events.

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

Modules: connection.py (the client, errors, running scripts), codec.py (value encodings), one
mixin per concern (accounts, settings, tokens, sync, outbox, submissions, sent, oauth2) and
ownership.py (`ClusterStore`: heartbeats, leases, fencing), combined here as `RedisStore`.
"""

from __future__ import annotations

from imapapi.store.records import MAX_MAILBOX_INDEX
from imapapi.store.redis.accounts import RedisAccounts
from imapapi.store.redis.connection import REDIS_TIMEOUT
from imapapi.store.redis.oauth2 import RedisOAuth2
from imapapi.store.redis.outbox import RedisOutbox
from imapapi.store.redis.ownership import LEASE_LOG_LENGTH, RedisOwnership
from imapapi.store.redis.sent import RedisSentIndex
from imapapi.store.redis.settings import RedisSettings
from imapapi.store.redis.submissions import RedisSubmissions
from imapapi.store.redis.sync import RedisSync
from imapapi.store.redis.tokens import RedisTokens

__all__ = ["LEASE_LOG_LENGTH", "MAX_MAILBOX_INDEX", "REDIS_TIMEOUT", "RedisStore"]


class RedisStore(
    RedisAccounts,
    RedisSettings,
    RedisTokens,
    RedisSync,
    RedisOutbox,
    RedisSubmissions,
    RedisSentIndex,
    RedisOwnership,
    RedisOAuth2,
):
    """`ClusterStore` on one Redis (see `store/base.py` for the contract of each method)."""
