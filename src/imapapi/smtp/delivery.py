"""One SMTP transaction for a composed message (RFC 5321 §3.3), over `smtp/client.py`.

Outcomes are data or imapapi errors: aiosmtplib's exceptions never leave `mail/` (STYLE.md 8).
`SendError.permanent` follows the reply class (RFC 5321 §4.2.1): 5yz is permanent, 4yz is
transient; network failures and timeouts raise NetworkError/ServerTimeoutError (transient).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from imapapi.credentials.authserver import CredentialSource
from imapapi.errors import SendError
from imapapi.servers import ServerConfig
from imapapi.smtp.client import map_smtp_errors, smtp_session

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivered:
    """The server took the message: its final reply, and recipients it refused (if only some)."""

    code: int
    response: str  # the reply text, e.g. "250 2.0.0 Ok: queued as 4F1"
    rejected: tuple[tuple[str, str], ...] = ()  # (recipient, reply) pairs


async def deliver(
    server: ServerConfig,
    envelope_from: str,
    recipients: Sequence[str],
    raw: bytes,
    *,
    timeout: float,
    credentials: CredentialSource | None = None,
) -> Delivered:
    """Send `raw` to `recipients` in one transaction; raises SendError / NetworkError / ...

    `credentials`: for `useAuthServer` accounts, where the login comes from (see smtp_session).
    """
    async with smtp_session(server, timeout=timeout, credentials=credentials) as client:
        options: list[str] = []
        # RFC 6152: a message with 8-bit octets (a forwarded 8-bit original) announces it.
        if any(byte > 0x7F for byte in raw) and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        with map_smtp_errors():
            try:
                refused, message = await client.sendmail(
                    envelope_from, list(recipients), raw, mail_options=options
                )
            except aiosmtplib.SMTPRecipientsRefused as exc:
                # map_smtp_errors knows no reply codes in this one and would call it a
                # network error; classify it by the replies instead.
                raise _all_refused(exc) from exc
    rejected = tuple((rcpt, f"{reply.code} {reply.message}") for rcpt, reply in refused.items())
    return Delivered(code=250, response=_final_reply(message), rejected=rejected)


def _all_refused(exc: aiosmtplib.SMTPRecipientsRefused) -> SendError:
    """Every RCPT was refused (RFC 5321 §3.3: the transaction cannot go on)."""
    replies = [(r.recipient, r.code, r.message) for r in exc.recipients]
    # Permanent only if every recipient was refused permanently: one 4yz may succeed later.
    permanent = bool(replies) and all(500 <= code < 600 for _, code, _ in replies)
    first = replies[0] if replies else ("", 0, "")
    text = "; ".join(f"{rcpt}: {code} {message}" for rcpt, code, message in replies)
    return SendError(
        f"SMTP server refused every recipient: {text}",
        permanent=permanent,
        smtp_code=first[1] or None,
    )


def _final_reply(message: str) -> str:
    # aiosmtplib returns the text of the reply to DATA without its code; 250 is the only
    # success reply to the final dot (RFC 5321 §4.3.2).
    text = " ".join(message.split())
    return f"250 {text}" if text else "250"
