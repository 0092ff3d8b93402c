"""SMTP connections through aiosmtplib; its exceptions never leave this module (STYLE.md 8)."""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import aiosmtplib

from imapapi.credentials.authserver import Credentials, CredentialSource, login_with_refresh
from imapapi.errors import (
    AuthenticationFailedError,
    AuthServerError,
    CapabilityError,
    NetworkError,
    SendError,
    ServerTimeoutError,
)
from imapapi.servers import ServerConfig, StartTls

log = logging.getLogger(__name__)


@contextmanager
def map_smtp_errors() -> Iterator[None]:
    """Translate aiosmtplib, ssl and socket errors into imapapi errors."""
    try:
        yield
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise AuthenticationFailedError(f"SMTP login failed: {exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
        raise ServerTimeoutError(f"SMTP server did not answer in time: {exc}") from exc
    except aiosmtplib.SMTPConnectError as exc:
        raise NetworkError(f"cannot connect to the SMTP server: {exc}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SendError(
            f"SMTP server answered {exc.code} {exc.message}",
            permanent=500 <= exc.code < 600,
            smtp_code=exc.code,
        ) from exc
    except aiosmtplib.SMTPException as exc:
        raise NetworkError(f"SMTP error: {exc}") from exc
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise NetworkError(f"TLS failed with the SMTP server: {exc}") from exc
    except OSError as exc:
        raise NetworkError(f"cannot reach the SMTP server: {exc}") from exc


def _start_tls(server: ServerConfig) -> bool | None:
    if server.secure:
        return False
    return {StartTls.AUTO: None, StartTls.REQUIRED: True, StartTls.NEVER: False}[server.starttls]


@asynccontextmanager
async def smtp_session(
    server: ServerConfig,
    *,
    timeout: float,
    password: str | None = None,
    credentials: CredentialSource | None = None,
) -> AsyncIterator[aiosmtplib.SMTP]:
    """A connected SMTP client, logged in unless the settings name no login at all.

    For `server.use_auth_server` and built-in OAuth2 accounts, `credentials` (e.g.
    `AccountSession.credential_source("smtp")`) gives a password or an access token (AUTH
    XOAUTH2, else OAUTHBEARER); a refused token is refreshed and tried once more. Neither
    `auth` nor `use_auth_server`: no login (a relay that trusts its network). With
    credentials, a server that offers no AUTH raises CapabilityError rather than sending
    without the login the account asked for.
    """
    if server.use_auth_server and credentials is None:
        raise AuthServerError("credentials come from the auth server, which was not asked here")
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=server.secure,
        start_tls=_start_tls(server),
        validate_certs=server.tls_verify,
        timeout=timeout,
    )
    with map_smtp_errors():
        await client.connect()
    try:
        if credentials is not None:  # an auth server's or a built-in OAuth2 grant's
            await _require_auth_extension(client)
            await login_with_refresh(credentials, lambda found: _login(client, found))
            yield client
            return
        user = server.auth.user if server.auth else None
        secret = (
            password if password is not None else (server.auth.password if server.auth else None)
        )
        if user and secret is not None:
            await _require_auth_extension(client)
            with map_smtp_errors():
                await client.login(user, secret)
        yield client
    finally:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()


async def _require_auth_extension(client: aiosmtplib.SMTP) -> None:
    """Credentials are configured, so the server must offer AUTH (RFC 4954 §3). aiosmtplib
    would raise a bare SMTPException here, which reads like a network failure and would be
    retried for hours; a missing extension does not heal by waiting."""
    with map_smtp_errors():
        if client.is_ehlo_or_helo_needed:
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()  # RFC 5321 §4.1.1.1: a server without ESMTP has no AUTH
    if client.supports_extension("auth"):
        return
    where = ""
    if client.get_transport_info("sslcontext") is None:
        where = " on this unencrypted connection (servers often offer it only after TLS)"
    raise CapabilityError(
        f"the SMTP server offers no AUTH extension{where}, so the configured credentials "
        "cannot be used; leave out `auth` and `useAuthServer` to send without a login"
    )


async def check_accepts_mail(client: aiosmtplib.SMTP) -> None:
    """For settings without a login: MAIL FROM:<> then RSET, so a server that wants a login
    says so now (530, RFC 4954 §6) instead of failing the first message. Other refusals of the
    null sender are a policy about bounces, not about this client, and pass."""
    with map_smtp_errors():
        try:
            await client.mail("")
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 530:
                raise AuthenticationFailedError(
                    f"the SMTP server requires a login: {exc.code} {exc.message}"
                ) from exc
        await client.rset()


async def _login(client: aiosmtplib.SMTP, credentials: Credentials) -> None:
    with map_smtp_errors():
        if credentials.access_token is None:
            await client.login(credentials.user, credentials.password or "")
            return
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        methods = client.server_auth_methods
        if "xoauth2" in methods:
            # aiosmtplib answers the JSON error challenge with an empty line, as Google's
            # XOAUTH2 doc asks, and raises on the final 535.
            await client.auth_xoauth2(credentials.user, credentials.access_token)
        elif "oauthbearer" in methods:
            await _auth_oauthbearer(client, credentials.user, credentials.access_token)
        else:
            raise CapabilityError("the SMTP server offers neither AUTH XOAUTH2 nor OAUTHBEARER")


async def _auth_oauthbearer(client: aiosmtplib.SMTP, user: str, token: str) -> None:
    """AUTH OAUTHBEARER (RFC 7628 §3.1) with the initial response (RFC 4954 §4)."""
    gs2 = "n,a=" + user.replace("=", "=3D").replace(",", "=2C") + ","
    payload = (
        f"{gs2}\x01host={client.hostname}\x01port={client.port}\x01auth=Bearer {token}\x01\x01"
    )
    response = await client.execute_command(
        b"AUTH", b"OAUTHBEARER", base64.b64encode(payload.encode())
    )
    if response.code == 334:
        # RFC 7628 §3.2.3: an error challenge is answered with a single %x01 (base64 "AQ==").
        response = await client.execute_command(b"AQ==")
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)
