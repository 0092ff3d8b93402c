"""The guard (api/guard.py) counts every request by route template, never by raw path, with the
status it got, refused by the guard itself or answered (or failed) below it."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from imapapi.api.guard import RequestGuard
from imapapi.config import Settings
from imapapi.service import Service


def app_with(service: Service) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item}")
    async def item(item: str) -> dict[str, str]:
        return {"item": item}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    @app.get("/v1/things/{thing}")
    async def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    app.add_middleware(RequestGuard, service=service)
    return app


async def test_route_template_status_and_unmatched(tmp_path: Path) -> None:
    # Not started: nothing here reads the store (the /v1 request carries no token at all).
    service = Service.create(Settings(data_dir=tmp_path, secret="s" * 32), sessions=False)
    metrics = service.metrics
    transport = httpx.ASGITransport(app=app_with(service), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for name in ("a", "b", "c"):
            assert (await client.get(f"/items/{name}")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.post("/items/a")).status_code == 405
        assert (await client.get("/boom")).status_code == 500
        assert (await client.get("/v1/things/x")).status_code == 401  # refused by the guard
        too_large = await client.post(
            "/items/a", content=b"x" * (service.settings.max_body_size + 1)
        )
        assert too_large.status_code == 413
    get = metrics.registry.get_sample_value
    ok = {"method": "GET", "route": "/items/{item}", "status": "200"}
    assert get("imapapi_http_requests_total", ok) == 3
    assert get("imapapi_http_requests_total", {**ok, "route": "/items/a"}) is None
    assert (
        get("imapapi_http_requests_total", {"method": "GET", "route": "unmatched", "status": "404"})
        == 1
    )
    post = {"method": "POST", "route": "/items/{item}"}
    assert get("imapapi_http_requests_total", {**post, "status": "405"}) == 1
    assert get("imapapi_http_requests_total", {**post, "status": "413"}) == 1
    assert (
        get("imapapi_http_requests_total", {"method": "GET", "route": "/boom", "status": "500"})
        == 1
    )
    refused = {"method": "GET", "route": "/v1/things/{thing}", "status": "401"}
    assert get("imapapi_http_requests_total", refused) == 1
    assert (
        get(
            "imapapi_http_request_duration_seconds_count",
            {"method": "GET", "route": "/items/{item}"},
        )
        == 3
    )
