"""Fixtures of the web page tests: a browser-like client (cookies, forms) on the in-process app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest

from tests.integration.conftest import Api

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_RE.search(html)
    assert match, f"no CSRF field on the page:\n{html[:2000]}"
    return unescape(match.group(1))


def browser(api: Api) -> httpx.AsyncClient:
    """A client that keeps cookies and sends no API token, like a browser."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="http://imapapi.test"
    )


async def sign_in(client: httpx.AsyncClient, credential: str) -> httpx.Response:
    """Fill in and post the sign-in form; returns the answer to the post."""
    form = await client.get("/login")
    assert form.status_code == 200, form.text
    return await client.post(
        "/login", data={"csrf": csrf_of(form.text), "credential": credential, "next": "/"}
    )


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, fields: dict[str, str | list[str]]
) -> httpx.Response:
    """Open `page`, take its CSRF token and post `fields` to `action`, as a browser would."""
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    return await client.post(action, data={"csrf": csrf_of(opened.text), **fields})


@pytest.fixture
async def ui(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client signed in with the test API token."""
    async with browser(api) as client:
        answer = await sign_in(client, api.token)
        assert answer.status_code == 303, answer.text
        yield client
