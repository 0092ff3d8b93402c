"""Replies and forwards of a message in INBOX: threading headers, derived subject and
recipients, the original flagged, and nothing sent when the original does not exist."""

from __future__ import annotations

import base64
import imaplib
import re
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from imapapi.mail.ids import decode_message_id, encode_message_id
from tests.integration.conftest import Api
from tests.integration.submit.helpers import (
    address_of,
    folder_messages,
    imap,
    nothing_sent,
    register_sender,
    wait_imap,
)
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration
ORIGINAL_ID = "<original-1@partner.example.com>"


def original(user: ImapUser, *, attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Peter Põder <peter@partner.example.com>"
    msg["Reply-To"] = "Peter Replies <replies@partner.example.com>"
    msg["To"] = f"Me <{address_of(user)}>, Mari <mari@partner.example.com>"
    msg["Cc"] = "Jaan <jaan@partner.example.com>"
    msg["Subject"] = "[project] AW: Re: Quarterly numbers"
    msg["Date"] = "Mon, 07 Oct 2019 06:05:23 +0000"
    msg["Message-ID"] = ORIGINAL_ID
    msg["References"] = "<root@partner.example.com> <middle@partner.example.com>"
    msg.set_content("The numbers are in.\n")
    if attachment is not None:
        msg.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="numbers.pdf"
        )
    return msg.as_bytes().replace(b"\n", b"\r\n")


async def deliver_original(
    api: Api,
    dovecot: Dovecot,
    user: ImapUser,
    receiver: WebhookReceiver,
    raw: bytes,
) -> str:
    """Deliver `raw` to INBOX and return its API id from the messageNew webhook."""
    dovecot.deliver(user, raw)
    [hook] = await receiver.wait_for(lambda r: r.event == "messageNew")
    return str(hook.json["data"]["id"])


def flags_of_inbox_uid1(client: imaplib.IMAP4) -> set[str]:
    client.select("INBOX", readonly=True)
    _, data = client.uid("FETCH", "1", "(FLAGS)")
    found = re.search(rb"FLAGS \(([^)]*)\)", data[0] if isinstance(data[0], bytes) else b"")
    return set(found.group(1).decode().split()) if found else set()


def flagged(flag: str) -> Callable[[imaplib.IMAP4], set[str] | None]:
    def check(client: imaplib.IMAP4) -> set[str] | None:
        flags = flags_of_inbox_uid1(client)
        return flags if flag in flags else None

    return check


async def test_reply_threads_derives_subject_and_recipients_and_flags_answered(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    message_id = await deliver_original(
        api, dovecot, imap_user, webhook_receiver, original(imap_user)
    )
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={
            "reference": {"message": message_id, "action": "reply"},
            "text": "my reply to you",
            "html": "<p>my reply to you</p>",
        },
    )
    assert response.status_code == 200, response.text
    [received] = await smtp.wait_for(1)
    sent = received.message()
    assert sent["In-Reply-To"] == ORIGINAL_ID
    assert str(sent["References"]).split() == [
        "<root@partner.example.com>",
        "<middle@partner.example.com>",
        ORIGINAL_ID,
    ]
    assert sent["Subject"] == "Re: [project] Quarterly numbers"
    # Reply-To of the original wins over its From (RFC 5322 §3.6.3).
    assert received.rcpt_tos == ("replies@partner.example.com",)
    assert sent["Cc"] is None

    flags = await wait_imap(dovecot, imap_user, flagged("\\Answered"))
    assert "$Forwarded" not in flags
    copies = await wait_imap(dovecot, imap_user, lambda c: folder_messages("Sent")(c) or None)
    assert [raw for raw, _ in copies] == [received.data]


async def test_reply_all_copies_everyone_but_ourselves(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    message_id = await deliver_original(
        api, dovecot, imap_user, webhook_receiver, original(imap_user)
    )
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={
            "reference": {"message": message_id, "action": "replyAll"},
            "subject": "Own subject wins",
            "text": "to all",
        },
    )
    assert response.status_code == 200, response.text
    [received] = await smtp.wait_for(1)
    sent = received.message()
    assert sent["Subject"] == "Own subject wins"
    assert [a.addr_spec for a in sent["To"].addresses] == ["replies@partner.example.com"]
    assert [a.addr_spec for a in sent["Cc"].addresses] == [
        "mari@partner.example.com",
        "jaan@partner.example.com",
    ]
    assert address_of(imap_user) not in received.rcpt_tos
    await wait_imap(dovecot, imap_user, flagged("\\Answered"))


async def test_forward_attaches_the_original_and_our_files(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    raw = original(imap_user, attachment=b"%PDF-1.4 numbers")
    message_id = await deliver_original(api, dovecot, imap_user, webhook_receiver, raw)
    stored = await imap(dovecot, imap_user, folder_messages("INBOX"))
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={
            "reference": {"message": message_id, "action": "forward"},
            "to": "boss@example.com",
            "text": "FYI, see below.",
            "attachments": [
                {"filename": "notes.txt", "content": base64.b64encode(b"my notes").decode()}
            ],
        },
    )
    assert response.status_code == 200, response.text
    [received] = await smtp.wait_for(1)
    sent = received.message()
    assert sent["Subject"] == "Fwd: [project] Quarterly numbers"
    assert sent["In-Reply-To"] is None
    parts = list(sent.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/plain", "message/rfc822"]
    assert parts[1].get_filename() == "notes.txt"
    assert parts[2].get_filename() == "Quarterly numbers.eml"
    # The original travels byte for byte as the server stored it.
    assert stored[0][0] in received.data
    inner = parts[2].get_content()
    assert inner["Message-ID"] == ORIGINAL_ID
    assert [a.get_filename() for a in inner.iter_attachments()] == ["numbers.pdf"]
    flags = await wait_imap(dovecot, imap_user, flagged("$Forwarded"))
    assert "\\Answered" not in flags


async def test_inline_forward_quotes_the_original_and_keeps_its_files(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    raw = original(imap_user, attachment=b"%PDF-1.4 numbers")
    message_id = await deliver_original(api, dovecot, imap_user, webhook_receiver, raw)
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={
            "reference": {"message": message_id, "action": "forward", "inline": True},
            "to": "boss@example.com",
            "text": "FYI",
        },
    )
    assert response.status_code == 200, response.text
    [received] = await smtp.wait_for(1)
    sent = received.message()
    body = sent.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.startswith("FYI")
    assert "---------- Forwarded message ---------" in text
    assert "The numbers are in." in text
    assert [a.get_filename() for a in sent.iter_attachments()] == ["numbers.pdf"]
    await wait_imap(dovecot, imap_user, flagged("$Forwarded"))


@pytest.mark.parametrize(
    "which",
    ["unknown-folder-index", "unknown-uid", "malformed-id"],
)
async def test_missing_reference_is_404_and_nothing_is_sent(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
    which: str,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    existing = await deliver_original(
        api, dovecot, imap_user, webhook_receiver, original(imap_user)
    )
    index, uid = decode_message_id(existing)
    reference = {
        "unknown-folder-index": encode_message_id(index + 50, uid),
        "unknown-uid": encode_message_id(index, uid + 1000),
        "malformed-id": "not an id!",
    }[which]
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={
            "reference": {"message": reference, "action": "reply"},
            "text": "should never go out",
        },
    )
    expected = 400 if which == "malformed-id" else 404
    assert response.status_code == expected, response.text
    await nothing_sent(api, smtp)
