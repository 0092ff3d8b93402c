"""A registered account per test, and helpers to deliver mail and find it in the API.

`mailbox` is a Dovecot user; `server_mailbox` a user of each server of the harness in turn
(`mail_server`: Dovecot, Cyrus, Courier), for the representative tests that run everywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from imapapi.api.schemas.messages import MessageDetails, MessageList
from imapapi.imap import ImapConnection
from imapapi.sessions.session import AccountSession
from tests.integration.conftest import Api
from tests.integration.sync.helpers import register
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.mailserver import MailServer


@dataclass
class Mailbox:
    """One registered user of a test server seen through the API."""

    api: Api
    server: MailServer
    user: ImapUser
    account: str

    def path(self, *names: str) -> str:
        """The server's path of a folder given by its levels (`MailServer.path`)."""
        return self.server.path(*names)

    @property
    def base(self) -> str:
        return f"/v1/account/{self.account}"

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> None:
        self.server.deliver(self.user, raw, folder=folder, flags=flags)

    async def listing(self, path: str = "INBOX", **params: Any) -> dict[str, Any]:
        response = await self.api.client.get(
            f"{self.base}/messages", params={"path": path, **params}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        MessageList.model_validate(body)  # the documented shape is the real one
        return body

    async def by_subject(self, subject: str, path: str = "INBOX") -> dict[str, Any]:
        found = [
            m
            for m in (await self.listing(path, pageSize=250))["messages"]
            if m["subject"] == subject
        ]
        assert len(found) == 1, f"{subject!r}: {found}"
        return found[0]

    async def details(self, message_id: str, **params: Any) -> dict[str, Any]:
        response = await self.api.client.get(f"{self.base}/message/{message_id}", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        MessageDetails.model_validate(body)
        return body

    @property
    def session(self) -> AccountSession:
        session = self.api.service.accounts.session(self.account)
        assert isinstance(session, AccountSession)
        return session

    @asynccontextmanager
    async def other_client(self) -> AsyncIterator[ImapConnection]:
        """Another mail client of the same user, on a connection of its own."""
        conn = await ImapConnection.connect(self.server.host, self.server.port, security="none")
        try:
            await conn.login(self.user.name, self.user.password)
            yield conn
        finally:
            await conn.logout()

    async def sent_commands(self, connection: str | None = None) -> list[str]:
        """What imapapi wrote to the server, from `GET /v1/logs/{account}` ("C" lines); only
        on connections whose name starts with `connection` when given ("command")."""
        response = await self.api.client.get(f"/v1/logs/{self.account}")
        assert response.status_code == 200
        sent = []
        for line in response.text.splitlines():
            fields = line.split(" ", 3)  # time, connection, direction, text
            if len(fields) == 4 and fields[2] == "C":
                if connection is None or fields[1].startswith(connection):
                    sent.append(fields[3])
        assert sent, response.text
        return sent


@pytest.fixture
async def mailbox(api: Api, dovecot: Dovecot, imap_user: ImapUser) -> Mailbox:
    account = await register(api, dovecot, imap_user)
    return Mailbox(api, dovecot, imap_user, account)


@pytest.fixture
async def server_mailbox(api: Api, mail_server: MailServer, server_user: ImapUser) -> Mailbox:
    account = await register(api, mail_server, server_user)
    return Mailbox(api, mail_server, server_user, account)
