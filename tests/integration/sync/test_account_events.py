"""Account events follow the state, not the attempts (issue 6): an outage is one `connectError`
while the API and the metrics show every attempt. Real Dovecot (stopped and started), real
webhook receiver. The auth-server side: tests/integration/oauth/test_account_events.py."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.integration.sync.helpers import register, wait_state
from tests.servers.dovecot import Dovecot
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration

ACCOUNT_EVENTS = ("accountConnected", "connectError", "authenticationError")
ATTEMPTS = 4  # failed attempts each test waits for: "several", more than one event's worth


def account_events(receiver: WebhookReceiver, account: str) -> list[str]:
    return [r.event or "" for r in receiver.events(account=account) if r.event in ACCOUNT_EVENTS]


def attempts_metric(api: Api, result: str) -> float:
    value = api.service.metrics.registry.get_sample_value(
        "imapapi_imap_connection_attempts_total", {"result": result}
    )
    assert value is not None
    return value


async def watch_attempts(
    api: Api, account: str, state: str, count: int, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """Poll the account until `count` attempts failed; every answer seen, in order."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1]["attempts"] < count:
        assert time.monotonic() < deadline, f"attempts never reached {count}: {seen[-1:]}"
        body = (await api.client.get(f"/v1/account/{account}")).json()
        if body["attempts"] > 0:
            assert body["state"] == state, body  # no flicker through `connecting` on retries
            seen.append(body)
        await asyncio.sleep(0.02)
    return seen


async def test_an_outage_is_one_connect_error_however_many_attempts_fail(
    fast_retry_api: Api, own_dovecot: Dovecot, webhook_receiver: WebhookReceiver
) -> None:
    api = fast_retry_api
    account = await register(api, own_dovecot, own_dovecot.add_user(), webhook_receiver)
    await webhook_receiver.wait_for(lambda r: r.event == "accountConnected")
    connected = (await api.client.get(f"/v1/account/{account}")).json()
    assert connected["attempts"] == 0
    assert connected["nextAttempt"] is None and connected["lastError"] is None
    failures_before = attempts_metric(api, "connectError")

    own_dovecot.stop()
    seen = await watch_attempts(api, account, "connectError", ATTEMPTS)
    counts = [body["attempts"] for body in seen]
    assert counts == sorted(counts) and set(range(1, ATTEMPTS + 1)) <= set(counts), counts
    assert all(body["lastError"] for body in seen)
    due = [body["nextAttempt"] for body in seen if body["nextAttempt"] is not None]
    assert due, seen
    assert len({datetime.fromisoformat(d.replace("Z", "+00:00")) for d in due}) >= 2, due
    assert attempts_metric(api, "connectError") - failures_before >= ATTEMPTS

    own_dovecot.start()
    await wait_state(api, account, "connected", timeout=20)
    # Delivery is in order per account: once the second accountConnected arrived, every
    # event before it has too.
    await webhook_receiver.wait_for(
        lambda r: r.account == account and r.event == "accountConnected", count=2
    )
    assert account_events(webhook_receiver, account) == [
        "accountConnected",
        "connectError",
        "accountConnected",
    ]
    [outage] = webhook_receiver.events(event="connectError", account=account)
    assert outage.json["data"]["state"] == "connectError"
    assert outage.json["data"]["code"]
    back = (await api.client.get(f"/v1/account/{account}")).json()
    assert (back["attempts"], back["nextAttempt"], back["lastError"]) == (0, None, None)

    # A recovery resets what was reported: the next outage is reported again, once.
    own_dovecot.stop()
    await watch_attempts(api, account, "connectError", ATTEMPTS)
    own_dovecot.start()
    await wait_state(api, account, "connected", timeout=20)
    await webhook_receiver.wait_for(
        lambda r: r.account == account and r.event == "accountConnected", count=3
    )
    assert account_events(webhook_receiver, account) == [
        "accountConnected",
        "connectError",
        "accountConnected",
        "connectError",
        "accountConnected",
    ]
