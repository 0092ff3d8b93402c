"""The sync engine end to end: changes made on a real server by another client become the right
webhooks at a real receiver, in every folder, on Dovecot, Cyrus and Courier (`mail_server`).

Cyrus and Courier have no NOTIFY: `api` polls them every FAST_POLL_INTERVAL, and Courier, with
no CONDSTORE either, shows a flag change outside INBOX only to the full rescan of every tenth
poll, so waits for changes outside INBOX are bounded by RESCAN_WAIT.
"""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from imapapi.events.signing import verify
from imapapi.mail.ids import decode_message_id
from imapapi.sessions.session import AccountSession
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api, settings_for
from tests.integration.sync.helpers import (
    RESCAN_WAIT,
    checked,
    mailbox_arg,
    message,
    move,
    other_client,
    register,
    uid_of,
)
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.mailserver import MailServer
from tests.servers.webhooks import Received, WebhookReceiver

pytestmark = pytest.mark.integration
SECRET = "webhook-signing-secret-for-tests"


def of(receiver: WebhookReceiver, event: str) -> list[Received]:
    return receiver.events(event=event)


def session_of(api: Api, account: str) -> AccountSession:
    session = api.service.accounts.session(account)
    assert isinstance(session, AccountSession)
    return session


async def test_new_messages_in_inbox_and_a_nested_non_ascii_folder(
    api: Api, mail_server: MailServer, server_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    mail_server.deliver(server_user, message("already here"))  # before registration: not new
    account = await register(api, mail_server, server_user, webhook_receiver, secret=SECRET)
    raw = message(
        "=?utf-8?q?T=C3=A9l=C3=A9phone?= news",
        sender="=?iso-8859-1?q?J=FCrgen?= <jurgen@example.test>",
        message_id="<first@example.test>",
        headers={"In-Reply-To": "<orig@example.test>", "References": "<a@x> <orig@example.test>"},
    )
    mail_server.deliver(server_user, raw)
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

    folder = mail_server.path("Kunden", "Ärzte 東京")
    mail_server.deliver(server_user, message("in a folder"), folder=folder)
    hooks = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.json["path"] == folder, timeout=RESCAN_WAIT
    )
    assert hooks[0].json["data"]["subject"] == "in a folder"
    assert hooks[0].json["data"]["path"] == folder
    # The folder was new to us: it was announced too, and nothing old was reported as new.
    assert any(r.json["data"]["path"] == folder for r in of(webhook_receiver, "mailboxNew"))
    subjects = [r.json["data"]["subject"] for r in of(webhook_receiver, "messageNew")]
    assert sorted(subjects) == ["Téléphone news", "in a folder"]


async def test_flag_changes_and_expunge_from_another_client(
    api: Api, mail_server: MailServer, server_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    await register(api, mail_server, server_user, webhook_receiver)
    archive = mail_server.path("Archive")
    mail_server.deliver(server_user, message("to be flagged"), folder=archive)
    [new] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", timeout=RESCAN_WAIT)
    assert new.json["path"] == archive
    uid = new.json["data"]["uid"]

    def flag(client: imaplib.IMAP4) -> None:
        checked(client.select(mailbox_arg(archive)))
        checked(client.uid("STORE", str(uid), "+FLAGS", "(\\Seen \\Flagged)"))

    await other_client(mail_server, server_user, flag)
    [updated] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageUpdated", timeout=RESCAN_WAIT
    )
    assert updated.json["path"] == archive
    assert updated.json["data"]["id"] == new.json["data"]["id"]
    flags = updated.json["data"]["changes"]["flags"]
    assert sorted(flags["added"]) == ["\\Flagged", "\\Seen"]
    assert "deleted" not in flags

    def unflag(client: imaplib.IMAP4) -> None:
        checked(client.select(mailbox_arg(archive)))
        checked(client.uid("STORE", str(uid), "-FLAGS", "(\\Flagged)"))

    await other_client(mail_server, server_user, unflag)
    updates = await webhook_receiver.wait_for(
        lambda r: r.event == "messageUpdated", count=2, timeout=RESCAN_WAIT
    )
    assert updates[1].json["data"]["changes"]["flags"]["deleted"] == ["\\Flagged"]
    assert updates[1].json["data"]["changes"]["flags"]["value"] == ["\\Seen"]

    def expunge(client: imaplib.IMAP4) -> None:
        checked(client.select(mailbox_arg(archive)))
        checked(client.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)"))
        checked(client.expunge())

    await other_client(mail_server, server_user, expunge)
    [deleted] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageDeleted", timeout=RESCAN_WAIT
    )
    assert deleted.json["path"] == archive
    assert deleted.json["data"] == {"id": new.json["data"]["id"], "uid": uid}


async def test_flag_change_and_move_in_inbox_by_another_client(
    api: Api, mail_server: MailServer, server_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    """Changes in the watched INBOX, and a move out of it: UID MOVE where the server has it,
    else (Courier) UID COPY + \\Deleted + UID EXPUNGE."""
    await register(api, mail_server, server_user, webhook_receiver)
    mail_server.deliver(server_user, message("moving on"))
    [new] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    uid = new.json["data"]["uid"]

    def flag(client: imaplib.IMAP4) -> None:
        checked(client.select("INBOX"))
        checked(client.uid("STORE", str(uid), "+FLAGS", "(\\Answered)"))

    await other_client(mail_server, server_user, flag)
    [updated] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageUpdated", timeout=RESCAN_WAIT
    )
    assert updated.json["path"] == "INBOX"
    assert updated.json["data"]["id"] == new.json["data"]["id"]
    assert updated.json["data"]["changes"]["flags"]["added"] == ["\\Answered"]

    target = mail_server.path("Kunden", "Ärzte 東京")

    def move_out(client: imaplib.IMAP4) -> None:
        checked(client.create(mailbox_arg(mail_server.path("Kunden"))))
        checked(client.create(mailbox_arg(target)))
        checked(client.select("INBOX"))
        move(client, uid, target)

    await other_client(mail_server, server_user, move_out)
    [deleted] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageDeleted", timeout=RESCAN_WAIT
    )
    assert deleted.json["path"] == "INBOX"
    assert deleted.json["data"] == {"id": new.json["data"]["id"], "uid": uid}
    [arrived] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.json["path"] == target, timeout=RESCAN_WAIT
    )
    assert arrived.json["data"]["subject"] == "moving on"
    assert arrived.json["data"]["id"] != new.json["data"]["id"]
    assert "\\Answered" in arrived.json["data"]["flags"]


async def test_folder_created_deleted_and_recreated(
    api: Api, mail_server: MailServer, server_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    account = await register(api, mail_server, server_user, webhook_receiver)
    reports = mail_server.path("Reports")
    await other_client(mail_server, server_user, lambda c: checked(c.create(mailbox_arg(reports))))
    [created] = await webhook_receiver.wait_for(
        lambda r: r.event == "mailboxNew", timeout=RESCAN_WAIT
    )
    assert created.json["data"]["path"] == reports
    mail_server.deliver(server_user, message("old report"), folder=reports)
    [old] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", timeout=RESCAN_WAIT)

    # Recreate with mail in it while the service is looking: a new UIDVALIDITY.
    await api.service.accounts.reconnect(account)  # not needed for NOTIFY; exercises resync
    await other_client(mail_server, server_user, lambda c: checked(c.delete(mailbox_arg(reports))))
    await webhook_receiver.wait_for(lambda r: r.event == "mailboxDeleted", timeout=RESCAN_WAIT)
    await other_client(mail_server, server_user, lambda c: checked(c.create(mailbox_arg(reports))))
    await webhook_receiver.wait_for(lambda r: r.event == "mailboxNew", count=2, timeout=RESCAN_WAIT)

    response = await api.client.get(f"/v1/account/{account}/mailboxes")
    assert reports in {m["path"] for m in response.json()["mailboxes"]}
    folders = {f.path: f for f in await api.service.store.get_folders(account)}
    assert folders[reports].index != decode_message_id(old.json["data"]["id"])[0]


@pytest.fixture
async def relisting_api(
    tmp_path: Path, store_backend: StoreBackend, mail_server: MailServer
) -> AsyncIterator[Api]:
    """Dovecot 2.3 sends no NOTIFY event for a folder another client renamed: the service
    finds it at its periodic LIST-STATUS comparison (`relist_interval`), short here."""
    settings = {**settings_for(mail_server), "relist_interval": 1.0}
    async with running_api(tmp_path / "data", store_backend, **settings) as running:
        yield running


async def test_folder_renamed_by_another_client(
    relisting_api: Api,
    mail_server: MailServer,
    server_user: ImapUser,
    webhook_receiver: WebhookReceiver,
) -> None:
    api = relisting_api
    account = await register(api, mail_server, server_user, webhook_receiver)
    before, after = mail_server.path("Projekte"), mail_server.path("Projekte Ärchiv")
    mail_server.deliver(server_user, message("kept across the rename"), folder=before)
    [new] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.json["path"] == before, timeout=RESCAN_WAIT
    )

    def rename(client: imaplib.IMAP4) -> None:
        checked(client.rename(mailbox_arg(before), mailbox_arg(after)))

    await other_client(mail_server, server_user, rename)
    [gone] = await webhook_receiver.wait_for(
        lambda r: r.event == "mailboxDeleted", timeout=RESCAN_WAIT
    )
    assert gone.json["data"]["path"] == before
    await webhook_receiver.wait_for(
        lambda r: r.event == "mailboxNew" and r.json["data"]["path"] == after,
        timeout=RESCAN_WAIT,
    )
    listing = await api.client.get(f"/v1/account/{account}/messages", params={"path": after})
    assert listing.status_code == 200, listing.text
    [moved] = listing.json()["messages"]
    assert moved["subject"] == "kept across the rename"
    assert moved["id"] != new.json["data"]["id"]  # a folder of its own: ids are not reused
    stale = await api.client.get(f"/v1/account/{account}/message/{new.json['data']['id']}")
    assert stale.status_code == 404, stale.text


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


async def test_folder_states_are_read_from_the_store_once_per_connection(
    api: Api,
    mail_server: MailServer,
    server_user: ImapUser,
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The syncer keeps what it committed: syncs read no folder state back from the store, and
    what it keeps is what the store holds; a new connection reads the store afresh."""
    account = await register(api, mail_server, server_user, webhook_receiver)
    store = session_of(api, account).syncer.store
    read = store.get_folders
    reads: list[str] = []

    async def counted(name: str) -> list[Any]:
        reads.append(name)
        return await read(name)

    monkeypatch.setattr(store, "get_folders", counted)
    for n in range(1, 4):
        mail_server.deliver(server_user, message(f"news {n}"))
        await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=n)
    assert reads == []
    kept = session_of(api, account).syncer._stored
    assert kept == {f.path: f for f in await read(account)}

    await api.service.accounts.reconnect(account)
    mail_server.deliver(server_user, message("after reconnect"))
    await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=4)
    assert reads == [account]
    subjects = [r.json["data"]["subject"] for r in of(webhook_receiver, "messageNew")]
    assert subjects == ["news 1", "news 2", "news 3", "after reconnect"]


async def test_changes_while_stopped_are_reported_after_restart(
    tmp_path: Path,
    store_backend: StoreBackend,
    mail_server: MailServer,
    server_user: ImapUser,
    webhook_receiver: WebhookReceiver,
) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(mail_server)
    for subject in ("keep", "flag me", "delete me"):
        mail_server.deliver(server_user, message(subject))
    async with running_api(data_dir, store_backend, **settings) as api:
        await register(api, mail_server, server_user, webhook_receiver)
    assert of(webhook_receiver, "messageNew") == []  # existing mail is not new

    def change(client: imaplib.IMAP4) -> tuple[int, int]:
        checked(client.select("INBOX"))
        flagged, deleted = uid_of(client, "flag me"), uid_of(client, "delete me")
        checked(client.uid("STORE", str(flagged), "+FLAGS", "(\\Flagged)"))
        checked(client.uid("STORE", str(deleted), "+FLAGS", "(\\Deleted)"))
        checked(client.expunge())
        return flagged, deleted

    flagged, deleted = await other_client(mail_server, server_user, change)
    mail_server.deliver(server_user, message("arrived while away"))
    mail_server.deliver(server_user, message("also while away"), folder=mail_server.path("Sent"))

    async with running_api(data_dir, store_backend, **settings) as api:
        await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=2)
        await webhook_receiver.wait_for(lambda r: r.event == "messageDeleted")
        await webhook_receiver.wait_for(lambda r: r.event == "messageUpdated")
        await asyncio.sleep(0.5)  # anything extra would have arrived by now
    news = sorted(r.json["data"]["subject"] for r in of(webhook_receiver, "messageNew"))
    assert news == ["also while away", "arrived while away"]
    assert [r.json["data"]["uid"] for r in of(webhook_receiver, "messageDeleted")] == [deleted]
    [updated] = of(webhook_receiver, "messageUpdated")
    assert updated.json["data"]["uid"] == flagged
    assert updated.json["data"]["changes"]["flags"]["added"] == ["\\Flagged"]


async def test_changes_while_disconnected_are_reported_after_reconnect(
    api: Api, mail_server: MailServer, server_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    """The session is stopped (its connections closed) and started again in a running service;
    what changed in between, in INBOX and in another folder, is reported once."""
    archive = mail_server.path("Archive")
    mail_server.deliver(server_user, message("inbox, flag me"))
    mail_server.deliver(server_user, message("archive, delete me"), folder=archive)
    account = await register(api, mail_server, server_user, webhook_receiver)
    session = session_of(api, account)
    await session.stop()

    def change(client: imaplib.IMAP4) -> tuple[int, int]:
        checked(client.select("INBOX"))
        flagged = uid_of(client, "inbox, flag me")
        checked(client.uid("STORE", str(flagged), "+FLAGS", "(\\Seen)"))
        checked(client.select(mailbox_arg(archive)))
        deleted = uid_of(client, "archive, delete me")
        checked(client.uid("STORE", str(deleted), "+FLAGS", "(\\Deleted)"))
        checked(client.expunge())
        return flagged, deleted

    flagged, deleted = await other_client(mail_server, server_user, change)
    mail_server.deliver(server_user, message("new in archive"), folder=archive)
    await session.start()

    [new] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert (new.json["path"], new.json["data"]["subject"]) == (archive, "new in archive")
    [gone] = await webhook_receiver.wait_for(lambda r: r.event == "messageDeleted")
    assert (gone.json["path"], gone.json["data"]["uid"]) == (archive, deleted)
    [updated] = await webhook_receiver.wait_for(lambda r: r.event == "messageUpdated")
    assert (updated.json["path"], updated.json["data"]["uid"]) == ("INBOX", flagged)
    assert updated.json["data"]["changes"]["flags"]["added"] == ["\\Seen"]


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
