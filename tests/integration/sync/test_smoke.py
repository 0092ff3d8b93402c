"""First end-to-end check: a delivered message becomes one messageNew webhook."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api
from tests.integration.sync.helpers import message, register
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def test_new_message_in_inbox_is_one_webhook(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    account = await register(api, dovecot, imap_user, webhook_receiver)
    dovecot.deliver(imap_user, message("Tere, maailm"))
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", timeout=10)
    assert hook.json["account"] == account
    assert hook.json["path"] == "INBOX"
    assert hook.json["data"]["subject"] == "Tere, maailm"
