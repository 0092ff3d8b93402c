"""The sync engine on a server without NOTIFY, CONDSTORE and QRESYNC: IDLE on INBOX, STATUS
polls of the other folders, full UID + FLAGS comparison."""

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
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration

PLAIN_CAPABILITIES = ["IMAP4rev1", "IDLE", "UIDPLUS", "SPECIAL-USE", "LIST-EXTENDED", "ENABLE"]


@pytest.fixture(scope="module")
def plain_dovecot() -> Iterator[Dovecot]:
    server = Dovecot(capabilities=PLAIN_CAPABILITIES)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
async def polling_api(tmp_path: Path, store_backend: StoreBackend) -> AsyncIterator[Api]:
    async with running_api(tmp_path / "data", store_backend, status_poll_interval=0.3) as api:
        yield api


async def test_changes_in_every_folder_without_notify_or_condstore(
    polling_api: Api, plain_dovecot: Dovecot, webhook_receiver: WebhookReceiver
) -> None:
    user = plain_dovecot.add_user()
    account = await register(polling_api, plain_dovecot, user, webhook_receiver)
    session = polling_api.service.accounts.session(account)
    assert session is not None
    log = session.log.text()  # type: ignore[attr-defined]
    assert "NOTIFY" not in log and "CONDSTORE" not in log

    plain_dovecot.deliver(user, message("inbox news"))
    [inbox] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert inbox.json["path"] == "INBOX"

    plain_dovecot.deliver(user, message("archived news"), folder="Archive")
    [archived] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.json["path"] == "Archive"
    )
    uid = archived.json["data"]["uid"]

    def flag_and_expunge() -> None:
        client = imaplib.IMAP4(plain_dovecot.host, plain_dovecot.port)
        client.login(user.name, user.password)
        client.select("Archive")
        client.uid("STORE", str(uid), "+FLAGS", "(\\Flagged)")
        client.select("INBOX")
        client.uid("STORE", str(inbox.json["data"]["uid"]), "+FLAGS", "(\\Deleted)")
        client.expunge()
        client.logout()

    await asyncio.to_thread(flag_and_expunge)
    # The flag change in a non-selected folder is only visible to the periodic full rescan.
    [updated] = await webhook_receiver.wait_for(lambda r: r.event == "messageUpdated")
    assert updated.json["path"] == "Archive"
    assert updated.json["data"]["changes"]["flags"]["added"] == ["\\Flagged"]
    [deleted] = await webhook_receiver.wait_for(lambda r: r.event == "messageDeleted")
    assert deleted.json["path"] == "INBOX"
