"""The auth-server client: answer parsing, signing, caching, failures, refresh-once login."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from imapapi.credentials.authserver import (
    SIGNATURE_HEADER,
    AuthServerClient,
    Credentials,
    login_with_refresh,
    parse_answer,
    signature,
)
from imapapi.errors import AuthenticationFailedError, AuthServerError

NOW = 1_700_000_000.0
TOKEN = "ya29.secret-token-value"


@pytest.mark.parametrize(
    ("body", "expected", "expires"),
    [
        ({"user": "u@x", "accessToken": "t"}, Credentials("u@x", access_token="t"), None),
        ({"user": "u@x", "pass": "p"}, Credentials("u@x", password="p"), None),
        ({"user": "u@x", "pass": ""}, Credentials("u@x", password=""), None),
        ({"user": "u@x", "accessToken": "t", "expires": NOW + 60}, None, NOW + 60),
        ({"user": "u@x", "accessToken": "t", "expires": (NOW + 60) * 1000}, None, NOW + 60),
        (
            {"user": "u@x", "accessToken": "t", "expires": "2023-11-14T22:13:20Z"},
            None,
            1_700_000_000.0,
        ),
        (
            {"user": "u@x", "accessToken": "t", "expires": "2023-11-14T22:13:20"},
            None,
            1_700_000_000.0,
        ),
    ],
    ids=["token", "password", "empty-password", "expires-s", "expires-ms", "iso-z", "iso-naive"],
)
def test_parse_answer(
    body: dict[str, Any], expected: Credentials | None, expires: float | None
) -> None:
    credentials, until = parse_answer(json.dumps(body).encode(), now=NOW)
    if expected is not None:
        assert credentials == expected
    assert until == expires


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"accessToken": "t"}', "no `user`"),
        (b'{"user": "", "accessToken": "t"}', "no `user`"),
        (b'{"user": "u"}', "neither `accessToken` nor `pass`"),
        (b'{"user": "u", "accessToken": ""}', "neither `accessToken` nor `pass`"),
        (b'{"user": "u", "accessToken": "t", "expires": "soon"}', "`expires` is not a date"),
        (b'{"user": "u", "accessToken": "t", "expires": true}', "`expires` is not a date"),
    ],
    ids=[
        "html",
        "binary",
        "array",
        "no-user",
        "empty-user",
        "no-secret",
        "empty-token",
        "bad-expires",
        "bool-expires",
    ],
)
def test_parse_answer_refuses(body: bytes, message: str) -> None:
    with pytest.raises(AuthServerError, match=message) as caught:
        parse_answer(body, now=NOW)
    assert "secret" not in caught.value.message


def test_credentials_repr_hides_secrets() -> None:
    assert TOKEN not in repr(Credentials("u", access_token=TOKEN))
    assert "hunter2" not in repr(Credentials("u", password="hunter2"))
    assert "hunter2" not in str([Credentials("u", password="hunter2")])


def test_signature_is_hmac_sha256_of_the_query() -> None:
    query = "account=a%26b&proto=imap"
    expected = hmac.new(b"k", query.encode(), hashlib.sha256).hexdigest()
    assert signature(query, "k") == f"sha256={expected}"


# --- against a real HTTP server on loopback ------------------------------------------------------


@dataclass
class FakeAuthServer:
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    requests: list[web.Request] = field(default_factory=list)
    hang: bool = False
    url: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, status: int, body: Any) -> None:
        self.answers.append(
            (status, body if isinstance(body, bytes) else json.dumps(body).encode())
        )

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        if self.hang:
            await self.release.wait()
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return web.Response(status=status, body=body, content_type="application/json")


@pytest.fixture
async def auth_server() -> AsyncIterator[FakeAuthServer]:
    fake = FakeAuthServer()
    app = web.Application()
    app.router.add_get("/auth", fake.handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}/auth"
    try:
        yield fake
    finally:
        fake.release.set()  # a hanging handler returns, so cleanup need not wait for it
        await runner.cleanup()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _const(value: str | None) -> Callable[[], Awaitable[str | None]]:
    async def get() -> str | None:
        return value

    return get


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., AuthServerClient]]:
    clients: list[AuthServerClient] = []

    def make(url: str | None, secret: str | None = "s3cret", **kwargs: Any) -> AuthServerClient:
        client = AuthServerClient(_const(url), _const(secret), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_request_carries_account_proto_and_signature(
    auth_server: FakeAuthServer, make_client: Callable[..., AuthServerClient]
) -> None:
    auth_server.answer(200, {"user": "u@x", "accessToken": TOKEN})
    client = make_client(auth_server.url + "?tenant=7")
    assert await client.get("acc & co", "smtp") == Credentials("u@x", access_token=TOKEN)
    request = auth_server.requests[0]
    assert request.query["account"] == "acc & co"
    assert request.query["proto"] == "smtp"
    assert request.query["tenant"] == "7"
    expected = signature("account=acc+%26+co&proto=smtp", "s3cret")
    assert request.headers[SIGNATURE_HEADER] == expected


async def test_no_secret_no_signature(
    auth_server: FakeAuthServer, make_client: Callable[..., AuthServerClient]
) -> None:
    auth_server.answer(200, {"user": "u@x", "pass": "p"})
    client = make_client(auth_server.url, secret=None)
    await client.get("a", "imap")
    assert SIGNATURE_HEADER not in auth_server.requests[0].headers


async def test_cached_for_default_ttl_then_fetched_again(
    auth_server: FakeAuthServer, make_client: Callable[..., AuthServerClient]
) -> None:
    auth_server.answer(200, {"user": "u@x", "accessToken": "one"})
    auth_server.answer(200, {"user": "u@x", "accessToken": "two"})
    clock = Clock()
    client = make_client(auth_server.url, clock=clock, default_ttl=300)
    assert (await client.get("a", "imap")).access_token == "one"
    clock.now += 299
    assert (await client.get("a", "imap")).access_token == "one"
    assert len(auth_server.requests) == 1
    clock.now += 2
    assert (await client.get("a", "imap")).access_token == "two"
    assert len(auth_server.requests) == 2


async def test_cache_is_per_account_and_protocol(
    auth_server: FakeAuthServer, make_client: Callable[..., AuthServerClient]
) -> None:
    auth_server.answer(200, {"user": "u@x", "accessToken": "t"})
    client = make_client(auth_server.url)
    await client.get("a", "imap")
    await client.get("a", "smtp")
    await client.get("b", "imap")
    await client.get("a", "imap")
    assert [(r.query["account"], r.query["proto"]) for r in auth_server.requests] == [
        ("a", "imap"),
        ("a", "smtp"),
        ("b", "imap"),
    ]


async def test_stated_expiry_bounds_the_cache(
    auth_server: FakeAuthServer, make_client: Callable[..., AuthServerClient]
) -> None:
    clock = Clock()
    # Expires in 100 s: usable for 40 s (60 s safety margin), though the default TTL is longer.
    auth_server.answer(200, {"user": "u@x", "accessToken": "one", "expires": NOW + 100})
    auth_server.answer(200, {"user": "u@x", "accessToken": "two", "expires": NOW + 30})
    auth_server.answer(200, {"user": "u@x", "accessToken": "three"})
    client = make_client(auth_server.url, clock=clock, wall_clock=lambda: NOW + clock.now - 1000)
    assert (await client.get("a", "imap")).access_token == "one"
    clock.now += 39
    assert (await client.get("a", "imap")).access_token == "one"
    clock.now += 2
    # Already inside the margin when it arrives: used once, not cached.
    assert (await client.get("a", "imap")).access_token == "two"
    assert (await client.get("a", "imap")).access_token == "three"
    assert len(auth_server.requests) == 3


async def test_invalidate_only_drops_the_refused_credentials(
    auth_server: FakeAuthServer, make_client: Callable[..., AuthServerClient]
) -> None:
    auth_server.answer(200, {"user": "u@x", "accessToken": "one"})
    auth_server.answer(200, {"user": "u@x", "accessToken": "two"})
    client = make_client(auth_server.url)
    one = await client.get("a", "imap")
    client.invalidate("a", "imap", Credentials("u@x", access_token="other"))
    assert await client.get("a", "imap") == one
    client.invalidate("a", "imap", one)
    assert (await client.get("a", "imap")).access_token == "two"


async def test_concurrent_logins_share_one_request(
    auth_server: FakeAuthServer, make_client: Callable[..., AuthServerClient]
) -> None:
    auth_server.answer(200, {"user": "u@x", "accessToken": "t"})
    client = make_client(auth_server.url)
    results = await asyncio.gather(*(client.get("a", "imap") for _ in range(5)))
    assert {r.access_token for r in results} == {"t"}
    assert len(auth_server.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, {"error": TOKEN}, "answered HTTP 500"),
        (404, b"not here", "answered HTTP 404"),
        (302, b"", "answered HTTP 302"),
        (200, b"not json " + TOKEN.encode(), "not JSON"),
        (200, {"accessToken": TOKEN}, "no `user`"),
    ],
    ids=["500", "404", "redirect", "bad-json", "no-user"],
)
async def test_failures_are_auth_server_errors_without_the_body(
    auth_server: FakeAuthServer,
    make_client: Callable[..., AuthServerClient],
    status: int,
    body: Any,
    message: str,
) -> None:
    auth_server.answer(status, body)
    client = make_client(auth_server.url)
    with pytest.raises(AuthServerError, match=message) as caught:
        await client.get("a", "imap")
    assert TOKEN not in str(caught.value)
    assert isinstance(caught.value, AuthenticationFailedError)
    # Nothing was cached: the next login asks again.
    auth_server.answers[:] = [(200, json.dumps({"user": "u", "accessToken": "t"}).encode())]
    assert (await client.get("a", "imap")).access_token == "t"


async def test_timeout(
    auth_server: FakeAuthServer, make_client: Callable[..., AuthServerClient]
) -> None:
    auth_server.hang = True
    client = make_client(auth_server.url, timeout=0.2)
    with pytest.raises(AuthServerError, match=r"did not answer within 0\.2 s"):
        await client.get("a", "imap")


async def test_unreachable_and_unconfigured(make_client: Callable[..., AuthServerClient]) -> None:
    from tests.servers.ports import free_port

    client = make_client(f"http://127.0.0.1:{free_port()}/auth")
    with pytest.raises(AuthServerError, match="cannot reach the auth server"):
        await client.get("a", "imap")
    with pytest.raises(AuthServerError, match="none is configured"):
        await make_client(None).get("a", "imap")


async def test_token_never_logged(
    auth_server: FakeAuthServer,
    make_client: Callable[..., AuthServerClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    auth_server.answer(200, {"user": "u@x", "accessToken": TOKEN})
    await make_client(auth_server.url).get("a", "imap")
    assert caplog.records, "the request is logged (without secrets)"
    assert TOKEN not in caplog.text


# --- refresh-once login ------------------------------------------------------------------------


class Source:
    def __init__(self, *tokens: str, password: str | None = None) -> None:
        self.tokens = list(tokens)
        self.password = password
        self.refused: list[Credentials] = []
        self.gets = 0

    async def get(self) -> Credentials:
        self.gets += 1
        if self.password is not None:
            return Credentials("u", password=self.password)
        return Credentials("u", access_token=self.tokens[0])

    def rejected(self, credentials: Credentials) -> None:
        self.refused.append(credentials)
        if len(self.tokens) > 1:
            self.tokens.pop(0)


def _server(valid: set[str]) -> tuple[list[str], Callable[[Credentials], Awaitable[None]]]:
    tried: list[str] = []

    async def login(credentials: Credentials) -> None:
        secret = credentials.access_token or credentials.password or ""
        tried.append(secret)
        if secret not in valid:
            raise AuthenticationFailedError("AUTHENTICATE refused: SASL authentication failed")

    return tried, login


async def test_refused_token_is_refreshed_once() -> None:
    source = Source("stale", "fresh")
    tried, login = _server({"fresh"})
    await login_with_refresh(source, login)
    assert tried == ["stale", "fresh"]
    assert [c.access_token for c in source.refused] == ["stale"]


async def test_refused_twice_fails() -> None:
    source = Source("stale", "also-bad", "never-tried")
    tried, login = _server(set())
    with pytest.raises(AuthenticationFailedError):
        await login_with_refresh(source, login)
    assert tried == ["stale", "also-bad"]
    assert [c.access_token for c in source.refused] == ["stale", "also-bad"]


async def test_same_token_again_is_not_retried() -> None:
    source = Source("stale")
    tried, login = _server(set())
    with pytest.raises(AuthenticationFailedError):
        await login_with_refresh(source, login)
    assert tried == ["stale"]
    assert source.gets == 2


async def test_refused_password_is_not_retried() -> None:
    source = Source(password="wrong")
    tried, login = _server(set())
    with pytest.raises(AuthenticationFailedError):
        await login_with_refresh(source, login)
    assert tried == ["wrong"]
    assert source.gets == 1
    assert len(source.refused) == 1


async def test_auth_server_failure_on_refresh_propagates() -> None:
    class Failing(Source):
        async def get(self) -> Credentials:
            if self.gets:
                raise AuthServerError("the auth server answered HTTP 500")
            return await super().get()

    tried, login = _server(set())
    with pytest.raises(AuthServerError):
        await login_with_refresh(Failing("stale"), login)
    assert tried == ["stale"]
