"""Sign-in, sessions and CSRF of the web pages, on the real service (store, tokens, CLI)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

from imapapi.credentials.tokens import create_token
from imapapi.ui.session import COOKIE
from imapapi.ui.throttle import LOCKOUT, MAX_FAILURES
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api
from tests.integration.ui.conftest import browser, csrf_of, sign_in
from tests.servers.service import base_env, imapapi_command

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "correct horse battery staple"


async def set_password(
    data_dir: Path, backend: StoreBackend, password: str
) -> subprocess.CompletedProcess[str]:
    """`imapapi password set` as an operator runs it, the password piped on stdin."""
    return await asyncio.to_thread(
        subprocess.run,
        [*imapapi_command(), "password", "set", "--data-dir", str(data_dir)],
        input=password + "\n",
        env=base_env(backend.env(data_dir)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_pages_redirect_to_sign_in_until_signed_in(api: Api) -> None:
    async with browser(api) as client:
        for path in ("/", "/accounts", "/settings", "/api-docs", "/accounts/x"):
            answer = await client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == f"/login?next={path}"
        form = await client.get("/login")
        assert form.status_code == 200
        assert "Admin password or API token" in form.text
        assert "imapapi password set" in form.text  # no password yet: says how to set one


async def test_sign_in_with_a_token_sets_a_strict_http_only_cookie(api: Api) -> None:
    async with browser(api) as client:
        answer = await sign_in(client, api.token)
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert api.token not in cookie
        overview = await client.get("/")
        assert overview.status_code == 200
        assert "Overview" in overview.text and "Sign out" in overview.text
        assert overview.headers["cache-control"] == "no-store"
        assert "script-src" not in overview.headers["content-security-policy"]  # none allowed
        assert "default-src 'none'" in overview.headers["content-security-policy"]


async def test_wrong_credentials_and_missing_csrf_are_refused(api: Api) -> None:
    async with browser(api) as client:
        wrong = await sign_in(client, "not-a-token-nor-the-password")
        assert wrong.status_code == 200  # the form again, with the reason
        assert "Wrong password or token." in wrong.text
        assert (await client.get("/")).status_code == 303  # still signed out

        form = await client.get("/login")
        no_csrf = await client.post("/login", data={"credential": api.token})
        assert no_csrf.status_code == 403
        forged = await client.post("/login", data={"csrf": "x" * 43, "credential": api.token})
        assert forged.status_code == 403
        assert (await client.get("/")).status_code == 303
        # The token of another visitor's session does not work either.
        async with browser(api) as other:
            theirs = csrf_of((await other.get("/login")).text)
        stolen = await client.post("/login", data={"csrf": theirs, "credential": api.token})
        assert stolen.status_code == 403
        good = await client.post(
            "/login", data={"csrf": csrf_of(form.text), "credential": api.token}
        )
        assert good.status_code == 303


async def test_sign_in_starts_a_new_session_with_a_new_csrf_token(api: Api) -> None:
    async with browser(api) as client:
        before = csrf_of((await client.get("/login")).text)
        await sign_in(client, api.token)
        after = csrf_of((await client.get("/settings")).text)
        assert before != after  # no session fixation: the pre-sign-in token is void
        refused = await client.post("/logout", data={"csrf": before})
        assert refused.status_code == 403


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(api: Api) -> None:
    async with browser(api) as client:
        await sign_in(client, api.token)
        page = await client.get("/")
        assert (await client.post("/logout", data={})).status_code == 403
        assert (await client.get("/")).status_code == 200  # still signed in
        out = await client.post("/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert (await client.get("/")).status_code == 303


async def test_a_tampered_cookie_is_not_a_session(api: Api) -> None:
    async with browser(api) as client:
        await sign_in(client, api.token)
        value = client.cookies[COOKIE]
        payload, _, signature = value.partition(".")
        flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
        client.cookies.set(COOKIE, f"{flipped}.{signature}", domain="imapapi.test")
        assert (await client.get("/")).status_code == 303


async def test_revoking_the_token_ends_its_sessions(api: Api) -> None:
    record, token = await create_token(api.service.store, "web")
    async with browser(api) as client:
        assert (await sign_in(client, token)).status_code == 303
        assert (await client.get("/")).status_code == 200
        assert await api.service.store.revoke_token(record.id, 1.0)
        assert (await client.get("/")).status_code == 303


@pytest.mark.parametrize(
    ("scopes", "accounts"),
    [
        pytest.param(("metrics",), (), id="metrics"),
        pytest.param(("read", "send", "write"), (), id="not-admin"),
        pytest.param(("admin",), ("alice",), id="bound-admin"),
    ],
)
async def test_only_an_unbound_admin_token_signs_in(
    api: Api, scopes: tuple[str, ...], accounts: tuple[str, ...]
) -> None:
    _, token = await create_token(api.service.store, "not for pages", scopes, accounts)
    async with browser(api) as client:
        refused = await sign_in(client, token)
        assert refused.status_code == 200
        assert "the pages need an admin token bound to no account" in refused.text
        assert (await client.get("/")).status_code == 303


async def test_next_only_leads_to_a_local_page(api: Api) -> None:
    async with browser(api) as client:
        form = await client.get("/login?next=//evil.example/x")
        assert 'value="/"' in form.text
        answer = await client.post(
            "/login",
            data={
                "csrf": csrf_of(form.text),
                "credential": api.token,
                "next": "https://evil.example",
            },
        )
        assert answer.headers["location"] == "/"
        form = await client.get("/login?next=/settings")  # signed in now: straight there
        assert form.status_code == 303 and form.headers["location"] == "/settings"


async def test_admin_password_from_the_cli_signs_in_and_signs_everyone_out(
    tmp_path: Path, store_backend: StoreBackend
) -> None:
    data_dir = tmp_path / "data"
    async with (
        running_api(data_dir, store_backend) as api,
        browser(api) as early,
        browser(api) as admin,
    ):
        assert (await sign_in(early, api.token)).status_code == 303
        result = await set_password(data_dir, store_backend, ADMIN_PASSWORD)
        assert result.returncode == 0, result.stderr
        assert ADMIN_PASSWORD not in result.stdout + result.stderr
        stored = await api.service.store.get_settings()
        assert ADMIN_PASSWORD not in repr(stored)
        assert stored["adminPasswordHash"].startswith("scrypt$")
        assert (await early.get("/")).status_code == 303  # sessions end with a new password

        assert "Wrong password" in (await sign_in(admin, ADMIN_PASSWORD + "x")).text
        assert (await sign_in(admin, ADMIN_PASSWORD)).status_code == 303
        page = await admin.get("/")
        assert page.status_code == 200 and "Sign out" in page.text
        async with browser(api) as visitor:
            assert "imapapi password set" not in (await visitor.get("/login")).text

        short = await set_password(data_dir, store_backend, "short")
        assert short.returncode == 2 and "at least" in short.stderr
        assert (await admin.get("/")).status_code == 200  # a refused change changes nothing


async def test_repeated_failures_from_one_address_lock_it_out_of_sign_in(api: Api) -> None:
    def from_address(host: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=api.app, client=(host, 50123))
        return httpx.AsyncClient(transport=transport, base_url="http://imapapi.test")

    async with from_address("203.0.113.9") as guesser, from_address("198.51.100.4") as other:
        for attempt in range(MAX_FAILURES):
            wrong = await sign_in(guesser, f"guess-{attempt}")
            assert wrong.status_code == 200 and "Wrong password or token." in wrong.text
        locked = await sign_in(guesser, api.token)  # even the right token: nothing confirmed
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
        assert 0 < int(locked.headers["retry-after"]) <= LOCKOUT
        assert (await guesser.get("/")).status_code == 303  # still signed out
        # Another address is not locked out, and the API token itself still works on /v1.
        assert (await sign_in(other, api.token)).status_code == 303
        assert (await api.client.get("/v1/accounts")).status_code == 200
