"""The link to the hosted "Connect your mailbox" page (issue 19): signed, expiring, pure.

An application gets it from `POST /v1/oauth2/connect` and sends its end user there. It names
the account to register, where the browser goes afterwards, which OAuth2 apps the page offers
(None: every app) and the name and address to fill in; never an API token. It is signed with
`SecretBox.mac` bound to its own context (a consent `state` is not a link, nor the reverse) and
read back by the page on every request, so nothing about it is kept server-side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from imapapi.credentials.crypto import SecretBox
from imapapi.credentials.oauth2_flow import read_document, sign_document
from imapapi.errors import InvalidInputError

LINK_CONTEXT = "connect:link"
DEFAULT_LINK_TTL = 3600.0
MAX_LINK_TTL = 7 * 86400.0
MAX_LINK = 8192  # the redirect URL may take 2,048 characters, each app id 128

Mac = Callable[[bytes], bytes]


class LinkError(InvalidInputError):
    """A "Connect your mailbox" link that this service did not issue, altered, or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__("link", reason)


@dataclass(frozen=True, slots=True)
class ConnectLink:
    account: str
    redirect: str
    apps: tuple[str, ...] | None  # None: every configured app
    name: str | None
    email: str | None
    expires: float

    def offers(self, app: str) -> bool:
        return self.apps is None or app in self.apps


def sign_link(link: ConnectLink, mac: Mac) -> str:
    return sign_document(
        {
            "acc": link.account,
            "r": link.redirect,
            "apps": list(link.apps) if link.apps is not None else None,
            "name": link.name,
            "email": link.email,
            "exp": int(link.expires),
        },
        mac,
    )


def _optional_text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("not a string")
    return value


def read_link(text: str, mac: Mac, now: float) -> ConnectLink:
    """The link this service signed, or LinkError saying what is wrong with it."""
    doc = read_document(text, mac, LinkError, what="link", max_length=MAX_LINK)
    try:
        apps = doc["apps"]
        link = ConnectLink(
            account=str(doc["acc"]),
            redirect=str(doc["r"]),
            apps=None if apps is None else tuple(str(app) for app in apps),
            name=_optional_text(doc["name"]),
            email=_optional_text(doc["email"]),
            expires=float(doc["exp"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise LinkError("is not a link this service issued") from exc
    if link.expires <= now:
        raise LinkError("has expired: ask the application for a new one")
    return link


def link_mac(box: SecretBox) -> Mac:
    """The MAC of links, bound to their own context."""
    return lambda body: box.mac(body, LINK_CONTEXT)
