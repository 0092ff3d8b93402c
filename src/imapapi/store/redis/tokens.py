"""API tokens on Redis: a hash per token, the set of ids, and the unique hash -> id lookup
(`TokenStore`).

A revoke is published on a channel in the same script that writes it, so every process on this
Redis (every node, and `imapapi token revoke` run beside them) tells its listeners at once
(`watch_token_revocations`). Pub/sub delivers only to who is subscribed at that moment: each
(re)subscription tells the listeners to forget every token, since notices may have been missed
while the subscription was down.
"""

# ruff: noqa: S105  (names like ADD_TOKEN hold Lua source, not secrets)
from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from imapapi.errors import StoreError
from imapapi.store.records import TokenRecord
from imapapi.store.redis.codec import _f, _hash, _s
from imapapi.store.redis.connection import RedisConnection
from imapapi.store.revocations import RevocationListener, RevocationListeners

log = logging.getLogger(__name__)

# Seconds between attempts to subscribe again after the subscription failed (doubled up to MAX).
RESUBSCRIBE_DELAY = 0.5
RESUBSCRIBE_DELAY_MAX = 30.0

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

# KEYS token hash, revocations channel; ARGV revoked time, token id.
REVOKE_TOKEN = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'revoked', ARGV[1])
redis.call('PUBLISH', KEYS[2], ARGV[2])
return 1
"""


class RedisTokens(RedisConnection, RevocationListeners):
    """The `TokenStore` part of `RedisStore`, with the revocation channel's subscriber."""

    _revocation_watch: asyncio.Task[None] | None = None

    async def add_token(self, token: TokenRecord) -> None:
        k = self.keys
        fields: list[str] = [
            "token_hash", token.token_hash,
            "description", token.description,
            "scopes", json.dumps(list(token.scopes)),
            "created", _f(token.created),
            "accounts", json.dumps(list(token.accounts)),
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
            # Absent from the tokens written before accounts could be bound: unbound.
            accounts=tuple(json.loads(row["accounts"])) if "accounts" in row else (),
        )

    async def revoke_token(self, token_id: str, now: float) -> bool:
        keys = [self.keys.token(token_id), self.keys.token_revocations]
        revoked = bool(await self._run(REVOKE_TOKEN, keys, [_f(now), token_id]))
        if revoked:
            self._revoked(token_id)  # at once here; the channel tells the other processes
        return revoked

    # --- revocation notices from other processes -------------------------------------------------
    def watch_token_revocations(self, listener: RevocationListener) -> None:
        super().watch_token_revocations(listener)
        if self._redis is not None:
            self._start_revocation_watch()

    async def open(self) -> None:
        await super().open()
        if vars(self).get("_revocation_listeners"):
            self._start_revocation_watch()

    async def close(self) -> None:
        task, self._revocation_watch = self._revocation_watch, None
        if task is not None:
            task.cancel()
            # Bounded: redis-py can drop a cancellation that lands inside its connect (see
            # `_errors`); such a task ends by itself once the client below is closed.
            await asyncio.wait({task}, timeout=1.0)
        await super().close()

    def _start_revocation_watch(self) -> None:
        if self._revocation_watch is None or self._revocation_watch.done():
            self._revocation_watch = asyncio.create_task(
                self._watch_revocations(), name="redis-token-revocations"
            )

    async def _watch_revocations(self) -> None:
        """Subscribe to the channel and tell the listeners, for as long as the store is open."""
        delay = RESUBSCRIBE_DELAY
        while self._redis is not None:
            pubsub = self._redis.pubsub()
            try:
                async with self._errors():
                    await pubsub.subscribe(self.keys.token_revocations)
                    async for message in pubsub.listen():
                        if message["type"] == "subscribe":
                            # Subscribed (again, after redis-py reconnected): what was published
                            # meanwhile is lost to us.
                            self._revoked(None)
                            delay = RESUBSCRIBE_DELAY
                        elif message["type"] == "message":
                            self._revoked(_s(message["data"]))
            except StoreError as exc:
                log.warning(
                    "token revocation notices from Redis interrupted (%s); subscribing again "
                    "in %.1f s",
                    exc,
                    delay,
                )
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            # Records read meanwhile are dropped when the new subscription is confirmed.
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESUBSCRIBE_DELAY_MAX)
