"""Open a logged-in IMAP connection from an account's server settings (`open_imap`), and the
`Connector` that opens every connection of one account the same way."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from imapapi.credentials.authserver import Credentials, CredentialSource, login_with_refresh
from imapapi.errors import (
    AuthenticationFailedError,
    AuthServerError,
    CapabilityError,
    ServerTimeoutError,
)
from imapapi.imap import ImapConnection
from imapapi.imap.core import CommandHook, EventCallback, LogHook
from imapapi.imap.transport import make_ssl_context
from imapapi.servers import ServerConfig, StartTls
from imapapi.sessions.limits import LoginLimiter
from imapapi.sessions.protocol_log import ProtocolLog

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
    `credentials`, when given (`server.use_auth_server`, built-in OAuth2 accounts), is asked
    before the login; a refused access token is refreshed and tried once more
    (`login_with_refresh`).
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
        if credentials is not None:  # an auth server's or a built-in OAuth2 grant's
            await login_with_refresh(credentials, lambda found: _login(conn, found))
        elif server.use_auth_server:
            raise AuthServerError("credentials come from the auth server, which was not asked here")
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


@dataclass(frozen=True, slots=True, repr=False)
class Connector:
    """Opens the IMAP connections of one account: what `open_imap` needs for it (server
    settings, timeouts, credential source), a login slot of the per-host limiter around each
    login (DESIGN.md §5), the protocol log and the command hook. The session opens its primary
    connection with it and hands it to the command pool, which opens its own."""

    account: str
    server: ServerConfig
    limiter: LoginLimiter
    protocol_log: ProtocolLog
    connect_timeout: float
    command_timeout: float
    credentials: CredentialSource | None = None
    on_command: CommandHook | None = None

    def __repr__(self) -> str:
        return f"<Connector {self.account} {self.server.host}:{self.server.port}>"

    async def open(
        self,
        name: str,
        *,
        compress: bool = False,
        on_event: EventCallback | None = None,
        bounded: bool = False,
    ) -> ImapConnection:
        """A logged-in connection named `account/name` in logs and the protocol log.

        `bounded`: someone waits for it (an API call), so the whole of it, the wait for a login
        slot included, ends with ServerTimeoutError after the connect timeout. Unbounded (the
        primary connection), only each step is, and a slot is waited for as long as it takes.
        """
        opening = self._open(name, compress=compress, on_event=on_event)
        if not bounded:
            return await opening
        try:
            return await asyncio.wait_for(opening, self.connect_timeout)
        except TimeoutError as exc:
            raise ServerTimeoutError("the IMAP server did not answer in time") from exc

    async def _open(
        self, name: str, *, compress: bool, on_event: EventCallback | None
    ) -> ImapConnection:
        async with self.limiter.slot(self.server.host):
            conn = await open_imap(
                self.server,
                timeout=self.connect_timeout,
                command_timeout=self.command_timeout,
                name=f"{self.account}/{name}",
                on_log=self._on_log(name),
                on_event=on_event,
                credentials=self.credentials,
                compress=compress,
            )
        conn.on_command = self.on_command
        return conn

    def _on_log(self, name: str) -> LogHook:
        return lambda direction, line: self.protocol_log.append(name, direction, line)
