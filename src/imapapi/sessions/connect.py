"""Open a logged-in IMAP connection from an account's server settings."""

from __future__ import annotations

import logging

from imapapi.credentials.authserver import Credentials, CredentialSource, login_with_refresh
from imapapi.errors import AuthenticationFailedError, AuthServerError, CapabilityError
from imapapi.imap import ImapConnection
from imapapi.imap.core import EventCallback, LogHook
from imapapi.imap.transport import make_ssl_context
from imapapi.servers import ServerConfig, StartTls

log = logging.getLogger(__name__)

CLIENT_ID = {"name": "imapapi", "vendor": "imapapi"}


async def open_imap(
    server: ServerConfig,
    *,
    timeout: float,
    command_timeout: float = 60.0,
    name: str | None = None,
    on_event: EventCallback | None = None,
    on_log: LogHook | None = None,
    password: str | None = None,
    credentials: CredentialSource | None = None,
    compress: bool = False,
    enable: tuple[str, ...] = ("CONDSTORE", "QRESYNC", "UTF8=ACCEPT"),
) -> ImapConnection:
    """Connect, secure, log in and ENABLE what the server offers of `enable`.

    On a plain connection STARTTLS follows `server.starttls`: `auto` upgrades when offered,
    `required` refuses a server that does not offer it, `never` stays plain (RFC 3501 §6.2.1).
    `compress` asks for COMPRESS=DEFLATE (RFC 4978): worth it for bulk downloads, not for the
    idle primary connection, whose zlib state would cost ~300 KiB per account.
    `credentials` is asked before the login when `server.use_auth_server`; a refused access
    token is refreshed and tried once more (`login_with_refresh`).
    """
    conn = await ImapConnection.connect(
        server.host,
        server.port,
        security="tls" if server.secure else "none",
        tls_verify=server.tls_verify,
        timeout=timeout,
        command_timeout=command_timeout,
        on_event=on_event,
        on_log=on_log,
        name=name,
    )
    try:
        if not server.secure and server.starttls is not StartTls.NEVER:
            if not conn.capabilities:
                await conn.capability()
            if conn.has_capability("STARTTLS"):
                await conn.starttls(make_ssl_context(verify=server.tls_verify))
            elif server.starttls is StartTls.REQUIRED:
                raise CapabilityError("the server does not offer STARTTLS")
        if server.use_auth_server:
            if credentials is None:
                raise AuthServerError(
                    "credentials come from the auth server, which was not asked here"
                )
            await login_with_refresh(credentials, lambda found: _login(conn, found))
        else:
            secret = password
            if secret is None and server.auth is not None:
                secret = server.auth.password
            if server.auth is None or secret is None:
                raise AuthenticationFailedError("no credentials for this account")
            await _login(conn, Credentials(server.auth.user, password=secret))
        if not conn.capabilities or "IMAP4REV1" not in conn.capabilities:
            await conn.capability()
        wanted = [ext for ext in enable if conn.has_capability(ext)]
        if wanted and conn.has_capability("ENABLE"):
            await conn.enable(*wanted)
        if compress and conn.has_capability("COMPRESS=DEFLATE"):
            await conn.compress()
    except BaseException:
        await conn.close()
        raise
    return conn


async def _login(conn: ImapConnection, credentials: Credentials) -> None:
    if credentials.access_token is not None:
        # XOAUTH2 first: Google and Microsoft both offer it, OAUTHBEARER (RFC 7628) is the
        # standard form that some other servers offer instead.
        if conn.has_capability("AUTH=XOAUTH2"):
            await conn.authenticate_xoauth2(credentials.user, credentials.access_token)
        elif conn.has_capability("AUTH=OAUTHBEARER"):
            await conn.authenticate_oauthbearer(credentials.user, credentials.access_token)
        else:
            raise CapabilityError("the server offers neither AUTH=XOAUTH2 nor AUTH=OAUTHBEARER")
        return
    assert credentials.password is not None
    if conn.has_capability("LOGINDISABLED"):
        await conn.authenticate_plain(credentials.user, credentials.password)
    else:
        await conn.login(credentials.user, credentials.password)
