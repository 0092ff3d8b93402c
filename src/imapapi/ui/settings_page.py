"""The settings page: webhook URL and event filter, auth server, test webhook, secret rotation.

Changes go through the same code as `POST /v1/settings`, so the page and the API cannot
disagree about validation or the stored form.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from imapapi.api.routes.settings import update_settings
from imapapi.api.schemas.settings import SettingsIn
from imapapi.events.model import EventName
from imapapi.ui.render import Page, SignedInPage, describe, redirect, render
from imapapi.ui.webhook_probe import ProbeResult, send_probe

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

_NOTICES = {"saved": "Settings saved."}


async def _render(
    page: Page,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    probe: ProbeResult | None = None,
    new_secret: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    current = await page.service.runtime.public()
    values = form or {
        "webhooks": current["webhooks"] or "",
        "authServer": current["authServer"] or "",
        "events": current["webhookEvents"],
    }
    return render(
        page,
        "settings.html",
        status_code=status_code,
        title="Settings",
        current=current,
        values=values,
        all_events=[name.value for name in EventName],
        error=error,
        notice=notice,
        probe=probe,
        new_secret=new_secret,
    )


@router.get("/settings")
async def settings_page(page: SignedInPage, done: str = "") -> Response:
    return await _render(page, notice=_NOTICES.get(done))


@router.post("/settings")
async def save_settings(page: SignedInPage) -> Response:
    form = await page.form()
    webhooks = form.get("webhooks").strip()
    auth_server = form.get("authServer").strip()
    events = ["*"] if form.get("allEvents") else form.getall("events")
    try:
        body = SettingsIn.model_validate(
            {
                "webhooks": webhooks or None,
                "authServer": auth_server or None,
                "webhookEvents": events,
            }
        )
    except ValidationError as exc:
        values = {"webhooks": webhooks, "authServer": auth_server, "events": events}
        return await _render(page, status_code=400, error=describe(exc), form=values)
    await update_settings(body, page.service)
    log.info("settings changed on the web page")
    return redirect("/settings?done=saved")


@router.post("/settings/test-webhook")
async def test_webhook(page: SignedInPage) -> Response:
    await page.form()
    target = await page.service.runtime.webhook_target()
    if target.url is None:
        return await _render(page, status_code=400, error="No webhook URL is set.")
    probe = await send_probe(target, page.service.settings.webhook_timeout)
    return await _render(page, probe=probe)


@router.post("/settings/secret")
async def rotate_secret(page: SignedInPage) -> Response:
    form = await page.form()
    given = form.get("secret").strip()
    secret = given or secrets.token_urlsafe(32)
    try:
        body = SettingsIn.model_validate({"serviceSecret": secret})
    except ValidationError as exc:
        return await _render(page, status_code=400, error=describe(exc))
    await update_settings(body, page.service)
    log.info("service secret rotated on the web page")
    # A generated secret is shown once, now (the store keeps it encrypted); a typed one the
    # operator already has, so it is not echoed back.
    return await _render(
        page,
        notice="Service secret changed; webhooks are signed with it from now on.",
        new_secret=None if given else secret,
    )
