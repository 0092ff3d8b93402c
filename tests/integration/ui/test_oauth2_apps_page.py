"""The OAuth2 apps page: an app created there is the API's app, its secret never shown back nor
stored in plain text; refusals name the field; an app in use is not deleted."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from imapapi.accounts.model import AccountConfig, OAuth2Link
from imapapi.servers import ServerConfig
from tests.integration.conftest import Api
from tests.integration.ui.conftest import browser, post_form, sign_in

pytestmark = pytest.mark.integration

SECRET = "page-secret-b7f1c0de"
GOOGLE = {"id": "gmail", "provider": "google", "clientId": "cid.apps", "clientSecret": SECRET}


def error_of(html: str) -> str:
    match = re.search(r'<p class="error" id="error">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else ""


async def test_an_app_created_on_the_page_is_the_apis_and_its_secret_is_never_shown(
    api: Api, ui: httpx.AsyncClient
) -> None:
    fields = {**GOOGLE, "name": "Gmail <work>", "scopes": "https://mail.google.com/ openid email"}
    created = await post_form(ui, "/oauth2-apps", "/oauth2-apps", fields)
    assert created.status_code == 303, created.text
    listing = await ui.get(created.headers["location"])
    assert "OAuth2 app created." in listing.text
    assert 'id="app-gmail"' in listing.text and "Gmail &lt;work&gt;" in listing.text
    assert SECRET not in listing.text
    shown = (await api.client.get("/v1/oauth2/apps/gmail")).json()
    assert shown["provider"] == "google" and shown["clientId"] == "cid.apps"
    assert shown["imap"]["host"] == "imap.gmail.com"  # the provider's default hosts
    assert SECRET.encode() not in await api.stored_bytes()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"id": "-bad"}, "id:", id="bad-id"),
        pytest.param({"clientSecret": ""}, "clientSecret", id="no-secret"),
        pytest.param({"provider": "oidc"}, "issuer", id="oidc-without-issuer"),
        pytest.param({"tenant": "contoso"}, "tenant: only for provider microsoft", id="tenant"),
        pytest.param({"imapHost": "imap.example.com"}, "imap.port", id="host-without-port"),
        pytest.param({"provider": "yahoo"}, "provider", id="unknown-provider"),
    ],
)
async def test_a_refused_form_names_the_field_and_stores_nothing(
    api: Api, ui: httpx.AsyncClient, changes: dict[str, str], reason: str
) -> None:
    answer = await post_form(ui, "/oauth2-apps", "/oauth2-apps", {**GOOGLE, **changes})
    assert answer.status_code == 400, answer.text
    assert reason in error_of(answer.text)
    assert SECRET not in answer.text
    assert (await api.client.get("/v1/oauth2/apps")).json()["apps"] == []


async def test_an_app_is_deleted_unless_an_account_uses_it(api: Api, ui: httpx.AsyncClient) -> None:
    assert (await api.client.post("/v1/oauth2/apps", json=GOOGLE)).status_code == 200
    other = {**GOOGLE, "id": "spare"}
    assert (await api.client.post("/v1/oauth2/apps", json=other)).status_code == 200
    server = ServerConfig("127.0.0.1", 1)  # never reached: the account is not used here
    await api.service.accounts.upsert(
        AccountConfig(account="acc", imap=server).with_oauth2(
            OAuth2Link("gmail", "u@example.com"), server, None
        )
    )
    refused = await post_form(ui, "/oauth2-apps", "/oauth2-apps/gmail/delete", {})
    assert refused.status_code == 409
    assert "used by 1 account" in error_of(refused.text)
    deleted = await post_form(ui, "/oauth2-apps", "/oauth2-apps/spare/delete", {})
    assert deleted.status_code == 303
    ids = [app["id"] for app in (await api.client.get("/v1/oauth2/apps")).json()["apps"]]
    assert ids == ["gmail"]


async def test_the_page_needs_a_signed_in_operator_and_its_csrf_token(api: Api) -> None:
    async with browser(api) as client:
        page = await client.get("/oauth2-apps")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/oauth2-apps"
        refused = await client.post("/oauth2-apps", data=GOOGLE)  # not signed in
        assert refused.status_code == 303
    async with browser(api) as client:
        await sign_in(client, api.token)
        refused = await client.post("/oauth2-apps", data=GOOGLE)  # no CSRF token
        assert refused.status_code == 403
    assert (await api.client.get("/v1/oauth2/apps")).json()["apps"] == []
