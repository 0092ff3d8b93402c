"""Queue semantics against the real SMTP server, driven with the worker's drain mode and a
hand-moved clock: retries on 4xx, failure on 5xx, idempotency keys, cancelling."""

from __future__ import annotations

from typing import Any

import pytest

from imapapi.sending.submission_worker import RETRY_CAP
from tests.integration.conftest import Api
from tests.integration.submit.helpers import Clock, drain_worker, register_sender
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


def message(**extra: Any) -> dict[str, Any]:
    return {"to": {"address": "andris@example.com"}, "subject": "Hi", "text": "Hello", **extra}


async def test_temporary_failure_is_retried_after_backoff_and_sent_once(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    clock = Clock()
    worker = await drain_worker(api, clock)
    smtp.fail_next("451 4.3.0 Try again later")

    response = await api.client.post(f"/v1/account/{account}/submit", json=message())
    assert response.status_code == 200, response.text
    queue_id = response.json()["queueId"]

    assert await worker.run_once() == 1
    assert smtp.messages == []
    entry = (await api.client.get(f"/v1/outbox/{queue_id}")).json()
    assert entry["state"] == "queued"
    assert entry["attempts"] == 1
    assert entry["lastResponse"].startswith("SMTP server answered 451 4.3.0 Try again later")
    assert entry["smtpCode"] == 451
    listed = (await api.client.get("/v1/outbox", params={"account": account})).json()
    assert [m["queueId"] for m in listed["messages"]] == [queue_id]

    assert await worker.run_once() == 0  # not due before its backoff ran out
    clock.advance(RETRY_CAP)
    assert await worker.run_once() == 1
    assert len(smtp.messages) == 1
    assert await worker.run_once() == 0

    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageSent")
    assert hook.json["data"]["queueId"] == queue_id
    assert hook.json["data"]["response"].startswith("250 ")
    assert webhook_receiver.events(event="messageFailed") == []
    entry = (await api.client.get(f"/v1/outbox/{queue_id}")).json()
    assert (entry["state"], entry["attempts"], entry["nextAttempt"]) == ("sent", 2, None)


@pytest.mark.parametrize("stage", ["rcpt", "data"])
async def test_permanent_failure_fails_at_once_with_the_smtp_reply(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
    stage: str,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    worker = await drain_worker(api, Clock())
    smtp.fail_next("550 5.1.1 No such user here", stage=stage)
    response = await api.client.post(f"/v1/account/{account}/submit", json=message())
    queue_id = response.json()["queueId"]

    assert await worker.run_once() == 1
    assert smtp.messages == []
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageFailed")
    data = hook.json["data"]
    assert data["queueId"] == queue_id
    assert data["smtpCode"] == 550
    assert data["permanent"] is True
    assert "550 5.1.1 No such user here" in data["error"]
    entry = (await api.client.get(f"/v1/outbox/{queue_id}")).json()
    assert entry["state"] == "failed" and entry["attempts"] == 1
    assert await worker.run_once() == 0  # never tried again
    assert await api.service.store.get_sent(account, data["messageId"]) is None


async def test_same_idempotency_key_queues_and_sends_one_message(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    worker = await drain_worker(api, Clock())
    body = message(idempotencyKey="order-1234-confirmation")
    first = await api.client.post(f"/v1/account/{account}/submit", json=body)
    second = await api.client.post(
        f"/v1/account/{account}/submit", json={**body, "text": "a retried request"}
    )
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()

    assert await worker.run_once() == 1
    third = await api.client.post(f"/v1/account/{account}/submit", json=body)
    assert third.json() == first.json()  # still the same after it was sent
    assert await worker.run_once() == 0
    assert len(smtp.messages) == 1


async def test_cancel_a_queued_message(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    worker = await drain_worker(api, Clock())
    response = await api.client.post(
        f"/v1/account/{account}/submit", json=message(sendAt="2999-01-01T00:00:00Z")
    )
    assert response.json()["sendAt"] == "2999-01-01T00:00:00.000Z"
    queue_id = response.json()["queueId"]
    deleted = await api.client.delete(f"/v1/outbox/{queue_id}")
    assert deleted.status_code == 200 and deleted.json() == {"queueId": queue_id, "deleted": True}
    assert (await api.client.get(f"/v1/outbox/{queue_id}")).json()["state"] == "cancelled"
    assert (await api.client.get("/v1/outbox")).json()["total"] == 0
    unknown = await api.client.delete("/v1/outbox/" + "0" * 32)
    assert unknown.status_code == 404

    sent = await api.client.post(f"/v1/account/{account}/submit", json=message())
    assert await worker.run_once() == 1
    conflict = await api.client.delete(f"/v1/outbox/{sent.json()['queueId']}")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "Conflict"
    assert len(smtp.messages) == 1
