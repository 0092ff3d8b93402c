"""Bounds on concurrent logins, overall and per mail host, so thousands of accounts starting at
once (a restart) do not stampede a server (DESIGN.md §5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class LoginLimiter:
    """`async with limiter.slot(host):` around connect + login."""

    def __init__(self, total: int, per_host: int) -> None:
        self._total = asyncio.Semaphore(total)
        self._per_host_limit = per_host
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, int] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        key = host.lower()
        semaphore = self._per_host.get(key)
        if semaphore is None:
            semaphore = self._per_host[key] = asyncio.Semaphore(self._per_host_limit)
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with semaphore, self._total:
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                # Forget idle hosts so the table does not grow with every host ever seen.
                del self._waiting[key]
                del self._per_host[key]
