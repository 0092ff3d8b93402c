"""The operator pages in a real browser: Debian's chromium driven by Playwright, against
`imapapi serve` as a real process, the test Dovecot and a real webhook receiver.

Screenshots of every step are written to test-artifacts/ui/ (gitignored) for a human to look
at; a JavaScript console error or an uncaught page error on any page fails the test.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect, sync_playwright

from tests.e2e.conftest import ServiceFactory
from tests.e2e.helpers import dovecot_account, first_start_token, register, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.service import ServiceProcess, imapapi_command
from tests.servers.webhooks import WebhookReceiver

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root in a container; chromium refuses its sandbox there
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
ADMIN_PASSWORD = "browser-admin-password-42"
MESSAGE = (
    b"From: a@example.test\r\nTo: b@example.test\r\nSubject: seen by the browser test\r\n\r\nhi\r\n"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


class Console:
    """Collects console errors and uncaught page errors of a page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} at {message.location}")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def set_admin_password(service: ServiceProcess, password: str) -> None:
    result = subprocess.run(
        [*imapapi_command(), "password", "set"],
        input=password + "\n",
        env=service.full_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def running(
    service_factory: ServiceFactory, dovecot: Dovecot, imap_user: ImapUser
) -> tuple[ServiceProcess, str]:
    """`imapapi serve` with an admin password and one account connected to Dovecot."""
    service = service_factory()
    service.start()
    token = first_start_token(service.stderr)
    set_admin_password(service, ADMIN_PASSWORD)
    with service.client(token) as client:
        register(client, dovecot_account(dovecot, imap_user))
        wait_state(client, imap_user.name, "connected")
    return service, token


def sign_in(page: Page, service: ServiceProcess, credential: str) -> None:
    page.goto(service.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.fill("#credential", credential)
    page.click("#sign-in")


def test_operator_signs_in_sees_the_account_sets_the_webhook_and_downloads_the_log(
    browser: Browser,
    running: tuple[ServiceProcess, str],
    dovecot: Dovecot,
    imap_user: ImapUser,
    webhook_receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    service, token = running
    account = imap_user.name
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        console = Console(page)

        sign_in(page, service, ADMIN_PASSWORD)
        expect(page).to_have_url(service.url + "/")
        expect(page.locator("#state-connected")).to_have_text("1")
        expect(page.locator("#version")).not_to_be_empty()
        shot(page, "01-overview")

        page.click("nav >> text=Accounts")
        row = page.locator("#accounts tbody tr", has_text=account)
        expect(row).to_contain_text("connected")
        shot(page, "02-accounts")

        row.locator("a").click()
        expect(page.locator("#account-state")).to_have_text("connected")
        expect(page.locator("#folders")).to_contain_text("INBOX")
        shot(page, "03-account")

        with page.expect_download() as download_info:
            page.click("#log-download")
        download = download_info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        log = saved.read_text()
        assert download.suggested_filename == f"{account}.log"
        assert "LOGIN" in log or "AUTHENTICATE" in log, log
        assert imap_user.password not in log

        page.click("nav >> text=Settings")
        page.fill("#webhooks", webhook_receiver.url)
        page.check("#all-events")
        page.click("#save-settings")
        expect(page.locator("#notice")).to_have_text("Settings saved.")
        expect(page.locator("#webhooks")).to_have_value(webhook_receiver.url)
        shot(page, "04-settings-saved")
        dovecot.deliver(imap_user, MESSAGE)
        [new] = webhook_receiver.wait(lambda r: r.event == "messageNew", timeout=20)
        assert new.account == account
        assert new.json["data"]["subject"] == "seen by the browser test"

        page.click("#send-test")
        expect(page.locator("#probe-status")).to_have_text("200")
        expect(page.locator("#probe-body")).to_have_text('{"status": 200}')
        shot(page, "05-test-webhook")
        assert [r.event for r in webhook_receiver.events("webhookTest")] == ["webhookTest"]

        page.click("nav >> text=API docs")
        expect(page.locator("#swagger-link")).to_have_attribute("href", "/docs")
        shot(page, "06-api-docs")

        page.click("#sign-out")
        expect(page).to_have_url(service.url + "/login")
        page.goto(service.url + "/settings")
        expect(page).to_have_url(re.compile(r"/login\?next=/settings$"))
        assert console.errors == []
    finally:
        context.close()
    # The first-start banner shows the token once; the pages and their requests never log it.
    assert service.stderr.count(token) == 1


def test_pages_work_without_javascript(
    browser: Browser, running: tuple[ServiceProcess, str], webhook_receiver: WebhookReceiver
) -> None:
    service, token = running
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        console = Console(page)
        sign_in(page, service, "not the password")
        expect(page.locator("#error")).to_have_text("Wrong password or token.")
        shot(page, "07-wrong-password")
        page.fill("#credential", token)  # an API token signs in as well
        page.click("#sign-in")
        expect(page).to_have_url(service.url + "/")
        page.goto(service.url + "/settings")
        page.fill("#webhooks", webhook_receiver.url)
        page.click("#save-settings")
        expect(page.locator("#notice")).to_have_text("Settings saved.")
        page.click("#send-test")
        expect(page.locator("#probe-status")).to_have_text("200")
        assert console.errors == []
    except Error:
        shot(page, "99-failure-without-javascript")
        raise
    finally:
        context.close()
