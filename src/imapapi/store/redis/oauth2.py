"""OAuth2 apps, grants and consents under way on Redis (`OAuth2Store`), and the refresh lock
that keeps one token refresh per account at a time across nodes."""

from __future__ import annotations

import math
from typing import Any

from imapapi.store.payload import dump, load_object
from imapapi.store.records import OAuth2AppRecord
from imapapi.store.redis.accounts import LIST_ACCOUNTS, PUT_ACCOUNT
from imapapi.store.redis.codec import _f, _hash, _s
from imapapi.store.redis.connection import RedisConnection

# KEYS[1] the lock; ARGV owner. Deletes the lock only if `owner` still holds it (it may have
# expired and been taken by another node meanwhile).
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisOAuth2(RedisConnection):
    """The `OAuth2Store` part of `RedisStore`."""

    async def put_oauth2_app(self, app: str, data: dict[str, Any], now: float) -> bool:
        k = self.keys
        # The same shape as an account (hash with data/created/updated, lex-ordered index).
        created = await self._run(
            PUT_ACCOUNT, [k.oauth2_app(app), k.oauth2_apps], [dump(data), _f(now), app]
        )
        return bool(created)

    async def get_oauth2_app(self, app: str) -> OAuth2AppRecord | None:
        row = _hash(await self._call("HGETALL", self.keys.oauth2_app(app)))
        if "data" not in row:
            return None
        return self._app(app, row["data"], row["created"], row["updated"])

    async def list_oauth2_apps(self) -> list[OAuth2AppRecord]:
        k = self.keys
        rows = await self._run(LIST_ACCOUNTS, [k.oauth2_apps], [k.oauth2_app_stem])  # same shape
        return [self._app(_s(r[0]), r[1], r[2], r[3]) for r in rows]

    @staticmethod
    def _app(app: str, data: bytes, created: bytes, updated: bytes) -> OAuth2AppRecord:
        doc = load_object(data, f"OAuth2 app {app!r}")
        return OAuth2AppRecord(id=app, data=doc, created=float(created), updated=float(updated))

    async def delete_oauth2_app(self, app: str) -> bool:
        k = self.keys
        removed, _ = await self._transaction(
            ("ZREM", k.oauth2_apps, app), ("DEL", k.oauth2_app(app))
        )
        return bool(removed)

    async def put_oauth2_grant(self, account: str, data: dict[str, Any], now: float) -> None:
        await self._call("SET", self.keys.oauth2_grant(account), dump({**data, "updated": now}))

    async def get_oauth2_grant(self, account: str) -> dict[str, Any] | None:
        raw = await self._call("GET", self.keys.oauth2_grant(account))
        if raw is None:
            return None
        data = load_object(raw, f"OAuth2 grant of {account!r}")
        data.pop("updated", None)
        return data

    async def delete_oauth2_grant(self, account: str) -> bool:
        return bool(await self._call("DEL", self.keys.oauth2_grant(account)))

    async def put_oauth2_pending(self, key: str, data: dict[str, Any], expires: float) -> None:
        # Expiry by Redis itself (EXAT, whole seconds rounded up): abandoned consents vanish.
        await self._call(
            "SET", self.keys.oauth2_pending(key), dump({**data, "expires": expires}),
            "EXAT", math.ceil(expires),
        )  # fmt: skip

    async def take_oauth2_pending(self, key: str, now: float) -> dict[str, Any] | None:
        raw = await self._call("GETDEL", self.keys.oauth2_pending(key))  # one use only
        if raw is None:
            return None
        data = load_object(raw, "OAuth2 consent")
        if float(data.pop("expires", 0)) <= now:
            return None
        return data

    async def lock_oauth2_refresh(self, account: str, owner: str, ttl: float) -> bool:
        ms = max(1, int(ttl * 1000))
        taken = await self._call("SET", self.keys.oauth2_refresh(account), owner, "NX", "PX", ms)
        return taken is not None

    async def unlock_oauth2_refresh(self, account: str, owner: str) -> None:
        await self._run(UNLOCK, [self.keys.oauth2_refresh(account)], [owner])
