"""OAuth2 auth-server client: credentials of `useAuthServer` accounts (seed README "Using OAuth2").

Before each IMAP or SMTP login of such an account the service asks the configured `authServer`
URL for credentials:

    GET <authServer>?account=<id>&proto=imap|smtp
    X-Imapapi-Signature: sha256=<hex HMAC-SHA256 of "account=<id>&proto=<proto>">

The signed string is exactly the query this client appends (form-urlencoded, `urlencode`), keyed
with the service secret (`serviceSecret` setting), so the auth server can refuse anyone but this
service; with no service secret set the header is left out. The answer is JSON, either
`{"user", "accessToken"[, "expires"]}` (SASL XOAUTH2/OAUTHBEARER) or `{"user", "pass"}`
(password login).

Credentials are cached in memory only: until `expires` (less a safety margin), else for
`DEFAULT_TTL`, or until a login with them was refused (`invalidate`). They are never stored,
logged, or put in an error message (the response body is never quoted, only its shape).
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

import aiohttp

from imapapi.errors import AuthenticationFailedError, AuthServerError

log = logging.getLogger(__name__)

Proto = Literal["imap", "smtp"]
SIGNATURE_HEADER = "X-Imapapi-Signature"
REQUEST_TIMEOUT = 10.0  # seconds for the whole auth-server request
DEFAULT_TTL = 300.0  # seconds to reuse an answer that states no `expires`
MAX_TTL = 3600.0  # never reuse an answer longer, whatever its `expires` says
EXPIRY_MARGIN = 60.0  # a token this close to its expiry is not used for a new login
_MAX_BODY = 64 * 1024  # an answer is a few hundred bytes; refuse anything absurd


@dataclass(frozen=True, slots=True)
class Credentials:
    """What to log in with: a password or an OAuth2 access token (never shown by repr)."""

    user: str
    password: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)

    @property
    def is_oauth(self) -> bool:
        return self.access_token is not None

    def __repr__(self) -> str:
        kind = "accessToken" if self.is_oauth else "password"
        return f"Credentials(user={self.user!r}, {kind}=***)"


class CredentialSource(Protocol):
    """Credentials of one account for one protocol, fetched before each login.

    `rejected` tells the source that the server refused `credentials`, so the next `get`
    fetches fresh ones instead of answering from a cache.
    """

    async def get(self) -> Credentials: ...

    def rejected(self, credentials: Credentials) -> None: ...


async def login_with_refresh(
    source: CredentialSource, login: Callable[[Credentials], Awaitable[None]]
) -> None:
    """`login` with credentials from `source`; a refused access token is refreshed once.

    Access tokens expire or are revoked before their stated lifetime (Google's XOAUTH2 doc: the
    server answers a JSON error challenge, then NO / 535), so a refusal invalidates the cached
    token, a fresh one is fetched and `login` runs once more; IMAP (RFC 3501 §6.2.2) and SMTP
    (RFC 4954 §4) both allow another AUTHENTICATE on the same connection after a refusal.
    A refused password is not retried: the auth server would most likely repeat it.
    """
    first = await source.get()
    try:
        await login(first)
        return
    except AuthenticationFailedError as exc:
        source.rejected(first)
        if not first.is_oauth:
            raise
        fresh = await source.get()
        if fresh.access_token == first.access_token:
            raise  # the auth server has nothing newer: another try would be refused alike
        log.info("access token refused (%s); retrying once with a fresh one", exc.message)
    try:
        await login(fresh)
    except AuthenticationFailedError:
        source.rejected(fresh)
        raise


def signature(query: str, secret: str) -> str:
    """The `X-Imapapi-Signature` value for `query` ("account=…&proto=…")."""
    digest = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def parse_answer(body: bytes, *, now: float) -> tuple[Credentials, float | None]:
    """The credentials in an auth-server answer and their expiry (Unix time) if stated.

    Raises AuthServerError naming what is wrong, never quoting the body (it holds secrets).
    """
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AuthServerError("the auth server's answer is not JSON") from exc
    if not isinstance(doc, dict):
        raise AuthServerError("the auth server's answer is not a JSON object")
    user = doc.get("user")
    if not isinstance(user, str) or not user:
        raise AuthServerError("the auth server's answer has no `user`")
    token, password = doc.get("accessToken"), doc.get("pass")
    if isinstance(token, str) and token:
        credentials = Credentials(user=user, access_token=token)
    elif isinstance(password, str):
        credentials = Credentials(user=user, password=password)
    else:
        raise AuthServerError("the auth server's answer has neither `accessToken` nor `pass`")
    return credentials, _expiry(doc.get("expires"), now)


def _expiry(value: Any, now: float) -> float | None:
    """`expires` as Unix time: a number of seconds since the epoch or an ISO 8601 date."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Milliseconds (JavaScript's Date.now()) are told apart by size: 1e11 s is year 5138.
        return float(value) / 1000.0 if value > 1e11 else float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise AuthServerError("the auth server's `expires` is not a date") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed.timestamp()
    raise AuthServerError("the auth server's `expires` is not a date")


@dataclass(slots=True)
class _Cached:
    credentials: Credentials
    until: float  # time.monotonic()


class AuthServerClient:
    """Fetches and caches credentials of auth-server accounts; one per process.

    `url` and `secret` are read before every request (they are runtime settings that can change
    through the API at any time). One aiohttp ClientSession is shared by all requests; it is
    created on first use and closed by `aclose()`.
    """

    def __init__(
        self,
        url: Callable[[], Awaitable[str | None]],
        secret: Callable[[], Awaitable[str | None]],
        *,
        timeout: float = REQUEST_TIMEOUT,
        default_ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._default_ttl = default_ttl
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._http: aiohttp.ClientSession | None = None

    def source(self, account: str, proto: Proto) -> AuthServerSource:
        return AuthServerSource(self, account, proto)

    async def get(self, account: str, proto: Proto) -> Credentials:
        """Cached credentials while they are fresh, else a new auth-server request.

        Concurrent calls for the same account and protocol (the primary and the command
        connection logging in together) share one request.
        """
        key = (account, proto)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cache.get(key)
            if cached is not None and cached.until > self._clock():
                return cached.credentials
            self._cache.pop(key, None)
            credentials, expires = await self._fetch(account, proto)
            ttl = self._default_ttl
            if expires is not None:
                ttl = min(MAX_TTL, expires - self._wall_clock() - EXPIRY_MARGIN)
            if ttl > 0:
                self._cache[key] = _Cached(credentials, self._clock() + ttl)
            return credentials

    def invalidate(
        self, account: str, proto: Proto, credentials: Credentials | None = None
    ) -> None:
        """Forget the cached credentials (only if they are still `credentials`, when given)."""
        key = (account, proto)
        cached = self._cache.get(key)
        if cached is not None and (credentials is None or cached.credentials == credentials):
            del self._cache[key]

    def forget(self, account: str) -> None:
        """Drop everything cached for `account` (it was deleted or its settings changed)."""
        for proto in ("imap", "smtp"):
            self._cache.pop((account, proto), None)
            self._locks.pop((account, proto), None)

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    async def _fetch(self, account: str, proto: Proto) -> tuple[Credentials, float | None]:
        base = await self._url()
        if not base:
            raise AuthServerError("the account uses an auth server, but none is configured")
        query = urlencode({"account": account, "proto": proto})
        url = f"{base}{'&' if '?' in base else '?'}{query}"
        headers = {"Accept": "application/json"}
        secret = await self._secret()
        if secret:
            headers[SIGNATURE_HEADER] = signature(query, secret)
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        started = self._clock()
        try:
            async with self._http.get(url, headers=headers, allow_redirects=False) as response:
                status = response.status
                body = await response.content.read(_MAX_BODY + 1)
        except TimeoutError as exc:
            raise AuthServerError(
                f"the auth server did not answer within {self._timeout:g} s"
            ) from exc
        except aiohttp.ClientError as exc:
            # The exception text names host and port, never the answer.
            raise AuthServerError(f"cannot reach the auth server: {exc}") from exc
        log.info(
            "%s: auth server answered %s for %s in %.0f ms",
            account,
            status,
            proto,
            (self._clock() - started) * 1000,
        )
        if status != 200:
            raise AuthServerError(f"the auth server answered HTTP {status}")
        if len(body) > _MAX_BODY:
            raise AuthServerError("the auth server's answer is too large")
        return parse_answer(body, now=self._wall_clock())


@dataclass(frozen=True, slots=True)
class AuthServerSource:
    """`CredentialSource` of one account and protocol, backed by an `AuthServerClient`."""

    client: AuthServerClient
    account: str
    proto: Proto

    async def get(self) -> Credentials:
        return await self.client.get(self.account, self.proto)

    def rejected(self, credentials: Credentials) -> None:
        self.client.invalidate(self.account, self.proto, credentials)
