"""/health and /health/ready on a running service and on one whose parts are down."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from imapapi.service import Service
from imapapi.web import create_app
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, make_settings

pytestmark = pytest.mark.integration


async def test_live_and_ready_without_a_token(api: Api) -> None:
    headers = {"Authorization": ""}
    live = await api.client.get("/health", headers=headers)
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await api.client.get("/health/ready", headers=headers)
    assert ready.status_code == 200
    body = ready.json()  # with several nodes on Redis it may also tell this node's share
    assert (body["status"], body["checks"]) == ("ready", {"store": "ok", "dispatcher": "ok"})


async def test_not_ready_when_the_dispatcher_stopped(api: Api) -> None:
    assert api.service.dispatcher is not None
    await api.service.dispatcher.stop(grace=0)
    ready = await api.client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["reasons"] == ["webhook dispatcher not running"]
    assert (await api.client.get("/health")).status_code == 200  # still alive


async def test_not_ready_before_start(tmp_path: Path, store_backend: StoreBackend) -> None:
    service = Service.create(make_settings(tmp_path / "data", store_backend), sessions=False)
    app = create_app(service, manage_lifespan=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://imapapi.test"
    ) as client:
        ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["reasons"] == ["store unreachable", "webhook dispatcher not running"]
