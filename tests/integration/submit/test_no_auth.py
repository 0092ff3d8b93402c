"""SMTP without a login (issue 7): a relay that offers no AUTH is usable when the settings name no
credentials, and a clear, final error when they do. Real aiosmtpd relay, Dovecot, receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from imapapi.sessions.session import AccountSession
from tests.integration.conftest import Api
from tests.integration.submit.helpers import SMTP_PASSWORD, Clock, address_of, drain_worker
from tests.integration.submit.relay import RelayServer
from tests.integration.sync.helpers import account_body, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


@pytest.fixture
def relay() -> Iterator[RelayServer]:
    with RelayServer() as server:
        yield server


def relay_settings(relay: RelayServer, **extra: Any) -> dict[str, Any]:
    return {"host": relay.host, "port": relay.port, "secure": False, **extra}


async def register(
    api: Api,
    dovecot: Dovecot,
    user: ImapUser,
    smtp: dict[str, Any],
    receiver: WebhookReceiver,
) -> str:
    response = await api.client.post("/v1/settings", json={"webhooks": receiver.url})
    assert response.status_code == 200, response.text
    body = account_body(dovecot, user) | {"email": address_of(user), "smtp": smtp}
    response = await api.client.post("/v1/account", json=body)
    assert response.status_code == 200, response.text
    await wait_state(api, user.name, "connected")
    session = api.service.accounts.session(user.name)
    assert isinstance(session, AccountSession)
    await asyncio.wait_for(session.syncer.synced.wait(), 15)
    return user.name


MESSAGE = {"to": [{"address": "andris@example.com"}], "subject": "Via the relay", "text": "Hi\n"}


async def test_smtp_without_auth_sends_through_a_relay(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    relay: RelayServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register(api, dovecot, imap_user, relay_settings(relay), webhook_receiver)
    details = (await api.client.get(f"/v1/account/{account}")).json()
    assert details["smtp"]["auth"] is None
    assert details["smtp"]["useAuthServer"] is False

    response = await api.client.post(f"/v1/account/{account}/submit", json=MESSAGE)
    assert response.status_code == 200, response.text
    [received] = await relay.wait_for(1)
    assert received.auth_user is None
    assert received.rcpt_tos == ("andris@example.com",)
    assert received.message()["Subject"] == "Via the relay"
    [sent] = await webhook_receiver.wait_for(lambda r: r.event == "messageSent")
    assert sent.json["data"]["queueId"] == response.json()["queueId"]


async def test_verify_account_without_auth(api: Api, relay: RelayServer, smtp: SmtpServer) -> None:
    ok = await api.client.post("/v1/verifyAccount", json={"smtp": relay_settings(relay)})
    assert ok.status_code == 200, ok.text
    assert ok.json()["smtp"] == {"success": True, "error": None, "code": None}
    assert relay.messages == []  # the probe is reset, nothing is sent

    # A server that wants a login says so (530 to MAIL) instead of verifying as fine.
    wants_login = {"host": smtp.host, "port": smtp.port, "starttls": "never"}
    refused = (await api.client.post("/v1/verifyAccount", json={"smtp": wants_login})).json()
    assert refused["smtp"]["success"] is False
    assert refused["smtp"]["code"] == "AuthenticationFailed"
    assert "requires a login" in refused["smtp"]["error"]


async def test_credentials_for_a_server_without_auth_are_a_clear_error(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    relay: RelayServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    with_auth = relay_settings(relay, auth={"user": imap_user.name, "pass": SMTP_PASSWORD})
    verified = (await api.client.post("/v1/verifyAccount", json={"smtp": with_auth})).json()
    assert verified["smtp"]["success"] is False
    assert verified["smtp"]["code"] == "MissingCapability"
    assert "offers no AUTH" in verified["smtp"]["error"]

    account = await register(api, dovecot, imap_user, with_auth, webhook_receiver)
    worker = await drain_worker(api, Clock())
    response = await api.client.post(f"/v1/account/{account}/submit", json=MESSAGE)
    assert response.status_code == 200, response.text
    queue_id = response.json()["queueId"]

    assert await worker.run_once() == 1
    assert relay.messages == []  # never sent without the login the settings asked for
    [failed] = await webhook_receiver.wait_for(lambda r: r.event == "messageFailed")
    data = failed.json["data"]
    assert data["queueId"] == queue_id
    assert data["permanent"] is True  # waiting does not make the server offer AUTH
    assert data["attempts"] == 1
    assert "offers no AUTH" in data["error"]
    entry = (await api.client.get(f"/v1/outbox/{queue_id}")).json()
    assert entry["state"] == "failed"
