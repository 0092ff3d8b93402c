"""The whole HTTP application: the REST API (api/), the MCP endpoint for agents (agent/) and the
operator pages (ui/) on one app."""

from __future__ import annotations

from fastapi import FastAPI

from imapapi import ui
from imapapi.agent import endpoint as mcp_endpoint
from imapapi.api.app import create_api
from imapapi.service import Service


def create_app(service: Service, *, manage_lifespan: bool = True) -> FastAPI:
    """The API, /mcp and the pages for `service`. With `manage_lifespan`, the app starts and stops
    the service."""
    app = create_api(service, manage_lifespan=manage_lifespan)
    mcp_endpoint.install(app, service)  # /mcp, the same tokens and operations as /v1
    ui.install(app)  # web pages: signed-in session cookie, CSRF on every form
    return app
