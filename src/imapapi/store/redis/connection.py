"""The Redis connection: open/close/ping, the layout version check, and the three ways every other
module of this package talks to Redis: one command (`_call`), one MULTI/EXEC (`_transaction`)
and one Lua script (`_run`), with redis-py's errors translated at this boundary.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from imapapi.errors import StoreError
from imapapi.store.grouped import Call, Grouped
from imapapi.store.keys import REDIS_DEFAULT_PREFIX, REDIS_SCHEMA_VERSION, RedisKeys

log = logging.getLogger(__name__)

REDIS_TIMEOUT = 10.0  # seconds for one Redis call or connect, or to wait for a free connection
# Every script runs alone on the server anyway: more connections add no throughput.
REDIS_MAX_CONNECTIONS = 64


@dataclass(frozen=True, slots=True)
class _Script:
    """One `_run_grouped` call: the Lua source, its keys and its arguments."""

    source: str
    keys: list[str]
    args: list[Any]


class RedisConnection:
    """The client of a `RedisStore`; every concern's mixin derives from it."""

    def __init__(self, url: str, *, prefix: str = REDIS_DEFAULT_PREFIX) -> None:
        self.url = url
        self.keys = RedisKeys(prefix)
        self._redis: Any = None  # redis.asyncio.Redis; Any because its stubs type replies loosely
        self._scripts: dict[str, Any] = {}  # Lua source -> redis-py Script
        self._grouped: Grouped[_Script] = Grouped(self._send_grouped, "redis-grouped")

    def __repr__(self) -> str:
        state = "open" if self._redis is not None else "closed"
        return f"<RedisStore prefix={self.keys.prefix!r} {state}>"

    # --- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        try:
            # Explicit timeouts (redis-py's defaults changed between majors): a Redis that hangs
            # fails a call in seconds rather than holding it forever.
            # A blocking pool: past its size a caller waits for a free connection. redis-py's
            # default pool refuses outright ("Too many connections" at 100), which hundreds of
            # syncing accounts and the webhook dispatcher together reach under a burst.
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=REDIS_MAX_CONNECTIONS,
                timeout=REDIS_TIMEOUT,
                decode_responses=False,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
            client = aioredis.Redis.from_pool(pool)
        except (RedisError, ValueError) as exc:
            raise StoreError(f"bad Redis URL: {exc}") from exc
        self._redis = client
        self._scripts = {}  # registered with this client as they are first run
        async with self._errors():
            # The layout version, set once; a deployment written by a newer imapapi is refused
            # (as SQLite's user_version) rather than misread.
            await client.set(self.keys.schema, REDIS_SCHEMA_VERSION, nx=True)
            version = int(await self._call("GET", self.keys.schema))
        if version > REDIS_SCHEMA_VERSION:
            await self.close()
            raise StoreError(
                f"Redis layout version {version} under prefix {self.keys.prefix!r} is newer than "
                f"this imapapi ({REDIS_SCHEMA_VERSION}); upgrade imapapi"
            )

    async def close(self) -> None:
        await self._grouped.drain()  # queued calls land
        if self._redis is not None:
            client, self._redis = self._redis, None
            try:
                await client.aclose()
            except RedisError as exc:  # closing a broken connection is not worth a failure
                log.debug("closing Redis: %s", exc)

    async def ping(self) -> bool:
        try:
            async with self._errors():
                return bool(await self._client().ping())
        except StoreError:
            return False

    def _client(self) -> Any:
        if self._redis is None:
            raise StoreError("store is not open")
        return self._redis

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """Translate redis-py's errors at the boundary (STYLE.md 8), and keep cancellations."""
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        try:
            yield
        except RedisError as exc:
            raise StoreError(f"Redis error: {exc}") from exc
        except OSError as exc:  # a socket error redis-py did not wrap
            raise StoreError(f"Redis connection error: {exc}") from exc
        # redis-py sends under asyncio.wait_for (it has a socket timeout by default since 8.0),
        # which before 3.12 drops a cancellation that lands as the send completes (gh-86296):
        # the call returned as if never cancelled, and a stopping loop would run on.
        if task is not None and task.cancelling() > cancels:
            raise asyncio.CancelledError

    async def _run(self, script: str, keys: Sequence[str], args: Iterable[Any]) -> Any:
        """Run the Lua source `script` (a constant of the module that owns it) by EVALSHA.

        Registering computes the SHA1 only; redis-py loads the script when the server lacks it.
        """
        registered = self._registered(script)
        async with self._errors():
            return await registered(keys=list(keys), args=list(args))

    def _registered(self, script: str) -> Any:
        registered = self._scripts.get(script)
        if registered is None:
            registered = self._scripts[script] = self._client().register_script(script)
        return registered

    async def _run_grouped(self, script: str, keys: Sequence[str], args: Iterable[Any]) -> Any:
        """`_run`, for the hot writes (a sync's commit): the calls queued while one pipeline is
        answered go together in the next, one round trip for all; each script still runs
        alone and whole on the server, and each caller gets its own result or error.

        Under a webhook burst 200 syncs' commits waited up to a second, one round trip each
        through a pool of connections, for the event loop to come round (issue 17). A caller
        cancelled while its call is still queued drops it; once sent it runs.
        """
        self._client()  # StoreError now when closed, not in the grouping task
        return await self._grouped.call(_Script(script, list(keys), list(args)))

    async def _send_grouped(self, batch: list[Call[_Script]]) -> None:
        """One pipeline for a batch of `_run_grouped` calls (`grouped.py`)."""
        if len(batch) == 1:
            await self._run_alone(batch[0])
            return
        async with self._errors():  # the connection failed: no reply for any of them
            pipe = self._client().pipeline(transaction=False)
            for queued in batch:
                script = queued.item
                sha = self._registered(script.source).sha
                pipe.execute_command("EVALSHA", sha, len(script.keys), *script.keys, *script.args)
            replies = await pipe.execute(raise_on_error=False)
        for queued, reply in zip(batch, replies, strict=True):
            if isinstance(reply, NoScriptError):  # not loaded yet (or flushed): `_run` loads it
                await self._run_alone(queued)
            elif isinstance(reply, RedisError):
                queued.settle(False, StoreError(f"Redis error: {reply}"))
            else:
                queued.settle(True, reply)

    async def _run_alone(self, queued: Call[_Script]) -> None:
        """One grouped call by `_run`, its own round trip, its outcome settled."""
        script = queued.item
        try:
            queued.settle(True, await self._run(script.source, script.keys, script.args))
        except StoreError as exc:
            queued.settle(False, exc)

    async def _call(self, *command: Any) -> Any:
        async with self._errors():
            return await self._client().execute_command(*command)

    async def _transaction(self, *commands: Sequence[Any]) -> list[Any]:
        """Commands in one MULTI/EXEC: for writes that read nothing first, and snapshots."""
        async with self._errors():
            pipe = self._client().pipeline(transaction=True)
            for command in commands:
                pipe.execute_command(*command)
            return list(await pipe.execute())
