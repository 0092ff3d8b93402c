"""Changes a server pushes on the selected mailbox while imapapi IDLEs there (no NOTIFY): flag
changes as FETCH, expunges as EXPUNGE or, with QRESYNC, VANISHED (issue 14, defects 2 and 3).

Cyrus pushes the FETCH of `STORE +FLAGS (\\Deleted)` at once and the VANISHED of the EXPUNGE
after it; the FETCH must not outlive the VANISHED. A Dovecot that offers QRESYNC but not NOTIFY
behaves the same way on the selected INBOX, so the mechanism is checked on both.
"""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import Iterator

import pytest

from tests.integration.conftest import Api
from tests.integration.sync.helpers import message, register
from tests.servers.dovecot import Dovecot
from tests.servers.mailserver import ImapUser, MailServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration

# Dovecot as a server with CONDSTORE and QRESYNC but without NOTIFY: IDLE on the selected INBOX.
QRESYNC_NO_NOTIFY = [
    "IMAP4rev1",
    "IDLE",
    "UIDPLUS",
    "SPECIAL-USE",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "ENABLE",
    "CONDSTORE",
    "QRESYNC",
    "MOVE",
]


@pytest.fixture(scope="module")
def qresync_dovecot() -> Iterator[Dovecot]:
    server = Dovecot(capabilities=QRESYNC_NO_NOTIFY)
    server.start()
    try:
        yield server
    finally:
        server.close()


def other_client(server: MailServer, user: ImapUser) -> imaplib.IMAP4:
    client = imaplib.IMAP4(server.host, server.port)
    client.login(user.name, user.password)
    return client


async def test_store_deleted_then_expunge_is_one_delete(
    api: Api, mail_server: MailServer, webhook_receiver: WebhookReceiver
) -> None:
    await store_deleted_then_expunge(api, mail_server, webhook_receiver)


async def test_store_deleted_then_expunge_without_notify(
    api: Api, qresync_dovecot: Dovecot, webhook_receiver: WebhookReceiver
) -> None:
    """Dovecot, QRESYNC but no NOTIFY: IDLE on the selected INBOX, like Cyrus."""
    await store_deleted_then_expunge(api, qresync_dovecot, webhook_receiver)


async def store_deleted_then_expunge(
    api: Api, idle_server: MailServer, webhook_receiver: WebhookReceiver
) -> None:
    user = idle_server.add_user()
    account = await register(api, idle_server, user, webhook_receiver)
    for n in range(3):
        idle_server.deliver(user, message(f"message {n}"))
    news = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=3)
    uids = sorted(h.json["data"]["uid"] for h in news)

    def delete(uid: int) -> None:
        client = other_client(idle_server, user)
        try:
            client.select("INBOX")
            client.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)")
            client.expunge()
        finally:
            client.logout()

    # The highest UID too: `UID FETCH 1:*` ends at the highest UID left, and the VANISHED
    # (EARLIER) answer covers only the UIDs asked for (RFC 7162 §3.2.6).
    for uid in (uids[0], uids[-1]):
        await asyncio.to_thread(delete, uid)
        [deleted] = await webhook_receiver.wait_for(
            lambda r, uid=uid: r.event == "messageDeleted" and r.json["data"]["uid"] == uid,
            timeout=15,
        )
        assert deleted.json["account"] == account
    # The stored state agrees: one message left, and later syncs announce nothing more.
    await asyncio.sleep(1.0)
    deletes = [h.json["data"]["uid"] for h in webhook_receiver.events(event="messageDeleted")]
    assert sorted(deletes) == [uids[0], uids[-1]]
    listing = await api.client.get(f"/v1/account/{account}/messages", params={"path": "INBOX"})
    assert [m["uid"] for m in listing.json()["messages"]] == [uids[1]]


async def test_new_message_flags_never_show_recent(
    api: Api, mail_server: MailServer, server_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    """\\Recent is the announcing session's state (RFC 3501 §2.3.2); Cyrus sent it in every
    messageNew, and the listing hid it: both now show the message's own flags only."""
    account = await register(api, mail_server, server_user, webhook_receiver)
    mail_server.deliver(server_user, message("flagged news"), flags=["\\Flagged"])
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert hook.json["data"]["flags"] == ["\\Flagged"]
    listing = await api.client.get(f"/v1/account/{account}/messages", params={"path": "INBOX"})
    assert [m["flags"] for m in listing.json()["messages"]] == [["\\Flagged"]]
