"""/docs (Swagger UI) and /redoc (ReDoc), with every script, style sheet and icon served by
this service: FastAPI's defaults load them from a public CDN, so the pages stay blank on an
air-gapped network and every visit tells third parties about it.

The assets come from the `fastapi-standalone-docs` package (IOXIO Ltd; 0.3.0 ships Swagger UI
5.33.1 and ReDoc 2.5.4), not from files copied into this repository. Of the current PyPI
packages that ship both UIs it is the one whose ReDoc bundle is patched not to fetch its logo
from the Redocly CDN (fastapi-offline's and drf-spectacular-sidecar's do), and it depends on
FastAPI alone (drf-spectacular-sidecar requires Django). `swagger-ui-bundle` ships no ReDoc and
Swagger UI 4.15 (2022). We use only its files (`static/`), not its class, which patches
FastAPI's functions process-wide.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PACKAGE = "fastapi_standalone_docs"
ASSETS_URL = "/docs-assets"  # the package's static/: swagger/, redoc/, fastapi/ (the favicon)
SWAGGER_URL = "/docs"
REDOC_URL = "/redoc"

router = APIRouter(include_in_schema=False)


def _urls(request: Request) -> tuple[str, str]:
    """The OpenAPI document's URL and the assets' URL prefix, under the prefix a reverse proxy
    serves the app at (`root_path`), as FastAPI's own docs pages do."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    app: FastAPI = request.app
    return root + (app.openapi_url or "/openapi.json"), root + ASSETS_URL


@router.get(SWAGGER_URL)
async def swagger_ui(request: Request) -> HTMLResponse:
    openapi_url, assets = _urls(request)
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{assets}/swagger/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger/swagger-ui.css",
        swagger_favicon_url=f"{assets}/fastapi/favicon.png",
        # No badge from the public validator service (BaseLayout shows none; this makes sure).
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get(REDOC_URL)
async def redoc(request: Request) -> HTMLResponse:
    openapi_url, assets = _urls(request)
    return get_redoc_html(
        openapi_url=openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{assets}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{assets}/fastapi/favicon.png",
        with_google_fonts=False,  # the page's fonts come from Google's servers otherwise
    )


@router.get(f"{REDOC_URL}/logo-mini.svg")
async def redoc_logo() -> FileResponse:
    # The package patched ReDoc to load its logo from `location.pathname + "/logo-mini.svg"`
    # instead of the Redocly CDN: with the page at /redoc, that is this path.
    return FileResponse(Path(str(files(ASSETS_PACKAGE) / "static" / "redoc" / "logo-mini.svg")))


def install(app: FastAPI) -> None:
    """Add /docs, /redoc and their assets to `app`, which must be made with
    `docs_url=None, redoc_url=None` (else FastAPI's CDN pages answer first)."""
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(packages=[(ASSETS_PACKAGE, "static")]), name="docs-assets")
