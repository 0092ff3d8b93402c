"""Fixtures of the OAuth2 tests: a Gmail-like IMAP server and an auth server, both real."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.integration.oauth.authserver import TestAuthServer
from tests.servers.hoodiecrow import Hoodiecrow, HoodiecrowError


@pytest.fixture
def hoodiecrow() -> Iterator[Hoodiecrow]:
    """A fresh hoodiecrow per test: its one mailbox tree is shared by every login."""
    server = Hoodiecrow()
    try:
        server.start()
    except HoodiecrowError as exc:
        server.stop()
        pytest.fail(f"could not start hoodiecrow: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def auth_server() -> AsyncIterator[TestAuthServer]:
    async with TestAuthServer() as server:
        yield server
