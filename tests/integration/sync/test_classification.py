"""Every messageNew says whether a person wrote it: classification fetched in the same sync."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api
from tests.integration.sync.helpers import message, register
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration

DSN = b"""Return-Path: <>
From: MAILER-DAEMON@mx.example.test (Mail Delivery System)
To: user@example.test
Subject: Undelivered Mail Returned to Sender
Date: Mon, 07 Oct 2019 06:05:23 +0000
Message-ID: <dsn-1@mx.example.test>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test

Final-Recipient: rfc822; nobody@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected

--B
Content-Type: text/rfc822-headers

From: user@example.test
To: nobody@example.org
Subject: Proposal
Message-ID: <sent-1@example.test>

--B--
"""


async def test_human_auto_reply_and_bounce_are_told_apart(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    await register(api, dovecot, imap_user, webhook_receiver)
    dovecot.deliver(
        imap_user,
        message(
            "Re: Proposal",
            body="Sounds good, I am out of office next week though.\n",
            headers={"In-Reply-To": "<sent-1@example.test>"},
        ),
    )
    dovecot.deliver(
        imap_user,
        message(
            "Automatic reply: Proposal",
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": "<sent-1@example.test>"},
        ),
    )
    dovecot.deliver(imap_user, DSN)
    hooks = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=3)
    by_subject = {h.json["data"]["subject"]: h.json["data"] for h in hooks}

    human = by_subject["Re: Proposal"]
    assert human["classification"]["type"] == "human"
    assert (human["isAutoReply"], human["isBounce"]) == (False, False)

    auto = by_subject["Automatic reply: Proposal"]
    assert auto["classification"]["type"] == "autoReply"
    assert auto["isAutoReply"] is True

    bounce = by_subject["Undelivered Mail Returned to Sender"]
    assert bounce["isBounce"] is True
    report = bounce["classification"]["bounce"]
    assert report["originalMessageId"] == "<sent-1@example.test>"
    assert report["recipients"][0]["recipient"] == "nobody@example.org"
    assert report["recipients"][0]["status"] == "5.1.1"
