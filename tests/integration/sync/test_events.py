"""The sync engine end to end: changes made on the real Dovecot by another client become the
right webhooks at a real receiver, in every folder."""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from imapapi.events.signing import verify
from imapapi.mail.ids import decode_message_id
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api
from tests.integration.sync.helpers import message, register
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import Received, WebhookReceiver

pytestmark = pytest.mark.integration
T = TypeVar("T")
SECRET = "webhook-signing-secret-for-tests"


async def other_client(dovecot: Dovecot, user: ImapUser, action: Callable[[imaplib.IMAP4], T]) -> T:
    """Run `action` on a separate stdlib imaplib connection (another mail client)."""

    def run() -> T:
        client = imaplib.IMAP4(dovecot.host, dovecot.port)
        try:
            client.login(user.name, user.password)
            return action(client)
        finally:
            client.logout()

    return await asyncio.to_thread(run)


def of(receiver: WebhookReceiver, event: str) -> list[Received]:
    return receiver.events(event=event)


async def test_new_messages_in_inbox_and_a_nested_non_ascii_folder(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    dovecot.deliver(imap_user, message("already here"))  # before registration: not new
    account = await register(api, dovecot, imap_user, webhook_receiver, secret=SECRET)
    raw = message(
        "=?utf-8?q?T=C3=A9l=C3=A9phone?= news",
        sender="=?iso-8859-1?q?J=FCrgen?= <jurgen@example.test>",
        message_id="<first@example.test>",
        headers={"In-Reply-To": "<orig@example.test>", "References": "<a@x> <orig@example.test>"},
    )
    dovecot.deliver(imap_user, raw)
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    payload: dict[str, Any] = hook.json
    assert verify(hook.body, SECRET, hook.header("X-Imapapi-Signature"))
    assert hook.header("X-Imapapi-Event-Id") == payload["eventId"]
    assert payload["account"] == account
    assert payload["path"] == "INBOX"
    assert payload["specialUse"] == "\\Inbox"
    data = payload["data"]
    assert data["subject"] == "Téléphone news"
    assert data["from"] == {"name": "Jürgen", "address": "jurgen@example.test"}
    assert data["messageId"] == "<first@example.test>"
    assert data["inReplyTo"] == "<orig@example.test>"
    assert data["references"] == ["<a@x>", "<orig@example.test>"]
    assert data["unseen"] is True
    assert data["date"] == "2019-10-07T06:05:23.000Z"
    assert data["text"]["encodedSize"]["plain"] > 0
    assert decode_message_id(data["id"])[1] == data["uid"]

    folder = "Kunden/Ärzte 東京"
    dovecot.deliver(imap_user, message("in a folder"), folder=folder)
    hooks = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.json["path"] == folder
    )
    assert hooks[0].json["data"]["subject"] == "in a folder"
    assert hooks[0].json["data"]["path"] == folder
    # The folder was new to us: it was announced too, and nothing old was reported as new.
    assert any(r.json["data"]["path"] == folder for r in of(webhook_receiver, "mailboxNew"))
    subjects = [r.json["data"]["subject"] for r in of(webhook_receiver, "messageNew")]
    assert sorted(subjects) == ["Téléphone news", "in a folder"]


async def test_flag_changes_and_expunge_from_another_client(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    await register(api, dovecot, imap_user, webhook_receiver)
    dovecot.deliver(imap_user, message("to be flagged"), folder="Archive")
    [new] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    uid = new.json["data"]["uid"]

    def flag(client: imaplib.IMAP4) -> None:
        client.select("Archive")
        client.uid("STORE", str(uid), "+FLAGS", "(\\Seen \\Flagged)")

    await other_client(dovecot, imap_user, flag)
    [updated] = await webhook_receiver.wait_for(lambda r: r.event == "messageUpdated")
    assert updated.json["path"] == "Archive"
    assert updated.json["data"]["id"] == new.json["data"]["id"]
    flags = updated.json["data"]["changes"]["flags"]
    assert sorted(flags["added"]) == ["\\Flagged", "\\Seen"]
    assert "deleted" not in flags

    def unflag(client: imaplib.IMAP4) -> None:
        client.select("Archive")
        client.uid("STORE", str(uid), "-FLAGS", "(\\Flagged)")

    await other_client(dovecot, imap_user, unflag)
    updates = await webhook_receiver.wait_for(lambda r: r.event == "messageUpdated", count=2)
    assert updates[1].json["data"]["changes"]["flags"]["deleted"] == ["\\Flagged"]
    assert updates[1].json["data"]["changes"]["flags"]["value"] == ["\\Seen"]

    def expunge(client: imaplib.IMAP4) -> None:
        client.select("Archive")
        client.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)")
        client.expunge()

    await other_client(dovecot, imap_user, expunge)
    [deleted] = await webhook_receiver.wait_for(lambda r: r.event == "messageDeleted")
    assert deleted.json["data"] == {"id": new.json["data"]["id"], "uid": uid}


async def test_folder_created_deleted_and_recreated(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    account = await register(api, dovecot, imap_user, webhook_receiver)
    await other_client(dovecot, imap_user, lambda c: c.create("Reports"))
    [created] = await webhook_receiver.wait_for(lambda r: r.event == "mailboxNew")
    assert created.json["data"]["path"] == "Reports"
    dovecot.deliver(imap_user, message("old report"), folder="Reports")
    [old] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")

    # Recreate with mail in it while the service is looking: a new UIDVALIDITY.
    await api.service.accounts.reconnect(account)  # not needed for NOTIFY; exercises resync
    await other_client(dovecot, imap_user, lambda c: c.delete("Reports"))
    await webhook_receiver.wait_for(lambda r: r.event == "mailboxDeleted")
    await other_client(dovecot, imap_user, lambda c: c.create("Reports"))
    await webhook_receiver.wait_for(lambda r: r.event == "mailboxNew", count=2)

    response = await api.client.get(f"/v1/account/{account}/mailboxes")
    assert "Reports" in {m["path"] for m in response.json()["mailboxes"]}
    folders = {f.path: f for f in await api.service.store.get_folders(account)}
    assert folders["Reports"].index != decode_message_id(old.json["data"]["id"])[0]


async def test_uidvalidity_change_is_a_mailbox_reset(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    account = await register(api, dovecot, imap_user, webhook_receiver)
    dovecot.deliver(imap_user, message("before"), folder="Archive")
    await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    before = {f.path: f for f in await api.service.store.get_folders(account)}["Archive"]
    await api.service.accounts.registry.get(account)
    # Stop the session, recreate the folder behind its back, start again: the folder is back
    # under the same name with a new UIDVALIDITY.
    session = api.service.accounts.session(account)
    assert session is not None
    await session.stop()
    dovecot.doveadm("mailbox", "delete", "-u", imap_user.name, "Archive")
    dovecot.doveadm("mailbox", "create", "-u", imap_user.name, "Archive")
    dovecot.deliver(imap_user, message("after"), folder="Archive")
    await session.start()
    [reset] = await webhook_receiver.wait_for(lambda r: r.event == "mailboxReset")
    assert reset.json["path"] == "Archive"
    assert reset.json["data"]["prevUidValidity"] == before.uid_validity
    after = {f.path: f for f in await api.service.store.get_folders(account)}["Archive"]
    assert after.uid_validity != before.uid_validity
    assert after.index != before.index
    assert after.messages == 1


async def test_changes_while_stopped_are_reported_after_restart(
    tmp_path: Path,
    store_backend: StoreBackend,
    dovecot: Dovecot,
    imap_user: ImapUser,
    webhook_receiver: WebhookReceiver,
) -> None:
    data_dir = tmp_path / "data"
    for subject in ("keep", "flag me", "delete me"):
        dovecot.deliver(imap_user, message(subject))
    async with running_api(data_dir, store_backend) as api:
        await register(api, dovecot, imap_user, webhook_receiver)
    assert of(webhook_receiver, "messageNew") == []  # existing mail is not new

    def change(client: imaplib.IMAP4) -> None:
        client.select("INBOX")
        client.uid("STORE", "2", "+FLAGS", "(\\Flagged)")
        client.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
        client.expunge()

    await other_client(dovecot, imap_user, change)
    dovecot.deliver(imap_user, message("arrived while away"))
    dovecot.deliver(imap_user, message("also while away"), folder="Sent")

    async with running_api(data_dir, store_backend) as api:
        await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=2)
        await webhook_receiver.wait_for(lambda r: r.event == "messageDeleted")
        await webhook_receiver.wait_for(lambda r: r.event == "messageUpdated")
        await asyncio.sleep(0.5)  # anything extra would have arrived by now
    news = sorted(r.json["data"]["subject"] for r in of(webhook_receiver, "messageNew"))
    assert news == ["also while away", "arrived while away"]
    assert [r.json["data"]["uid"] for r in of(webhook_receiver, "messageDeleted")] == [3]
    [updated] = of(webhook_receiver, "messageUpdated")
    assert updated.json["data"]["uid"] == 2
    assert updated.json["data"]["changes"]["flags"]["added"] == ["\\Flagged"]


async def test_failing_receiver_gets_the_events_later_in_order(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    await register(api, dovecot, imap_user, webhook_receiver)
    webhook_receiver.respond_with(500)
    for i in range(3):
        dovecot.deliver(imap_user, message(f"message {i}"))
    await webhook_receiver.wait_for(lambda r: r.status == 500, count=2)
    webhook_receiver.respond_with(200)
    assert api.service.dispatcher is not None
    # Retries are due after the backoff; skip the wait instead of sleeping through it.
    await api.service.store.replay_dead_events(None, 0)
    for event in await api.service.store.due_events(now=10**12, limit=100):
        await api.service.store.event_retry(event.seq, event.attempts, 0.0, "test: due now")
    api.service.dispatcher.wake()
    delivered = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.status == 200, count=3, timeout=15
    )
    assert [r.json["data"]["subject"] for r in delivered] == [f"message {i}" for i in range(3)]
