"""The HTTP middleware labels requests by route template, never by raw path."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from imapapi.metrics import Metrics
from imapapi.metrics.http import HttpMetricsMiddleware


def app_with(metrics: Metrics) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item}")
    async def item(item: str) -> dict[str, str]:
        return {"item": item}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    return app


async def test_route_template_status_and_unmatched() -> None:
    metrics = Metrics()
    transport = httpx.ASGITransport(app=app_with(metrics), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for name in ("a", "b", "c"):
            assert (await client.get(f"/items/{name}")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.post("/items/a")).status_code == 405
        assert (await client.get("/boom")).status_code == 500
    get = metrics.registry.get_sample_value
    ok = {"method": "GET", "route": "/items/{item}", "status": "200"}
    assert get("imapapi_http_requests_total", ok) == 3
    assert get("imapapi_http_requests_total", {**ok, "route": "/items/a"}) is None
    assert (
        get("imapapi_http_requests_total", {"method": "GET", "route": "unmatched", "status": "404"})
        == 1
    )
    assert (
        get(
            "imapapi_http_requests_total",
            {"method": "POST", "route": "/items/{item}", "status": "405"},
        )
        == 1
    )
    assert (
        get("imapapi_http_requests_total", {"method": "GET", "route": "/boom", "status": "500"})
        == 1
    )
    assert (
        get(
            "imapapi_http_request_duration_seconds_count",
            {"method": "GET", "route": "/items/{item}"},
        )
        == 3
    )
