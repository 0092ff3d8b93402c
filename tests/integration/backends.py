"""The two stores a service can run on, for the tests that run the whole suite on each.

A `StoreBackend` turns a data dir into the settings (or, for a subprocess, the environment)
of a service on that backend. On SQLite the store lives in the data dir; on Redis each data dir
gets its own key prefix on the session's redis-server, so "same data dir" still means "same
store" (a restart test reopens what it wrote) and two data dirs never share state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.servers.redis import RedisServer
from tests.unit.store.conftest import fresh_prefix

BACKENDS = ["sqlite", "redis"]


@dataclass
class StoreBackend:
    """One store backend for one test; `name` is "sqlite" or "redis"."""

    name: str
    redis: RedisServer | None = None
    _prefixes: dict[Path, str] = field(default_factory=dict)

    @classmethod
    def sqlite(cls) -> StoreBackend:
        return cls("sqlite")

    @classmethod
    def on_redis(cls, server: RedisServer) -> StoreBackend:
        return cls("redis", server)

    def __repr__(self) -> str:
        return f"<StoreBackend {self.name}>"

    def prefix(self, data_dir: Path) -> str:
        """The Redis key prefix of the store that belongs to `data_dir`."""
        return self._prefixes.setdefault(data_dir.resolve(), fresh_prefix())

    def settings(self, data_dir: Path) -> dict[str, Any]:
        """Settings overrides for a service on `data_dir` (nothing: SQLite is the default)."""
        if self.redis is None:
            return {}
        return {"redis_url": self.redis.url, "redis_prefix": self.prefix(data_dir)}

    def env(self, data_dir: Path) -> dict[str, str]:
        """The same as IMAPAPI_* variables, for `imapapi` run as a process."""
        return {f"IMAPAPI_{k.upper()}": str(v) for k, v in self.settings(data_dir).items()}

    async def stored_bytes(self, data_dir: Path) -> bytes:
        """Everything at rest for `data_dir`: its files and, on Redis, every key of its prefix
        with its contents read as plain values (DUMP would LZF-compress long strings, so a
        clear-text secret could hide in it)."""
        files = await asyncio.to_thread(_file_bytes, data_dir)
        if self.redis is None:
            return files
        return files + await redis_contents(self.redis.url, self.prefix(data_dir))


def _file_bytes(data_dir: Path) -> bytes:
    if not data_dir.exists():  # on Redis, with the secret given, nothing is written there
        return b""
    return b"".join(p.read_bytes() for p in sorted(data_dir.iterdir()) if p.is_file())


async def redis_contents(url: str, prefix: str) -> bytes:
    """Every key under `prefix` and its members/fields/values, concatenated."""
    client = aioredis.Redis.from_url(url, decode_responses=False)
    parts: list[bytes] = []
    try:
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            parts.append(key)
            kind = (await client.type(key)).decode()
            if kind == "none":  # deleted since the scan (a running service): not stored
                continue
            if kind == "string":
                parts.append(await client.get(key) or b"")
            elif kind == "hash":
                for name, value in (await client.hgetall(key)).items():
                    parts += [name, value]
            elif kind == "list":
                parts += await client.lrange(key, 0, -1)
            elif kind == "set":
                parts += sorted(await client.smembers(key))
            elif kind == "zset":
                parts += [member for member, _ in await client.zrange(key, 0, -1, withscores=True)]
            elif kind == "stream":
                for _, entry in await client.xrange(key):
                    for name, value in entry.items():
                        parts += [name, value]
            else:
                raise AssertionError(f"key {key!r} has a type this dump does not read: {kind}")
    finally:
        await client.aclose()
    assert parts, f"nothing stored under the Redis prefix {prefix!r}"
    return b"\n".join(parts)


def backend_for(request: pytest.FixtureRequest) -> StoreBackend:
    """The body of a `store_backend` fixture parametrised with `BACKENDS`: Redis is the
    session's redis-server, started only when a Redis variant runs."""
    if request.param == "redis":
        return StoreBackend.on_redis(request.getfixturevalue("redis_server"))
    return StoreBackend.sqlite()
