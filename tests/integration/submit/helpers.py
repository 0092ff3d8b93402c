"""Steps shared by the submit tests: an account with SMTP, a drain-mode worker, IMAP checks."""

from __future__ import annotations

import asyncio
import imaplib
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from imapapi.sending.submission_worker import SubmissionWorker
from imapapi.sessions.session import AccountSession
from tests.integration.conftest import Api
from tests.integration.sync.helpers import account_body, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import ReceivedMessage, SmtpServer
from tests.servers.webhooks import WebhookReceiver

T = TypeVar("T")
SMTP_PASSWORD = "smtp-secret"


class Clock:
    """Epoch seconds that move only when the test says so; they start at the real time so
    queue times and webhook dates (wall clock) agree."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def address_of(user: ImapUser) -> str:
    return f"{user.name}@example.com"


async def register_sender(
    api: Api,
    dovecot: Dovecot,
    user: ImapUser,
    smtp: SmtpServer,
    receiver: WebhookReceiver | None = None,
) -> str:
    """Register `user` with IMAP on Dovecot and SMTP on the recording server; wait for sync."""
    if receiver is not None:
        response = await api.client.post("/v1/settings", json={"webhooks": receiver.url})
        assert response.status_code == 200, response.text
    smtp.add_user(user.name, SMTP_PASSWORD)
    body: dict[str, Any] = account_body(dovecot, user)
    body["email"] = address_of(user)
    body["name"] = "Sender Söder"
    body["smtp"] = smtp.settings(user.name, SMTP_PASSWORD)
    response = await api.client.post("/v1/account", json=body)
    assert response.status_code == 200, response.text
    await wait_state(api, user.name, "connected")
    session = api.service.accounts.session(user.name)
    assert isinstance(session, AccountSession)
    await asyncio.wait_for(session.syncer.synced.wait(), 15)
    return user.name


async def drain_worker(api: Api, clock: Clock) -> SubmissionWorker:
    """Replace the service's background worker by one driven with `run_once()` and `clock`;
    rng 1.0 = the longest backoff, so advancing by the cap always makes a retry due."""
    running = api.service.submissions
    assert running is not None
    await running.stop()
    worker = SubmissionWorker(
        api.service.store,
        api.service.box,
        api.service.accounts,
        smtp_timeout=10.0,
        connect_timeout=5.0,
        on_events=api.service.dispatcher.wake if api.service.dispatcher else lambda: None,
        clock=clock,
        rng=lambda: 1.0,
    )
    api.service.submissions = worker  # the submit route wakes this one (a no-op here)
    return worker


async def imap(dovecot: Dovecot, user: ImapUser, action: Callable[[imaplib.IMAP4], T]) -> T:
    """Run `action` on a second, independent connection (the stdlib's imaplib)."""

    def run() -> T:
        client = imaplib.IMAP4(dovecot.host, dovecot.port)
        try:
            client.login(user.name, user.password)
            return action(client)
        finally:
            client.logout()

    return await asyncio.to_thread(run)


def folder_messages(folder: str) -> Callable[[imaplib.IMAP4], list[tuple[bytes, set[str]]]]:
    """(raw bytes, flags) of every message in `folder`."""

    def read(client: imaplib.IMAP4) -> list[tuple[bytes, set[str]]]:
        client.select(f'"{folder}"', readonly=True)
        _, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        found = []
        for item in data:
            if isinstance(item, tuple):
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                names = set(flags.group(1).decode().split()) if flags else set()
                found.append((item[1], names))
        return found

    return read


async def wait_imap(
    dovecot: Dovecot,
    user: ImapUser,
    check: Callable[[imaplib.IMAP4], T | None],
    timeout: float = 10.0,
) -> T:
    """Poll a second IMAP connection until `check` returns something (the Sent copy and flag
    are written right after the SMTP transaction, asynchronously to the test)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await imap(dovecot, user, check)
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("the IMAP state never appeared")
        await asyncio.sleep(0.1)


async def submitted(
    api: Api, account: str, smtp: SmtpServer, body: dict[str, Any], count: int = 1
) -> ReceivedMessage:
    """POST `body` to /submit (it must be accepted) and return the `count`th message the SMTP
    server received."""
    response = await api.client.post(f"/v1/account/{account}/submit", json=body)
    assert response.status_code == 200, response.text
    return (await smtp.wait_for(count))[-1]


async def nothing_sent(api: Api, smtp: SmtpServer) -> None:
    """Nothing is queued, and a drained worker sends nothing."""
    outbox = (await api.client.get("/v1/outbox", params={"state": "all"})).json()
    assert outbox["total"] == 0
    worker = api.service.submissions
    assert worker is not None
    await worker.stop()
    assert await worker.run_once() == 0
    assert smtp.messages == []
