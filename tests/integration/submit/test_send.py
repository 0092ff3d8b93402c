"""Sending end to end: the API queues, the worker sends to a real SMTP server, the Sent copy
lands on the real Dovecot, webhooks report the outcome."""

from __future__ import annotations

import base64
import email
import email.policy
from email.message import EmailMessage

import pytest

from tests.integration.conftest import Api
from tests.integration.submit.helpers import (
    address_of,
    folder_messages,
    register_sender,
    wait_imap,
)
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image bytes").decode()


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_plain_send_reaches_smtp_and_sent_folder_without_bcc(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={
            "to": [{"name": "Andris Reinman", "address": "andris@example.com"}],
            "cc": {"name": "Çelik, Ayşe", "address": "ayse@example.com"},
            "bcc": ["Hidden <hidden@example.com>"],
            "subject": "Grüße aus Tallinn",
            "text": "Tere! Ünïcödé text.\n",
            "html": '<p>Tere! <img src="cid:logo@x"></p>',
            "attachments": [
                {"filename": "logo.png", "content": PNG, "cid": "logo@x"},
                {"filename": "résumé.txt", "content": base64.b64encode(b"cv\n").decode()},
            ],
        },
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"messageId", "queueId", "sendAt"}
    assert answer["messageId"].endswith("@example.com>")

    [received] = await smtp.wait_for(1)
    assert received.mail_from == address_of(imap_user)
    assert sorted(received.rcpt_tos) == [
        "andris@example.com",
        "ayse@example.com",
        "hidden@example.com",
    ]
    assert received.auth_user == imap_user.name
    assert b"hidden@example.com" not in received.data
    assert b"\r\nBcc:" not in received.data
    message = received.message()
    assert message["Subject"] == "Grüße aus Tallinn"
    assert message["Message-ID"] == answer["messageId"]
    assert message["From"].addresses[0].display_name == "Sender Söder"
    assert message["Cc"].addresses[0].display_name == "Çelik, Ayşe"
    assert message.get_content_type() == "multipart/mixed"
    body, attachment = message.get_payload()  # type: ignore[misc]
    assert body.get_content_type() == "multipart/alternative"
    plain, related = body.get_payload()
    assert plain.get_content().replace("\r\n", "\n") == "Tere! Ünïcödé text.\n"
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert image["Content-ID"] == "<logo@x>"
    assert image.get_content() == base64.b64decode(PNG)
    assert attachment.get_filename() == "résumé.txt"
    assert "filename*=" in str(attachment.as_string())  # RFC 2231 for the non-ASCII name

    # The exact bytes that went out, filed in Sent with \Seen (second IMAP connection).
    sent = await wait_imap(dovecot, imap_user, lambda c: folder_messages("Sent")(c) or None)
    assert len(sent) == 1
    assert sent[0][0] == received.data
    assert "\\Seen" in sent[0][1]

    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageSent")
    data = hook.json["data"]
    assert data["queueId"] == answer["queueId"]
    assert data["messageId"] == answer["messageId"]
    assert data["response"].startswith("250 ")
    assert "hidden@example.com" in data["envelope"]["to"]

    outbox = (await api.client.get(f"/v1/outbox/{answer['queueId']}")).json()
    assert outbox["state"] == "sent" and outbox["attempts"] == 1
    assert (await api.client.get("/v1/outbox")).json()["total"] == 0
    record = await api.service.store.get_sent(account, answer["messageId"])
    assert record is not None and record.queue_id == answer["queueId"]


async def test_custom_message_id_and_header_arrive_as_given(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={
            "from": "Sales Bot <bot@example.com>",
            "to": {"address": "lead@example.com"},
            "subject": "Following up",
            "text": "Any news?",
            "messageId": "<lead-42.tracking@example.com>",
            "headers": {"X-Auto-Response-Suppress": "OOF", "X-Campaign": "spring"},
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["messageId"] == "<lead-42.tracking@example.com>"
    [received] = await smtp.wait_for(1)
    assert b"\r\nMessage-ID: <lead-42.tracking@example.com>\r\n" in received.data
    assert b"\r\nX-Auto-Response-Suppress: OOF\r\n" in received.data
    assert received.message()["X-Campaign"] == "spring"
    assert received.mail_from == "bot@example.com"
    record = await api.service.store.get_sent(account, "<lead-42.tracking@example.com>")
    assert record is not None


async def test_sent_and_failed_submissions_are_counted_in_metrics(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    smtp.fail_next("550 5.1.1 No such user", stage="rcpt")
    for subject in ("refused", "accepted"):
        response = await api.client.post(
            f"/v1/account/{account}/submit",
            json={"to": [{"address": "lead@example.com"}], "subject": subject, "text": "x\n"},
        )
        assert response.status_code == 200, response.text
        name = "messageFailed" if subject == "refused" else "messageSent"
        await webhook_receiver.wait_for(lambda r, name=name: r.event == name)
    scraped = (await api.client.get("/metrics")).text
    assert 'imapapi_submissions_total{result="sent"} 1.0' in scraped
    assert 'imapapi_submissions_total{result="failed"} 1.0' in scraped
