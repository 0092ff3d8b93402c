"""/v1/oauth2/apps and /v1/oauth2/authorize, and the callback's answers to a bad `state` or a
declined consent: the parts that need no provider (Google's endpoints are fixed, so an
authorization URL is built without a request)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from imapapi.accounts.model import AccountConfig, OAuth2Link
from imapapi.servers import ServerConfig
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api

pytestmark = pytest.mark.integration

SECRET = "Client-Secret-Distinctive-4711"
GOOGLE = {"id": "gmail", "provider": "google", "clientId": "cid.apps", "clientSecret": SECRET}
OIDC = {
    "id": "corp",
    "provider": "oidc",
    "clientId": "corp-client",
    "clientSecret": SECRET,
    "issuer": "https://id.corp.example",
    "imap": {"host": "127.0.0.1", "port": 1},
}


async def test_an_app_is_created_shown_without_its_secret_and_changed(api: Api) -> None:
    created = await api.client.post("/v1/oauth2/apps", json=GOOGLE)
    assert created.status_code == 200, created.text
    assert created.json() == {"id": "gmail", "created": True}
    again = await api.client.post("/v1/oauth2/apps", json=GOOGLE)
    assert again.status_code == 409
    shown_answer = await api.client.get("/v1/oauth2/apps/gmail")
    shown = shown_answer.json()
    assert shown["clientSecret"] == "set"
    assert shown["scopes"] == ["https://mail.google.com/", "openid", "email"]
    assert shown["imap"]["host"] == "imap.gmail.com" and shown["imap"]["secure"] is True
    assert (shown["smtp"]["host"], shown["smtp"]["port"]) == ("smtp.gmail.com", 465)
    patched = await api.client.patch(
        "/v1/oauth2/apps/gmail", json={"name": "Gmail", "clientSecret": SECRET + "-2"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Gmail"
    listed = await api.client.get("/v1/oauth2/apps")
    assert [app["id"] for app in listed.json()["apps"]] == ["gmail"]
    for answer in (created, shown_answer, patched, listed):
        assert SECRET not in answer.text
    app = await api.service.oauth2.apps.get("gmail")  # type: ignore[union-attr]
    assert app.client_secret == SECRET + "-2"
    raw = await api.stored_bytes()
    assert SECRET.encode() not in raw


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {**base, **changes}
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param(_with(GOOGLE, provider="yahoo"), 400, "provider", id="provider"),
        pytest.param(_with(GOOGLE, clientSecret=None), 400, "clientSecret", id="no-secret"),
        pytest.param(_with(GOOGLE, id="bad id"), 400, "id", id="id"),
        pytest.param(_with(GOOGLE, scopes=["a b"]), 400, "scopes.0", id="scope-with-space"),
        pytest.param(_with(GOOGLE, scopes=[]), 400, "scopes", id="no-scopes"),
        pytest.param(_with(OIDC, issuer="ftp://x.example"), 400, "issuer", id="ftp-issuer"),
        pytest.param(_with(OIDC, imap={"host": "x", "port": 0}), 400, "imap.port", id="port"),
        pytest.param(_with(GOOGLE, extra=1), 400, "extra", id="unknown-field"),
        # Rules across fields, which the schema does not state: 422, naming the field.
        pytest.param(
            _with(GOOGLE, issuer="https://x.example"), 422, "issuer", id="issuer-on-google"
        ),
        pytest.param(_with(GOOGLE, tenant="contoso"), 422, "tenant", id="tenant-on-google"),
        pytest.param(_with(OIDC, issuer=None), 422, "issuer", id="oidc-no-endpoints"),
        pytest.param(_with(OIDC, imap=None), 422, "imap", id="oidc-no-imap"),
    ],
)
async def test_bad_apps_are_refused_naming_the_field(
    api: Api, body: dict[str, Any], status: int, field: str
) -> None:
    answer = await api.client.post("/v1/oauth2/apps", json=body)
    assert answer.status_code == status, answer.text
    assert field in [d["field"] for d in answer.json()["details"]]
    assert (await api.client.get("/v1/oauth2/apps")).json() == {"apps": []}


async def test_patch_cannot_clear_the_secret_and_unknown_apps_are_404(api: Api) -> None:
    await api.client.post("/v1/oauth2/apps", json=GOOGLE)
    cleared = await api.client.patch("/v1/oauth2/apps/gmail", json={"clientSecret": None})
    assert cleared.status_code == 422
    assert cleared.json()["details"][0]["field"] == "clientSecret"
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, Any] = {"json": {}} if method == "PATCH" else {}
        answer = await api.client.request(method, "/v1/oauth2/apps/nope", **kwargs)
        assert answer.status_code == 404, (method, answer.text)
        assert answer.json()["code"] == "OAuth2AppNotFound"


async def test_an_app_in_use_is_not_deleted(api: Api) -> None:
    assert (await api.client.post("/v1/oauth2/apps", json=OIDC)).status_code == 200
    user = ServerConfig("127.0.0.1", 1)
    await api.service.accounts.upsert(
        AccountConfig(account="acc", imap=user).with_oauth2(OAuth2Link("corp", "u@x"), user, None)
    )
    refused = await api.client.delete("/v1/oauth2/apps/corp")
    assert refused.status_code == 409
    assert refused.json()["details"] == {"accounts": ["acc"]}
    shown = (await api.client.get("/v1/account/acc")).json()
    assert shown["oauth2"] == {"app": "corp", "user": "u@x"}
    await api.client.delete("/v1/account/acc")
    assert (await api.client.delete("/v1/oauth2/apps/corp")).json() == {
        "id": "corp",
        "deleted": True,
    }


async def _authorize(api: Api, **changes: Any) -> Any:
    body = {"app": "gmail", "account": "alice", "redirectUrl": "https://crm.example/done?x=1"}
    return await api.client.post("/v1/oauth2/authorize", json={**body, **changes})


async def test_authorize_answers_googles_url_with_pkce_and_a_signed_state(api: Api) -> None:
    await api.client.post("/v1/oauth2/apps", json=GOOGLE)
    answer = await _authorize(api, loginHint="alice@gmail.com")
    assert answer.status_code == 200, answer.text
    url = urlsplit(answer.json()["url"])
    assert (url.netloc, url.path) == ("accounts.google.com", "/o/oauth2/v2/auth")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == "cid.apps"
    assert query["redirect_uri"] == "http://imapapi.test/oauth2/callback"  # the request's base
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert (query["access_type"], query["prompt"]) == ("offline", "consent")
    assert query["login_hint"] == "alice@gmail.com"
    assert query["state"].count(".") == 1


async def test_the_public_url_setting_names_the_callback(
    tmp_path: Path, store_backend: StoreBackend
) -> None:
    async with running_api(
        tmp_path / "d", store_backend, public_url="https://mail-api.example.com/"
    ) as api:
        await api.client.post("/v1/oauth2/apps", json=GOOGLE)
        query = parse_qs(urlsplit((await _authorize(api)).json()["url"]).query)
        assert query["redirect_uri"] == ["https://mail-api.example.com/oauth2/callback"]


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        pytest.param({"app": "nope"}, 404, None, id="unknown-app"),
        pytest.param({"redirectUrl": "javascript:alert(1)"}, 400, "redirectUrl", id="js-url"),
        pytest.param({"account": "no spaces"}, 400, "account", id="account-id"),
        pytest.param({"loginHint": "a\nb"}, 400, "loginHint", id="control-chars"),
    ],
)
async def test_bad_authorize_requests_are_refused(
    api: Api, changes: dict[str, Any], status: int, field: str | None
) -> None:
    await api.client.post("/v1/oauth2/apps", json=GOOGLE)
    answer = await _authorize(api, **changes)
    assert answer.status_code == status, answer.text
    if field is not None:
        assert field in [d["field"] for d in answer.json()["details"]]


async def test_callback_refuses_a_forged_state_and_spends_a_declined_one(api: Api) -> None:
    await api.client.post("/v1/oauth2/apps", json=GOOGLE)
    state = parse_qs(urlsplit((await _authorize(api)).json()["url"]).query)["state"][0]
    client = api.client
    client.headers.pop("Authorization")  # the end user's browser has no API token
    body, signature = state.split(".")
    for bad in ("", "nonsense", f"{body}x.{signature}", f"{body}.{signature[:-2]}AA"):
        page = await client.get("/oauth2/callback", params={"state": bad, "code": "c"})
        assert page.status_code == 400, bad
        assert page.headers["content-type"].startswith("text/html")
        assert "Mailbox not connected" in page.text
    declined = await client.get(
        "/oauth2/callback", params={"state": state, "error": "access_denied"}
    )
    assert declined.status_code == 303
    assert declined.headers["location"] == (
        "https://crm.example/done?x=1&account=alice&error=access_denied"
    )
    reused = await client.get("/oauth2/callback", params={"state": state, "code": "c"})
    assert reused.status_code == 400
    assert "used already" in reused.text
    assert await api.service.accounts.registry.find("alice") is None  # nothing stored
