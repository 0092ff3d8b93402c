"""The OAuth2 apps page: list, create, delete (issue 19). The form is read into the API's own
`AppCreate` and stored through the same steps as `POST /v1/oauth2/apps`, so the page accepts
exactly what the API accepts; the client secret is a password field, never shown back.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from imapapi.api.routes.oauth2 import add_app, remove_app
from imapapi.api.schemas.oauth2 import AppCreate, AppOut
from imapapi.credentials.oauth2_consent import OAuth2Consent
from imapapi.credentials.oauth2_flow import Provider
from imapapi.errors import ImapApiError, NotFoundError
from imapapi.ui.connect_form import SECURITY
from imapapi.ui.forms import Form
from imapapi.ui.render import Page, SignedInPage, describe, redirect, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

# Text fields copied as they are when filled in (the secret is read apart: never shown back).
TEXT_FIELDS = (
    "id",
    "name",
    "clientId",
    "tenant",
    "issuer",
    "authorizationUrl",
    "tokenUrl",
    "userinfoUrl",
    "redirectUrl",
)
SERVER_FIELDS = ("imapHost", "imapPort", "imapSecurity", "smtpHost", "smtpPort", "smtpSecurity")
_NOTICES = {"created": "OAuth2 app created.", "deleted": "OAuth2 app deleted."}


def _consent(page: Page) -> OAuth2Consent:
    assert page.service.oauth2 is not None  # built by Service.create
    return page.service.oauth2


async def _render(
    page: Page,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    apps = [AppOut.of(app) for app in await _consent(page).apps.list()]
    blank = {name: "" for name in (*TEXT_FIELDS, *SERVER_FIELDS, "scopes")}
    blank.update(provider="google", imapSecurity="tls", smtpSecurity="tls")
    return render(
        page,
        "oauth2_apps.html",
        status_code=status_code,
        title="OAuth2 apps",
        apps=apps,
        providers=[p.value for p in Provider],
        notice=notice,
        error=error,
        values={**blank, **(values or {})},
    )


def _server(values: dict[str, str], proto: str) -> dict[str, Any] | None:
    host = values[f"{proto}Host"]
    if not host:
        return None
    security = SECURITY.get(values[f"{proto}Security"], {})
    return {"host": host, "port": values[f"{proto}Port"] or None, **security}


def _body(form: Form, values: dict[str, str]) -> dict[str, Any]:
    """The `POST /v1/oauth2/apps` body of the form: blank fields are left out."""
    body: dict[str, Any] = {name: values[name] for name in TEXT_FIELDS if values[name]}
    body["provider"] = values["provider"]
    body["clientSecret"] = form.get("clientSecret")
    if values["scopes"]:
        body["scopes"] = values["scopes"].split()
    for proto in ("imap", "smtp"):
        server = _server(values, proto)
        if server is not None:
            body[proto] = server
    return body


@router.get("/oauth2-apps")
async def apps_page(page: SignedInPage, done: str = "") -> Response:
    return await _render(page, notice=_NOTICES.get(done))


@router.post("/oauth2-apps")
async def create(page: SignedInPage) -> Response:
    form = await page.form()
    names = (*TEXT_FIELDS, *SERVER_FIELDS, "scopes", "provider")
    values = {name: form.get(name).strip() for name in names}
    try:
        stored = await add_app(_consent(page), AppCreate.model_validate(_body(form, values)))
    except ValidationError as exc:
        return await _render(page, status_code=400, error=describe(exc), values=values)
    except ImapApiError as exc:
        return await _render(page, status_code=400, error=exc.message, values=values)
    log.info("OAuth2 app %s created on the web page", stored.id)
    return redirect("/oauth2-apps?done=created")


@router.post("/oauth2-apps/{app}/delete")
async def delete(page: SignedInPage, app: str) -> Response:
    await page.form()
    try:
        await remove_app(_consent(page), page.service.accounts, app)
    except NotFoundError as exc:
        return await _render(page, status_code=404, error=exc.message)
    except ImapApiError as exc:  # used by accounts
        return await _render(page, status_code=409, error=exc.message)
    log.info("OAuth2 app %s deleted on the web page", app)
    return redirect("/oauth2-apps?done=deleted")
