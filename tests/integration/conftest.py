"""Fixtures that run imapapi itself in-process, against the real servers of tests/conftest.py.

Every test that runs the service takes `store_backend` (directly or through `api`), so it runs
once on SQLite and once on Redis (ids `[sqlite]`, `[redis]`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from imapapi.config import Settings
from imapapi.credentials.tokens import create_token
from imapapi.service import Service
from imapapi.web import create_app
from tests.integration.backends import BACKENDS, StoreBackend, backend_for
from tests.servers.dovecot import Dovecot
from tests.servers.mailserver import MailServer


@pytest.fixture(params=BACKENDS)
def store_backend(request: pytest.FixtureRequest) -> StoreBackend:
    return backend_for(request)


def make_settings(
    data_dir: Path, backend: StoreBackend | None = None, **overrides: Any
) -> Settings:
    """Test settings for a service on `data_dir` and `backend`; `overrides` win.

    `backend` may be left out only by a test that names its own Redis (`redis_url`): any other
    test of the service takes `store_backend`, so that it runs on both stores.
    """
    if backend is None and "redis_url" not in overrides:
        raise TypeError("pass the test's store_backend, or redis_url for a Redis-only test")
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "secret": "test-secret-material-not-for-production",
        "api_gateway_timeout": 1.5,
        "connect_timeout": 3.0,
        "imap_timeout": 5.0,
        **(backend.settings(data_dir) if backend else {}),
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Api:
    """A running service and an HTTP client that sends a valid API token."""

    service: Service
    app: FastAPI
    client: httpx.AsyncClient
    token: str
    backend: StoreBackend | None

    async def stored_bytes(self) -> bytes:
        """Everything this service's store holds at rest (files and Redis keys)."""
        assert self.backend is not None, "a service started without a store_backend"
        return await self.backend.stored_bytes(self.service.settings.data_dir)


@asynccontextmanager
async def running_api(
    data_dir: Path, backend: StoreBackend | None = None, **overrides: Any
) -> AsyncIterator[Api]:
    """Start a service on `data_dir` and `backend` (its real account sessions included) and a
    client for it; `backend` as in :func:`make_settings`."""
    settings = make_settings(data_dir, backend, **overrides)
    service = Service.create(settings)
    app = create_app(service, manage_lifespan=False)
    await service.start()
    try:
        _, token = await create_token(service.store, "tests")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://imapapi.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            yield Api(service=service, app=app, client=client, token=token, backend=backend)
    finally:
        await service.stop()


# The servers of the harness that offer NOTIFY (RFC 5465), so every folder is watched at once.
NOTIFY_SERVERS = frozenset({"dovecot"})
# The STATUS poll interval of `api` for a test on a server without NOTIFY: such a server shows
# changes outside INBOX only to these polls (the default is 30 s).
FAST_POLL_INTERVAL = 0.5
# Protocol log kept per account by `api` on such a server (the default is 16 KiB): polls fill
# it fast, and a failed test shows its last LOG_LINES_SHOWN lines.
POLLED_LOG_BYTES = 1 << 20
LOG_LINES_SHOWN = 400


@pytest.fixture
async def api(
    request: pytest.FixtureRequest, tmp_path: Path, store_backend: StoreBackend
) -> AsyncIterator[Api]:
    """The service with default settings. A test on `mail_server` that has no NOTIFY (Cyrus,
    Courier) gets STATUS polls every FAST_POLL_INTERVAL instead, so its changes in other folders
    are seen in a test's time; a test not on `mail_server` does not depend on it."""
    overrides: dict[str, Any] = {}
    if "mail_server" in request.fixturenames:
        overrides = settings_for(request.getfixturevalue("mail_server"))
    async with running_api(tmp_path / "data", store_backend, **overrides) as running:
        yield running


def settings_for(server: MailServer) -> dict[str, Any]:
    """The settings a test's service needs to see every change on `server` in a test's time."""
    if server.kind in NOTIFY_SERVERS:
        return {}
    return {"status_poll_interval": FAST_POLL_INTERVAL, "protocol_log_bytes": POLLED_LOG_BYTES}


@pytest.fixture
async def fast_retry_api(tmp_path: Path, store_backend: StoreBackend) -> AsyncIterator[Api]:
    """Like `api`, but reconnecting within a fraction of a second (after network failures and
    auth-server outages), so a test sees several failed attempts in little time."""
    async with running_api(
        tmp_path / "data", store_backend, reconnect_delay=0.05, reconnect_delay_max=0.2
    ) as running:
        yield running


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A Dovecot of this test's own, free to be stopped and restarted."""
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the protocol log of every account of a failed test's `api` to its report: what
    imapapi and the server said is the evidence a sync failure needs."""
    report = yield
    running = getattr(item, "funcargs", {}).get("api")
    if call.when != "call" or not report.failed or not isinstance(running, Api):
        return report
    for account in sorted(getattr(running.service.accounts, "_sessions", {})):
        session = running.service.accounts.session(account)
        log = getattr(session, "log", None)
        if log is not None:
            tail = "\n".join(log.text().splitlines()[-LOG_LINES_SHOWN:])
            report.sections.append((f"imapapi protocol log {account}", tail))
    return report
