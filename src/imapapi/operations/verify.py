"""Log in to IMAP and SMTP with given settings, store nothing, report the outcome."""

from __future__ import annotations

import asyncio
import logging

from imapapi.credentials.authserver import CredentialSource
from imapapi.errors import ImapApiError, ServerTimeoutError
from imapapi.servers import ServerConfig
from imapapi.smtp.client import check_accepts_mail, smtp_session

log = logging.getLogger(__name__)


async def verify_smtp(
    server: ServerConfig, *, timeout: float, credentials: CredentialSource | None = None
) -> ImapApiError | None:
    """None when the SMTP login works (without a login: when the server takes MAIL from us),
    else the error that says why not."""
    try:
        async with asyncio.timeout(timeout):
            async with smtp_session(server, timeout=timeout, credentials=credentials) as client:
                if server.auth is None and not server.use_auth_server:
                    await check_accepts_mail(client)
    except ImapApiError as exc:
        return exc
    except TimeoutError:
        return ServerTimeoutError("SMTP server did not answer in time")
    return None


async def verify_imap(
    server: ServerConfig, *, timeout: float, credentials: CredentialSource | None = None
) -> ImapApiError | None:
    """None when the IMAP login works, else the error that says why not."""
    from imapapi.sessions.connect import open_imap

    try:
        async with asyncio.timeout(timeout):
            conn = await open_imap(server, timeout=timeout, credentials=credentials)
            await conn.logout()
    except ImapApiError as exc:
        return exc
    except TimeoutError:
        return ServerTimeoutError("IMAP server did not answer in time")
    return None
