"""The settings page changes what the service uses; the test button reaches the real receiver."""

from __future__ import annotations

import asyncio
import re
from html import unescape

import httpx
import pytest

from imapapi.events.signing import verify
from tests.integration.conftest import Api
from tests.integration.sync.helpers import message, register
from tests.integration.ui.conftest import post_form
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


def element(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no #{element_id} on the page:\n{html[:3000]}"
    return unescape(match.group(1)).strip()


async def save(ui: httpx.AsyncClient, **fields: str | list[str]) -> httpx.Response:
    values: dict[str, str | list[str]] = {"webhooks": "", "authServer": "", "allEvents": "on"}
    values.update(fields)
    return await post_form(ui, "/settings", "/settings", values)


async def test_the_form_changes_the_webhook_url_and_events_go_there(
    api: Api,
    ui: httpx.AsyncClient,
    dovecot: Dovecot,
    imap_user: ImapUser,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register(api, dovecot, imap_user)
    saved = await save(ui, webhooks=webhook_receiver.url)
    assert saved.status_code == 303 and saved.headers["location"] == "/settings?done=saved"
    page = await ui.get(saved.headers["location"])
    assert "Settings saved." in page.text
    assert f'value="{webhook_receiver.url}"' in page.text
    current = (await api.client.get("/v1/settings")).json()
    assert current["webhooks"] == webhook_receiver.url and current["webhookEvents"] == ["*"]

    await asyncio.to_thread(dovecot.deliver, imap_user, message("through the page"))
    [hook] = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.account == account
    )
    assert hook.json["data"]["subject"] == "through the page"


async def test_event_filter_and_auth_server(api: Api, ui: httpx.AsyncClient) -> None:
    saved = await save(
        ui,
        webhooks="http://127.0.0.1:9/hooks",
        authServer="http://127.0.0.1:9/auth",
        allEvents="",
        events=["messageNew", "messageDeleted"],
    )
    assert saved.status_code == 303
    current = (await api.client.get("/v1/settings")).json()
    assert current["webhookEvents"] == ["messageDeleted", "messageNew"]
    assert current["authServer"] == "http://127.0.0.1:9/auth"
    page = (await ui.get("/settings")).text
    assert 'value="messageNew" checked' in page and 'value="messageSent" checked' not in page

    cleared = await save(ui, webhooks="", authServer="", allEvents="on")
    assert cleared.status_code == 303
    current = (await api.client.get("/v1/settings")).json()
    assert current["webhooks"] is None and current["authServer"] is None
    assert current["webhookEvents"] == ["*"]


async def test_an_invalid_url_is_refused_and_nothing_changes(
    api: Api, ui: httpx.AsyncClient
) -> None:
    refused = await save(ui, webhooks="ftp://example.test/<x>")
    assert refused.status_code == 400
    assert "webhooks" in element(refused.text, "error")
    assert 'value="ftp://example.test/&lt;x&gt;"' in refused.text  # kept for correction, escaped
    assert (await api.client.get("/v1/settings")).json()["webhooks"] is None


async def test_send_test_webhook_shows_the_receivers_answer(
    api: Api, ui: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    assert (await save(ui, webhooks=webhook_receiver.url)).status_code == 303
    rotated = await post_form(ui, "/settings", "/settings/secret", {"secret": ""})
    assert rotated.status_code == 200
    secret = element(rotated.text, "new-secret")
    assert len(secret) >= 32 and element(rotated.text, "secret-state") == "set"
    assert secret not in (await ui.get("/settings")).text  # shown once only

    result = await post_form(ui, "/settings", "/settings/test-webhook", {})
    assert result.status_code == 200
    assert element(result.text, "probe-status") == "200"
    assert element(result.text, "probe-body") == '{"status": 200}'
    [hook] = webhook_receiver.events("webhookTest")
    assert verify(hook.body, secret, hook.header("X-Imapapi-Signature"))

    webhook_receiver.respond_with(503)
    failed = await post_form(ui, "/settings", "/settings/test-webhook", {})
    assert element(failed.text, "probe-status") == "503"
    assert element(failed.text, "probe-body") == '{"status": 503}'


async def test_test_webhook_without_url_or_with_a_dead_target(
    api: Api, ui: httpx.AsyncClient
) -> None:
    none = await post_form(ui, "/settings", "/settings/test-webhook", {})
    assert none.status_code == 400 and "No webhook URL" in element(none.text, "error")
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    assert (await save(ui, webhooks="http://127.0.0.1:9/hooks")).status_code == 303
    dead = await post_form(ui, "/settings", "/settings/test-webhook", {})
    assert dead.status_code == 200
    assert "Connect" in element(dead.text, "probe-error")


async def test_a_typed_secret_is_used_but_not_echoed(api: Api, ui: httpx.AsyncClient) -> None:
    typed = "typed-secret-of-the-operator-123"
    answer = await post_form(ui, "/settings", "/settings/secret", {"secret": typed})
    assert answer.status_code == 200 and typed not in answer.text
    assert (await api.service.runtime.webhook_target()).secret == typed
    short = await post_form(ui, "/settings", "/settings/secret", {"secret": "short"})
    assert short.status_code == 400
    assert (await api.service.runtime.webhook_target()).secret == typed


async def test_settings_forms_need_the_csrf_token(api: Api, ui: httpx.AsyncClient) -> None:
    for action in ("/settings", "/settings/test-webhook", "/settings/secret"):
        refused = await ui.post(action, data={"webhooks": "http://127.0.0.1:9/x", "secret": ""})
        assert refused.status_code == 403, action
    assert (await api.client.get("/v1/settings")).json() == {
        "webhooks": None,
        "webhookEvents": ["*"],
        "authServer": None,
        "serviceSecretSet": False,
    }
