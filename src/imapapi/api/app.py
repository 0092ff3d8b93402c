"""The REST API: routers, error handlers, token security, OpenAPI document and its pages.

`web.py` adds the operator pages to it; this package never imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from imapapi import __version__
from imapapi.api import docs, errors
from imapapi.api.access import route_scope
from imapapi.api.deps import BEARER_SCHEME
from imapapi.api.guard import RequestGuard
from imapapi.api.routes import (
    accounts,
    logs,
    mailboxes,
    messages,
    oauth2,
    outbox,
    settings,
    submit,
    threads,
    tokens,
    tracking,
    webhooks,
)
from imapapi.api.routes.health import router as health_router
from imapapi.api.routes.metrics import router as metrics_router
from imapapi.api.schemas.common import ErrorResponse
from imapapi.service import Service

DESCRIPTION = """\
REST API over IMAP and SMTP accounts. Register an account once; imapapi keeps a persistent IMAP
connection to it, posts a webhook for every change, serves paged message listings and sends mail.

Every `/v1` route needs `Authorization: Bearer <token>` (create one with `imapapi token create`),
unless the service was started in insecure local mode. A token holds scopes (`read`, `send`,
`write`, `admin`, `metrics`; each route names the one it needs) and may be bound to accounts:
then every other account answers 404 and admin routes 403. Errors are JSON:
`{"error", "code", "statusCode", "details"}`.

AI agents reach the same mailboxes at `/mcp` (Model Context Protocol, streamable HTTP), with the
same tokens: see the README, "Using imapapi from an agent".
"""

# The /v1 routers, in the order the OpenAPI document lists their sections (`_openapi`).
V1_ROUTERS = (
    accounts.router,
    mailboxes.router,
    messages.router,
    threads.router,
    settings.router,
    webhooks.router,
    logs.router,
    submit.router,
    outbox.router,
    tracking.router,
    tokens.router,
    oauth2.router,
)
# Matched first: FastAPI tries the routers one after the other, each route a regular
# expression, and again inside the one that matched. Listings and message details first cut a
# details request's CPU by about a tenth (issue 17); paths never overlap, so the order changes
# nothing else.
BUSIEST_FIRST = (messages.router, mailboxes.router)
# The document's sections, in V1_ROUTERS order whatever order the routes are matched in.
TAG_ORDER = tuple(dict.fromkeys(str(tag) for router in V1_ROUTERS for tag in router.tags))

_ERROR_STATUSES = {
    "400": "Invalid input: `details` names each field and the reason.",
    "401": "No API token, or an unknown one.",
    "403": "The API token was revoked or lacks the route's scope (`error` names it), or is "
    "bound to accounts on an admin route.",
}


def _section(item: tuple[str, dict[str, Any]]) -> int:
    """Where a path goes in the document: its tag's place in TAG_ORDER (a stable sort keeps
    the routers' own order within a section); untagged paths last."""
    tags = [tag for operation in item[1].values() for tag in operation.get("tags", ())]
    return TAG_ORDER.index(tags[0]) if tags and tags[0] in TAG_ORDER else len(TAG_ORDER)


def _scope_note(scope: str | None) -> str:
    """What the operation's description says of its scope (api/access.py decides)."""
    if scope is None:
        return "No API token may call this route (it has no scope)."
    if scope == "admin":
        return "API token scope: `admin`. Refused to a token bound to accounts."
    return f"API token scope: `{scope}` (or `admin`)."


_TOO_LARGE = (
    "The request body is over the route's cap: `max_body_size`, or for the message upload and "
    "/submit `max_message_size` base64-encoded plus `max_body_size`."
)


_UNPROCESSABLE = (
    "The request is well formed (it matches this document) but is refused by a rule that "
    "depends on the account or its mail server, or that JSON Schema cannot state: the mail "
    "server refused the command (`CommandFailed`) or lacks an extension (`MissingCapability`), "
    "Gmail labels on another server, `from` left out for an account without `email`, an id "
    "that decodes to nothing. `details` names the field where there is one."
)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with our error model instead of its 422 validation shape."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema["paths"] = dict(sorted(schema.get("paths", {}).items(), key=_section))
    schema["tags"] = [{"name": tag} for tag in TAG_ORDER]
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorResponse"] = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    schema["components"]["securitySchemes"] = dict(BEARER_SCHEME)
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            if path == "/v1" or path.startswith("/v1/"):  # api/guard.py checks the token
                operation["security"] = [{name: []} for name in BEARER_SCHEME]
                scope_note = _scope_note(route_scope(method.upper(), path))
                described = operation.get("description")
                operation["description"] = (
                    f"{described}\n\n{scope_note}" if described else scope_note
                )
            responses = operation.setdefault("responses", {})
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]  # FastAPI's own shape: bad input is our 400 instead
            statuses = dict(_ERROR_STATUSES)
            if "{account}" in path:
                statuses["404"] = (
                    "Unknown account (or message, folder); also any account the API token is "
                    "not bound to, in the same words."
                )
                statuses["422"] = _UNPROCESSABLE
                statuses["503"] = "The account's mail server cannot be reached right now."
                statuses["504"] = "The mail server did not answer in time."
            if "requestBody" in operation:
                statuses["413"] = _TOO_LARGE
            for status, text in statuses.items():
                responses.setdefault(
                    status,
                    {"description": text, "content": {"application/json": {"schema": error_ref}}},
                )
    app.openapi_schema = schema
    return schema


def create_api(service: Service, *, manage_lifespan: bool = True) -> FastAPI:
    """The API for `service`. With `manage_lifespan`, the app starts and stops the service."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_lifespan:
            await service.start()
        try:
            yield
        finally:
            if manage_lifespan:
                await service.stop()

    app = FastAPI(
        title="imapapi",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # docs.py serves /docs and /redoc with local assets instead of a CDN
        redoc_url=None,
    )
    app.state.service = service
    errors.install(app)
    # The /v1 routers: api/guard.py requires the token before any of them runs (the OpenAPI
    # document states it, see _openapi), so no route dependency checks it again.
    for router in sorted(V1_ROUTERS, key=lambda router: router not in BUSIEST_FIRST):
        app.include_router(router)
    app.include_router(oauth2.public_router)  # no token: end users' browsers arrive there
    app.include_router(health_router)  # no token: probes and load balancers
    app.include_router(metrics_router)  # its own access rule (metrics scope, localhost)
    docs.install(app)  # no token, like /openapi.json: /docs and /redoc, offline
    app.add_middleware(RequestGuard, service=service)  # also counts every request (metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
