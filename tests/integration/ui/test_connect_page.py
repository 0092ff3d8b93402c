"""The hosted "Connect your mailbox" page without a browser: the link from
`POST /v1/oauth2/connect`, its refusals, the OAuth2 buttons, and the password form checked as
`POST /v1/account` is, on the real Dovecot and SMTP server."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from imapapi.credentials import connect_link
from tests.integration.conftest import Api
from tests.integration.oauth2.helpers import create_app
from tests.integration.ui.conftest import browser, csrf_of
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.oidc import OidcProvider
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.integration

BASE = "http://imapapi.test"
DONE = "https://crm.example/mailbox?step=2"


async def connect_url(api: Api, **body: Any) -> str:
    answer = await api.client.post(
        "/v1/oauth2/connect", json={"account": "carol", "redirectUrl": DONE, **body}
    )
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert url.startswith(f"{BASE}/connect/"), url
    assert api.token not in url
    return str(url).removeprefix(BASE)


def field_error(html: str, name: str) -> str:
    """The error shown next to form field `name` ('' when none)."""
    match = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else ""


def form_fields(
    user: ImapUser, dovecot: Dovecot, smtp: SmtpServer, **changes: str
) -> dict[str, str]:
    fields = {
        "email": f"{user.name}@example.com",
        "username": user.name,
        "password": user.password,
        "imapHost": dovecot.host,
        "imapPort": str(dovecot.port),
        "imapSecurity": "none",
        "smtpHost": smtp.host,
        "smtpPort": str(smtp.port),
        "smtpSecurity": "none",
    }
    fields.update(changes)
    return fields


async def post_password_form(
    client: httpx.AsyncClient, path: str, fields: dict[str, str]
) -> httpx.Response:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return await client.post(path, data={"csrf": csrf_of(page.text), **fields})


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        pytest.param({"redirectUrl": None}, 400, "redirectUrl", id="no-redirect"),
        pytest.param({"redirectUrl": "javascript:alert(1)"}, 400, "redirectUrl", id="js-url"),
        pytest.param({"account": "-bad id"}, 400, "account", id="bad-account"),
        pytest.param({"apps": []}, 400, "apps", id="empty-apps"),
        pytest.param({"apps": ["nope"]}, 422, "apps", id="unknown-app"),
        pytest.param({"expiresIn": 5}, 400, "expiresIn", id="too-short"),
        pytest.param({"expiresIn": 8 * 86400}, 400, "expiresIn", id="too-long"),
        pytest.param({"email": "a\nb@example.com"}, 400, "email", id="control-char"),
        pytest.param({"token": "x"}, 400, "token", id="unknown-field"),
    ],
)
async def test_bad_link_requests_are_refused_naming_the_field(
    api: Api, changes: dict[str, Any], status: int, field: str
) -> None:
    body = {"account": "carol", "redirectUrl": DONE, **changes}
    body = {k: v for k, v in body.items() if v is not None}
    answer = await api.client.post("/v1/oauth2/connect", json=body)
    assert answer.status_code == status, answer.text
    assert field in [d["field"] for d in answer.json()["details"]], answer.text


async def test_a_changed_or_expired_link_shows_an_error_page(api: Api) -> None:
    path = await connect_url(api)
    token = path.removeprefix("/connect/")
    body, signature = token.split(".")
    # Change the signature's first character (the last one partly encodes padding bits, which
    # decoding ignores): the link still looks like one, but is not ours.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    expired = connect_link.sign_link(
        connect_link.ConnectLink("carol", DONE, None, None, None, expires=1000.0),
        connect_link.link_mac(api.service.box),
    )
    async with browser(api) as client:
        for bad, reason in [
            (f"{body}.{flipped}", "was altered or not issued by this service"),
            ("not-a-link", "is not a link this service issued"),
            (expired, "has expired"),
        ]:
            for method, suffix in [("GET", ""), ("POST", ""), ("GET", "/app/corp")]:
                page = await client.request(method, f"/connect/{bad}{suffix}")
                assert page.status_code == 400, (bad, method, suffix)
                assert reason in unescape(page.text)
                assert "Connect your mailbox" in page.text
    assert await api.service.accounts.registry.find("carol") is None


async def test_the_page_offers_a_button_per_app_and_one_starts_the_consent(
    api: Api, oidc_provider: OidcProvider, oauth2_dovecot: Dovecot
) -> None:
    client = oidc_provider.add_client((f"{BASE}/oauth2/callback",))
    await create_app(api, oidc_provider, client, oauth2_dovecot, app="corp")
    await create_app(api, oidc_provider, client, oauth2_dovecot, app="other")
    path = await connect_url(api, apps=["corp"], email="carol@example.com", name="Carol <C>")
    async with browser(api) as browsing:
        page = await browsing.get(path)
        assert page.status_code == 200, page.text
        assert 'id="app-corp"' in page.text and 'id="app-other"' not in page.text
        assert "Carol &lt;C&gt;" in page.text
        assert 'value="carol@example.com"' in page.text  # the email field, filled in
        assert "script" not in page.text.lower()
        started = await browsing.get(f"{path}/app/corp")
        assert started.status_code == 303
        location = started.headers["location"]
        assert location.startswith(oidc_provider.issuer), location
        query = parse_qs(urlsplit(location).query)
        assert query["login_hint"] == ["carol@example.com"]
        assert query["redirect_uri"] == [f"{BASE}/oauth2/callback"]
        assert (await browsing.get(f"{path}/app/other")).status_code == 400  # not offered


async def test_the_password_form_refuses_bad_fields_next_to_them_and_stores_nothing(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    path = await connect_url(api)
    async with browser(api) as client:
        answer = await post_password_form(
            client,
            path,
            form_fields(imap_user, dovecot, smtp, email="no-at-sign", imapPort="0", password=""),
        )
        assert answer.status_code == 400
        assert field_error(answer.text, "email").startswith("Enter your email address")
        assert field_error(answer.text, "password") == "Enter your password."
        answer = await post_password_form(
            client, path, form_fields(imap_user, dovecot, smtp, imapPort="70000", smtpHost="a b")
        )
        assert answer.status_code == 400
        assert "65535" in field_error(answer.text, "imapPort")
        assert field_error(answer.text, "smtpHost")
        assert imap_user.password not in answer.text  # the password is never shown back
        assert 'value="70000"' in answer.text  # what was typed stays
    assert await api.service.accounts.registry.find("carol") is None


async def test_the_form_needs_its_csrf_token(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    path = await connect_url(api)
    async with browser(api) as client:
        await client.get(path)
        refused = await client.post(path, data=form_fields(imap_user, dovecot, smtp))
        assert refused.status_code == 403
        refused = await client.post(
            path, data={"csrf": "forged", **form_fields(imap_user, dovecot, smtp)}
        )
        assert refused.status_code == 403
    assert await api.service.accounts.registry.find("carol") is None


async def test_a_wrong_password_is_shown_and_nothing_is_stored(
    api: Api, own_dovecot: Dovecot, smtp: SmtpServer
) -> None:
    user = own_dovecot.add_user()
    path = await connect_url(api)
    async with browser(api) as client:
        answer = await post_password_form(
            client, path, form_fields(user, own_dovecot, smtp, password="not-the-password")
        )
    assert answer.status_code == 400
    assert field_error(answer.text, "password").startswith("The IMAP server refused this login")
    assert await api.service.accounts.registry.find("carol") is None


async def test_the_right_password_connects_the_account_and_goes_back_to_the_application(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    smtp.add_user(imap_user.name, imap_user.password)
    path = await connect_url(api, name="Carol")
    async with browser(api) as client:
        answer = await post_password_form(client, path, form_fields(imap_user, dovecot, smtp))
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("https://crm.example/mailbox?")
    assert parse_qs(urlsplit(location).query) == {
        "step": ["2"],
        "account": ["carol"],
        "state": ["connected"],
    }
    # The page may send the browser there after the post (CSP form-action).
    assert "form-action 'self' https://crm.example;" in answer.headers["content-security-policy"]
    shown = (await api.client.get("/v1/account/carol")).json()
    assert shown["name"] == "Carol"
    assert shown["email"] == f"{imap_user.name}@example.com"
    assert (shown["imap"]["host"], shown["imap"]["port"]) == (dovecot.host, dovecot.port)
    assert shown["smtp"]["port"] == smtp.port
    assert imap_user.password.encode() not in await api.stored_bytes()
