"""The tokens page: a token created there is shown once and opens the real API; revoked there
(after a confirmation), the API refuses it."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from tests.integration.api.test_accounts import account_body
from tests.integration.conftest import Api
from tests.integration.ui.conftest import browser, csrf_of, post_form, sign_in

pytestmark = pytest.mark.integration


def api_client(api: Api, token: str) -> httpx.AsyncClient:
    """A plain API client (no cookies) that sends `token`."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://imapapi.test",
        headers={"Authorization": f"Bearer {token}"},
    )


async def create(
    ui: httpx.AsyncClient, description: str, scopes: list[str], accounts: str = ""
) -> tuple[str, str]:
    """Create a token with the page's form; returns (id, token) as the answer shows them."""
    fields = {"description": description, "scopes": scopes, "accounts": accounts}
    answer = await post_form(ui, "/tokens", "/tokens", fields)
    assert answer.status_code == 200, answer.text
    token = re.search(r'id="new-token">([^<]+)<', answer.text)
    token_id = re.search(r'id="new-token-id">(\w+)<', answer.text)
    assert token and token_id, answer.text
    return token_id.group(1), unescape(token.group(1))


def row(html: str, token_id: str) -> str:
    match = re.search(rf'<tr id="token-{token_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row of token {token_id}"
    return match.group(1)


async def test_a_created_token_is_shown_once_and_opens_the_api(
    api: Api, ui: httpx.AsyncClient
) -> None:
    token_id, token = await create(ui, "crm <backend>", ["admin"])
    async with api_client(api, token) as client:
        assert (await client.get("/v1/accounts")).status_code == 200

    listing = await ui.get("/tokens")
    assert token not in listing.text  # shown once, never again
    shown = row(listing.text, token_id)
    assert "crm &lt;backend&gt;" in shown and "<td>admin</td>" in shown and "active" in shown
    stored = [t for t in await api.service.store.list_tokens() if t.id == token_id]
    assert stored and stored[0].description == "crm <backend>" and stored[0].scopes == ("admin",)
    assert token not in (await api.stored_bytes()).decode("latin-1")


async def test_revoking_after_confirmation_makes_the_api_refuse_the_token(
    api: Api, ui: httpx.AsyncClient
) -> None:
    token_id, token = await create(ui, "to revoke", ["admin"])
    listing = (await ui.get("/tokens")).text
    assert f'href="/tokens/{token_id}/revoke"' in row(listing, token_id)

    confirm = await ui.get(f"/tokens/{token_id}/revoke")  # a page that asks, changes nothing
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    async with api_client(api, token) as client:
        assert (await client.get("/v1/accounts")).status_code == 200
        done = await ui.post(f"/tokens/{token_id}/revoke", data={"csrf": csrf_of(confirm.text)})
        assert done.status_code == 303 and done.headers["location"] == "/tokens?done=revoked"
        refused = await client.get("/v1/accounts")
        assert refused.status_code == 403
        assert refused.json()["error"] == "this API token has been revoked"
    after = (await ui.get("/tokens?done=revoked")).text
    assert "Token revoked" in after
    assert "revoked " in row(after, token_id) and "active" not in row(after, token_id)
    assert f'href="/tokens/{token_id}/revoke"' not in after
    assert (await ui.get(f"/tokens/{token_id}/revoke")).status_code == 404  # not twice


async def test_a_bound_token_sees_only_its_accounts(api: Api, ui: httpx.AsyncClient) -> None:
    for account in ("alice", "bob"):
        created = await api.client.post("/v1/account", json=account_body(account))
        assert created.status_code == 200, created.text
    token_id, token = await create(ui, "agent", ["read", "send"], "alice, carol alice")
    shown = row((await ui.get("/tokens")).text, token_id)
    assert "<td>read, send</td>" in shown and ">alice, carol</td>" in shown
    async with api_client(api, token) as client:
        listing = (await client.get("/v1/accounts")).json()
        assert [a["account"] for a in listing["accounts"]] == ["alice"]
        assert (await client.get("/v1/account/bob")).status_code == 404
        refused = await client.post("/v1/account/alice/mailbox", json={"path": "X"})
        assert refused.json()["error"] == "this API token lacks the 'write' scope"
    unbound = row((await ui.get("/tokens")).text, (await api.service.store.list_tokens())[0].id)
    assert ">all</span></td>" in unbound


async def test_a_metrics_token_opens_only_the_metrics(api: Api, ui: httpx.AsyncClient) -> None:
    _, token = await create(ui, "prometheus", ["metrics"])
    async with api_client(api, token) as client:
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/v1/accounts")).status_code == 403


async def test_revoking_the_sessions_own_token_signs_it_out(api: Api) -> None:
    async with browser(api) as admin:
        assert (await sign_in(admin, api.token)).status_code == 303
        token_id, token = await create(admin, "my own", ["admin"])
    async with browser(api) as client:
        assert (await sign_in(client, token)).status_code == 303
        confirm = await client.get(f"/tokens/{token_id}/revoke")
        assert "You are signed in with this token" in confirm.text
        done = await client.post(f"/tokens/{token_id}/revoke", data={"csrf": csrf_of(confirm.text)})
        assert done.status_code == 303
        assert (await client.get("/tokens")).headers["location"] == "/login?next=/tokens"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        pytest.param({"description": "x", "scopes": []}, "scopes: tick at least one", id="none"),
        pytest.param(
            {"description": "x", "scopes": ["api"]}, "unknown scope &#39;api&#39;", id="unknown"
        ),
        pytest.param(
            {"description": "x", "scopes": ["read"], "accounts": "alice, bad/id"},
            "accounts: &#39;bad/id&#39; is not an account id",
            id="account",
        ),
        pytest.param(
            {"description": "x" * 201, "scopes": ["admin"]}, "at most 200 characters", id="long"
        ),
        pytest.param(
            {"description": "a\nb", "scopes": ["admin"]}, "no control characters", id="control"
        ),
    ],
)
async def test_bad_forms_create_no_token(
    api: Api, ui: httpx.AsyncClient, fields: dict[str, str | list[str]], reason: str
) -> None:
    before = len(await api.service.store.list_tokens())
    answer = await post_form(ui, "/tokens", "/tokens", fields)
    assert answer.status_code == 400
    assert reason in answer.text and 'id="new-token"' not in answer.text
    assert len(await api.service.store.list_tokens()) == before


async def test_token_forms_need_the_csrf_token(api: Api, ui: httpx.AsyncClient) -> None:
    before = len(await api.service.store.list_tokens())
    for fields in ({}, {"csrf": "forged"}):
        answer = await ui.post("/tokens", data={**fields, "description": "x", "scopes": "admin"})
        assert answer.status_code == 403
    assert len(await api.service.store.list_tokens()) == before

    token_id, token = await create(ui, "kept", ["admin"])
    for fields in ({}, {"csrf": "forged"}):
        assert (await ui.post(f"/tokens/{token_id}/revoke", data=fields)).status_code == 403
    async with api_client(api, token) as client:
        assert (await client.get("/v1/accounts")).status_code == 200


async def test_unknown_tokens_cannot_be_revoked(ui: httpx.AsyncClient) -> None:
    assert (await ui.get("/tokens/nosuchtoken/revoke")).status_code == 404
    csrf = csrf_of((await ui.get("/tokens")).text)
    answer = await ui.post("/tokens/nosuchtoken/revoke", data={"csrf": csrf})
    assert answer.status_code == 404 and "nosuchtoken" in answer.text


async def test_a_signed_out_browser_is_sent_to_sign_in_and_changes_nothing(api: Api) -> None:
    [record] = await api.service.store.list_tokens()
    async with browser(api) as client:
        for path in ("/tokens", f"/tokens/{record.id}/revoke"):
            answer = await client.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == f"/login?next={path}"
        csrf = csrf_of((await client.get("/login")).text)
        for action in ("/tokens", f"/tokens/{record.id}/revoke"):
            posted = await client.post(action, data={"csrf": csrf, "scopes": "admin"})
            assert posted.status_code == 303
    [after] = await api.service.store.list_tokens()
    assert after.revoked is None
    async with api_client(api, api.token) as client:
        assert (await client.get("/v1/accounts")).status_code == 200


async def test_navigation_links_the_tokens_page(ui: httpx.AsyncClient) -> None:
    page = (await ui.get("/tokens")).text
    assert re.search(r'<nav>.*href="/tokens" class="active".*</nav>', page, re.S)
