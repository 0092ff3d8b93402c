"""`/mcp`: the tools served over MCP's streamable HTTP transport, behind the bearer-token door.

Built with the official SDK, `mcp` (its `MCPServer`, FastMCP's successor in 2.x): it is kept by
the protocol's authors, so it follows the specification first, and it brings the streamable HTTP
transport for ASGI with few dependencies; the standalone `fastmcp` adds a framework (proxies,
its own auth, a CLI) on top of that which this endpoint does not use.

Stateless JSON mode: every POST is answered with one JSON-RPC response, and no session lives in
the process between requests, so any node behind a load balancer can answer any request (no
sticky sessions, nothing lost when a node restarts). The cost: no server-to-client requests or
streamed notifications, which none of these tools needs.

The door runs before the SDK: no token → 401 with `WWW-Authenticate: Bearer`, an unknown one →
401, a revoked one → 403, all with the REST API's error body; a token must hold `read`, `send`
or `write` to come in, and each tool checks its own scope and the token's accounts
(`tools.py`). The request body is capped by api/guard.py like any other route's
(`max_body_size`), and by the SDK at the same size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from imapapi import __version__
from imapapi.agent.caller import CALLER, Caller
from imapapi.agent.results import imapapi_error, invalid_arguments
from imapapi.agent.tools import TOOLS
from imapapi.credentials.tokens import check_token, grants
from imapapi.errors import ForbiddenError, ImapApiError, UnauthorizedError
from imapapi.service import Service
from imapapi.store.base import TokenRecord

PATH = "/mcp"
AGENT_SCOPES = ("read", "send", "write")
INSTRUCTIONS = """\
Mail accounts over IMAP and SMTP. Start with list_accounts; list_messages and search_messages
give message ids, get_message reads one (text.reply is the sender's own new words), get_thread
a whole conversation. reply_to_message answers in the same thread. Errors are JSON with a
`code` and an `error` text naming the argument that was wrong."""


class ApiTool(Tool):
    """A tool whose refusals are answered as the REST API answers them: argument validation as
    `InvalidInput` naming each field, an imapapi error with its code and message. Anything
    else stays the SDK's opaque tool error (logged there), so no internals reach the model."""

    async def run(
        self, arguments: dict[str, Any], context: Any, convert_result: bool = False
    ) -> Any:
        try:
            return await super().run(arguments, context, convert_result=convert_result)
        except ToolError as exc:  # the SDK wraps every failure, the cause kept
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                return invalid_arguments(cause)
            if isinstance(cause, ImapApiError):
                return imapapi_error(cause)
            raise


def build_server() -> MCPServer[Any]:
    tools = [
        ApiTool.from_function(
            fn,
            description=" ".join((fn.__doc__ or "").split()),  # the docstring as one paragraph
            structured_output=False,  # the JSON text once, not again as structuredContent
            annotations=ToolAnnotations(
                read_only_hint=read_only, destructive_hint=destructive, open_world_hint=False
            ),
        )
        for fn, read_only, destructive in TOOLS
    ]
    # MCPServer calls logging.basicConfig, a no-op once `imapapi serve` configured logging.
    return MCPServer("imapapi", version=__version__, instructions=INSTRUCTIONS, tools=tools)


def _refusal(exc: UnauthorizedError | ForbiddenError) -> JSONResponse:
    status = 401 if isinstance(exc, UnauthorizedError) else 403
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None  # RFC 6750 §3
    body = {"error": exc.message, "code": exc.code, "statusCode": status, "details": None}
    return JSONResponse(body, status_code=status, headers=headers)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class McpEndpoint:
    """The ASGI app at /mcp: the door, then the SDK's session manager."""

    def __init__(self, service: Service, manager: StreamableHTTPSessionManager) -> None:
        self.service = service
        self.manager = manager

    async def admit(self, request: Request) -> TokenRecord | None:
        if self.service.settings.insecure:
            return None
        record = await check_token(self.service.tokens, _bearer(request), scope=None)
        if not any(grants(record, scope) for scope in AGENT_SCOPES):
            raise ForbiddenError("this API token lacks the 'read', 'send' and 'write' scopes")
        return record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            record = await self.admit(Request(scope))
        except (UnauthorizedError, ForbiddenError) as exc:
            await _refusal(exc)(scope, receive, send)
            return
        scope[CALLER] = Caller(self.service, record)
        await self.manager.handle_request(scope, receive, send)


def install(app: FastAPI, service: Service) -> None:
    """Serve /mcp on `app`; the SDK's session manager runs inside the app's lifespan."""
    server = build_server()
    local = ["127.0.0.1:*", "localhost:*", "[::1]:*"]

    def new_manager() -> StreamableHTTPSessionManager:
        # A session manager runs once; an app whose lifespan runs again (tests do) needs another.
        server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            max_request_body_size=service.settings.max_body_size,
            # Without a token (insecure mode) a web page could reach a local service through DNS
            # rebinding; only loopback names are accepted then. With tokens, the token decides.
            transport_security=TransportSecuritySettings(
                enable_dns_rebinding_protection=service.settings.insecure,
                allowed_hosts=local,
                allowed_origins=[f"http://{host}" for host in local],
            ),
        )
        return server.session_manager

    endpoint = McpEndpoint(service, new_manager())
    app.router.routes.append(Route(PATH, endpoint=endpoint))
    outer = app.router.lifespan_context
    runs = 0

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        nonlocal runs
        runs += 1
        if runs > 1:
            endpoint.manager = new_manager()
        async with outer(app) as state, endpoint.manager.run():  # the service starts first
            yield state

    app.router.lifespan_context = lifespan
