"""Account configuration as the rest of the service sees it, and its stored form.

The stored document has the same camelCase shape as the REST API, with every secret replaced by
a ciphertext bound to its place (see `credentials/crypto.py`). Only this module knows that shape.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from imapapi.credentials.crypto import SecretBox
from imapapi.errors import CorruptRecordError
from imapapi.servers import ServerAuth, ServerConfig, host_from_doc, host_to_doc


class AccountState(enum.StrEnum):
    """Connection state of an account as shown by the API (seed README wording)."""

    INIT = "init"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    AUTHENTICATION_ERROR = "authenticationError"
    CONNECT_ERROR = "connectError"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class OAuth2Link:
    """A built-in OAuth2 account's app and user; the grant itself is stored apart (its refresh
    token rotates without the account changing, see credentials/oauth2.py)."""

    app: str
    user: str


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """A registered account (never contains decrypted secrets outside of memory)."""

    account: str
    imap: ServerConfig
    smtp: ServerConfig | None = None
    name: str | None = None
    email: str | None = None
    notify_from: str | None = None  # ISO 8601; mail older than this is not "new" on first sync
    oauth2: OAuth2Link | None = None  # logins with the tokens of a built-in OAuth2 grant
    created: float = 0.0
    updated: float = 0.0

    def with_times(self, created: float, updated: float) -> AccountConfig:
        return replace(self, created=created, updated=updated)

    def with_oauth2(
        self, link: OAuth2Link, imap: ServerConfig, smtp: ServerConfig | None
    ) -> AccountConfig:
        """This account after a consent: the app's hosts, logins as the consenting user with
        the grant's tokens, that user's address (issue 19)."""
        login = ServerAuth(link.user)
        return replace(
            self,
            imap=replace(imap, auth=login, use_auth_server=False),
            smtp=replace(smtp, auth=login, use_auth_server=False) if smtp else None,
            email=link.user,
            oauth2=link,
        )


# --- stored form ----------------------------------------------------------------------------


def _server_to_doc(
    server: ServerConfig, box: SecretBox, account: str, proto: str
) -> dict[str, Any]:
    doc: dict[str, Any] = {**host_to_doc(server), "useAuthServer": server.use_auth_server}
    if server.auth is not None:
        auth: dict[str, Any] = {"user": server.auth.user}
        if server.auth.password is not None:
            auth["pass"] = box.encrypt(server.auth.password, f"account:{account}:{proto}.pass")
        doc["auth"] = auth
    return doc


def _server_from_doc(doc: dict[str, Any], box: SecretBox, account: str, proto: str) -> ServerConfig:
    auth = None
    if isinstance(doc.get("auth"), dict):
        raw = doc["auth"]
        password = None
        if raw.get("pass") is not None:
            password = box.decrypt(raw["pass"], f"account:{account}:{proto}.pass")
        auth = ServerAuth(user=str(raw.get("user", "")), password=password)
    try:
        return replace(
            host_from_doc(doc),
            auth=auth,
            use_auth_server=bool(doc.get("useAuthServer", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptRecordError(f"stored {proto} settings of {account!r} are invalid") from exc


def account_to_doc(config: AccountConfig, box: SecretBox) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "account": config.account,
        "name": config.name,
        "email": config.email,
        "notifyFrom": config.notify_from,
        "imap": _server_to_doc(config.imap, box, config.account, "imap"),
    }
    if config.smtp is not None:
        doc["smtp"] = _server_to_doc(config.smtp, box, config.account, "smtp")
    if config.oauth2 is not None:
        doc["oauth2"] = {"app": config.oauth2.app, "user": config.oauth2.user}
    return doc


def account_from_doc(
    doc: dict[str, Any], box: SecretBox, *, created: float = 0.0, updated: float = 0.0
) -> AccountConfig:
    account = str(doc.get("account", ""))
    if not account or not isinstance(doc.get("imap"), dict):
        raise CorruptRecordError(f"stored account {account!r} is incomplete")
    smtp, oauth2 = doc.get("smtp"), doc.get("oauth2")
    return AccountConfig(
        account=account,
        name=doc.get("name"),
        email=doc.get("email"),
        notify_from=doc.get("notifyFrom"),
        imap=_server_from_doc(doc["imap"], box, account, "imap"),
        smtp=_server_from_doc(smtp, box, account, "smtp") if isinstance(smtp, dict) else None,
        oauth2=(
            OAuth2Link(str(oauth2.get("app")), str(oauth2.get("user")))
            if isinstance(oauth2, dict)
            else None
        ),
        created=created,
        updated=updated,
    )
