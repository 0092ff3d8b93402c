"""The hosted "Connect your mailbox" page in a real browser, JavaScript off: Debian's chromium
driven by Playwright, `imapapi serve` as a real process, the oidc-provider harness (its own
login and consent pages), the Dovecot and SMTP server that introspect its tokens, and a tiny
HTTP server standing in for the application the user comes back to.

Screenshots go to test-artifacts/ui/connect-*.png.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ServiceFactory
from tests.e2e.helpers import first_start_token, wait_state
from tests.e2e.test_ui_browser import Console, browser, shot  # noqa: F401 (browser: a fixture)
from tests.servers.dovecot import Dovecot
from tests.servers.oidc import OidcProvider, OidcUser
from tests.servers.ports import LOOPBACK
from tests.servers.smtp import SmtpServer

PHONE = {"width": 360, "height": 740}
PATH = "/mailbox-connected"
BACK_PAGE = (
    b'<!doctype html><title>CRM</title><link rel="icon" href="data:,">'
    b"<h1 id=back>Back in the CRM</h1>"
)


class Application:
    """The application's page the browser is sent back to: records each request's query."""

    def __init__(self) -> None:
        arrivals: list[dict[str, list[str]]] = []
        self.arrivals = arrivals

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == PATH:  # not the browser's /favicon.ico
                    arrivals.append(parse_qs(parts.query))
                body = BACK_PAGE
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self._server.server_port}{PATH}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Application:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def application() -> Iterator[Application]:
    with Application() as app:
        yield app


@pytest.fixture
def api(
    service_factory: ServiceFactory,
    oidc_provider: OidcProvider,
    oauth2_dovecot: Dovecot,
    oauth2_smtp: SmtpServer,
) -> Iterator[httpx.Client]:
    """`imapapi serve` with the provider's test client as its OAuth2 app `corp`, and an API
    client with the first-start token."""
    process = service_factory()
    client = oidc_provider.add_client((process.url + "/oauth2/callback",))
    process.start()
    token = first_start_token(process.stderr)
    with process.client(token) as running:
        created = running.post(
            "/v1/oauth2/apps",
            json={
                "id": "corp",
                "name": "Corp SSO",
                "provider": "oidc",
                "clientId": client.client_id,
                "clientSecret": client.client_secret,
                "issuer": oidc_provider.issuer,
                "imap": {
                    "host": oauth2_dovecot.host,
                    "port": oauth2_dovecot.port,
                    "starttls": "never",
                },
                "smtp": {"host": oauth2_smtp.host, "port": oauth2_smtp.port, "starttls": "never"},
            },
        )
        assert created.status_code == 200, created.text
        yield running


@dataclass(frozen=True)
class Walk:
    """What a walk through the page needs: the API, the application to come back to, the
    user, and the mail servers that introspect the provider's tokens."""

    api: httpx.Client
    application: Application
    user: OidcUser
    dovecot: Dovecot
    smtp: SmtpServer


@pytest.fixture
def walk(
    api: httpx.Client,
    application: Application,
    oidc_provider: OidcProvider,
    oauth2_dovecot: Dovecot,
    oauth2_smtp: SmtpServer,
) -> Walk:
    """A fresh provider user with a mailbox (and a password login on both servers) whose
    address /submit takes as a sender (example.com, not a special-use domain)."""
    user = OidcUser(f"page-{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex[:12]}")
    oidc_provider.add_user(user)
    oauth2_dovecot.add_user(user.email, user.password)
    oauth2_smtp.add_user(user.email, user.password)
    return Walk(api, application, user, oauth2_dovecot, oauth2_smtp)


def link(api: httpx.Client, account: str, application: Application, **extra: Any) -> str:
    answer = api.post(
        "/v1/oauth2/connect",
        json={"account": account, "redirectUrl": application.url, **extra},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["url"])


def fits(page: Page, selector: str) -> None:
    """The element lies within the phone's width (no sideways scrolling to reach it)."""
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)


def test_the_oauth2_button_walks_the_consent_to_a_connected_account_that_sends_mail(
    browser: Browser,  # noqa: F811
    walk: Walk,
) -> None:
    api, application, user, oauth2_smtp = walk.api, walk.application, walk.user, walk.smtp
    url = link(api, "dana", application, name="Dana", email=user.email)
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        console = Console(page)
        page.goto(url)
        expect(page.locator("h1")).to_have_text("Connect your mailbox")
        expect(page.locator("#app-corp")).to_have_text("Continue with Corp SSO")
        expect(page.get_by_label("Email address")).to_have_value(user.email)
        for selector in ("#app-corp", "#email", "#password", "#imapHost", "#connect"):
            fits(page, selector)
        shot(page, "connect-01-page")

        page.click("#app-corp")  # to the provider's own login page
        page.fill("#login-form input[name=email]", user.email)
        page.fill("#login-form input[name=password]", user.password)
        shot(page, "connect-02-provider-login")
        page.click("#login-form button")
        expect(page.locator("#consent-form")).to_be_visible()
        shot(page, "connect-03-provider-consent")
        page.click("#consent-form button")

        expect(page.locator("#back")).to_have_text("Back in the CRM")
        shot(page, "connect-04-back-in-the-application")
        assert application.arrivals == [{"account": ["dana"], "state": ["connected"]}]
        # The harness's provider pages name no icon, so the browser asks for /favicon.ico.
        assert [e for e in console.errors if "/favicon.ico" not in e] == []
    finally:
        context.close()

    # Connected on the Dovecot that introspects every XOAUTH2 token at the provider.
    shown = wait_state(api, "dana", "connected")
    assert shown["oauth2"] == {"app": "corp", "user": user.email}
    assert shown["name"] == "Dana"
    sent = api.post(
        "/v1/account/dana/submit",
        json={"to": [{"address": "erin@example.com"}], "subject": "hosted page", "text": "hi"},
    )
    assert sent.status_code == 200, sent.text
    [message] = oauth2_smtp.wait_for_messages(1, timeout=20)
    assert message.mail_from == user.email
    assert list(message.rcpt_tos) == ["erin@example.com"]
    assert oauth2_smtp.oauth_attempts == [("XOAUTH2", user.email)]  # introspected


def test_the_password_form_shows_a_wrong_password_then_connects_with_the_right_one(
    browser: Browser,  # noqa: F811
    walk: Walk,
) -> None:
    api, application, user = walk.api, walk.application, walk.user
    oauth2_dovecot, oauth2_smtp = walk.dovecot, walk.smtp
    url = link(api, "eve", application, email=user.email)
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        console = Console(page)
        page.goto(url)
        page.fill("#password", "not-the-password")
        page.fill("#imapHost", oauth2_dovecot.host)
        page.fill("#imapPort", str(oauth2_dovecot.port))
        page.select_option("#imapSecurity", "none")
        page.fill("#smtpHost", oauth2_smtp.host)
        page.fill("#smtpPort", str(oauth2_smtp.port))
        page.select_option("#smtpSecurity", "none")
        page.click("#connect")
        expect(page.locator("#password-error")).to_contain_text(
            "The IMAP server refused this login"
        )
        expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#imapPort")).to_have_value(str(oauth2_dovecot.port))  # kept
        fits(page, "#password-error")
        shot(page, "connect-05-wrong-password")
        assert api.get("/v1/account/eve").status_code == 404  # nothing stored

        page.fill("#password", user.password)
        page.click("#connect")
        expect(page.locator("#back")).to_have_text("Back in the CRM")
        assert application.arrivals == [{"account": ["eve"], "state": ["connected"]}]
        # The one refused post answered 400 (the form again, with its errors): the browser
        # reports that status, nothing else.
        [refused] = console.errors
        assert "status of 400" in refused and url in refused
    finally:
        context.close()
    shown = wait_state(api, "eve", "connected")
    assert shown["email"] == user.email and shown["oauth2"] is None


def test_a_changed_link_shows_an_error_page(
    browser: Browser,  # noqa: F811
    api: httpx.Client,
    application: Application,
) -> None:
    url = link(api, "frank", application)
    # The signature's first character (its last one partly encodes ignored padding bits).
    start = url.rindex(".") + 1
    changed = url[:start] + ("A" if url[start] != "A" else "B") + url[start + 1 :]
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        answer = page.goto(changed)
        assert answer is not None and answer.status == 400
        expect(page.locator("#error")).to_contain_text("was altered or not issued")
        shot(page, "connect-06-changed-link")
    finally:
        context.close()
    assert api.get("/v1/account/frank").status_code == 404
