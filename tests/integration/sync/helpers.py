"""Shared steps of the sync tests: register a user of any test IMAP server as an account, wait
for states, change its mail as another client would."""

from __future__ import annotations

import asyncio
import imaplib
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any, TypeVar

from imapclient import imap_utf7

from imapapi.sessions.session import AccountSession
from tests.integration.conftest import Api
from tests.servers.dovecot import ImapUser
from tests.servers.mailserver import MailServer
from tests.servers.webhooks import WebhookReceiver

T = TypeVar("T")
# How long a test waits for a change that a server without NOTIFY or CONDSTORE shows only to
# the periodic full rescan (every FULL_RESCAN_POLLS = 10 STATUS polls, syncing/syncer.py),
# with the round trips of a slow server on top.
RESCAN_WAIT = 30.0


def account_body(server: MailServer, user: ImapUser, account: str | None = None) -> dict[str, Any]:
    imap = server.account_settings(user)
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
    server: MailServer,
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
    response = await api.client.post("/v1/account", json=account_body(server, user))
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


def mailbox_arg(path: str) -> str:
    """`path` as an imaplib argument: modified UTF-7 (RFC 3501 §5.1.3), quoted (imaplib sends
    arguments as they are)."""
    encoded = imap_utf7.encode(path).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def checked(result: tuple[str, list[Any]]) -> list[Any]:
    """The data of an imaplib result, or an AssertionError naming the server's refusal."""
    status, data = result
    assert status == "OK", (status, data)
    return data


async def other_client(
    server: MailServer, user: ImapUser, action: Callable[[imaplib.IMAP4], T]
) -> T:
    """Run `action` on a separate stdlib imaplib connection to `server` (another mail client)."""

    def run() -> T:
        client = imaplib.IMAP4(server.host, server.port, timeout=30)
        try:
            checked(client.login(user.name, user.password))
            return action(client)
        finally:
            client.logout()

    return await asyncio.to_thread(run)


def uid_of(client: imaplib.IMAP4, subject: str) -> int:
    """The UID of the one message with `subject` in the selected folder."""
    [found] = checked(client.uid("SEARCH", "SUBJECT", f'"{subject}"'))
    uids = found.split()
    assert len(uids) == 1, (subject, uids)
    return int(uids[0])


def move(client: imaplib.IMAP4, uid: int, destination: str) -> None:
    """Move `uid` from the selected folder: UID MOVE (RFC 6851), or where the server has none
    UID COPY + \\Deleted + UID EXPUNGE (RFC 4315) as clients do."""
    capabilities = checked(client.capability())[0].decode().upper().split()
    if "MOVE" in capabilities:
        checked(client.uid("MOVE", str(uid), mailbox_arg(destination)))
        return
    checked(client.uid("COPY", str(uid), mailbox_arg(destination)))
    checked(client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)"))
    if "UIDPLUS" in capabilities:
        checked(client.uid("EXPUNGE", str(uid)))
    else:
        checked(client.expunge())
