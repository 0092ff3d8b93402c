"""The first sync of an account is all or nothing, so a crash half-way floods nobody."""

from __future__ import annotations

from pathlib import Path

import pytest

from imapapi.accounts.connect import open_imap
from imapapi.accounts.syncer import AccountSyncer
from imapapi.api.schemas.accounts import AccountCreate
from tests.integration.backends import StoreBackend
from tests.integration.conftest import running_api
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
