"""The hosted "Connect your mailbox" page (issue 19): where an application sends its end user
with a link from `POST /v1/oauth2/connect`. No sign-in, no JavaScript.

The link (`credentials/connect_link.py`) is the only authority: it is read again on every
request, and a forged, altered or expired one gets an error page (400). A button per OAuth2 app
starts the consent (`GET …/app/<id>`, a plain link: the browser leaves for the provider, and the
callback of `api/routes/oauth2.py` finishes the account). The password form is checked as
`POST /v1/account` checks its body, then the logins are tried, and only then is the account
stored. Its CSRF token lives in a cookie of its own (path /connect), so an operator's session
cookie is never replaced by an end user's visit.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from imapapi.accounts.model import AccountConfig
from imapapi.api.deps import ServiceDep
from imapapi.api.routes.oauth2 import public_base, with_query
from imapapi.credentials.connect_link import ConnectLink, LinkError, link_mac, read_link
from imapapi.credentials.oauth2_apps import AppNotFoundError, OAuth2App
from imapapi.credentials.oauth2_flow import Provider
from imapapi.errors import ImapApiError
from imapapi.operations.verify import verify_imap, verify_smtp
from imapapi.service import Service
from imapapi.ui import connect_form
from imapapi.ui import session as sessions
from imapapi.ui.forms import FormError, read_form
from imapapi.ui.render import SECURITY_HEADERS, environment

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

COOKIE = "imapapi_connect"
COOKIE_PATH = "/connect"
TITLE = "Connect your mailbox"
_LABELS = {Provider.GOOGLE: "Google", Provider.MICROSOFT: "Microsoft"}
_ORIGIN_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")


def _link(service: Service, token: str) -> ConnectLink | HTMLResponse:
    """The link, or the error page that says what is wrong with it."""
    try:
        return read_link(token, link_mac(service.box), time.time())
    except LinkError as exc:
        return _refused(exc.reason)


def _headers(link: ConnectLink | None) -> dict[str, str]:
    """The pages' headers; the password form may also be redirected to the application (a
    browser applies `form-action` to the redirect after a post, CSP Level 3 §6.3.1)."""
    headers = dict(SECURITY_HEADERS)
    if link is not None:
        parts = urlsplit(link.redirect)
        if parts.scheme in ("http", "https") and _ORIGIN_HOST.fullmatch(parts.netloc):
            origin = f"{parts.scheme}://{parts.netloc}"
            headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
                "form-action 'self'", f"form-action 'self' {origin}"
            )
    return headers


def _page(template: str, status: int, shown: ConnectLink | None, **context: Any) -> HTMLResponse:
    html = environment.get_template(template).render(
        title=TITLE, signed_in=False, subject=None, path="", **context
    )
    return HTMLResponse(html, status_code=status, headers=_headers(shown))


def _refused(reason: str) -> HTMLResponse:
    return _page("connect_error.html", 400, None, message=f"This link {reason}.")


async def _visitor(request: Request, service: Service) -> tuple[sessions.UiSession, str | None]:
    """The visitor's CSRF session from this page's cookie, or a new one to hand out."""
    key = await sessions.signing_key(service)
    value = request.cookies.get(COOKIE)
    found = sessions.decode(value, key) if value else None
    if found is not None and found.subject is None:
        return found, None
    fresh = sessions.UiSession.new(None)
    return fresh, sessions.encode(fresh, key)


async def _offered(service: Service, link: ConnectLink) -> list[dict[str, str]]:
    assert service.oauth2 is not None  # built by Service.create
    apps = {app.id: app for app in await service.oauth2.apps.list()}
    order = link.apps if link.apps is not None else tuple(sorted(apps))
    return [_button(apps[app_id]) for app_id in order if app_id in apps]


def _button(app: OAuth2App) -> dict[str, str]:
    return {"id": app.id, "label": _LABELS.get(app.provider, app.name)}


async def _form_page(
    request: Request,
    service: Service,
    token: str,
    link: ConnectLink,
    filled: connect_form.Filled,
    status: int = 200,
) -> Response:
    session, cookie = await _visitor(request, service)
    response = _page(
        "connect.html",
        status,
        link,
        link=token,
        name=link.name,
        apps=await _offered(service, link),
        values=filled.values,
        errors=filled.errors,
        csrf=session.csrf,
    )
    if cookie is not None:
        sessions.set_cookie(response, request, cookie, name=COOKIE, path=COOKIE_PATH)
    return response


async def _login_error(service: Service, config: AccountConfig) -> tuple[str, ImapApiError] | None:
    """Log in as the account would (as `/v1/verifyAccount` does) before anything is stored."""
    timeout = service.settings.connect_timeout + service.settings.imap_timeout
    error = await verify_imap(config.imap, timeout=timeout)
    if error is not None:
        return "imap", error
    if config.smtp is not None:
        error = await verify_smtp(config.smtp, timeout=timeout)
        if error is not None:
            return "smtp", error
    return None


@router.get("/connect/{token}")
async def connect_page(request: Request, service: ServiceDep, token: str) -> Response:
    link = _link(service, token)
    if isinstance(link, HTMLResponse):
        return link
    return await _form_page(request, service, token, link, connect_form.blank(link))


@router.get("/connect/{token}/app/{app}")
async def start_consent(request: Request, service: ServiceDep, token: str, app: str) -> Response:
    link = _link(service, token)
    if isinstance(link, HTMLResponse):
        return link
    assert service.oauth2 is not None
    not_offered = f"does not offer signing in with {app!r}"
    if not link.offers(app):
        return _refused(not_offered)
    try:
        url = await service.oauth2.start(
            app,
            link.account,
            redirect=link.redirect,
            callback_url=public_base(service, request) + "/oauth2/callback",
            name=link.name,
            login_hint=link.email,
        )
    except AppNotFoundError:  # `start` reads the app first, before anything is stored
        return _refused(not_offered)
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


@router.post("/connect/{token}")
async def password_login(request: Request, service: ServiceDep, token: str) -> Response:
    link = _link(service, token)
    if isinstance(link, HTMLResponse):
        return link
    session, _ = await _visitor(request, service)
    try:
        form = await read_form(request)
    except FormError as exc:
        return _page("connect_error.html", 400, link, message=str(exc))
    if not sessions.csrf_matches(session, form.get("csrf")):
        return _page(
            "connect_error.html",
            403,
            link,
            message="The form is stale or was not sent by this page: open the link again.",
        )
    filled = connect_form.read(form.get)
    account = connect_form.to_account(filled, link)
    if account is not None:
        failed = await _login_error(service, account.to_config())
        if failed is not None:
            connect_form.refuse_login(filled, *failed)
    if account is None or filled.errors:
        return await _form_page(request, service, token, link, filled, status=400)
    await service.accounts.upsert(account.to_config())
    log.info("%s: connected with a password on the hosted page", link.account)
    back = with_query(link.redirect, {"account": link.account, "state": "connected"})
    return RedirectResponse(back, status_code=303, headers=_headers(link))
