"""HTTP calls to OAuth2 providers: discovery, the token endpoint (code exchange and refresh) and
userinfo, over one shared aiohttp ClientSession (DESIGN.md §2: aiohttp for outgoing HTTP).

No OAuth client library: the token endpoint is one form POST (RFC 6749 §4.1.3, §6) and PKCE two
lines of hashlib; Authlib, the maintained candidate, speaks httpx or requests, not aiohttp, so
it would bring a second HTTP client for what these functions do. Answers are never logged or
quoted in errors (they hold tokens): only the provider's `error` code is.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from imapapi.credentials.oauth2_apps import OAuth2App
from imapapi.credentials.oauth2_flow import Endpoints, endpoints_from_discovery
from imapapi.errors import ConsentRequiredError, OAuth2ProviderError

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 15.0  # seconds for a whole provider request
DISCOVERY_TTL = 3600.0  # seconds a discovery document is reused
DEFAULT_LIFETIME = 3600.0  # an access token whose answer states no `expires_in`
_MAX_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """A token endpoint's answer (RFC 6749 §5.1); never shown by repr."""

    access_token: str = field(repr=False)
    expires_in: float
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)


def parse_token_answer(status: int, body: bytes) -> TokenAnswer:
    """A token answer, ConsentRequiredError for `invalid_grant` (RFC 6749 §5.2: the grant or
    refresh token is invalid, expired or revoked), OAuth2ProviderError for anything else."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise OAuth2ProviderError(f"the provider's token endpoint answered HTTP {status}, not JSON")
    error = doc.get("error")
    if status != 200 or error is not None:
        code = error if isinstance(error, str) else f"HTTP {status}"
        if code == "invalid_grant":
            raise ConsentRequiredError(
                "the provider refused the stored grant (invalid_grant): the user must consent "
                "again through POST /v1/oauth2/authorize"
            )
        raise OAuth2ProviderError(f"the provider's token endpoint refused the request: {code}")
    token = doc.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuth2ProviderError("the provider's token answer has no access_token")
    expires_in = doc.get("expires_in")
    lifetime = DEFAULT_LIFETIME
    if isinstance(expires_in, int | float | str) and not isinstance(expires_in, bool):
        try:
            lifetime = float(expires_in)  # Microsoft once sent it as a string
        except ValueError:
            lifetime = DEFAULT_LIFETIME
    refresh = doc.get("refresh_token")
    id_token = doc.get("id_token")
    return TokenAnswer(
        access_token=token,
        expires_in=lifetime,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        id_token=id_token if isinstance(id_token, str) and id_token else None,
    )


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OAuth2ProviderError(f"the provider's {what} is not JSON") from exc


def basic_auth(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding."""
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


class OAuth2Client:
    """The provider calls of one process; one ClientSession, created on first use."""

    def __init__(
        self, *, timeout: float = REQUEST_TIMEOUT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._timeout = timeout
        self._clock = clock
        self._http: aiohttp.ClientSession | None = None
        self._discovered: dict[str, tuple[float, Endpoints]] = {}

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self._http

    async def _request(self, method: str, url: str, what: str, **kwargs: Any) -> tuple[int, bytes]:
        try:
            async with self._session().request(
                method, url, allow_redirects=False, **kwargs
            ) as response:
                body = await response.content.read(_MAX_BODY + 1)
                status = response.status
        except TimeoutError as exc:
            raise OAuth2ProviderError(
                f"the provider's {what} did not answer within {self._timeout:g} s"
            ) from exc
        except aiohttp.ClientError as exc:
            raise OAuth2ProviderError(f"cannot reach the provider's {what}: {exc}") from exc
        if len(body) > _MAX_BODY:
            raise OAuth2ProviderError(f"the provider's {what} answer is too large")
        return status, body

    async def endpoints(self, app: OAuth2App) -> Endpoints:
        """The app's endpoints: fixed (Google, Microsoft, explicit URLs) or discovered."""
        fixed = app.fixed_endpoints()
        if fixed is not None:
            return fixed
        if not app.issuer:
            raise OAuth2ProviderError(f"OAuth2 app {app.id!r} has neither issuer nor endpoints")
        return await self.discover(app.issuer)

    async def discover(self, issuer: str) -> Endpoints:
        """The issuer's endpoints from `/.well-known/openid-configuration` (OIDC Discovery
        §4), cached for an hour."""
        cached = self._discovered.get(issuer)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        status, body = await self._request("GET", url, "discovery document")
        if status != 200:
            raise OAuth2ProviderError(f"the provider's discovery document answered HTTP {status}")
        doc = _json(body, "discovery document")
        endpoints = endpoints_from_discovery(doc, issuer)
        self._discovered[issuer] = (self._clock() + DISCOVERY_TTL, endpoints)
        return endpoints

    async def token(
        self, token_url: str, client_id: str, client_secret: str, form: dict[str, str]
    ) -> TokenAnswer:
        """POST to the token endpoint, the client's credentials in a Basic header (RFC 6749
        §2.3.1: the one method every authorization server must support)."""
        started = self._clock()
        status, body = await self._request(
            "POST",
            token_url,
            "token endpoint",
            data=form,
            headers={
                "Authorization": basic_auth(client_id, client_secret),
                "Accept": "application/json",
            },
        )
        log.info(
            "token endpoint answered %s to %s in %.0f ms",
            status,
            form.get("grant_type"),
            (self._clock() - started) * 1000,
        )
        return parse_token_answer(status, body)

    async def userinfo(self, url: str, access_token: str) -> dict[str, Any]:
        """The userinfo claims (OIDC Core §5.3)."""
        status, body = await self._request(
            "GET",
            url,
            "userinfo endpoint",
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
        if status != 200:
            raise OAuth2ProviderError(f"the provider's userinfo endpoint answered HTTP {status}")
        doc = _json(body, "userinfo answer")
        if not isinstance(doc, dict):
            raise OAuth2ProviderError("the provider's userinfo answer is not a JSON object")
        return doc
