"""A node that cannot reach Redis stops syncing before its leases can expire, so another node
taking the accounts over never finds them still connected; it resumes once Redis answers."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import running_api
from tests.integration.sync.helpers import account_body, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.redis import RedisServer

pytestmark = pytest.mark.integration

LEASE_TTL = 3.0


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own: it gets frozen, which the shared one must not."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        process = server._process
        if process is not None:
            os.kill(process.pid, signal.SIGCONT)
        server.close()


async def _wait_sessions(dovecot: Dovecot, user: ImapUser, count: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if dovecot.imap_sessions()[user.name] == count:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"{user.name} never had {count} IMAP sessions within {timeout} s")


async def test_a_node_cut_off_from_redis_stops_syncing_before_its_leases_expire(
    tmp_path: Path, own_redis: RedisServer, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    process = own_redis._process
    assert process is not None
    async with running_api(tmp_path / "data", redis_url=own_redis.url, lease_ttl=LEASE_TTL) as api:
        response = await api.client.post("/v1/account", json=account_body(dovecot, imap_user))
        assert response.status_code == 200, response.text
        await wait_state(api, imap_user.name, "connected")
        await _wait_sessions(dovecot, imap_user, 1, 10)
        scheduler = api.service.scheduler
        assert scheduler is not None and scheduler.owns(imap_user.name)

        os.kill(process.pid, signal.SIGSTOP)  # Redis hangs: no error, no answer
        frozen = time.monotonic()
        await _wait_sessions(dovecot, imap_user, 0, LEASE_TTL + 5)
        # Stopped before the lease (renewed at most one round before the freeze) ran out.
        assert time.monotonic() - frozen < LEASE_TTL
        assert not scheduler.owns(imap_user.name)

        os.kill(process.pid, signal.SIGCONT)
        await _wait_sessions(dovecot, imap_user, 1, LEASE_TTL * 3)
        await wait_state(api, imap_user.name, "connected", timeout=10)
        assert scheduler.owns(imap_user.name)
