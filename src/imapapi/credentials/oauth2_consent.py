"""The consent flow (issue 19): the provider's authorization URL for an account, and what the
callback does with the code the provider sends the user's browser back with.

`state` is signed (SecretBox.mac) and expires; it names the account, app, the application's
redirect URL and a random key. The PKCE verifier is kept server-side under that key, encrypted,
until the state expires, and taken (read and removed in one step) by the callback: a state works
once, and the verifier never travels through the browser. Keeping it in the state instead
(encrypted) would make the state one-use only through a second record of used states anyway.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from imapapi.credentials.crypto import SecretBox
from imapapi.credentials.oauth2 import OAuth2Tokens
from imapapi.credentials.oauth2_apps import OAuth2App, OAuth2Apps
from imapapi.credentials.oauth2_client import OAuth2Client
from imapapi.credentials.oauth2_flow import (
    STATE_CONTEXT,
    STATE_TTL,
    StateClaims,
    StateError,
    authorization_url,
    email_of,
    id_token_claims,
    pkce_pair,
    read_state,
    sign_state,
)
from imapapi.errors import OAuth2ProviderError
from imapapi.store.base import OAuth2Store

log = logging.getLogger(__name__)


def _verifier_context(key: str) -> str:
    return f"oauth2consent:{key}:verifier"


@dataclass(frozen=True, slots=True)
class Consented:
    """A finished consent: the account to register or update, with the user's address."""

    account: str
    app: OAuth2App
    email: str
    redirect: str
    name: str | None


class OAuth2Consent:
    """Starts consents and finishes them at the callback; one per process."""

    def __init__(
        self,
        store: OAuth2Store,
        box: SecretBox,
        apps: OAuth2Apps,
        client: OAuth2Client,
        tokens: OAuth2Tokens,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._box = box
        self._apps = apps
        self._client = client
        self._tokens = tokens
        self._clock = clock

    @property
    def apps(self) -> OAuth2Apps:
        return self._apps

    @property
    def tokens(self) -> OAuth2Tokens:
        return self._tokens

    async def aclose(self) -> None:
        await self._client.aclose()

    def _mac(self, body: bytes) -> bytes:
        return self._box.mac(body, STATE_CONTEXT)

    async def start(
        self,
        app_id: str,
        account: str,
        *,
        redirect: str,
        callback_url: str,
        name: str | None = None,
        login_hint: str | None = None,
    ) -> str:
        """The provider's authorization URL for `account` through `app_id`."""
        app = await self._apps.get(app_id)
        endpoints = await self._client.endpoints(app)
        verifier, challenge = pkce_pair()
        key = secrets.token_urlsafe(24)
        expires = self._clock() + STATE_TTL
        redirect_uri = app.redirect_url or callback_url
        await self._store.put_oauth2_pending(
            key,
            {
                "verifier": self._box.encrypt(verifier, _verifier_context(key)),
                "redirectUri": redirect_uri,
                "name": name,
            },
            expires,
        )
        state = sign_state(StateClaims(account, app.id, redirect, key, expires), self._mac)
        log.info("%s: consent started with OAuth2 app %s", account, app.id)
        return authorization_url(
            endpoints,
            app.provider,
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            scopes=app.effective_scopes,
            state=state,
            challenge=challenge,
            nonce=key,
            login_hint=login_hint,
        )

    def claims(self, state: str) -> StateClaims:
        """What a callback's `state` says; StateError when it is forged, altered or expired."""
        return read_state(state, self._mac, self._clock())

    async def abandon(self, claims: StateClaims) -> None:
        """Spend the state of a consent the user declined (its verifier is not needed)."""
        await self._store.take_oauth2_pending(claims.nonce, self._clock())

    async def finish(self, claims: StateClaims, code: str) -> Consented:
        """Exchange the code, learn the user's address, store the grant."""
        pending = await self._store.take_oauth2_pending(claims.nonce, self._clock())
        if pending is None:
            raise StateError("was used already or has expired: start the consent again")
        verifier = self._box.decrypt(str(pending["verifier"]), _verifier_context(claims.nonce))
        app = await self._apps.get(claims.app)
        endpoints = await self._client.endpoints(app)
        answer = await self._client.token(
            endpoints.token_url,
            app.client_id,
            app.client_secret,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": str(pending["redirectUri"]),
                "code_verifier": verifier,
            },
        )
        if answer.refresh_token is None:
            raise OAuth2ProviderError(
                "the provider issued no refresh token (Google: access_type=offline; others: "
                "the offline_access scope), so the account could not stay connected"
            )
        email = None
        if answer.id_token is not None:
            id_claims = id_token_claims(
                answer.id_token,
                client_id=app.client_id,
                issuer=endpoints.issuer,
                nonce=claims.nonce,
                now=self._clock(),
            )
            email = email_of(id_claims, app.provider)
        if email is None and endpoints.userinfo_url is not None:
            info = await self._client.userinfo(endpoints.userinfo_url, answer.access_token)
            email = email_of(info, app.provider)
        if email is None:
            raise OAuth2ProviderError(
                "the provider did not tell the user's verified email address (the `email` "
                "scope is needed)"
            )
        await self._tokens.store_grant(claims.account, app.id, email, answer)
        log.info("%s: consent finished with OAuth2 app %s", claims.account, app.id)
        name = pending.get("name")
        return Consented(
            account=claims.account,
            app=app,
            email=email,
            redirect=claims.redirect,
            name=name if isinstance(name, str) else None,
        )
