"""API tokens on Redis: a hash per token, the set of ids, and the unique hash -> id lookup
(`TokenStore`)."""

# ruff: noqa: S105  (names like ADD_TOKEN hold Lua source, not secrets)
from __future__ import annotations

import json

from imapapi.store.records import TokenRecord
from imapapi.store.redis.codec import _f, _hash, _s
from imapapi.store.redis.connection import RedisConnection

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


class RedisTokens(RedisConnection):
    """The `TokenStore` part of `RedisStore`."""

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
            ADD_TOKEN,
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
        return bool(await self._run(REVOKE_TOKEN, [self.keys.token(token_id)], [_f(now)]))
