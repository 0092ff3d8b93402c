"""The first sync of an account is all or nothing, so a crash half-way floods nobody."""

from __future__ import annotations

from pathlib import Path

import pytest

from imapapi.api.schemas.accounts import AccountCreate
from imapapi.imap import ImapConnection
from imapapi.sessions.connect import open_imap
from imapapi.sync import flagmap
from imapapi.syncing.syncer import AccountSyncer
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api
from tests.integration.sync.helpers import account_body, message, register
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def test_interrupted_first_sync_commits_nothing_and_restart_reports_no_old_mail(
    tmp_path: Path,
    store_backend: StoreBackend,
    dovecot: Dovecot,
    imap_user: ImapUser,
    webhook_receiver: WebhookReceiver,
) -> None:
    dovecot.deliver(imap_user, message("old inbox mail"))
    dovecot.deliver(imap_user, message("old archived mail"), folder="Archive")
    data_dir = tmp_path / "data"
    async with running_api(data_dir, store_backend, insecure=True) as api:
        body = account_body(dovecot, imap_user)
        # Store the account without a session, then run part of a first sync by hand and stop
        # as a crash would: after INBOX, before the other folders.
        config, _ = await api.service.accounts.registry.upsert(
            AccountCreate.model_validate(body).to_config()
        )
        syncer = AccountSyncer(
            config,
            api.service.store,
            on_committed=lambda: None,
            poll_interval=30,
            idle_restart=600,
        )
        conn = await open_imap(config.imap, timeout=5)
        try:
            await syncer.sync_listing(conn)
            await syncer.sync_folder(conn, syncer.folders["INBOX"], None)
        finally:
            await conn.close()
        assert await api.service.store.get_folders(imap_user.name) == []

    async with running_api(data_dir, store_backend) as api:
        await register(api, dovecot, imap_user, webhook_receiver)
        folders = {f.path for f in await api.service.store.get_folders(imap_user.name)}
        assert {"INBOX", "Archive"} <= folders
    assert webhook_receiver.events(event="messageNew") == []
    assert webhook_receiver.events(event="mailboxNew") == []


async def test_first_sync_stores_every_message_with_its_flags(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    """The bulk index fetch (imap/flagfetch.py) against the per-line fetch of the same folder:
    the stored map holds each uid with its flags, keywords included, \\Recent left out."""
    conn = await ImapConnection.connect(dovecot.host, dovecot.port, security="none")
    await conn.login(imap_user.name, imap_user.password)
    flag_sets = [(), ("\\Seen",), ("\\Seen", "\\Answered"), ("\\Flagged", "$Forwarded"), ("$L1",)]
    for n in range(120):
        await conn.append("INBOX", message(f"m{n}"), flags=flag_sets[n % len(flag_sets)])
    await conn.select("INBOX")
    await conn.uid_store([7, 8, 50], "+", ["\\Deleted"], silent=True)
    await conn.expunge([7, 8, 50])
    expected = {
        r.uid: frozenset(r.flags or ()) - {"\\Recent"}
        for r in await conn.uid_fetch("1:*", ["UID", "FLAGS"]).collect()
        if r.uid is not None
    }
    await conn.logout()
    await register(api, dovecot, imap_user, webhook_receiver)
    (inbox,) = [f for f in await api.service.store.get_folders(imap_user.name) if f.path == "INBOX"]
    assert flagmap.decode(inbox.messages_blob) == expected
    assert inbox.messages == len(expected) == 117
    assert webhook_receiver.events(event="messageNew") == []
