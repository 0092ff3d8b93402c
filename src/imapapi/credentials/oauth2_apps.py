"""OAuth2 apps (issue 19): what imapapi is registered as at a provider, and their stored form.

An app's client secret is encrypted at rest with the service's SecretBox, bound to the app id,
like account passwords; it is decrypted into memory only to call the provider's token endpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imapapi.credentials.crypto import SecretBox
from imapapi.credentials.oauth2_flow import (
    DEFAULT_SCOPES,
    HOSTS,
    Endpoints,
    Provider,
    fixed_endpoints,
)
from imapapi.errors import CorruptRecordError, NotFoundError
from imapapi.servers import ServerConfig, host_from_doc, host_to_doc
from imapapi.store.base import OAuth2AppRecord, OAuth2Store

log = logging.getLogger(__name__)


class AppNotFoundError(NotFoundError):
    """No OAuth2 app is registered under this id."""

    code = "OAuth2AppNotFound"


@dataclass(frozen=True, slots=True)
class OAuth2App:
    """An OAuth2 client registration: which provider, as which client, asking for what."""

    id: str
    name: str
    provider: Provider
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()  # empty: the provider's defaults
    tenant: str = "common"  # Microsoft: the directory (tenant id or domain), or common
    issuer: str | None = None  # oidc: discovery from <issuer>/.well-known/openid-configuration
    authorization_url: str | None = None  # oidc without discovery: the endpoints themselves
    token_url: str | None = None
    userinfo_url: str | None = None
    redirect_url: str | None = None  # the callback as registered; None: <public URL>/oauth2/…
    imap: ServerConfig | None = None  # None: the provider's (Google, Microsoft)
    smtp: ServerConfig | None = None
    created: float = 0.0
    updated: float = 0.0

    @property
    def effective_scopes(self) -> tuple[str, ...]:
        return self.scopes or DEFAULT_SCOPES[self.provider]

    def fixed_endpoints(self) -> Endpoints | None:
        """Google's or Microsoft's endpoints, or the explicit ones; None: discover them."""
        fixed = fixed_endpoints(self.provider, self.tenant)
        if fixed is not None:
            return fixed
        if self.authorization_url and self.token_url:
            return Endpoints(self.authorization_url, self.token_url, self.userinfo_url, self.issuer)
        return None

    def hosts(self) -> tuple[ServerConfig | None, ServerConfig | None]:
        """IMAP and SMTP servers of the app's accounts: the app's own, else the provider's."""
        imap, smtp = HOSTS.get(self.provider, (None, None))
        return self.imap or imap, self.smtp or smtp


# --- stored form ----------------------------------------------------------------------------


def _secret_context(app: str) -> str:
    return f"oauth2app:{app}:clientSecret"


def _host(doc: Any) -> ServerConfig | None:
    return host_from_doc(doc) if isinstance(doc, dict) else None


def app_to_doc(app: OAuth2App, box: SecretBox) -> dict[str, Any]:
    return {
        "id": app.id,
        "name": app.name,
        "provider": app.provider.value,
        "clientId": app.client_id,
        "clientSecret": box.encrypt(app.client_secret, _secret_context(app.id)),
        "scopes": list(app.scopes),
        "tenant": app.tenant,
        "issuer": app.issuer,
        "authorizationUrl": app.authorization_url,
        "tokenUrl": app.token_url,
        "userinfoUrl": app.userinfo_url,
        "redirectUrl": app.redirect_url,
        "imap": host_to_doc(app.imap) if app.imap else None,
        "smtp": host_to_doc(app.smtp) if app.smtp else None,
    }


def app_from_record(record: OAuth2AppRecord, box: SecretBox) -> OAuth2App:
    doc = record.data
    try:
        return OAuth2App(
            id=record.id,
            name=str(doc.get("name") or record.id),
            provider=Provider(doc["provider"]),
            client_id=str(doc["clientId"]),
            client_secret=box.decrypt(doc["clientSecret"], _secret_context(record.id)),
            scopes=tuple(doc.get("scopes") or ()),
            tenant=str(doc.get("tenant") or "common"),
            issuer=doc.get("issuer"),
            authorization_url=doc.get("authorizationUrl"),
            token_url=doc.get("tokenUrl"),
            userinfo_url=doc.get("userinfoUrl"),
            redirect_url=doc.get("redirectUrl"),
            imap=_host(doc.get("imap")),
            smtp=_host(doc.get("smtp")),
            created=record.created,
            updated=record.updated,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptRecordError(f"stored OAuth2 app {record.id!r} is invalid") from exc


class OAuth2Apps:
    """Create, read, update and delete OAuth2 apps in the store."""

    def __init__(self, store: OAuth2Store, box: SecretBox, clock: Callable[[], float] = time.time):
        self._store = store
        self._box = box
        self._clock = clock

    async def put(self, app: OAuth2App) -> tuple[OAuth2App, bool]:
        """Store `app`; returns the stored app and whether it is new."""
        created = await self._store.put_oauth2_app(
            app.id, app_to_doc(app, self._box), self._clock()
        )
        log.info("OAuth2 app %s %s", app.id, "created" if created else "updated")
        return await self.get(app.id), created

    async def find(self, app: str) -> OAuth2App | None:
        record = await self._store.get_oauth2_app(app)
        return app_from_record(record, self._box) if record else None

    async def get(self, app: str) -> OAuth2App:
        found = await self.find(app)
        if found is None:
            raise AppNotFoundError(f"OAuth2 app {app!r} is not registered")
        return found

    async def list(self) -> list[OAuth2App]:
        return [app_from_record(r, self._box) for r in await self._store.list_oauth2_apps()]

    async def delete(self, app: str) -> None:
        if not await self._store.delete_oauth2_app(app):
            raise AppNotFoundError(f"OAuth2 app {app!r} is not registered")
        log.info("OAuth2 app %s deleted", app)
