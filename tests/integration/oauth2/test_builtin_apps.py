"""Built-in OAuth2 end to end with real parts: oidc-provider (login, consent, rotation,
introspection, revocation), a Dovecot whose XOAUTH2 logins are introspected there, an SMTP
server that does the same, imapapi on SQLite and on Redis."""

from __future__ import annotations

import logging
import secrets
import uuid

import pytest

from imapapi.credentials.oauth2 import OAuth2Tokens
from tests.integration.conftest import Api
from tests.integration.oauth2.helpers import CALLBACK, consent, create_app
from tests.integration.sync.helpers import wait_state
from tests.integration.sync.test_account_events import account_events
from tests.servers.dovecot import Dovecot
from tests.servers.oidc import OidcProvider, OidcUser
from tests.servers.oidc_flow import introspect, wait_until_inactive
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


def tokens_of(api: Api) -> OAuth2Tokens:
    assert api.service.oauth2 is not None
    return api.service.oauth2.tokens


async def refresh_token_of(api: Api, account: str) -> str:
    """The stored refresh token, decrypted (what must never show in plain text)."""
    grant = await api.service.store.get_oauth2_grant(account)
    assert grant is not None
    return api.service.box.decrypt(grant["refreshToken"], f"oauth2grant:{account}:refreshToken")


def sender(provider: OidcProvider, dovecot: Dovecot) -> OidcUser:
    """A provider user whose address /submit takes as a sender (`new_user`'s example.test is
    a special-use domain, which the API refuses in `from`)."""
    user = OidcUser(f"sender-{uuid.uuid4().hex[:8]}@example.com", secrets.token_urlsafe(12))
    provider.add_user(user)
    dovecot.add_user(user.email, user.password)
    return user


async def test_consent_connects_the_account_and_sends_mail_with_its_token(
    api: Api,
    oidc_provider: OidcProvider,
    oauth2_dovecot: Dovecot,
    oauth2_smtp: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="imapapi")
    oidc_user = sender(oidc_provider, oauth2_dovecot)
    client = oidc_provider.add_client((CALLBACK,))
    await create_app(api, oidc_provider, client, oauth2_dovecot, oauth2_smtp)

    back = await consent(api, oidc_user, "alice")
    assert back == {"account": ["alice"], "state": ["connected"]}
    shown = await wait_state(api, "alice", "connected")
    assert shown["oauth2"] == {"app": "corp", "user": oidc_user.email}
    assert shown["email"] == oidc_user.email
    assert (shown["imap"]["host"], shown["imap"]["port"]) == (
        oauth2_dovecot.host,
        oauth2_dovecot.port,
    )
    access = (await tokens_of(api).get("alice")).access_token
    assert access is not None
    assert (await introspect(oidc_provider, access))["active"] is True

    listed = await api.client.get("/v1/account/alice/mailboxes")
    assert listed.status_code == 200, listed.text
    sent = await api.client.post(
        "/v1/account/alice/submit",
        json={
            "to": [{"address": "bob@example.com"}],  # from: the account's own address
            "subject": "through OAuth2",
            "text": "hello",
        },
    )
    assert sent.status_code == 200, sent.text
    [message] = await oauth2_smtp.wait_for(1, timeout=20)
    assert list(message.rcpt_tos) == ["bob@example.com"]
    assert message.mail_from == oidc_user.email
    assert oauth2_smtp.oauth_attempts == [("XOAUTH2", oidc_user.email)]  # introspected

    # Neither the client secret nor a token is in the store, the logs or any answer.
    refresh = await refresh_token_of(api, "alice")
    secrets = [client.client_secret, refresh, access]
    raw = await api.stored_bytes()
    answers = [
        (await api.client.get("/v1/account/alice")).text,
        (await api.client.get("/v1/oauth2/apps")).text,
        (await api.client.get("/v1/oauth2/apps/corp")).text,
        (await api.client.get("/v1/logs/alice")).text,
    ]
    for secret in secrets:
        assert secret.encode() not in raw
        assert secret not in caplog.text
        assert not [a for a in answers if secret in a]


@pytest.mark.parametrize(
    "margin",
    [
        # Refreshed before use: its last 2 s of 3 are not used.
        pytest.param(1.0, id="refreshed-before-expiry"),
        # imapapi believes tokens live a minute longer than they do (a clock ahead of the
        # provider's): it logs in with an expired one, Dovecot refuses it after introspection,
        # and imapapi refreshes once and logs in again.
        pytest.param(-60.0, id="refused-then-refreshed"),
    ],
)
async def test_an_expired_access_token_is_refreshed_without_a_failed_call(
    api: Api,
    oidc_provider: OidcProvider,
    oauth2_dovecot: Dovecot,
    oidc_user: OidcUser,
    webhook_receiver: WebhookReceiver,
    margin: float,
) -> None:
    await api.client.post("/v1/settings", json={"webhooks": webhook_receiver.url})
    client = oidc_provider.add_client((CALLBACK,), access_token_ttl=3)
    await create_app(api, oidc_provider, client, oauth2_dovecot)
    tokens_of(api).refresh_margin = margin
    await consent(api, oidc_user, "bob")
    await wait_state(api, "bob", "connected")
    first = (await tokens_of(api).get("bob")).access_token
    assert first is not None
    refresh_before = await refresh_token_of(api, "bob")

    await wait_until_inactive(oidc_provider, first)  # expired at the provider, mid-session
    if margin < 0:
        assert (await tokens_of(api).get("bob")).access_token == first  # believed fresh
    for _ in range(3):  # new logins (reconnect), and API calls on command connections
        assert (await api.client.put("/v1/account/bob/reconnect")).status_code == 200
        await wait_state(api, "bob", "connected")
        listed = await api.client.get("/v1/account/bob/mailboxes")
        assert listed.status_code == 200, listed.text
    assert (await tokens_of(api).get("bob")).access_token != first
    # The provider rotates refresh tokens: the new one was stored at once.
    assert await refresh_token_of(api, "bob") != refresh_before
    assert "authenticationError" not in account_events(webhook_receiver, "bob")


async def test_a_revoked_grant_is_one_authentication_error_and_reconsent_reconnects(
    tmp_path: object,
    fast_retry_api: Api,
    oidc_provider: OidcProvider,
    oauth2_dovecot: Dovecot,
    oidc_user: OidcUser,
    webhook_receiver: WebhookReceiver,
) -> None:
    api = fast_retry_api
    await api.client.post("/v1/settings", json={"webhooks": webhook_receiver.url})
    client = oidc_provider.add_client((CALLBACK,))
    await create_app(api, oidc_provider, client, oauth2_dovecot)
    await consent(api, oidc_user, "dave")
    await wait_state(api, "dave", "connected")
    await webhook_receiver.wait_for(lambda r: r.event == "accountConnected")

    assert oidc_provider.revoke_grants(oidc_user, client) == 1
    assert (await api.client.put("/v1/account/dave/reconnect")).status_code == 200
    failed = await wait_state(api, "dave", "authenticationError")
    assert "POST /v1/oauth2/authorize" in failed["lastError"]
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "authenticationError")
    assert hook.json["data"]["code"] == "OAuth2ConsentRequired"
    assert "consent again" in hook.json["data"]["error"]

    # No retry loop: with fast retries a loop would have made many attempts by now; the
    # account waits for a new consent with one attempt and no next one scheduled.
    await api.client.get("/v1/accounts")  # let the loop run (it has nothing to do)
    waiting = (await api.client.get("/v1/account/dave")).json()
    assert (waiting["attempts"], waiting["nextAttempt"]) == (1, None)

    back = await consent(api, oidc_user, "dave")
    assert back["state"] == ["connected"]
    await wait_state(api, "dave", "connected")
    await webhook_receiver.wait_for(lambda r: r.event == "accountConnected", count=2)
    events = account_events(webhook_receiver, "dave")
    # (The reconnect itself drops the connection: a connectError may come first.)
    assert events[0] == "accountConnected"
    assert events.count("authenticationError") == 1
    assert events[-2:] == ["authenticationError", "accountConnected"]


async def test_a_declined_consent_goes_back_with_access_denied(
    api: Api, oidc_provider: OidcProvider, oauth2_dovecot: Dovecot, oidc_user: OidcUser
) -> None:
    client = oidc_provider.add_client((CALLBACK,))
    await create_app(api, oidc_provider, client, oauth2_dovecot)
    back = await consent(api, oidc_user, "erin", approve=False)
    assert back == {"account": ["erin"], "error": ["access_denied"]}
    assert (await api.client.get("/v1/account/erin")).status_code == 404
    assert await api.service.store.get_oauth2_grant("erin") is None
