"""Accounts on Redis: a hash per account and an index ordered by id (`AccountStore`)."""

from __future__ import annotations

from typing import Any

from imapapi.errors import CorruptRecordError
from imapapi.store.payload import dump, load
from imapapi.store.records import AccountRecord
from imapapi.store.redis.codec import _f, _hash, _s
from imapapi.store.redis.connection import RedisConnection

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


class RedisAccounts(RedisConnection):
    """The `AccountStore` part of `RedisStore`."""

    async def put_account(self, account: str, data: dict[str, Any], now: float) -> bool:
        k = self.keys
        created = await self._run(
            PUT_ACCOUNT, [k.account(account), k.accounts], [dump(data), _f(now), account]
        )
        return bool(created)

    async def get_account(self, account: str) -> AccountRecord | None:
        row = _hash(await self._call("HGETALL", self.keys.account(account)))
        if "data" not in row:
            return None
        return self._account(account, row["data"], row["created"], row["updated"])

    async def list_accounts(self) -> list[AccountRecord]:
        rows = await self._run(LIST_ACCOUNTS, [self.keys.accounts], [self.keys.account_stem])
        return [self._account(_s(r[0]), r[1], r[2], r[3]) for r in rows]

    @staticmethod
    def _account(account: str, data: bytes, created: bytes, updated: bytes) -> AccountRecord:
        doc = load(data, f"account {account!r}")
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
            ("DEL", k.oauth2_grant(account)),
            ("HDEL", k.account_status, account),
            ("HDEL", k.account_signals, account),
        )
        return bool(removed)
