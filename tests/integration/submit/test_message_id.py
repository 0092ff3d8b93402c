"""Replies by Message-ID (`reference.messageId`) and threading headers given directly
(`inReplyTo`, `references`), over the real protocol: Dovecot and the SMTP recorder (issue 16,
item 3). The Gmail case is in tests/integration/oauth/test_gmail_reply.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from imapapi.mail.references import MAX_REFERENCES
from tests.integration.conftest import Api
from tests.integration.submit.helpers import (
    folder_messages,
    nothing_sent,
    register_sender,
    submitted,
    wait_imap,
)
from tests.integration.submit.test_references import ORIGINAL_ID, original
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.integration
ROOT_ID = "<root@partner.example.com>"
MIDDLE_ID = "<middle@partner.example.com>"


def flags_by_message_id(
    folder: str, message_id: str, flag: str
) -> Callable[[Any], set[str] | None]:
    """The flags of the message in `folder` whose Message-ID is `message_id`, once `flag` is
    among them."""

    def check(client: Any) -> set[str] | None:
        for raw, flags in folder_messages(folder)(client):
            if f"Message-ID: {message_id}".encode() in raw and flag in flags:
                return flags
        return None

    return check


def flags_in(folder: str) -> Callable[[Any], list[set[str]]]:
    def read(client: Any) -> list[set[str]]:
        return [flags for _, flags in folder_messages(folder)(client)]

    return read


async def test_reply_by_message_id_to_a_message_in_inbox(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    # A header search matches substrings in any letter case: this one comes first and must
    # lose to the exact match.
    decoy = original(imap_user).replace(ORIGINAL_ID.encode(), b"<ORIGINAL-1@partner.example.com>")
    dovecot.deliver(imap_user, decoy)
    dovecot.deliver(imap_user, original(imap_user))
    body = {"reference": {"messageId": ORIGINAL_ID}, "text": "my reply"}
    received = await submitted(api, account, smtp, body)
    sent = received.message()
    assert sent["In-Reply-To"] == ORIGINAL_ID
    assert str(sent["References"]).split() == [ROOT_ID, MIDDLE_ID, ORIGINAL_ID]
    assert sent["Subject"] == "Re: [project] Quarterly numbers"
    assert received.rcpt_tos == ("replies@partner.example.com",)
    await wait_imap(dovecot, imap_user, flags_by_message_id("INBOX", ORIGINAL_ID, "\\Answered"))
    decoy_flags, _ = await wait_imap(dovecot, imap_user, flags_in("INBOX"))
    assert "\\Answered" not in decoy_flags


async def test_reply_by_message_id_to_our_own_message_in_sent(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    first_id = "<first-of-ours@example.com>"
    first = {
        "to": "Peter <peter@partner.example.com>",
        "subject": "Offer",
        "text": "Here is our offer.",
        "messageId": first_id,
    }
    await submitted(api, account, smtp, first)
    await wait_imap(dovecot, imap_user, lambda c: folder_messages("Sent")(c) or None)

    reply = {"reference": {"messageId": first_id, "action": "reply"}, "text": "A reminder."}
    received = await submitted(api, account, smtp, reply, count=2)
    sent = received.message()
    assert sent["In-Reply-To"] == first_id
    assert str(sent["References"]).split() == [first_id]
    assert sent["Subject"] == "Re: Offer"
    # Answering our own message goes to its recipients, as mail clients do.
    assert received.rcpt_tos == ("peter@partner.example.com",)
    await wait_imap(dovecot, imap_user, flags_by_message_id("Sent", first_id, "\\Answered"))


async def test_forward_by_message_id_from_another_folder_attaches_it(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    dovecot.deliver(imap_user, original(imap_user, attachment=b"%PDF-1.4 numbers"), "Archive")
    body = {
        "reference": {"messageId": ORIGINAL_ID, "action": "forward"},
        "to": "boss@example.com",
        "text": "FYI",
    }
    sent = (await submitted(api, account, smtp, body)).message()
    assert sent["Subject"] == "Fwd: [project] Quarterly numbers"
    [forwarded] = [p for p in sent.iter_parts() if p.get_content_type() == "message/rfc822"]
    inner = forwarded.get_content()
    assert inner["Message-ID"] == ORIGINAL_ID
    assert [a.get_filename() for a in inner.iter_attachments()] == ["numbers.pdf"]
    await wait_imap(dovecot, imap_user, flags_by_message_id("Archive", ORIGINAL_ID, "$Forwarded"))


async def test_unknown_message_id_is_404_and_nothing_is_sent(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    dovecot.deliver(imap_user, original(imap_user))
    # A prefix of an existing id: a substring search finds nothing for it either.
    unknown = "<original@partner.example.com>"
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={"reference": {"messageId": unknown}, "text": "should never go out"},
    )
    assert response.status_code == 404, response.text
    answer = response.json()
    assert answer["code"] == "NotFound"
    assert [d["field"] for d in answer["details"]] == ["reference.messageId"]
    await nothing_sent(api, smtp)


@pytest.mark.parametrize(
    ("threading", "in_reply_to", "references"),
    [
        ({"inReplyTo": ORIGINAL_ID}, ORIGINAL_ID, [ORIGINAL_ID]),
        (
            {"inReplyTo": ORIGINAL_ID, "references": [ROOT_ID, MIDDLE_ID, ORIGINAL_ID]},
            ORIGINAL_ID,
            [ROOT_ID, MIDDLE_ID, ORIGINAL_ID],
        ),
        ({"references": [ROOT_ID, MIDDLE_ID]}, None, [ROOT_ID, MIDDLE_ID]),
        (
            {"references": [f"<r{n}@partner.example.com>" for n in range(30)]},
            None,
            [
                "<r0@partner.example.com>",
                *(f"<r{n}@partner.example.com>" for n in range(30 - MAX_REFERENCES + 1, 30)),
            ],
        ),
    ],
    ids=["in-reply-to-only", "both", "references-only", "long-chain-trimmed"],
)
async def test_threading_headers_given_directly_reach_the_wire(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    threading: dict[str, Any],
    in_reply_to: str | None,
    references: list[str],
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    body = {"to": "peter@partner.example.com", "text": "Re", **threading}
    sent = (await submitted(api, account, smtp, body)).message()
    assert sent["In-Reply-To"] == in_reply_to
    assert str(sent["References"]).split() == references


REFERENCE_ID = "AAAAAQAAAeE"


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"inReplyTo": f"{ORIGINAL_ID}\r\nBcc: victim@example.com"}, {"inReplyTo"}),
        ({"inReplyTo": "original-1@partner.example.com"}, {"inReplyTo"}),
        ({"inReplyTo": f" {ORIGINAL_ID}"}, {"inReplyTo"}),
        ({"references": [ROOT_ID, "middle@partner.example.com"]}, {"references.1"}),
        ({"references": [f"{ROOT_ID}\n"]}, {"references.0"}),
        ({"reference": {"messageId": f"{ORIGINAL_ID}\r\n"}}, {"reference.messageId"}),
        ({"reference": {"messageId": "original-1@partner.example.com"}}, {"reference.messageId"}),
        (
            {"reference": {"message": REFERENCE_ID, "messageId": ORIGINAL_ID}},
            {"reference.message", "reference.messageId"},
        ),
        ({"reference": {"action": "reply"}}, {"reference.message", "reference.messageId"}),
        (
            {"reference": {"messageId": ORIGINAL_ID}, "inReplyTo": ORIGINAL_ID},
            {"inReplyTo", "reference"},
        ),
        (
            {"reference": {"message": REFERENCE_ID}, "references": [ROOT_ID]},
            {"references", "reference"},
        ),
    ],
    ids=[
        "crlf-in-in-reply-to",
        "in-reply-to-without-brackets",
        "space-before-in-reply-to",
        "references-item-without-brackets",
        "newline-in-references",
        "crlf-in-reference-message-id",
        "reference-message-id-without-brackets",
        "both-message-and-message-id",
        "neither-message-nor-message-id",
        "in-reply-to-with-reference",
        "references-with-reference",
    ],
)
async def test_bad_threading_is_400_naming_the_fields_and_queues_nothing(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    change: dict[str, Any],
    fields: set[str],
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    body = {"to": "peter@partner.example.com", "text": "Hello", **change}
    response = await api.client.post(f"/v1/account/{account}/submit", json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["code"] == "InvalidInput"
    assert fields <= {d["field"] for d in answer["details"]}, answer
    await nothing_sent(api, smtp)


@pytest.mark.parametrize(
    ("header", "field"), [("In-Reply-To", "inReplyTo"), ("References", "references")]
)
async def test_threading_header_in_headers_names_the_field_to_use(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer, header: str, field: str
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={"to": "peter@partner.example.com", "text": "Hi", "headers": {header: ROOT_ID}},
    )
    assert response.status_code == 400, response.text
    [detail] = response.json()["details"]
    assert detail["field"] == "headers"
    assert detail["reason"] == f"{header}: is set by imapapi; use the `{field}` field instead"
