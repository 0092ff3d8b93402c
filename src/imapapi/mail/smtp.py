"""SMTP connections through aiosmtplib; its exceptions never leave this module (STYLE.md 8)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import aiosmtplib

from imapapi.accounts.model import ServerConfig, StartTls
from imapapi.errors import (
    AuthenticationFailedError,
    NetworkError,
    SendError,
    ServerTimeoutError,
)

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
    server: ServerConfig, *, timeout: float, password: str | None = None
) -> AsyncIterator[aiosmtplib.SMTP]:
    """A connected and (when credentials are known) logged-in SMTP client."""
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
        user = server.auth.user if server.auth else None
        secret = (
            password if password is not None else (server.auth.password if server.auth else None)
        )
        if user and secret is not None:
            with map_smtp_errors():
                await client.login(user, secret)
        yield client
    finally:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()
