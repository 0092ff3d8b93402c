"""Threads over the real protocol: an app-sent message (its Sent copy), a reply delivered to the
inbox and a reply to that reply share one threadId in listings, details, search and webhooks;
the thread route finds the three on the server, oldest first (issue 16)."""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

import pytest

from imapapi.api.schemas.messages import MessageDetails, MessageList
from imapapi.mail.threads import root_thread_id
from imapapi.sessions.session import AccountSession
from tests.integration.conftest import Api
from tests.integration.messages.conftest import Mailbox
from tests.integration.submit.helpers import SMTP_PASSWORD, register_sender
from tests.integration.sync.helpers import wait_state
from tests.servers.hoodiecrow import ALL_MAIL, Hoodiecrow
from tests.servers.mailserver import MailServer
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration

ORIGINAL = "<plan-1@crm.example.com>"
REPLY = "<reply-1@client.example.org>"
REPLY_TO_REPLY = "<reply-2@client.example.org>"
ELSEWHERE = "<other-root@elsewhere.example>"


def delivered(subject: str, message_id: str, *, minutes: int, **headers: str) -> bytes:
    """A message from the other side, dated `minutes` after now (so after what was sent)."""
    date = email.utils.formatdate(time.time() + 60 * minutes)
    lines = [
        "From: Lead <lead@client.example.org>",
        "To: sender@example.com",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: {message_id}",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
        "",
        "Sounds good.",
        "",
    ]
    return "\r\n".join(lines).encode()


def the_conversation() -> list[bytes]:
    """The reply, the reply to it, an unrelated message and one whose References mentions
    the original further on (found by the server's substring search, in another thread)."""
    return [
        delivered("Re: Plan", REPLY, minutes=1, In_Reply_To=ORIGINAL, References=ORIGINAL),
        delivered(
            "Re: Re: Plan",
            REPLY_TO_REPLY,
            minutes=2,
            In_Reply_To=REPLY,
            References=f"{ORIGINAL} {REPLY}",
        ),
        delivered("Unrelated", "<unrelated@client.example.org>", minutes=3),
        delivered(
            "Re: Other", "<other-2@x.example>", minutes=4, References=f"{ELSEWHERE} {ORIGINAL}"
        ),
    ]


# The message the app sends: the conversation's root.
PLAN = {"to": ["lead@client.example.org"], "subject": "Plan", "text": "The plan.\n"}


async def send_original(api: Api, account: str) -> None:
    sent = await api.client.post(
        f"/v1/account/{account}/submit", json=PLAN | {"messageId": ORIGINAL}
    )
    assert sent.status_code == 200, sent.text


async def page(api: Api, url: str, **params: Any) -> dict[str, Any]:
    response = await api.client.get(url, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    MessageList.model_validate(body)
    return body


async def details(api: Api, account: str, message_id: str) -> dict[str, Any]:
    response = await api.client.get(f"/v1/account/{account}/message/{message_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    MessageDetails.model_validate(body)
    return body


async def search(api: Api, account: str, path: str, **terms: Any) -> dict[str, Any]:
    response = await api.client.post(
        f"/v1/account/{account}/search", params={"path": path}, json={"search": terms}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    MessageList.model_validate(body)
    return body


async def check_thread(
    api: Api, account: str, receiver: WebhookReceiver, inbox: str, thread: str
) -> None:
    """What every server must show once the conversation is there."""
    base = f"/v1/account/{account}"
    listing = (await page(api, f"{base}/messages", path=inbox))["messages"]
    by_id = {m["messageId"]: m for m in listing}
    assert by_id[REPLY]["threadId"] == by_id[REPLY_TO_REPLY]["threadId"] == thread
    assert by_id["<unrelated@client.example.org>"]["threadId"] != thread
    assert by_id["<other-2@x.example>"]["threadId"] != thread
    assert by_id[REPLY]["classification"]["type"] == "human"
    assert by_id[REPLY]["isAutoReply"] is False and by_id[REPLY]["isBounce"] is False

    read = await details(api, account, by_id[REPLY_TO_REPLY]["id"])
    assert read["threadId"] == thread
    assert read["classification"]["type"] == "human"

    hooks = await receiver.wait_for(lambda r: r.event == "messageNew", count=5)
    hook_threads = {h.json["data"]["messageId"]: h.json["data"]["threadId"] for h in hooks}
    assert hook_threads[ORIGINAL] == hook_threads[REPLY] == hook_threads[REPLY_TO_REPLY] == thread

    # Newest first, as listed; not the message whose References only mentions the root.
    conversation = (ORIGINAL, REPLY, REPLY_TO_REPLY)
    expected = [m["messageId"] for m in listing if m["messageId"] in conversation]
    found = await search(api, account, inbox, threadId=thread)
    assert found["total"] == len(expected)
    assert [m["messageId"] for m in found["messages"]] == expected
    narrowed = await search(api, account, inbox, threadId=thread, subject="Re: Re:")
    assert [m["messageId"] for m in narrowed["messages"]] == [REPLY_TO_REPLY]

    listed = await page(api, f"{base}/thread/{thread}")
    assert listed["total"] == 3
    assert [m["messageId"] for m in listed["messages"]] == [ORIGINAL, REPLY, REPLY_TO_REPLY]
    assert listed["messages"][1]["path"] == inbox
    assert listed["messages"][1]["id"] == by_id[REPLY]["id"]
    sent_copy = listed["messages"][0]
    assert (await details(api, account, sent_copy["id"]))["messageId"] == ORIGINAL
    second = await page(api, f"{base}/thread/{thread}", page=1, pageSize=2)
    assert (second["pages"], second["total"]) == (2, 3)
    assert [m["messageId"] for m in second["messages"]] == [REPLY_TO_REPLY]


async def check_unknown_threads(api: Api, account: str, unknown: str) -> None:
    base = f"/v1/account/{account}/thread"
    missing = await api.client.get(f"{base}/{unknown}")
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]
    names_nothing = await api.client.get(f"{base}/Tbm8gYXQ")  # "no at": no Message-ID has a space
    assert names_nothing.status_code == 404
    malformed = await api.client.get(f"{base}/not-a-thread!")
    assert malformed.status_code == 400
    assert "threadId" in malformed.text
    bad_term = await search(api, account, "INBOX", threadId="42")
    assert bad_term["total"] == 0  # a Gmail id on another server, or a root id on Gmail


async def test_a_conversation_shares_one_thread_id_in_every_folder(
    api: Api,
    mail_server: MailServer,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    user = mail_server.add_user()
    account = await register_sender(api, mail_server, user, smtp, webhook_receiver)  # type: ignore[arg-type]
    await send_original(api, account)
    # The Sent copy is there once its messageNew is.
    [copy] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.json["data"].get("messageId") == ORIGINAL,
        timeout=30,
    )
    assert copy.json["path"] != "INBOX"
    mailbox = Mailbox(api, mail_server, user, account)
    for raw in the_conversation():
        mailbox.deliver(raw)
    thread = root_thread_id(ORIGINAL)
    await check_thread(api, account, webhook_receiver, "INBOX", thread)
    assert copy.json["data"]["threadId"] == thread
    await check_unknown_threads(api, account, root_thread_id("<nobody@nowhere.example>"))


async def test_gmail_threads_are_its_own(
    api: Api, hoodiecrow: Hoodiecrow, smtp: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    await api.client.post("/v1/settings", json={"webhooks": webhook_receiver.url})
    smtp.add_user("gmail", SMTP_PASSWORD)
    body = {
        "account": "gmail",
        "email": "sender@example.com",
        "imap": hoodiecrow.account_settings(),
        "smtp": smtp.settings("gmail", SMTP_PASSWORD),
    }
    assert (await api.client.post("/v1/account", json=body)).status_code == 200
    await wait_state(api, "gmail", "connected")
    session = api.service.accounts.session("gmail")
    assert isinstance(session, AccountSession)
    await asyncio.wait_for(session.syncer.synced.wait(), 15)  # what comes later is announced
    await send_original(api, "gmail")
    [sent] = await smtp.wait_for(1)
    # Gmail files what its SMTP sent in Sent Mail itself (imapapi does not upload a copy).
    original = hoodiecrow.append(sent.data, labels=["\\Sent"])
    for raw in the_conversation():
        hoodiecrow.append(raw, labels=["\\Inbox"])
    thread = str(original["thrid"])
    await check_thread(api, "gmail", webhook_receiver, ALL_MAIL, thread)
    await check_unknown_threads(api, "gmail", "1")
    root_id = await api.client.get(f"/v1/account/gmail/thread/{root_thread_id(ORIGINAL)}")
    assert root_id.status_code == 404  # Gmail's threads are named by Gmail
