"""Who calls a tool: the service and the token record the /mcp door admitted."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.mcpserver import Context

from imapapi.errors import UnauthorizedError
from imapapi.service import Service
from imapapi.store.base import TokenRecord

# Key of the request scope where the door (endpoint.py) leaves the `Caller`.
CALLER = "imapapi.mcp.caller"


@dataclass(frozen=True, slots=True)
class Caller:
    service: Service
    record: TokenRecord | None  # None: insecure mode, everything allowed


def caller(ctx: Context) -> Caller:
    """The caller of this tool call. The SDK hands the tool the HTTP request it came in (in
    stateless mode the tool runs in the session manager's task, where no context variable of
    the request would be seen); a request the door did not admit has no caller."""
    request = ctx.request_context.request
    found = getattr(request, "scope", {}).get(CALLER)
    if not isinstance(found, Caller):
        raise UnauthorizedError("an API token is required: Authorization: Bearer <token>")
    return found
