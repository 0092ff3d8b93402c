"""/docs and /redoc need no token and name only files this service serves: no CDN, no other
site. (tests/e2e/test_api_docs_browser.py renders them in a browser cut off from the net.)"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

NO_TOKEN = {"Authorization": ""}
# What the two pages load: scripts, style sheets, the favicon, and the OpenAPI document.
LOADED_RE = re.compile(r'(?:src|href|spec-url)="([^"]*)"|url: \'([^\']*)\'')


def loaded_urls(html: str) -> list[str]:
    return [a or b for a, b in LOADED_RE.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_page_loads_only_what_the_service_serves(api: Api, page: str) -> None:
    answer = await api.client.get(page, headers=NO_TOKEN)
    assert answer.status_code == 200 and "text/html" in answer.headers["content-type"]
    urls = loaded_urls(answer.text)
    assert "/openapi.json" in urls and len(urls) >= 3, answer.text
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url}"
        asset = await api.client.get(url, headers=NO_TOKEN)
        assert asset.status_code == 200 and asset.content, f"{page}: {url} → {asset.status_code}"


async def test_redoc_logo_is_served_where_the_bundle_asks(api: Api) -> None:
    # The ReDoc bundle asks `location.pathname + "/logo-mini.svg"` (docs.py says why).
    logo = await api.client.get("/redoc/logo-mini.svg", headers=NO_TOKEN)
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"


async def test_unknown_docs_asset_is_a_json_404(api: Api) -> None:
    missing = await api.client.get("/docs-assets/swagger/no-such-file.js", headers=NO_TOKEN)
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_behind_a_path_prefix_name_prefixed_urls(api: Api, page: str) -> None:
    # A reverse proxy serving the app under /mail passes root_path: the page's own URLs
    # must carry it, as FastAPI's default docs pages do.
    transport = httpx.ASGITransport(app=api.app, root_path="/mail")
    async with httpx.AsyncClient(transport=transport, base_url="http://imapapi.test") as client:
        answer = await client.get(f"/mail{page}")
    assert answer.status_code == 200, answer.text
    urls = loaded_urls(answer.text)
    assert urls and all(url.startswith("/mail/") for url in urls), urls
