"""How to reach and log in to one IMAP or SMTP server: plain settings, shared by the protocol
clients (imap/, smtp/) and the account model above them."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class StartTls(enum.StrEnum):
    """What to do on a plain (secure=false) connection: upgrade when offered, insist, or never."""

    AUTO = "auto"
    REQUIRED = "required"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class ServerAuth:
    user: str
    password: str | None = None

    def __repr__(self) -> str:
        return f"ServerAuth(user={self.user!r}, password={'***' if self.password else None})"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to reach and log in to one IMAP or SMTP server."""

    host: str
    port: int
    secure: bool = False
    starttls: StartTls = StartTls.AUTO
    tls_verify: bool = True
    auth: ServerAuth | None = None
    use_auth_server: bool = False
