"""The pages show a real account connected to the test Dovecot; reconnect and log download."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import httpx
import pytest

from imapapi.logs import JsonFormatter
from imapapi.sessions.session import AccountSession
from tests.integration.conftest import Api
from tests.integration.sync.helpers import register, wait_state
from tests.integration.ui.conftest import browser, csrf_of
from tests.servers.dovecot import Dovecot, ImapUser

pytestmark = pytest.mark.integration


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, f"no #{element_id} on the page"
    return match.group(1).strip()


async def test_overview_and_accounts_show_the_connected_account(
    api: Api, ui: httpx.AsyncClient, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    account = await register(api, dovecot, imap_user)
    overview = (await ui.get("/")).text
    assert text_of(overview, "state-connected") == "1"
    assert int(text_of(overview, "connections")) >= 1
    assert text_of(overview, "version") == api.app.version
    assert "No webhook URL set" in overview

    listing = (await ui.get("/accounts")).text
    assert f'href="/accounts/{account}"' in listing
    row = listing.split(f'href="/accounts/{account}"', 1)[1].split("</tr>", 1)[0]
    assert "connected" in row

    found = (await ui.get("/accounts", params={"q": account[-8:].upper()})).text
    assert f'href="/accounts/{account}"' in found  # search ignores case
    missing = (await ui.get("/accounts", params={"q": "no-such-account"})).text
    assert f'href="/accounts/{account}"' not in missing and "No accounts match" in missing
    other_state = (await ui.get("/accounts", params={"state": "connectError"})).text
    assert f'href="/accounts/{account}"' not in other_state


async def test_accounts_are_paged(api: Api, ui: httpx.AsyncClient, dovecot: Dovecot) -> None:
    # Accounts that point at a closed port: paging does not need them connected.
    for n in range(30):
        body = {
            "account": f"paged-{n:02d}",
            "imap": {"host": "127.0.0.1", "port": 1, "auth": {"user": "u", "pass": "p"}},
        }
        assert (await api.client.post("/v1/account", json=body)).status_code == 200
    first = (await ui.get("/accounts")).text
    assert "page 1 of 2" in first and "paged-00" in first and "paged-29" not in first
    second = (await ui.get("/accounts", params={"p": 1})).text
    assert "paged-29" in second and "paged-00" not in second


async def test_account_page_folders_reconnect_and_log_download(
    api: Api, ui: httpx.AsyncClient, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    account = await register(api, dovecot, imap_user)
    page = await ui.get(f"/accounts/{account}")
    assert page.status_code == 200
    assert text_of(page.text, "account-state") == "connected"
    folders = page.text.split('id="folders"', 1)[1]
    assert "<td>INBOX</td>" in folders and "\\Sent" in folders
    assert imap_user.password not in page.text
    assert f'href="/v1/logs/{account}"' in page.text

    session = api.service.accounts.session(account)
    assert isinstance(session, AccountSession)
    primary = session._primary
    done = await ui.post(f"/accounts/{account}/reconnect", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 303
    assert done.headers["location"] == f"/accounts/{account}?done=reconnect"
    assert "Reconnect requested." in (await ui.get(done.headers["location"])).text
    for _ in range(200):  # the primary connection is replaced by a new one
        if session._primary is not None and session._primary is not primary:
            break
        await asyncio.sleep(0.05)
    assert session._primary is not primary
    await wait_state(api, account, "connected")

    log = await ui.get(f"/v1/logs/{account}")  # with the session cookie, no API token
    assert log.status_code == 200
    assert log.headers["content-disposition"] == f'attachment; filename="{account}.log"'
    assert "LOGIN" in log.text or "AUTHENTICATE" in log.text
    assert imap_user.password not in log.text


async def test_the_session_cookie_reads_but_never_writes_the_api(
    api: Api, ui: httpx.AsyncClient, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    account = await register(api, dovecot, imap_user)
    assert (await ui.get("/v1/accounts")).status_code == 200
    assert (await ui.delete(f"/v1/account/{account}")).status_code == 401
    assert (await ui.put(f"/v1/account/{account}/reconnect")).status_code == 401
    async with browser(api) as stranger:  # no session: the log stays closed
        assert (await stranger.get(f"/v1/logs/{account}")).status_code == 401


async def test_reconnect_needs_the_csrf_token(
    api: Api, ui: httpx.AsyncClient, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    account = await register(api, dovecot, imap_user)
    refused = await ui.post(f"/accounts/{account}/reconnect", data={"csrf": "forged"})
    assert refused.status_code == 403
    registry = api.service.metrics.registry
    assert registry.get_sample_value("imapapi_imap_reconnects_total") == 0


async def test_everything_shown_is_escaped(api: Api, ui: httpx.AsyncClient) -> None:
    body = {
        "account": "escaped",
        "name": "<script>alert(1)</script>",
        "imap": {"host": "127.0.0.1", "port": 1, "auth": {"user": "<b>u</b>", "pass": "p"}},
    }
    assert (await api.client.post("/v1/account", json=body)).status_code == 200
    for path in ("/accounts", "/accounts/escaped"):
        html = (await ui.get(path)).text
        assert "<script>" not in html and "<b>u</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;b&gt;u&lt;/b&gt;" in html


async def test_unknown_account_page_is_404(ui: httpx.AsyncClient) -> None:
    page = await ui.get("/accounts/nobody-here")
    assert page.status_code == 404 and "nobody-here" in page.text


async def test_api_docs_page_links_the_references_and_explains_tokens(
    ui: httpx.AsyncClient,
) -> None:
    page = (await ui.get("/api-docs")).text
    assert 'href="/docs"' in page and 'href="/redoc"' in page
    assert 'href="/openapi.json"' in page
    assert "imapapi token create" in page


async def test_log_records_of_an_account_carry_its_id(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="imapapi.sessions.session")
    account = await register(api, dovecot, imap_user)
    records = [r for r in caplog.records if r.name == "imapapi.sessions.session"]
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    assert any(
        line.get("account") == account and line["message"].endswith("-> connected")
        for line in lines
    ), lines
    assert imap_user.password not in caplog.text
