"""Gmail mode against the Gmail-like hoodiecrow: All Mail, Junk and Trash only; labels on every
message and webhook; label changes as messageUpdated; one event per message."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.conftest import Api
from tests.integration.sync.helpers import message, wait_state
from tests.servers.hoodiecrow import ALL_MAIL, Hoodiecrow
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def register_gmail(api: Api, server: Hoodiecrow, receiver: WebhookReceiver) -> str:
    await api.client.post("/v1/settings", json={"webhooks": receiver.url})
    body = {"account": "gmail", "imap": server.account_settings()}
    assert (await api.client.post("/v1/account", json=body)).status_code == 200
    await wait_state(api, "gmail", "connected")
    session = api.service.accounts.session("gmail")
    assert session is not None
    await asyncio.wait_for(session.syncer.synced.wait(), 15)  # type: ignore[attr-defined]
    return "gmail"


async def register_gmail_sender(api: Api, server: Hoodiecrow, smtp: SmtpServer) -> str:
    """The Gmail account `gmail` (testuser@example.com) with SMTP on the recording server."""
    smtp.add_user("gmail-user", "smtp-pass")
    body = {
        "account": "gmail",
        "email": "testuser@example.com",
        "imap": server.account_settings(),
        "smtp": smtp.settings("gmail-user", "smtp-pass") | {"starttls": "never"},
    }
    assert (await api.client.post("/v1/account", json=body)).status_code == 200
    await wait_state(api, "gmail", "connected")
    return "gmail"


async def test_only_all_mail_junk_and_trash_are_synced(
    api: Api, hoodiecrow: Hoodiecrow, webhook_receiver: WebhookReceiver
) -> None:
    hoodiecrow.append(message("old"), labels=["\\Inbox", "Work"])
    account = await register_gmail(api, hoodiecrow, webhook_receiver)
    folders = {f.path: f.special_use for f in await api.service.store.get_folders(account)}
    assert set(folders.values()) == {"\\All", "\\Junk", "\\Trash"}
    assert folders[ALL_MAIL] == "\\All"

    listing = await api.client.get(f"/v1/account/{account}/messages", params={"path": ALL_MAIL})
    assert listing.status_code == 200, listing.text
    [old] = listing.json()["messages"]
    assert sorted(old["labels"]) == ["Work", "\\Inbox"]
    assert old["emailId"] and old["threadId"]


async def test_new_message_with_labels_is_one_message_new_from_all_mail(
    api: Api, hoodiecrow: Hoodiecrow, webhook_receiver: WebhookReceiver
) -> None:
    await register_gmail(api, hoodiecrow, webhook_receiver)
    hoodiecrow.append(message("labelled"), labels=["\\Inbox", "\\Important", "Clients"])
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert hook.json["path"] == ALL_MAIL
    assert hook.json["specialUse"] == "\\All"
    assert sorted(hook.json["data"]["labels"]) == ["Clients", "\\Important", "\\Inbox"]
    await asyncio.sleep(0.5)  # a second messageNew (per label) would have arrived by now
    assert len(webhook_receiver.events(event="messageNew")) == 1


async def test_label_change_from_another_client_is_message_updated(
    api: Api, hoodiecrow: Hoodiecrow, webhook_receiver: WebhookReceiver
) -> None:
    await register_gmail(api, hoodiecrow, webhook_receiver)
    added = hoodiecrow.append(message("to relabel"), labels=["\\Inbox"])
    await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    hoodiecrow.set_labels(added["uid"], ["\\Inbox", "Follow-up"], notify=True)
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageUpdated")
    assert hook.json["data"]["uid"] == added["uid"]
    assert hook.json["data"]["changes"]["labels"] == {
        "added": ["Follow-up"],
        "value": ["Follow-up", "\\Inbox"],
    }
    assert "flags" not in hook.json["data"]["changes"]


async def test_a_kept_listing_shows_labels_changed_since(
    api: Api, hoodiecrow: Hoodiecrow, webhook_receiver: WebhookReceiver
) -> None:
    added = hoodiecrow.append(message("kept"), labels=["\\Inbox"])
    account = await register_gmail(api, hoodiecrow, webhook_receiver)
    url = f"/v1/account/{account}/messages"
    [first] = (await api.client.get(url, params={"path": ALL_MAIL})).json()["messages"]
    hoodiecrow.set_labels(added["uid"], ["\\Inbox", "Follow-up"], notify=False)
    # The summary is kept from the first listing (sessions/summaries.py); labels never are.
    [again] = (await api.client.get(url, params={"path": ALL_MAIL})).json()["messages"]
    assert sorted(again["labels"]) == ["Follow-up", "\\Inbox"]
    assert (again["emailId"], again["threadId"]) == (first["emailId"], first["threadId"])
    assert len(api.service.accounts.session(account).ctx.summaries) == 1  # type: ignore[union-attr]


async def test_reply_with_the_inbox_label_is_tracked(
    api: Api, hoodiecrow: Hoodiecrow, webhook_receiver: WebhookReceiver
) -> None:
    account = await register_gmail(api, hoodiecrow, webhook_receiver)
    await api.client.post(
        f"/v1/account/{account}/tracking", json={"messageIds": ["<out-1@example.com>"]}
    )
    replying = {"In-Reply-To": "<out-1@example.com>"}
    hoodiecrow.append(message("Re: archived", headers=replying), labels=["Archive"])
    hoodiecrow.append(message("Re: offer", headers=replying), labels=["\\Inbox"])
    [reply] = await webhook_receiver.wait_for(lambda r: r.event == "messageReply")
    assert reply.json["data"]["subject"] == "Re: offer"
    assert "\\Inbox" in reply.json["data"]["labels"]
    await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=2)
    assert len(webhook_receiver.events(event="messageReply")) == 1


async def test_labels_are_set_through_the_message_api(
    api: Api, hoodiecrow: Hoodiecrow, webhook_receiver: WebhookReceiver
) -> None:
    account = await register_gmail(api, hoodiecrow, webhook_receiver)
    hoodiecrow.append(message("to label"), labels=["\\Inbox"])
    [new] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    changed = await api.client.put(
        f"/v1/account/{account}/message/{new.json['data']['id']}",
        json={"labels": {"add": ["Clients"], "delete": ["\\Inbox"]}},
    )
    assert changed.status_code == 200, changed.text
    [stored] = [m for m in hoodiecrow.messages() if m["uid"] == new.json["data"]["uid"]]
    assert stored["labels"] == ["Clients"]


async def test_sent_mail_is_not_uploaded_on_gmail(
    api: Api, hoodiecrow: Hoodiecrow, smtp: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    await api.client.post("/v1/settings", json={"webhooks": webhook_receiver.url})
    await register_gmail_sender(api, hoodiecrow, smtp)
    before = len(hoodiecrow.messages())
    sent = await api.client.post(
        "/v1/account/gmail/submit",
        json={"to": [{"address": "lead@example.org"}], "subject": "Hi", "text": "Hello\n"},
    )
    assert sent.status_code == 200, sent.text
    await webhook_receiver.wait_for(lambda r: r.event == "messageSent")
    await smtp.wait_for(1)
    assert len(hoodiecrow.messages()) == before  # Gmail files it in Sent Mail itself
