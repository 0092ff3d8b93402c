"""The example auth server (examples/auth_server.py) on loopback, with failures on demand.

The tests run the example itself, so its signature check is what the service must satisfy;
a middleware in front of it records requests and can answer with an error or a queued body.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from aiohttp import web

from tests.servers.ports import LOOPBACK

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "auth_server.py"
SERVICE_SECRET = "service-secret-for-the-oauth-tests"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("imapapi_example_auth_server", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Request:
    account: str
    proto: str
    status: int  # what was answered


class TestAuthServer:
    """`accounts` is the example's live configuration; `fail_with` makes every request get
    that HTTP status; `queue` holds bodies answered (in order) before the configuration."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, secret: str | None = SERVICE_SECRET) -> None:
        self.accounts: dict[str, Any] = {}
        self.fail_with: int | None = None
        self.queue: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.example = load_example()
        self._app = self.example.make_app(self.accounts, secret)
        self._app.middlewares.append(self._middleware)
        self._runner = web.AppRunner(self._app, handle_signals=False)
        self.url = ""

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        account = request.query.get("account", "")
        proto = request.query.get("proto", "")
        response: web.StreamResponse
        if self.fail_with is not None:
            response = web.Response(status=self.fail_with, text="auth server trouble")
        elif self.queue and request.headers.get(self.example.SIGNATURE_HEADER):
            response = web.json_response(self.queue.pop(0))
        else:
            response = await handler(request)
        self.requests.append(Request(account, proto, response.status))
        return response

    def made(self, proto: str | None = None, status: int | None = 200) -> list[Request]:
        return [
            r
            for r in self.requests
            if (proto is None or r.proto == proto) and (status is None or r.status == status)
        ]

    async def __aenter__(self) -> TestAuthServer:
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{LOOPBACK}:{port}/auth"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._runner.cleanup()
