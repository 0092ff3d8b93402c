"""Token life of built-in OAuth2 accounts (issue 19): access tokens for their IMAP and SMTP
logins, where auth-server accounts ask the auth server (`authserver.py`).

Each account's grant is stored (`OAuth2Store`): the app, the user's address and the refresh
token, encrypted. Access tokens are kept in memory only, used until `REFRESH_MARGIN` seconds
before they expire, and refreshed then or once after a login refused them
(`login_with_refresh`). A rotated refresh token is stored at once: the provider may refuse the
old one from now on. `invalid_grant` (consent revoked, refresh token expired) marks the grant
as needing a new consent; from then on every request fails at once with ConsentRequiredError,
without asking the provider, until a new consent replaces the grant.

One refresh at a time per account: an asyncio lock in this process, and the store's refresh
lock across the processes sharing a Redis store. A process that waited for another's refresh
reads the grant again, so it refreshes with the newest refresh token, never a rotated-out one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from imapapi.credentials.authserver import Credentials
from imapapi.credentials.crypto import SecretBox
from imapapi.credentials.oauth2_apps import OAuth2Apps
from imapapi.credentials.oauth2_client import OAuth2Client, TokenAnswer
from imapapi.errors import ConsentRequiredError, NotFoundError, OAuth2ProviderError
from imapapi.store.base import OAuth2Store

log = logging.getLogger(__name__)

REFRESH_MARGIN = 60.0  # seconds before expiry an access token is no longer used for a login
LOCK_TTL = 30.0  # seconds the store's refresh lock lasts if its holder dies mid-refresh
LOCK_POLL = 0.1  # seconds between attempts to take a lock another process holds


def _refresh_context(account: str) -> str:
    return f"oauth2grant:{account}:refreshToken"


@dataclass(slots=True)
class _Access:
    user: str
    token: str = field(repr=False)
    until: float  # wall clock: REFRESH_MARGIN before the token expires


class OAuth2Tokens:
    """Access tokens of built-in OAuth2 accounts; one per process."""

    def __init__(
        self,
        store: OAuth2Store,
        box: SecretBox,
        apps: OAuth2Apps,
        client: OAuth2Client,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lock_ttl: float = LOCK_TTL,
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        self._store = store
        self._box = box
        self._apps = apps
        self._client = client
        self._clock = clock
        self._sleep = sleep
        self._lock_ttl = lock_ttl
        self.refresh_margin = refresh_margin
        self._owner = secrets.token_hex(8)  # this process, as holder of store locks
        self._cache: dict[str, _Access] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def source(self, account: str) -> OAuth2Source:
        return OAuth2Source(self, account)

    async def get(self, account: str) -> Credentials:
        """A fresh access token of `account`, refreshed when it is about to expire."""
        lock = self._locks.setdefault(account, asyncio.Lock())
        async with lock:
            cached = self._cache.get(account)
            if cached is None or cached.until <= self._clock():
                cached = await self._refresh_shared(account)
            return Credentials(user=cached.user, access_token=cached.token)

    def rejected(self, account: str, credentials: Credentials) -> None:
        """A login refused this token: the next `get` refreshes (only if it is still cached)."""
        cached = self._cache.get(account)
        if cached is not None and cached.token == credentials.access_token:
            del self._cache[account]

    def forget(self, account: str) -> None:
        """Drop the account's access token (it was deleted or consented again)."""
        self._cache.pop(account, None)

    async def store_grant(self, account: str, app: str, user: str, answer: TokenAnswer) -> None:
        """Store a new consent's grant and keep its first access token."""
        assert answer.refresh_token is not None
        await self._put_grant(account, app, user, answer.refresh_token)
        self._keep(account, user, answer)

    async def _put_grant(self, account: str, app: str, user: str, refresh_token: str) -> None:
        data = {
            "app": app,
            "user": user,
            "refreshToken": self._box.encrypt(refresh_token, _refresh_context(account)),
        }
        await self._store.put_oauth2_grant(account, data, self._clock())

    def _keep(self, account: str, user: str, answer: TokenAnswer) -> _Access:
        access = _Access(
            user, answer.access_token, self._clock() + answer.expires_in - self.refresh_margin
        )
        self._cache[account] = access
        return access

    async def _refresh_shared(self, account: str) -> _Access:
        """Refresh under the store's lock, waiting while another process holds it."""
        waited = 0.0
        while not await self._store.lock_oauth2_refresh(account, self._owner, self._lock_ttl):
            if waited > 2 * self._lock_ttl:
                raise OAuth2ProviderError("another process has been refreshing this token too long")
            await self._sleep(LOCK_POLL)
            waited += LOCK_POLL
        try:
            return await self._refresh(account)
        finally:
            await self._store.unlock_oauth2_refresh(account, self._owner)

    async def _refresh(self, account: str) -> _Access:
        grant = await self._store.get_oauth2_grant(account)
        if grant is None:
            raise ConsentRequiredError(
                "the account has no OAuth2 grant: the user must consent through "
                "POST /v1/oauth2/authorize"
            )
        reason = grant.get("consentRequired")
        if isinstance(reason, str):
            raise ConsentRequiredError(reason)  # known dead: the provider is not asked again
        user, app_id = str(grant["user"]), str(grant["app"])
        refresh_token = self._box.decrypt(str(grant["refreshToken"]), _refresh_context(account))
        try:
            app = await self._apps.get(app_id)
        except NotFoundError as exc:
            raise ConsentRequiredError(
                f"the account's OAuth2 app {app_id!r} was deleted: consent again with another "
                "app through POST /v1/oauth2/authorize"
            ) from exc
        endpoints = await self._client.endpoints(app)
        try:
            answer = await self._client.token(
                endpoints.token_url,
                app.client_id,
                app.client_secret,
                {"grant_type": "refresh_token", "refresh_token": refresh_token},
            )
        except ConsentRequiredError as exc:
            log.warning("%s: %s", account, exc.message, extra={"account": account})
            await self._store.put_oauth2_grant(
                account, {**grant, "consentRequired": exc.message}, self._clock()
            )
            raise
        if answer.refresh_token is not None and answer.refresh_token != refresh_token:
            await self._put_grant(account, app_id, user, answer.refresh_token)
        log.info("%s: access token refreshed", account, extra={"account": account})
        return self._keep(account, user, answer)


@dataclass(frozen=True, slots=True)
class OAuth2Source:
    """`CredentialSource` of one built-in OAuth2 account (IMAP and SMTP share its token)."""

    tokens: OAuth2Tokens
    account: str

    async def get(self) -> Credentials:
        return await self.tokens.get(self.account)

    def rejected(self, credentials: Credentials) -> None:
        self.tokens.rejected(self.account, credentials)
