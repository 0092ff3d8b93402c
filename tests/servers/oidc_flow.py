"""The client side of the test OpenID provider (tests/servers/oidc.py), over real HTTP.

`walk_consent` goes from an authorization URL through the provider's login and consent pages
to the redirect back to the client, as a browser would but without one (httpx, a cookie jar,
plain HTML forms). The token calls (RFC 6749 §4.1.3 and §6, RFC 7009, RFC 7662) are the ones
an application makes; `login` does the whole code flow with PKCE for tests that just need a
user's tokens. Errors of the provider's token endpoint raise `OAuthError` with its `error`
code (`invalid_grant` after a revoked consent or a reused refresh token).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from tests.servers.oidc import OidcClient, OidcProvider, OidcUser

DEFAULT_SCOPE = "openid email offline_access"
TIMEOUT = 10.0
# A form of the launcher's pages: <form id="…" method="post" action="…">.
_FORM = re.compile(r'<form id="(?P<id>[a-z-]+)" method="post" action="(?P<action>[^"]+)">')


class OAuthError(Exception):
    """The provider refused a request: `error` is the RFC 6749 §5.2 code, or for the pages
    the reason the walk could not go on."""

    def __init__(self, error: str, description: str = "", status: int = 0) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Pkce:
    """RFC 7636: the verifier the token request sends, the S256 challenge the URL carries."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


@dataclass(frozen=True)
class TokenSet:
    """A token endpoint answer (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None
    id_token: str | None
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> TokenSet:
        return cls(
            access_token=body["access_token"],
            expires_in=int(body.get("expires_in", 0)),
            scope=body.get("scope", ""),
            refresh_token=body.get("refresh_token"),
            id_token=body.get("id_token"),
            raw=body,
        )


@dataclass(frozen=True)
class Redirect:
    """Where the provider sent the user back to: the client's redirect URI with the query."""

    url: str

    @property
    def params(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlsplit(self.url).query).items()}

    @property
    def code(self) -> str:
        params = self.params
        if "code" not in params:
            raise OAuthError(params.get("error", "no code"), params.get("error_description", ""))
        return params["code"]


def authorization_url(
    provider: OidcProvider,
    client: OidcClient,
    *,
    pkce: Pkce,
    state: str,
    redirect_uri: str | None = None,
    scope: str = DEFAULT_SCOPE,
    prompt: str = "consent",
    login_hint: str | None = None,
) -> str:
    """The authorization request (RFC 6749 §4.1.1) a client would redirect the user to."""
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri or client.redirect_uris[0],
        "scope": scope,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "prompt": prompt,
    }
    if login_hint is not None:
        params["login_hint"] = login_hint
    return f"{provider.authorization_endpoint}?{urlencode(params)}"


async def walk_consent(url: str, user: OidcUser, *, approve: bool = True) -> Redirect:
    """Follow `url` (an authorization URL) through login and consent as `user`; return the
    redirect back to the client, unfetched. `approve=False` presses Deny (the redirect then
    carries `error=access_denied`). A wrong password raises OAuthError("login_failed")."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        response = await http.get(url)
        for _step in range(20):  # login, consent and their redirects take about eight
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if not target.startswith(origin + "/"):
                    return Redirect(target)
                response = await http.get(target)
                continue
            forms = {m["id"]: unescape(m["action"]) for m in _FORM.finditer(response.text)}
            if response.status_code == 401 and "login-form" in forms:
                raise OAuthError("login_failed", f"the provider refused {user.email}'s password")
            if "login-form" in forms:
                form = {"email": user.email, "password": user.password}
                response = await http.post(urljoin(origin, forms["login-form"]), data=form)
            elif "consent-form" in forms:
                chosen = forms["consent-form" if approve else "deny-form"]
                response = await http.post(urljoin(origin, chosen))
            else:
                page = f"{response.status_code}: {response.text[:500]}"
                raise OAuthError("unexpected_page", page)
    raise OAuthError("too_many_steps", url)


@dataclass(frozen=True)
class Authorization:
    """What the code flow's front channel gave: the code, and what the client kept for it."""

    redirect: Redirect
    state: str
    pkce: Pkce
    redirect_uri: str

    @property
    def code(self) -> str:
        return self.redirect.code


async def authorize(
    provider: OidcProvider,
    user: OidcUser,
    client: OidcClient | None = None,
    *,
    scope: str = DEFAULT_SCOPE,
    approve: bool = True,
) -> Authorization:
    """The front channel of the code flow with PKCE, for `user` at `client` (the provider's
    own by default). An error redirect (Deny: `access_denied`) raises OAuthError."""
    client = client or provider.client
    pkce, state = Pkce.new(), secrets.token_urlsafe(16)
    redirect_uri = client.redirect_uris[0]
    url = authorization_url(
        provider, client, pkce=pkce, state=state, redirect_uri=redirect_uri, scope=scope
    )
    redirect = await walk_consent(url, user, approve=approve)
    params = redirect.params
    if "error" in params:  # RFC 6749 §4.1.2.1, e.g. access_denied
        raise OAuthError(params["error"], params.get("error_description", ""))
    if params.get("state") != state:
        raise OAuthError("state_mismatch", redirect.url)
    return Authorization(redirect, state, pkce, redirect_uri)


async def _token_request(client: OidcClient, url: str, form: dict[str, str]) -> httpx.Response:
    auth = (client.client_id, client.client_secret)
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        response = await http.post(url, data=form, auth=auth)
    if response.status_code >= 400:
        body = response.json()
        error, description = body.get("error", "?"), body.get("error_description", "")
        raise OAuthError(error, description, response.status_code)
    return response


async def exchange_code(
    provider: OidcProvider, client: OidcClient, code: str, *, verifier: str, redirect_uri: str
) -> TokenSet:
    """RFC 6749 §4.1.3 with the PKCE verifier (RFC 7636 §4.5)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    response = await _token_request(client, provider.token_endpoint, form)
    return TokenSet.from_json(response.json())


async def refresh(provider: OidcProvider, client: OidcClient, refresh_token: str) -> TokenSet:
    """RFC 6749 §6; the answer has a new refresh token (rotation), the old one is spent."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    response = await _token_request(client, provider.token_endpoint, form)
    return TokenSet.from_json(response.json())


async def revoke_token(
    provider: OidcProvider, client: OidcClient, token: str, *, hint: str | None = None
) -> None:
    """RFC 7009. Either kind takes every token of its grant with it (the refresh token too);
    a refresh token also ends the grant (the consent)."""
    form = {"token": token}
    if hint is not None:
        form["token_type_hint"] = hint
    await _token_request(client, provider.revocation_endpoint, form)


async def introspect(provider: OidcProvider, token: str) -> dict[str, Any]:
    """RFC 7662 as the mail servers ask it (with `provider.introspector`)."""
    response = await _token_request(
        provider.introspector, provider.introspection_endpoint, {"token": token}
    )
    answer: dict[str, Any] = response.json()
    return answer


async def login(
    provider: OidcProvider, user: OidcUser, client: OidcClient | None = None
) -> TokenSet:
    """The whole code flow with PKCE: `user` consents, the code is exchanged for tokens."""
    client = client or provider.client
    grant = await authorize(provider, user, client)
    return await exchange_code(
        provider, client, grant.code, verifier=grant.pkce.verifier, redirect_uri=grant.redirect_uri
    )


async def wait_until_inactive(provider: OidcProvider, token: str, timeout: float = 30.0) -> None:
    """Poll introspection until the provider calls `token` inactive (expired or revoked)."""
    deadline = time.monotonic() + timeout
    while (await introspect(provider, token))["active"]:
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the token was still active after {timeout} s")
        await asyncio.sleep(0.2)
