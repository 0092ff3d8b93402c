"""ASGI middleware counting HTTP requests by method, route template and status.

The route label is the template Starlette matched (`/v1/account/{account}`), never the raw
path: account ids in paths would make one time series per account. Requests that match no
route share the label `unmatched`, so a scan of random URLs cannot grow the series either.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imapapi.metrics.registry import Metrics

UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The path template of the route Starlette matched for `scope`, or `unmatched`."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class HttpMetricsMiddleware:
    """Records one `imapapi_http_requests_total` sample and one duration per HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # if the app raises before answering, the server answers 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # The router writes the matched route into the scope it was given (this dict).
            self.metrics.observe_http(
                scope["method"], route_template(scope), status, time.perf_counter() - started
            )
