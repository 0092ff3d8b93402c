"""/docs, /redoc and the /api-docs page in a real browser with no way out: every request to a
host other than the service is aborted and recorded, as on an air-gapped network.

Debian's chromium driven by Playwright, against `imapapi serve` as a real process. Screenshots
go to test-artifacts/ui/ (gitignored).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, Route, expect

from tests.e2e.conftest import ServiceFactory
from tests.e2e.helpers import first_start_token
from tests.e2e.test_ui_browser import ARTIFACTS, Console, sign_in
from tests.e2e.test_ui_browser import browser as browser  # the module's fixture, shared
from tests.servers.service import ServiceProcess

# Swagger UI's colour for GET (its CSS: .opblock-get), ReDoc's right panel (its theme default):
# seen in a screenshot only when the page's own styles loaded and painted.
SWAGGER_GET_BLUE = (97, 175, 254)
REDOC_PANEL_DARK = (38, 50, 56)


class Offline:
    """Lets a page reach only `origin`: other requests are aborted and their URLs kept."""

    def __init__(self, page: Page, origin: str) -> None:
        self.origin = origin
        self.console = Console(page)
        self.left: list[str] = []  # requests that would have left the service
        self.failed: list[str] = []  # local requests that got an error status
        self.served: list[str] = []  # local paths answered with 2xx/3xx
        page.route("**/*", self._route)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)

    def _local(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def _route(self, route: Route) -> None:
        url = route.request.url
        if self._local(url):
            route.continue_()
        else:
            self.left.append(url)
            route.abort("blockedbyclient")

    def _on_response(self, response: Response) -> None:
        if self._local(response.url):
            path = urlsplit(response.url).path
            (self.failed if response.status >= 400 else self.served).append(path)

    def _on_failed(self, request: Request) -> None:
        # ERR_ABORTED: a navigation (sign-in's redirect, a click) cancelled a load in flight.
        if self._local(request.url) and request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{urlsplit(request.url).path}: {request.failure}")

    def assert_stayed_local(self, *paths: str) -> None:
        """Nothing left the service, nothing failed, and `paths` were served by it."""
        assert self.left == []
        assert self.failed == []
        assert set(paths) <= set(self.served), self.served
        assert self.console.errors == []


def open_offline(context: BrowserContext, service: ServiceProcess) -> tuple[Page, Offline]:
    page = context.new_page()
    return page, Offline(page, service.url)


def assert_local_favicon(page: Page, service: ServiceProcess) -> None:
    icon = page.locator('link[rel="shortcut icon"]').get_attribute("href")
    assert icon is not None and icon.startswith("/")  # served here, not by another site
    assert page.request.get(service.url + icon).headers["content-type"] == "image/png"


@pytest.fixture
def service(service_factory: ServiceFactory) -> ServiceProcess:
    started = service_factory()
    started.start()
    return started


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield opened
    finally:
        opened.close()


def screenshot_colours(page: Page, name: str) -> set[tuple[int, int, int]]:
    """Save a screenshot of the viewport and return the distinct colours in it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    with Image.open(io.BytesIO(png)) as image:
        counted = image.convert("RGB").getcolors(maxcolors=image.width * image.height)
    assert counted is not None
    return {colour for _, colour in counted}


def test_swagger_ui_renders_from_the_service_alone(
    service: ServiceProcess, context: BrowserContext
) -> None:
    page, offline = open_offline(context, service)
    page.goto(service.url + "/docs")

    accounts = page.locator('.opblock-get .opblock-summary-path[data-path="/v1/accounts"]')
    expect(accounts).to_be_visible()
    expect(page.locator(".info .title")).to_contain_text("imapapi")
    colours = screenshot_colours(page, "10-swagger-ui")

    offline.assert_stayed_local(
        "/docs-assets/swagger/swagger-ui-bundle.js",
        "/docs-assets/swagger/swagger-ui.css",
        "/openapi.json",
    )
    assert_local_favicon(page, service)
    assert SWAGGER_GET_BLUE in colours, f"{len(colours)} colours, no Swagger UI blue"


def test_redoc_renders_from_the_service_alone(
    service: ServiceProcess, context: BrowserContext
) -> None:
    page, offline = open_offline(context, service)
    page.goto(service.url + "/redoc")

    expect(page.locator("h1")).to_contain_text("imapapi")
    operation = page.locator(
        '[data-section-id="tag/Account/operation/list_accounts_v1_accounts_get"]'
    )
    expect(operation.get_by_role("heading", name="List accounts")).to_be_visible()
    expect(operation).to_contain_text("/v1/accounts")
    colours = screenshot_colours(page, "11-redoc")

    offline.assert_stayed_local(
        "/docs-assets/redoc/redoc.standalone.js",
        "/openapi.json",
        "/redoc/logo-mini.svg",  # the side menu's logo: ReDoc's own build fetches it from a CDN
    )
    assert_local_favicon(page, service)
    assert REDOC_PANEL_DARK in colours, f"{len(colours)} colours, no ReDoc panel"


def test_api_docs_page_links_both_and_loads_nothing_from_elsewhere(
    service: ServiceProcess, context: BrowserContext
) -> None:
    page, offline = open_offline(context, service)
    sign_in(page, service, first_start_token(service.stderr))  # an API token signs in too
    page.goto(service.url + "/api-docs")
    expect(page.locator("#swagger-link")).to_have_attribute("href", "/docs")
    expect(page.locator("#redoc-link")).to_have_attribute("href", "/redoc")
    page.click("#redoc-link")
    expect(page.locator("h1")).to_contain_text("imapapi")
    offline.assert_stayed_local("/static/style.css", "/redoc")
