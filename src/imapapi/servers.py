"""How to reach and log in to one IMAP or SMTP server: plain settings, shared by the protocol
clients (imap/, smtp/) and the account model above them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


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


def host_to_doc(server: ServerConfig) -> dict[str, Any]:
    """Where the server is and how to secure the connection, in the stored camelCase form
    (accounts add their login to it, OAuth2 apps store it as it is)."""
    return {
        "host": server.host,
        "port": server.port,
        "secure": server.secure,
        "starttls": server.starttls.value,
        "tls": {"rejectUnauthorized": server.tls_verify},
    }


def host_from_doc(doc: dict[str, Any]) -> ServerConfig:
    """The inverse of `host_to_doc` (no login); KeyError, TypeError or ValueError when bad."""
    return ServerConfig(
        host=str(doc["host"]),
        port=int(doc["port"]),
        secure=bool(doc.get("secure", False)),
        starttls=StartTls(doc.get("starttls", "auto")),
        tls_verify=bool(doc.get("tls", {}).get("rejectUnauthorized", True)),
    )
