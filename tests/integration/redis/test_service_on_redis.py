"""One end-to-end slice of the service on the Redis store: a delivered message becomes one
messageNew webhook, and a service restarted on the same Redis (with an empty data dir) keeps
the account, the webhook settings and the folder state, so nothing is announced twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from imapapi.sessions.session import AccountSession
from tests.integration.conftest import Api, running_api
from tests.integration.sync.helpers import message, register, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.redis import RedisServer
from tests.servers.webhooks import Received, WebhookReceiver
from tests.unit.store.conftest import fresh_prefix

pytestmark = pytest.mark.integration


async def synced(api: Api, account: str) -> None:
    await wait_state(api, account, "connected")
    session = api.service.accounts.session(account)
    assert isinstance(session, AccountSession)
    await asyncio.wait_for(session.syncer.synced.wait(), 15)


async def test_messages_once_across_a_restart_on_the_same_redis(
    tmp_path: Path,
    redis_server: RedisServer,
    dovecot: Dovecot,
    imap_user: ImapUser,
    webhook_receiver: WebhookReceiver,
) -> None:
    on_redis = {"redis_url": redis_server.url, "redis_prefix": fresh_prefix()}

    def is_new(subject: str) -> Callable[[Received], bool]:
        return lambda r: r.event == "messageNew" and r.json["data"]["subject"] == subject

    async with running_api(tmp_path / "first", **on_redis) as api:
        assert "Redis" in repr(api.service.store)
        account = await register(api, dovecot, imap_user, webhook_receiver)
        dovecot.deliver(imap_user, message("Before restart"))
        [first] = await webhook_receiver.wait_for(is_new("Before restart"), timeout=10)
        assert first.json["account"] == account and first.json["path"] == "INBOX"
        message_id = first.json["data"]["id"]

    dovecot.deliver(imap_user, message("While stopped"))

    # A new, empty data dir: whatever the second service knows came from Redis.
    async with running_api(tmp_path / "second", **on_redis) as api:
        await synced(api, account)
        await webhook_receiver.wait_for(is_new("While stopped"), timeout=10)
        # The mailbox index survived, so the id handed out before the restart still works.
        response = await api.client.get(f"/v1/account/{account}/message/{message_id}")
        assert response.status_code == 200, response.text
        assert response.json()["subject"] == "Before restart"
        dovecot.deliver(imap_user, message("After restart"))
        await webhook_receiver.wait_for(is_new("After restart"), timeout=10)

    news = [r.json["data"]["subject"] for r in webhook_receiver.events("messageNew", account)]
    assert news == ["Before restart", "While stopped", "After restart"]
    assert len({r.json["eventId"] for r in webhook_receiver.events(account=account)}) == len(
        webhook_receiver.events(account=account)
    )
    assert not (tmp_path / "first" / "imapapi.db").exists()
    assert not (tmp_path / "second" / "imapapi.db").exists()
