"""Changes a server pushes on the selected mailbox while imapapi IDLEs there (no NOTIFY): flag
changes as FETCH, expunges as EXPUNGE or, with QRESYNC, VANISHED (issue 14, defects 2 and 3).

Cyrus pushes the FETCH of `STORE +FLAGS (\\Deleted)` at once and the VANISHED of the EXPUNGE
after it; the FETCH must not outlive the VANISHED. A Dovecot that offers QRESYNC but not NOTIFY
behaves the same way on the selected INBOX, so the mechanism is checked on both.
"""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api
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


@pytest.fixture(params=["server", "dovecot-without-notify"])
def idle_server(request: pytest.FixtureRequest, mail_server: MailServer) -> MailServer:
    if request.param == "server":
        return mail_server
    if mail_server.kind != "dovecot":
        pytest.skip("the NOTIFY-less Dovecot is one more server, run once")
    server: MailServer = request.getfixturevalue("qresync_dovecot")
    return server


@pytest.fixture
async def slow_poll_api(tmp_path: Path, store_backend: StoreBackend) -> AsyncIterator[Api]:
    """Polls of the other folders rare enough that only the pushes can explain an event."""
    async with running_api(tmp_path / "data", store_backend, status_poll_interval=60.0) as api:
        yield api


def other_client(server: MailServer, user: ImapUser) -> imaplib.IMAP4:
    client = imaplib.IMAP4(server.host, server.port)
    client.login(user.name, user.password)
    return client


async def test_store_deleted_then_expunge_is_one_delete(
    slow_poll_api: Api, idle_server: MailServer, webhook_receiver: WebhookReceiver
) -> None:
    api = slow_poll_api
    user = idle_server.add_user()
    account = await register(api, idle_server, user, webhook_receiver)
    for n in range(3):
        idle_server.deliver(user, message(f"message {n}"))
    news = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=3)
    uids = sorted(h.json["data"]["uid"] for h in news)
    assert all("\\Recent" not in h.json["data"]["flags"] for h in news), news[0].json

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
