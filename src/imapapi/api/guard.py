"""The one layer in front of every route: the request metrics, and a request refused before its
body is read.

FastAPI reads and parses a body before it solves a route's dependencies, so a token checked in
a dependency came after a 200 MB upload had been held in memory. This pure ASGI middleware runs
first. For /v1 paths it decides access: who is asking (`deps.authorize`: insecure mode, a
signed-in page's GET, the bearer token) and whether that token may call the route the router
will pick (`access.check`: the route's scope, the accounts it is bound to; the route found by
`routeindex`, a dict lookup per path segment). Then it refuses a `Content-Length` over the
route's cap at once and counts the body as it arrives, so a chunked body stops at the cap too.
The cap is `upload_body_size` for the message upload and /submit, `max_body_size` for
everything else. Every HTTP request, refused here or answered below, is counted by method,
route template and status (metrics/http.py). One layer rather than two: each wraps `send`
and `receive`, per request. Having found the route, it calls the hot read routes' endpoints
itself when a request is plainly valid (api/direct.py), past FastAPI's routing and dependency
solving.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imapapi.api import access
from imapapi.api.deps import AUTHORIZED, authorize
from imapapi.api.direct import DirectRoutes
from imapapi.api.errors import BodyTooLarge, answer_exception, body_too_large_response
from imapapi.api.routeindex import Found, RouteIndex, flatten
from imapapi.metrics.http import route_template
from imapapi.service import Service

# The routes that take a whole message in their JSON body.
_UPLOADS = re.compile(r"/v1/account/[^/]+/(?:message|submit)")


def _protected(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


class RequestGuard:
    """Metrics, token check and body cap of every HTTP request (see the module docstring)."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service
        # Built at the first request, when every route is in.
        self._routes: RouteIndex | None = None
        self._direct: DirectRoutes | None = None

    def route(self, scope: Scope) -> Found | None:
        """The route the router will pick for this request."""
        if self._routes is None:
            app: Any = scope.get("app")
            routes = getattr(getattr(app, "router", None), "routes", [])
            self._routes = RouteIndex(routes)
            self._direct = DirectRoutes(flatten(routes))
        return self._routes.find(scope)

    def cap(self, scope: Scope) -> BodyTooLarge:
        """The cap of this request's route, as the error it raises when passed."""
        settings = self.service.settings
        if scope["method"] == "POST" and _UPLOADS.fullmatch(scope["path"]):
            return BodyTooLarge(settings.upload_body_size, "IMAPAPI_MAX_MESSAGE_SIZE")
        return BodyTooLarge(settings.max_body_size, "IMAPAPI_MAX_BODY_SIZE")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None  # until the response starts

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._guarded(scope, receive, tracking_send, lambda: status is not None)
        finally:
            # The router writes the matched route into the scope it was given (this dict). If
            # the app raised before answering, the server answers 500.
            self.service.metrics.observe_http(
                scope["method"], route_template(scope), status or 500, time.perf_counter() - started
            )

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, answered: Callable[[], bool]
    ) -> None:
        protected = _protected(scope["path"])
        found: Found | None = None
        if protected:
            request = Request(scope)
            found = self.route(scope)
            try:
                record = await authorize(request, self.service)
                if found is not None and found.full:  # else the router answers 404 or 405
                    access.check(record, scope["method"], found.route, found.params)
            except Exception as exc:  # answered as the exception handlers would
                response = await answer_exception(request, exc)
                await self._refuse(scope, receive, send, response, found)
                return
            scope[AUTHORIZED] = True
            scope[access.TOKEN] = record
        over = self.cap(scope)
        declared = _content_length(scope)
        if declared is not None and declared > over.limit:
            route = found if protected else self.route(scope)
            await self._refuse(scope, receive, send, body_too_large_response(over), route)
            return

        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > over.limit:
                    raise over
            return message

        if found is not None and found.full:
            if await self._serve_direct(scope, request, receive, send, found):
                return
        try:
            await self.app(scope, capped_receive, send)
        except BodyTooLarge as exc:
            # Read outside FastAPI's body parsing (whose handlers answer it): answer here.
            if answered():
                raise
            await body_too_large_response(exc)(scope, receive, send)

    async def _serve_direct(
        self, scope: Scope, request: Request, receive: Receive, send: Send, found: Found
    ) -> bool:
        """Answer a hot read route without FastAPI's layers (api/direct.py); False when the
        route or the request is not one for that, and FastAPI must answer."""
        direct = self._direct.get(scope, found.route) if self._direct is not None else None
        if direct is None:
            return False
        response = await direct.serve(scope, request, found.params)
        if response is None:
            return False
        scope["route"] = found.route  # for the metrics, as the router would have set it
        await response(scope, receive, send)
        return True

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, response: Any, found: Found | None
    ) -> None:
        # The router never saw this request: name its route (`found`, as `route` finds it) for
        # the metrics as it would have, rather than counting every refusal as `unmatched`.
        if found is not None:
            scope["route"] = found.route
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses it before the app is called
    return None
