"""The OAuth2 harness itself, over the real protocols: oidc-provider's code flow with PKCE,
refresh-token rotation, revocation and expiry, as Dovecot's oauth2 passdb and the
introspecting SMTP server see them (tests/servers/oidc.py, oidc_flow.py)."""

from __future__ import annotations

import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import pytest

from imapapi.errors import AuthenticationFailedError
from imapapi.imap import ImapConnection
from tests.servers import oidc_flow
from tests.servers.dovecot import Dovecot
from tests.servers.oidc import OidcProvider, OidcUser
from tests.servers.oidc_flow import OAuthError, Pkce
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.integration


@pytest.fixture
async def imap(oauth2_dovecot: Dovecot) -> AsyncIterator[ImapConnection]:
    """A fresh, unauthenticated connection to the oauth2 Dovecot."""
    conn = await ImapConnection.connect(
        oauth2_dovecot.host, oauth2_dovecot.port, security="none", timeout=10
    )
    try:
        yield conn
    finally:
        await conn.logout()


async def _inbox_listed(conn: ImapConnection) -> bool:
    """Logged in to the mailbox: its INBOX is listed."""
    return "INBOX" in {m.path for m in await conn.list_mailboxes()}


async def test_code_flow_shows_consent_and_gives_tokens_for_the_user(
    oidc_provider: OidcProvider, oidc_user: OidcUser
) -> None:
    pkce = Pkce.new()
    url = oidc_flow.authorization_url(
        oidc_provider, oidc_provider.client, pkce=pkce, state="st-1", login_hint=oidc_user.email
    )
    async with httpx.AsyncClient(follow_redirects=True) as http:
        login_page = await http.get(url)
        assert 'id="login-form"' in login_page.text
        action = login_page.text.split('id="login-form" method="post" action="')[1].split('"')[0]
        form = {"email": oidc_user.email, "password": oidc_user.password}
        consent_page = await http.post(f"{oidc_provider.issuer}{action}", data=form)
    assert 'id="consent-form"' in consent_page.text
    assert "<li>email</li>" in consent_page.text  # the scope the user is asked to grant

    grant = await oidc_flow.authorize(oidc_provider, oidc_user)
    assert grant.redirect.url.startswith(oidc_provider.client.redirect_uris[0] + "?")
    assert grant.redirect.params["iss"] == oidc_provider.issuer  # RFC 9207
    tokens = await oidc_flow.exchange_code(
        oidc_provider,
        oidc_provider.client,
        grant.code,
        verifier=grant.pkce.verifier,
        redirect_uri=grant.redirect_uri,
    )
    assert tokens.refresh_token and tokens.id_token
    assert set(tokens.scope.split()) == {"openid", "email", "offline_access"}
    answer = await oidc_flow.introspect(oidc_provider, tokens.access_token)
    assert answer["active"] is True
    assert answer["email"] == oidc_user.email
    assert answer["client_id"] == oidc_provider.client.client_id
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {tokens.access_token}"}
        userinfo = (await http.get(oidc_provider.userinfo_endpoint, headers=auth)).json()
    assert userinfo["email"] == oidc_user.email


async def test_pkce_is_required_and_checked(
    oidc_provider: OidcProvider, oidc_user: OidcUser
) -> None:
    client = oidc_provider.client
    url = oidc_flow.authorization_url(oidc_provider, client, pkce=Pkce.new(), state="s")
    without_pkce = url.split("&code_challenge=")[0] + "&prompt=consent"
    async with httpx.AsyncClient() as http:
        refused = await http.get(without_pkce)
    assert refused.status_code == 303
    assert "error=invalid_request" in refused.headers["location"]
    assert "PKCE" in refused.headers["location"]

    grant = await oidc_flow.authorize(oidc_provider, oidc_user)
    with pytest.raises(OAuthError) as refusal:
        await oidc_flow.exchange_code(
            oidc_provider,
            client,
            grant.code,
            verifier=Pkce.new().verifier,
            redirect_uri=grant.redirect_uri,
        )
    assert refusal.value.error == "invalid_grant"


async def test_wrong_password_and_denied_consent(
    oidc_provider: OidcProvider, oidc_user: OidcUser
) -> None:
    impostor = OidcUser(email=oidc_user.email, password="not-the-password")
    with pytest.raises(OAuthError) as refusal:
        await oidc_flow.authorize(oidc_provider, impostor)
    assert refusal.value.error == "login_failed"
    with pytest.raises(OAuthError) as denial:
        await oidc_flow.authorize(oidc_provider, oidc_user, approve=False)
    assert denial.value.error == "access_denied"


async def test_imap_xoauth2_is_checked_by_the_provider(
    oidc_provider: OidcProvider, oidc_user: OidcUser, oauth2_dovecot: Dovecot
) -> None:
    tokens = await oidc_flow.login(oidc_provider, oidc_user)
    conn = await ImapConnection.connect(
        oauth2_dovecot.host, oauth2_dovecot.port, security="none", timeout=10
    )
    try:
        assert {"AUTH=XOAUTH2", "AUTH=OAUTHBEARER", "AUTH=PLAIN"} <= conn.capabilities
        with pytest.raises(AuthenticationFailedError):
            await conn.authenticate_xoauth2(oidc_user.email, "garbage-token")
        await conn.authenticate_xoauth2(oidc_user.email, tokens.access_token)
        assert await _inbox_listed(conn)
    finally:
        await conn.logout()


async def test_imap_oauthbearer_and_plain(
    oidc_provider: OidcProvider, oidc_user: OidcUser, imap: ImapConnection
) -> None:
    tokens = await oidc_flow.login(oidc_provider, oidc_user)
    await imap.authenticate_oauthbearer(oidc_user.email, tokens.access_token)
    assert await _inbox_listed(imap)


async def test_plain_login_still_uses_the_password(
    oidc_user: OidcUser, imap: ImapConnection
) -> None:
    await imap.authenticate_plain(oidc_user.email, oidc_user.password)
    assert await _inbox_listed(imap)


async def test_a_token_works_only_for_its_own_mailbox(
    oidc_provider: OidcProvider, oidc_user: OidcUser, imap: ImapConnection
) -> None:
    other = oidc_provider.add_user()
    tokens = await oidc_flow.login(oidc_provider, other)
    with pytest.raises(AuthenticationFailedError):
        await imap.authenticate_xoauth2(oidc_user.email, tokens.access_token)


async def test_a_revoked_access_token_is_refused(
    oidc_provider: OidcProvider, oidc_user: OidcUser, imap: ImapConnection
) -> None:
    tokens = await oidc_flow.login(oidc_provider, oidc_user)
    await oidc_flow.revoke_token(
        oidc_provider, oidc_provider.client, tokens.access_token, hint="access_token"
    )
    assert (await oidc_flow.introspect(oidc_provider, tokens.access_token)) == {"active": False}
    with pytest.raises(AuthenticationFailedError):
        await imap.authenticate_xoauth2(oidc_user.email, tokens.access_token)
    # oidc-provider revokes the grant's other tokens with it, the refresh token too.
    assert tokens.refresh_token is not None
    with pytest.raises(OAuthError, match="invalid_grant"):
        await oidc_flow.refresh(oidc_provider, oidc_provider.client, tokens.refresh_token)


async def test_refresh_rotates_the_refresh_token(
    oidc_provider: OidcProvider, oidc_user: OidcUser, imap: ImapConnection
) -> None:
    client = oidc_provider.client
    first = await oidc_flow.login(oidc_provider, oidc_user)
    assert first.refresh_token is not None
    second = await oidc_flow.refresh(oidc_provider, client, first.refresh_token)
    assert second.refresh_token not in (None, first.refresh_token)
    assert second.access_token != first.access_token
    await imap.authenticate_xoauth2(oidc_user.email, second.access_token)
    with pytest.raises(OAuthError) as reuse:
        await oidc_flow.refresh(oidc_provider, client, first.refresh_token)
    assert reuse.value.error == "invalid_grant"
    # Reuse of a spent refresh token revokes the grant (RFC 9700 §4.14.2): the new one too.
    assert second.refresh_token is not None
    with pytest.raises(OAuthError, match="invalid_grant"):
        await oidc_flow.refresh(oidc_provider, client, second.refresh_token)


async def test_withdrawn_consent_ends_refresh_and_imap(
    oidc_provider: OidcProvider, oidc_user: OidcUser, imap: ImapConnection
) -> None:
    tokens = await oidc_flow.login(oidc_provider, oidc_user)
    assert oidc_provider.revoke_grants(oidc_user, oidc_provider.client) == 1
    assert tokens.refresh_token is not None
    with pytest.raises(OAuthError) as refusal:
        await oidc_flow.refresh(oidc_provider, oidc_provider.client, tokens.refresh_token)
    assert refusal.value.error == "invalid_grant"
    with pytest.raises(AuthenticationFailedError):
        await imap.authenticate_xoauth2(oidc_user.email, tokens.access_token)
    # Consenting again gives working tokens.
    again = await oidc_flow.login(oidc_provider, oidc_user)
    await imap.authenticate_xoauth2(oidc_user.email, again.access_token)


async def test_an_expired_access_token_is_refused(
    oidc_provider: OidcProvider, oidc_user: OidcUser, imap: ImapConnection
) -> None:
    client = oidc_provider.add_client(access_token_ttl=2)
    tokens = await oidc_flow.login(oidc_provider, oidc_user, client)
    assert tokens.expires_in == 2
    await oidc_flow.wait_until_inactive(oidc_provider, tokens.access_token)
    with pytest.raises(AuthenticationFailedError):
        await imap.authenticate_xoauth2(oidc_user.email, tokens.access_token)
    assert tokens.refresh_token is not None
    renewed = await oidc_flow.refresh(oidc_provider, client, tokens.refresh_token)
    # Fresh, it is taken (a slow machine may let it expire first: then it is refreshed again).
    for _attempt in range(3):
        try:
            await imap.authenticate_xoauth2(oidc_user.email, renewed.access_token)
            break
        except AuthenticationFailedError:
            assert renewed.refresh_token is not None
            renewed = await oidc_flow.refresh(oidc_provider, client, renewed.refresh_token)
    assert await _inbox_listed(imap)


def _xoauth2(user: str, token: str) -> str:
    return f"user={user}\x01auth=Bearer {token}\x01\x01"  # smtplib encodes it in base64


def _send(server: SmtpServer, user: str, token: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = user, "bob@example.test", "OAuth2"
    message.set_content("Sent with a provider's token.")
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.ehlo()
        # smtplib sends the initial response, then "" to a JSON error challenge.
        smtp.auth("XOAUTH2", lambda challenge=None: "" if challenge else _xoauth2(user, token))
        smtp.send_message(message)


async def test_smtp_xoauth2_is_checked_by_the_provider(
    oidc_provider: OidcProvider, oidc_user: OidcUser, oauth2_smtp: SmtpServer
) -> None:
    tokens = await oidc_flow.login(oidc_provider, oidc_user)
    _send(oauth2_smtp, oidc_user.email, tokens.access_token)
    [received] = oauth2_smtp.wait_for_messages(1)
    assert received.auth_user == oidc_user.email

    other = oidc_provider.add_user()
    with pytest.raises(smtplib.SMTPAuthenticationError):
        _send(oauth2_smtp, other.email, tokens.access_token)  # not this user's token
    await oidc_flow.revoke_token(oidc_provider, oidc_provider.client, tokens.access_token)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        _send(oauth2_smtp, oidc_user.email, tokens.access_token)
    assert len(oauth2_smtp.messages) == 1
    attempts = [oidc_user.email, other.email, oidc_user.email]
    assert oauth2_smtp.oauth_attempts == [("XOAUTH2", user) for user in attempts]


async def test_smtp_oauthbearer_is_checked_by_the_provider(
    oidc_provider: OidcProvider, oidc_user: OidcUser, oauth2_smtp: SmtpServer
) -> None:
    tokens = await oidc_flow.login(oidc_provider, oidc_user)

    def oauthbearer(token: str) -> str:  # RFC 7628 §3.1; an error challenge gets %x01
        return f"n,a={oidc_user.email},\x01auth=Bearer {token}\x01\x01"

    with smtplib.SMTP(oauth2_smtp.host, oauth2_smtp.port, timeout=10) as smtp:
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.auth("OAUTHBEARER", lambda c=None: "\x01" if c else oauthbearer("garbage"))
        smtp.auth("OAUTHBEARER", lambda c=None: "\x01" if c else oauthbearer(tokens.access_token))
    assert oauth2_smtp.oauth_attempts == [("OAUTHBEARER", oidc_user.email)] * 2
