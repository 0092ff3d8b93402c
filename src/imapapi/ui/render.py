"""Page plumbing: the Jinja2 environment, the per-request page context, and HTML responses.

Autoescape is on for every template (everything shown may come from a mail server or a user).
Every page is sent with `Cache-Control: no-store` (a page may show a freshly rotated secret)
and a Content-Security-Policy that allows no script at all: the pages work without JavaScript,
and an injected script could not run even if escaping failed somewhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from imapapi import __version__
from imapapi.api.deps import ServiceDep
from imapapi.service import Service
from imapapi.ui import session as sessions
from imapapi.ui.forms import Form, FormError, read_form

TEMPLATES = Path(__file__).parent / "templates"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _when(ts: float | None) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    if not days:
        parts.append(f"{minutes}m")
    if not days and not hours:
        parts.append(f"{secs}s")
    return " ".join(parts)


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a typo in a template fails the test, not silently
)
environment.filters["when"] = _when
environment.filters["duration"] = _duration
environment.globals["version"] = __version__


class LoginRequired(Exception):
    """The page needs a signed-in session; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfError(Exception):
    """A form arrived without the session's CSRF token; answered 403."""


@dataclass
class Page:
    """Everything a page handler needs: the request, the service, and the visitor's session."""

    request: Request
    service: Service
    session: sessions.UiSession
    new_cookie: str | None  # a fresh anonymous session to hand out with this response

    @property
    def signed_in(self) -> bool:
        # Insecure local mode serves /v1 without tokens; the pages follow it (CSRF still holds).
        return self.session.signed_in or self.service.settings.insecure

    async def form(self) -> Form:
        """The posted form, after its CSRF token was checked against the session."""
        try:
            form = await read_form(self.request)
        except FormError as exc:
            raise CsrfError(str(exc)) from exc
        if not sessions.csrf_matches(self.session, form.get("csrf")):
            raise CsrfError("the form is stale or was not sent by these pages; reload and retry")
        return form


async def page_context(request: Request, service: ServiceDep) -> Page:
    key = await sessions.signing_key(service)
    session = await sessions.read(request, service, key)
    new_cookie = None
    if session is None:
        session = sessions.UiSession.new(None)
        new_cookie = sessions.encode(session, key)
    return Page(request, service, session, new_cookie)


async def signed_in_page(page: Annotated[Page, Depends(page_context)]) -> Page:
    if not page.signed_in:
        raise LoginRequired(page.request.url.path)
    return page


AnyPage = Annotated[Page, Depends(page_context)]
SignedInPage = Annotated[Page, Depends(signed_in_page)]


def render(page: Page, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment.get_template(template).render(
        csrf=page.session.csrf,
        signed_in=page.signed_in,
        subject=page.session.subject,
        path=page.request.url.path,
        now=time.time(),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    if page.new_cookie:
        sessions.set_cookie(response, page.request, page.new_cookie)
    return response


def describe(exc: ValidationError) -> str:
    """A validation error as one line for a page: `field: reason; field: reason`."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
        for err in exc.errors()
    )


def redirect(path: str) -> Response:
    """303 See Other after a successful post (the browser then GETs `path`)."""
    return RedirectResponse(path, status_code=303, headers=SECURITY_HEADERS)


def safe_next(value: str | None) -> str:
    """A local path to go to after sign-in; anything else (`//evil`, `https://…`) becomes `/`."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return redirect(f"/login?next={quote(safe_next(exc.next_path))}")


async def on_csrf_error(request: Request, exc: Exception) -> Response:
    html = environment.get_template("error.html").render(
        title="Form refused", message=str(exc), csrf="", signed_in=False, subject=None, path=""
    )
    return HTMLResponse(html, status_code=403, headers=SECURITY_HEADERS)
