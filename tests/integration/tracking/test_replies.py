"""Reply tracking end to end: send through /submit (aiosmtpd), then a human reply, an
out-of-office and a bounce land in INBOX (Dovecot) → one webhook each that says which."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api
from tests.integration.submit.helpers import register_sender
from tests.integration.sync.helpers import message
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration
SENT_ID = "<proposal-4711@crm.example.com>"


def bounce_of(message_id: str) -> bytes:
    return f"""Return-Path: <>
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: sender@example.com
Subject: Undelivered Mail Returned to Sender
Date: Mon, 07 Oct 2019 06:05:23 +0000
Message-ID: <bounce-1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; lead@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

From: sender@example.com
To: lead@example.org
Subject: Proposal
Message-ID: {message_id}

--B--
""".replace("\n", "\r\n").encode()


async def test_reply_auto_reply_and_bounce_each_give_one_event(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    sent = await api.client.post(
        f"/v1/account/{account}/submit",
        json={
            "to": [{"address": "lead@example.org"}],
            "subject": "Proposal",
            "text": "Here is our proposal.\n",
            "messageId": SENT_ID,
            "headers": {"X-Auto-Response-Suppress": "OOF"},
        },
    )
    assert sent.status_code == 200, sent.text
    queue_id = sent.json()["queueId"]
    await webhook_receiver.wait_for(lambda r: r.event == "messageSent")

    replying = {"In-Reply-To": SENT_ID, "References": SENT_ID}
    dovecot.deliver(
        imap_user,
        message(
            "Re: Proposal", body="Great, let's talk. I'm out of office Friday.\n", headers=replying
        ),
    )
    dovecot.deliver(
        imap_user,
        message(
            "Automatic reply: Proposal", headers={**replying, "Auto-Submitted": "auto-replied"}
        ),
    )
    dovecot.deliver(imap_user, bounce_of(SENT_ID))
    # A reply filed away by a rule is not an inbox reply.
    dovecot.deliver(imap_user, message("Re: Proposal (filed)", headers=replying), folder="Archive")

    [reply] = await webhook_receiver.wait_for(lambda r: r.event == "messageReply")
    [auto] = await webhook_receiver.wait_for(lambda r: r.event == "messageAutoReply")
    [bounce] = await webhook_receiver.wait_for(lambda r: r.event == "messageBounce")
    await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.json["path"] == "Archive"
    )
    for hook in (reply, auto, bounce):
        assert hook.json["path"] == "INBOX"
        assert hook.json["data"]["repliedTo"]["messageId"] == SENT_ID
        assert hook.json["data"]["repliedTo"]["queueId"] == queue_id
    assert reply.json["data"]["subject"] == "Re: Proposal"
    assert reply.json["data"]["classification"]["type"] == "human"
    assert auto.json["data"]["isAutoReply"] is True
    assert bounce.json["data"]["classification"]["bounce"]["recipients"][0]["status"] == "5.1.1"
    tracking = [
        r
        for r in webhook_receiver.received
        if r.event in ("messageReply", "messageAutoReply", "messageBounce")
    ]
    assert len(tracking) == 3  # nothing for the archived reply, nothing twice


async def test_message_ids_sent_elsewhere_can_be_tracked_and_untracked(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    url = f"/v1/account/{account}/tracking"
    added = await api.client.post(
        url, json={"messageIds": ["<a-1@example.com>", "<b-2@example.com>"]}
    )
    assert added.json() == {"tracked": 2, "removed": None}
    again = await api.client.post(url, json={"messageIds": ["<a-1@example.com>"]})
    assert again.json()["tracked"] == 0
    removed = await api.client.request("DELETE", url, json={"messageIds": ["<b-2@example.com>"]})
    assert removed.json()["removed"] == 1
    bad = await api.client.post(url, json={"messageIds": ["no-brackets@example.com"]})
    assert bad.status_code == 400

    dovecot.deliver(imap_user, message("Re: b", headers={"In-Reply-To": "<b-2@example.com>"}))
    dovecot.deliver(imap_user, message("Re: a", headers={"In-Reply-To": "<a-1@example.com>"}))
    [reply] = await webhook_receiver.wait_for(lambda r: r.event == "messageReply")
    assert reply.json["data"]["subject"] == "Re: a"
    assert reply.json["data"]["repliedTo"] == {
        "messageId": "<a-1@example.com>",
        "queueId": None,
        "sentAt": reply.json["data"]["repliedTo"]["sentAt"],
    }
    await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=2)
    assert len(webhook_receiver.events(event="messageReply")) == 1
