"""`useAuthServer` accounts end to end: the service asks the example auth server (for real, over
HTTP, signed) before each login, logs in to hoodiecrow with XOAUTH2 and sends through aiosmtpd
with XOAUTH2; auth-server outages and refused tokens; the token never shows anywhere."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from imapapi.errors import AuthenticationFailedError
from imapapi.sessions.session import AccountSession
from imapapi.smtp.client import smtp_session
from tests.integration.conftest import Api
from tests.integration.oauth.authserver import SERVICE_SECRET, TestAuthServer
from tests.integration.sync.helpers import wait_state
from tests.servers.hoodiecrow import TOKEN, USER, Hoodiecrow
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration

ACCOUNT = "oauth-user"
NEW_TOKEN = "ya29.the-refreshed-access-token"


async def configure(
    api: Api, auth: TestAuthServer, receiver: WebhookReceiver | None = None
) -> None:
    settings: dict[str, Any] = {"authServer": auth.url, "serviceSecret": SERVICE_SECRET}
    if receiver is not None:
        settings["webhooks"] = receiver.url
    response = await api.client.post("/v1/settings", json=settings)
    assert response.status_code == 200, response.text


async def register(api: Api, hoodiecrow: Hoodiecrow, smtp: SmtpServer | None = None) -> None:
    body: dict[str, Any] = {
        "account": ACCOUNT,
        "name": "OAuth user",
        "email": USER,
        "imap": hoodiecrow.account_settings(use_auth_server=True),
    }
    if smtp is not None:
        body["smtp"] = {"host": smtp.host, "port": smtp.port, "useAuthServer": True}
    response = await api.client.post("/v1/account", json=body)
    assert response.status_code == 200, response.text


def session_of(api: Api) -> AccountSession:
    session = api.service.accounts.session(ACCOUNT)
    assert isinstance(session, AccountSession)
    return session


async def protocol_log(api: Api) -> str:
    response = await api.client.get(f"/v1/logs/{ACCOUNT}")
    assert response.status_code == 200
    return response.text


async def wait_until(check: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.05)


async def test_xoauth2_imap_and_smtp_through_the_auth_server(
    api: Api,
    hoodiecrow: Hoodiecrow,
    auth_server: TestAuthServer,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": TOKEN}
    smtp.add_token(USER, TOKEN)
    await configure(api, auth_server, webhook_receiver)
    await register(api, hoodiecrow, smtp)
    await wait_state(api, ACCOUNT, "connected")

    # The example auth server checks the signature, so a 200 means it was signed correctly.
    assert [(r.account, r.proto, r.status) for r in auth_server.requests] == [
        (ACCOUNT, "imap", 200)
    ]
    mailboxes = (await api.client.get(f"/v1/account/{ACCOUNT}/mailboxes")).json()["mailboxes"]
    assert {m["path"]: m["specialUse"] for m in mailboxes}["[Gmail]/All Mail"] == "\\All"

    response = await api.client.post(
        f"/v1/account/{ACCOUNT}/submit",
        json={"to": ["Bob <bob@example.com>"], "subject": "Over XOAUTH2", "text": "Hi Bob\n"},
    )
    assert response.status_code == 200, response.text
    (sent,) = await smtp.wait_for(1)
    assert sent.auth_user == USER
    assert sent.message()["Subject"] == "Over XOAUTH2"
    assert smtp.oauth_attempts == [("XOAUTH2", USER)]
    assert [r.proto for r in auth_server.made()].count("smtp") == 1
    await webhook_receiver.wait_for(lambda r: r.event == "messageSent")

    # Nowhere to be seen: protocol log, API output, webhooks, our logs.
    log_text = await protocol_log(api)
    assert "AUTHENTICATE ***" in log_text
    outputs = [
        log_text,
        (await api.client.get(f"/v1/account/{ACCOUNT}")).text,
        (await api.client.get("/v1/accounts")).text,
        (await api.client.get("/v1/settings")).text,
        *(r.body.decode() for r in webhook_receiver.received),
        caplog.text,
    ]
    for text in outputs:
        assert TOKEN not in text
        assert SERVICE_SECRET not in text


async def test_auth_server_outage_is_an_authentication_error_then_recovers(
    api: Api,
    hoodiecrow: Hoodiecrow,
    auth_server: TestAuthServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": TOKEN}
    auth_server.fail_with = 500
    await configure(api, auth_server, webhook_receiver)
    await register(api, hoodiecrow)
    body = await wait_state(api, ACCOUNT, "authenticationError")
    assert "auth server answered HTTP 500" in str(body)
    (event,) = await webhook_receiver.wait_for(
        lambda r: r.event == "authenticationError" and r.account == ACCOUNT
    )
    assert "HTTP 500" in event.json["data"]["error"]
    assert "auth server trouble" not in str(body)  # the answer's body is never quoted

    # An outage is retried on the short backoff (the password one waits a minute or more).
    auth_server.fail_with = None
    await wait_state(api, ACCOUNT, "connected", timeout=20)
    await webhook_receiver.wait_for(lambda r: r.event == "accountConnected")
    assert auth_server.made("imap", status=500)
    assert len(auth_server.made("imap", status=200)) == 1


async def test_wrong_service_secret_is_refused_by_the_auth_server(
    api: Api, hoodiecrow: Hoodiecrow, auth_server: TestAuthServer
) -> None:
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": TOKEN}
    response = await api.client.post(
        "/v1/settings",
        json={"authServer": auth_server.url, "serviceSecret": "not-the-secret-it-knows"},
    )
    assert response.status_code == 200
    await register(api, hoodiecrow)
    body = await wait_state(api, ACCOUNT, "authenticationError")
    assert "HTTP 403" in str(body)
    assert auth_server.made("imap", status=403)


async def test_refused_token_is_refreshed_once_then_connects(
    api: Api, hoodiecrow: Hoodiecrow, auth_server: TestAuthServer, webhook_receiver: WebhookReceiver
) -> None:
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": TOKEN}
    await configure(api, auth_server, webhook_receiver)
    await register(api, hoodiecrow)
    await wait_state(api, ACCOUNT, "connected")
    assert len(auth_server.made("imap")) == 1
    before = (await protocol_log(api)).count("AUTHENTICATE ***")

    # The provider revokes the cached token; the auth server now hands out a new one.
    hoodiecrow.set_user(USER, access_token=NEW_TOKEN)
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": NEW_TOKEN}
    assert (await api.client.put(f"/v1/account/{ACCOUNT}/reconnect")).status_code == 200

    async def logged_in_again() -> bool:
        text = await protocol_log(api)
        connected = session_of(api).status.state.value == "connected"
        return connected and text.count("AUTHENTICATE ***") >= before + 2

    await wait_until(logged_in_again, "a second login after the reconnect")
    await wait_state(api, ACCOUNT, "connected")
    text = await protocol_log(api)
    # The cached token was tried once and refused, the fresh one once and accepted.
    assert text.count("AUTHENTICATE ***") == before + 2
    assert text.count("NO SASL authentication failed") == 1
    assert len(auth_server.made("imap")) == 2
    assert not webhook_receiver.events("authenticationError")
    assert NEW_TOKEN not in text and TOKEN not in text


async def test_refused_again_after_the_refresh_fails(
    api: Api, hoodiecrow: Hoodiecrow, auth_server: TestAuthServer
) -> None:
    auth_server.queue = [
        {"user": USER, "accessToken": "stale-token-one"},
        {"user": USER, "accessToken": "stale-token-two"},
    ]
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": TOKEN}
    await configure(api, auth_server)
    await register(api, hoodiecrow)
    body = await wait_state(api, ACCOUNT, "authenticationError")
    assert "AUTHENTICATE refused" in str(body)
    # One refresh, no more: the next try waits for the (long) refused-credentials backoff.
    assert len(auth_server.made("imap")) == 2
    assert (await protocol_log(api)).count("NO SASL authentication failed") == 2


async def test_password_answer_logs_in_with_login(
    api: Api, hoodiecrow: Hoodiecrow, auth_server: TestAuthServer
) -> None:
    auth_server.accounts[ACCOUNT] = {"user": USER, "pass": hoodiecrow.users[USER]["password"]}
    await configure(api, auth_server)
    await register(api, hoodiecrow)
    await wait_state(api, ACCOUNT, "connected")
    text = await protocol_log(api)
    assert "LOGIN ***" in text
    assert hoodiecrow.users[USER]["password"] not in text


async def test_smtp_refused_token_is_refreshed_once(
    api: Api, hoodiecrow: Hoodiecrow, auth_server: TestAuthServer, smtp: SmtpServer
) -> None:
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": TOKEN}
    smtp.add_token(USER, TOKEN)
    await configure(api, auth_server)
    await register(api, hoodiecrow, smtp)
    await wait_state(api, ACCOUNT, "connected")
    session = session_of(api)
    assert session.config.smtp is not None
    source = session.credential_source("smtp")
    assert source is not None

    async with smtp_session(session.config.smtp, timeout=5, credentials=source):
        pass
    smtp.add_token(USER, NEW_TOKEN)  # the cached token is revoked
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": NEW_TOKEN}
    async with smtp_session(session.config.smtp, timeout=5, credentials=source) as client:
        await client.sendmail(USER, ["bob@example.com"], b"Subject: refreshed\r\n\r\nHi\r\n")
    (sent,) = await smtp.wait_for(1)
    assert sent.auth_user == USER
    # First login (token), second: cached token refused, fresh token accepted.
    assert smtp.oauth_attempts == [("XOAUTH2", USER)] * 3
    assert len(auth_server.made("smtp")) == 2

    smtp.add_token(USER, "yet-another-token")  # revoked, and the auth server has nothing newer
    with pytest.raises(AuthenticationFailedError, match="535"):
        async with smtp_session(session.config.smtp, timeout=5, credentials=source):
            pass
    assert len(auth_server.made("smtp")) == 3  # the refusal dropped the cache: asked once more


async def test_smtp_oauthbearer(
    api: Api, hoodiecrow: Hoodiecrow, auth_server: TestAuthServer
) -> None:
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": TOKEN}
    with SmtpServer(oauth=("OAUTHBEARER",)) as bearer:
        bearer.add_token(USER, TOKEN)
        await configure(api, auth_server)
        await register(api, hoodiecrow, bearer)
        await wait_state(api, ACCOUNT, "connected")
        session = session_of(api)
        assert session.config.smtp is not None
        source = session.credential_source("smtp")
        async with smtp_session(session.config.smtp, timeout=5, credentials=source) as client:
            await client.sendmail(USER, ["bob@example.com"], b"Subject: bearer\r\n\r\nHi\r\n")
        (sent,) = await bearer.wait_for(1)
        assert sent.auth_user == USER
        assert bearer.oauth_attempts == [("OAUTHBEARER", USER)]


async def test_verify_account_asks_the_auth_server_for_the_given_account(
    api: Api,
    hoodiecrow: Hoodiecrow,
    auth_server: TestAuthServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    auth_server.accounts[ACCOUNT] = {"user": USER, "accessToken": TOKEN}
    await configure(api, auth_server, webhook_receiver)
    imap = hoodiecrow.account_settings(use_auth_server=True)
    ok = await api.client.post("/v1/verifyAccount", json={"account": ACCOUNT, "imap": imap})
    assert ok.status_code == 200, ok.text
    assert ok.json()["imap"]["success"] is True
    assert [(r.account, r.proto) for r in auth_server.requests] == [(ACCOUNT, "imap")]

    unknown = await api.client.post("/v1/verifyAccount", json={"account": "nobody", "imap": imap})
    assert unknown.json()["imap"]["success"] is False
    missing = await api.client.post("/v1/verifyAccount", json={"imap": imap})
    assert missing.status_code == 400
    assert missing.json()["details"][0]["field"] == "account"
    assert (await api.client.get("/v1/accounts")).json()["total"] == 0
