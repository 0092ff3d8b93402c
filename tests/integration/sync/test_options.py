"""Account options end to end: TLS verification, notifyFrom, webhook filters, dead letters."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from imapapi.events.model import make_event
from tests.integration.conftest import Api
from tests.integration.sync.helpers import account_body, message, register, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def test_implicit_tls_verifies_certificates_unless_told_not_to(
    api: Api, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    body = account_body(dovecot, imap_user)
    body["imap"] = dovecot.account_settings(imap_user, tls="implicit")  # self-signed CA
    await api.client.post("/v1/account", json=body)
    failed = await wait_state(api, imap_user.name, "connectError")
    assert "certificate" in failed["lastError"].lower()

    changed = await api.client.put(
        f"/v1/account/{imap_user.name}", json={"imap": {"tls": {"rejectUnauthorized": False}}}
    )
    assert changed.status_code == 200
    await wait_state(api, imap_user.name, "connected")


async def test_starttls_is_used_when_offered(
    api: Api, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    body = account_body(dovecot, imap_user)
    body["imap"]["starttls"] = "required"
    body["imap"]["tls"] = {"rejectUnauthorized": False}
    await api.client.post("/v1/account", json=body)
    await wait_state(api, imap_user.name, "connected")
    log = (await api.client.get(f"/v1/logs/{imap_user.name}")).text
    assert "STARTTLS" in log
    assert log.index("STARTTLS") < log.index(" LOGIN ")


async def test_notify_from_reports_existing_mail_after_that_moment(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    dovecot.deliver(imap_user, message("already there"))
    await api.client.post("/v1/settings", json={"webhooks": webhook_receiver.url})
    body = account_body(dovecot, imap_user)
    body["notifyFrom"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert (await api.client.post("/v1/account", json=body)).status_code == 200
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert hook.json["data"]["subject"] == "already there"


async def test_notify_from_in_the_future_reports_nothing_old(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    dovecot.deliver(imap_user, message("already there"))
    await api.client.post("/v1/settings", json={"webhooks": webhook_receiver.url})
    body = account_body(dovecot, imap_user)
    body["notifyFrom"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await api.client.post("/v1/account", json=body)
    await wait_state(api, imap_user.name, "connected")
    session = api.service.accounts.session(imap_user.name)
    assert session is not None
    await asyncio.wait_for(session.syncer.synced.wait(), 15)  # type: ignore[attr-defined]
    dovecot.deliver(imap_user, message("new one"))
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert hook.json["data"]["subject"] == "new one"


async def test_webhook_events_filter(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    await api.client.post("/v1/settings", json={"webhookEvents": ["messageNew"]})
    await register(api, dovecot, imap_user, webhook_receiver)
    dovecot.deliver(imap_user, message("wanted"))
    await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert {r.event for r in webhook_receiver.received} == {"messageNew"}


async def test_dead_letters_are_listed_and_replayed(
    api: Api, webhook_receiver: WebhookReceiver
) -> None:
    await api.client.post("/v1/settings", json={"webhooks": webhook_receiver.url})
    dispatcher = api.service.dispatcher
    assert dispatcher is not None
    await dispatcher.stop()  # so it cannot deliver the event before it is marked dead
    event = make_event(account="acct", event="messageNew", data={"uid": 1}, path="INBOX")
    await api.service.store.add_events([event])
    queued = await api.service.store.due_events(time.time() + 1, 10)
    # As the dispatcher does after the last retry: the event gives up and is kept.
    await api.service.store.event_dead(queued[0].seq, 17, "HTTP 500")
    dispatcher.start()

    listed = (await api.client.get("/v1/webhooks/dead")).json()
    assert listed["total"] == 1
    assert listed["events"][0]["eventId"] == event.event_id
    assert listed["events"][0]["lastError"] == "HTTP 500"
    assert listed["events"][0]["payload"]["data"] == {"uid": 1}

    replayed = await api.client.post("/v1/webhooks/replay", json={"eventIds": [event.event_id]})
    assert replayed.json() == {"replayed": 1}
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert hook.json["eventId"] == event.event_id
    assert (await api.client.get("/v1/webhooks/dead")).json()["total"] == 0
