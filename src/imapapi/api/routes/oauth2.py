"""/v1/oauth2/apps, /v1/oauth2/authorize and the public /oauth2/callback (issue 19).

The callback is where end users' browsers arrive from the provider, so it takes no API token
and answers HTML or a redirect, never JSON: a bad `state` gets a short error page (400) and
nothing is stored; a finished consent registers or updates the account and sends the browser
to the application's `redirectUrl`.
"""

from __future__ import annotations

import html
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from imapapi.accounts.model import AccountConfig, OAuth2Link
from imapapi.api.deps import AccountsDep, ServiceDep
from imapapi.api.schemas.common import ACCOUNT_ID_PATTERN, ErrorResponse
from imapapi.api.schemas.oauth2 import (
    AppCreate,
    AppDeleted,
    AppFields,
    AppList,
    AppOut,
    AppUpdate,
    AppUpserted,
    AuthorizeIn,
    AuthorizeOut,
    ConnectIn,
    ConnectOut,
)
from imapapi.credentials.connect_link import ConnectLink, link_mac, sign_link
from imapapi.credentials.oauth2_apps import OAuth2App
from imapapi.credentials.oauth2_consent import Consented, OAuth2Consent
from imapapi.credentials.oauth2_flow import Provider, StateError
from imapapi.errors import ConflictError, ImapApiError, UnprocessableError
from imapapi.service import Service

router = APIRouter(prefix="/v1/oauth2", tags=["OAuth2"])
public_router = APIRouter(tags=["OAuth2"])

AppPath = Annotated[
    str, Path(pattern=ACCOUNT_ID_PATTERN, max_length=128, description="The app's id.")
]
# Documented here: app.py adds 404 and 422 only to paths under {account}.
_RULES = (
    "A rule the schema cannot state: `issuer` (or `authorizationUrl` and `tokenUrl`) and `imap` "
    "for oidc apps, those fields and `tenant` only for their provider, a required field "
    "cleared. `details` names the field."
)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No OAuth2 app with this id."}
}
_UNPROCESSABLE: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": _RULES}
}
_OIDC_ONLY = ("issuer", "authorizationUrl", "tokenUrl", "userinfoUrl")
_CAMEL = {
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "authorizationUrl": "authorization_url",
    "tokenUrl": "token_url",
    "userinfoUrl": "userinfo_url",
    "redirectUrl": "redirect_url",
}


def _consent(service: Service) -> OAuth2Consent:
    assert service.oauth2 is not None  # built by Service.create
    return service.oauth2


def _changes(body: AppFields, given: set[str]) -> dict[str, Any]:
    """The dataclass fields of OAuth2App that `body` sets (None clears an optional one)."""
    changes: dict[str, Any] = {}
    for name in given & set(AppFields.model_fields):
        value = getattr(body, name)
        if name in ("imap", "smtp"):
            value = value.to_config() if value is not None else None
        elif name == "scopes":
            value = tuple(value or ())
        elif name == "tenant" and value is None:
            value = "common"  # the default, also what clearing it means
        elif value is not None and name != "name":
            value = str(value)
        changes[_CAMEL.get(name, name)] = value
    return changes


def _checked(app: OAuth2App) -> OAuth2App:
    """Rules that span fields, which the schema does not state: each refusal names its field
    (422, as every rule the document states only in words)."""
    if not app.client_id or not app.client_secret:
        field = "clientId" if not app.client_id else "clientSecret"
        raise UnprocessableError(field, "is required")
    if app.provider is Provider.OIDC:
        if not app.issuer and not (app.authorization_url and app.token_url):
            raise UnprocessableError(
                "issuer", "an oidc app needs `issuer`, or `authorizationUrl` and `tokenUrl`"
            )
        if app.imap is None:
            raise UnprocessableError("imap", "an oidc app needs its IMAP server")
    else:
        for name in _OIDC_ONLY:
            if getattr(app, _CAMEL.get(name, name)) is not None:
                raise UnprocessableError(name, "only for provider oidc")
    if app.provider is not Provider.MICROSOFT and app.tenant != "common":
        raise UnprocessableError("tenant", "only for provider microsoft")
    return app


@router.post(
    "/apps",
    summary="Register an OAuth2 app",
    description="Stores the app (client secret encrypted, never shown again). 409 when the id "
    "exists: change an app with PATCH.",
    responses={
        409: {"model": ErrorResponse, "description": "An app with this id exists."},
        **_UNPROCESSABLE,
    },
)
async def create_app(body: AppCreate, service: ServiceDep) -> AppUpserted:
    stored = await add_app(_consent(service), body)
    return AppUpserted(id=stored.id, created=True)


async def add_app(consent: OAuth2Consent, body: AppCreate) -> OAuth2App:
    """Store a new app (this route, and the operator pages' form)."""
    if await consent.apps.find(body.id) is not None:
        raise ConflictError(f"OAuth2 app {body.id!r} exists already")
    fields = _changes(body, set(body.model_fields_set) | {"clientId", "clientSecret"})
    fields["name"] = body.name or body.id
    app = OAuth2App(id=body.id, provider=body.provider, **fields)
    stored, _ = await consent.apps.put(_checked(app))
    return stored


@router.get("/apps", summary="List OAuth2 apps (never their secrets)")
async def list_apps(service: ServiceDep) -> AppList:
    return AppList(apps=[AppOut.of(app) for app in await _consent(service).apps.list()])


@router.get("/apps/{app}", summary="An OAuth2 app (never its secret)", responses=_NOT_FOUND)
async def get_app(app: AppPath, service: ServiceDep) -> AppOut:
    return AppOut.of(await _consent(service).apps.get(app))


@router.patch(
    "/apps/{app}",
    summary="Change an OAuth2 app",
    description="Changes only the given fields; `null` clears an optional one. Accounts "
    "connected through the app keep their grants.",
    responses={**_NOT_FOUND, **_UNPROCESSABLE},
)
async def update_app(app: AppPath, body: AppUpdate, service: ServiceDep) -> AppOut:
    consent = _consent(service)
    current = await consent.apps.get(app)
    changes = _changes(body, set(body.model_fields_set))
    for required in ("name", "client_id", "client_secret"):
        if required in changes and changes[required] is None:
            raise UnprocessableError(_camel_of(required), "cannot be cleared")
    stored, _ = await consent.apps.put(_checked(replace(current, **changes)))
    return AppOut.of(stored)


def _camel_of(name: str) -> str:
    return next((camel for camel, snake in _CAMEL.items() if snake == name), name)


@router.delete(
    "/apps/{app}",
    summary="Delete an OAuth2 app",
    description="409 while accounts use it: delete them, or connect them through another app.",
    responses={
        **_NOT_FOUND,
        409: {"model": ErrorResponse, "description": "Accounts use the app (`details`)."},
    },
)
async def delete_app(app: AppPath, service: ServiceDep, accounts: AccountsDep) -> AppDeleted:
    await remove_app(_consent(service), accounts, app)
    return AppDeleted(id=app)


async def remove_app(consent: OAuth2Consent, accounts: AccountsDep, app: str) -> None:
    """Delete an app no account uses (this route, and the operator pages' button)."""
    await consent.apps.get(app)  # 404 first
    users = [c.account for c in await accounts.registry.list() if c.oauth2 and c.oauth2.app == app]
    if users:
        raise ConflictError(
            f"OAuth2 app {app!r} is used by {len(users)} account(s)", details={"accounts": users}
        )
    await consent.apps.delete(app)


@router.post(
    "/authorize",
    summary="Start a consent: the provider's authorization URL for an account",
    description="Send the user's browser to `url`. After the user consents, the provider sends "
    "it to imapapi's `/oauth2/callback`, which registers or updates the account (its login "
    "through the user's grant, the app's hosts) and redirects to `redirectUrl` with "
    "`?account=<id>&state=connected`, or `&error=<code>`. The URL carries PKCE (S256) and a "
    "signed `state` that works once, for 10 minutes.",
    responses={
        **_NOT_FOUND,
        502: {
            "model": ErrorResponse,
            "description": "The provider's discovery document could not be read (oidc apps "
            "with an `issuer`).",
        },
    },
)
async def authorize(body: AuthorizeIn, service: ServiceDep, request: Request) -> AuthorizeOut:
    url = await _consent(service).start(
        body.app,
        body.account,
        redirect=str(body.redirectUrl),
        callback_url=public_base(service, request) + "/oauth2/callback",
        name=body.name,
        login_hint=body.loginHint,
    )
    return AuthorizeOut(url=url)


def public_base(service: Service, request: Request) -> str:
    """imapapi's URL as browsers reach it: IMAPAPI_PUBLIC_URL, else the request's."""
    return (service.settings.public_url or str(request.base_url)).rstrip("/")


@router.post(
    "/connect",
    summary='A link to the hosted "Connect your mailbox" page for an account',
    description="Send the user's browser to `url`. The page (no JavaScript, no API token in "
    "the link) offers a button per OAuth2 app (`apps`, default all), which goes through the "
    "provider's consent as `/v1/oauth2/authorize` does, and a password form validated like "
    "`POST /v1/account` that checks the IMAP (and SMTP) login before storing anything. Either "
    "way the account is registered (or updated) and the browser is sent to `redirectUrl` with "
    "`?account=<id>&state=connected`. The link is signed and expires after `expiresIn` "
    "seconds; a changed or expired link shows an error page (400).",
    responses={422: {"model": ErrorResponse, "description": "An app in `apps` does not exist."}},
)
async def connect(body: ConnectIn, service: ServiceDep, request: Request) -> ConnectOut:
    known = {app.id for app in await _consent(service).apps.list()}
    for app in body.apps or ():
        if app not in known:
            raise UnprocessableError("apps", f"no OAuth2 app {app!r}")
    expires = time.time() + body.expiresIn
    link = ConnectLink(
        account=body.account,
        redirect=str(body.redirectUrl),
        apps=tuple(dict.fromkeys(body.apps)) if body.apps else None,
        name=body.name,
        email=body.email,
        expires=expires,
    )
    token = sign_link(link, link_mac(service.box))
    return ConnectOut(
        url=f"{public_base(service, request)}/connect/{token}",
        expires=datetime.fromtimestamp(int(expires), UTC),
    )


# --- the end user's browser ------------------------------------------------------------------


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_page(reason: str) -> HTMLResponse:
    text = html.escape(reason)
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Mailbox not connected</title></head><body>"
        f"<h1>Mailbox not connected</h1><p>This sign-in link {text}.</p>"
        "<p>Go back to the application and start connecting your mailbox again.</p>"
        "</body></html>"
    )
    return HTMLResponse(body, status_code=400)


async def register_consented(accounts: AccountsDep, done: Consented) -> None:
    """Create the account of a finished consent, or point the existing one at its grant (the
    callback here, and the hosted "Connect your mailbox" page to come)."""
    imap, smtp = done.app.hosts()
    assert imap is not None  # `_checked`: only oidc apps have no default, and they need one
    current = await accounts.registry.find(done.account)
    base = current or AccountConfig(account=done.account, imap=imap)
    if done.name:
        base = replace(base, name=done.name)
    await accounts.upsert(base.with_oauth2(OAuth2Link(done.app.id, done.email), imap, smtp))


# Not in the OpenAPI document: browsers call it, never applications, and it answers HTML or a
# redirect, never the API's JSON (so it takes any query and judges it itself).
@public_router.get("/oauth2/callback", include_in_schema=False, response_model=None)
async def callback(
    service: ServiceDep,
    accounts: AccountsDep,
    state: str = "",
    code: str | None = None,
    error: str | None = None,
) -> HTMLResponse | RedirectResponse:
    """Verify `state`, exchange `code`, register the account, redirect (303) to the
    application's `redirectUrl`; a bad, expired or reused `state` gets an HTML page (400)."""
    consent = _consent(service)
    try:
        claims = consent.claims(state)
    except StateError as exc:
        return _error_page(exc.reason)
    back = {"account": claims.account}
    if error is not None or not code:
        # Declined (access_denied) or refused by the provider (RFC 6749 §4.1.2.1): the state
        # is spent, the application hears the provider's code.
        await consent.abandon(claims)
        back["error"] = (error or "invalid_request")[:64]
        return RedirectResponse(with_query(claims.redirect, back), status_code=303)
    try:
        done = await consent.finish(claims, code)
    except StateError as exc:
        return _error_page(exc.reason)
    except ImapApiError as exc:
        back["error"] = exc.code
        return RedirectResponse(with_query(claims.redirect, back), status_code=303)
    await register_consented(accounts, done)
    back["state"] = "connected"
    return RedirectResponse(with_query(claims.redirect, back), status_code=303)
