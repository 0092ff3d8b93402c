"""First end-to-end check, on every server: a delivered message becomes one messageNew webhook."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api
from tests.integration.sync.helpers import message, register
from tests.servers.mailserver import ImapUser, MailServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def test_new_message_in_inbox_is_one_webhook(
    api: Api, mail_server: MailServer, server_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    account = await register(api, mail_server, server_user, webhook_receiver)
    mail_server.deliver(server_user, message("Tere, maailm"))
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", timeout=10)
    assert hook.json["account"] == account
    assert hook.json["path"] == "INBOX"
    assert hook.json["data"]["subject"] == "Tere, maailm"
