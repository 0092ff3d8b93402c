"""An auth server answering 404 on every retry is one `authenticationError` webhook (issue 6),
while the API and the metrics count every attempt. Real hoodiecrow, auth server, receiver."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api
from tests.integration.oauth.authserver import SERVICE_SECRET, TestAuthServer
from tests.integration.sync.helpers import wait_state
from tests.integration.sync.test_account_events import (
    ATTEMPTS,
    account_events,
    attempts_metric,
    watch_attempts,
)
from tests.servers.hoodiecrow import TOKEN, USER, Hoodiecrow
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def test_auth_server_answering_404_is_one_authentication_error(
    fast_retry_api: Api,
    hoodiecrow: Hoodiecrow,
    auth_server: TestAuthServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    api = fast_retry_api
    account = "oauth-404"
    auth_server.accounts[account] = {"user": USER, "accessToken": TOKEN}
    auth_server.fail_with = 404
    settings = {
        "authServer": auth_server.url,
        "serviceSecret": SERVICE_SECRET,
        "webhooks": webhook_receiver.url,
    }
    assert (await api.client.post("/v1/settings", json=settings)).status_code == 200
    body = {"account": account, "imap": hoodiecrow.account_settings(use_auth_server=True)}
    assert (await api.client.post("/v1/account", json=body)).status_code == 200

    seen = await watch_attempts(api, account, "authenticationError", ATTEMPTS)
    assert "HTTP 404" in seen[-1]["lastError"]
    assert len(auth_server.made("imap", status=404)) >= ATTEMPTS
    assert attempts_metric(api, "authenticationError") >= ATTEMPTS

    # The recovery's event comes after the failure's, in order: once it is here, every
    # authenticationError that was going to be sent has been.
    auth_server.fail_with = None
    await wait_state(api, account, "connected", timeout=20)
    await webhook_receiver.wait_for(lambda r: r.event == "accountConnected")
    assert account_events(webhook_receiver, account) == [
        "authenticationError",
        "accountConnected",
    ]
    [hook] = webhook_receiver.events(event="authenticationError", account=account)
    assert hook.json["data"]["code"] == "AuthServerError"
    assert "HTTP 404" in hook.json["data"]["error"]
