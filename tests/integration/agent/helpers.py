"""The service on a real HTTP port and an MCP client of the official SDK talking to it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import uvicorn
from fastapi import FastAPI
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from imapapi.credentials.tokens import create_token
from imapapi.service import Service
from tests.servers.ports import LOOPBACK, free_port


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` served by uvicorn on a free loopback port (its lifespan runs, as under `imapapi
    serve`); yields the /mcp URL."""
    port = free_port()
    config = uvicorn.Config(app, host=LOOPBACK, port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            raise AssertionError("uvicorn stopped before it started")
        await asyncio.sleep(0.02)
    try:
        yield f"http://{LOOPBACK}:{port}/mcp"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def mcp_client(url: str, token: str | None) -> AsyncIterator[ClientSession]:
    """An initialized MCP session over streamable HTTP, sending `token` as the bearer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30.0, trust_env=False) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def text_of(result: CallToolResult) -> str:
    [content] = result.content
    assert content.type == "text"
    return content.text


async def call(session: ClientSession, tool: str, **arguments: Any) -> Any:
    """The JSON answer of a tool call that must succeed."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    return json.loads(text_of(result))


async def refused(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """The JSON error of a tool call that must fail as a tool error (not a protocol error)."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, text_of(result)
    error: dict[str, Any] = json.loads(text_of(result))
    return error


async def add_token(
    service: Service, scopes: tuple[str, ...], accounts: tuple[str, ...] = ()
) -> str:
    """A token with `scopes`, bound to `accounts`, made as `imapapi token create` makes it."""
    _, token = await create_token(service.store, "mcp test", scopes, accounts)
    return token
