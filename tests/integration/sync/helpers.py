"""Shared steps of the sync tests: register a Dovecot user as an account, wait for states."""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage
from typing import Any

from imapapi.accounts.session import AccountSession
from tests.integration.conftest import Api
from tests.servers.dovecot import ImapUser
from tests.servers.mailserver import MailServer
from tests.servers.webhooks import WebhookReceiver


def account_body(dovecot: MailServer, user: ImapUser, account: str | None = None) -> dict[str, Any]:
    imap = dovecot.account_settings(user)
    imap["starttls"] = "never"
    return {"account": account or user.name, "name": user.name, "imap": imap}


async def wait_state(api: Api, account: str, state: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = (await api.client.get(f"/v1/account/{account}")).json()
        if body.get("state") == state:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{account} never reached {state}: {body}")


async def register(
    api: Api,
    dovecot: MailServer,
    user: ImapUser,
    receiver: WebhookReceiver | None = None,
    *,
    secret: str | None = None,
) -> str:
    """Point webhooks at `receiver`, register `user`, wait until its first sync finished."""
    if receiver is not None:
        settings: dict[str, Any] = {"webhooks": receiver.url}
        if secret:
            settings["serviceSecret"] = secret
        assert (await api.client.post("/v1/settings", json=settings)).status_code == 200
    response = await api.client.post("/v1/account", json=account_body(dovecot, user))
    assert response.status_code == 200, response.text
    await wait_state(api, user.name, "connected")
    session = api.service.accounts.session(user.name)
    assert isinstance(session, AccountSession)
    await asyncio.wait_for(session.syncer.synced.wait(), 15)
    return user.name


def message(
    subject: str = "Hello",
    *,
    sender: str = "Peter Põder <peter@example.test>",
    to: str = "user@example.test",
    body: str = "Hi there\n",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 07 Oct 2019 06:05:23 +0000"
    msg["Message-ID"] = message_id or f"<{time.time_ns()}@example.test>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()
