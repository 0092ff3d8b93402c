"""Sign-in and sign-out of the web pages (see `session.py` for the cookie)."""

from __future__ import annotations

import asyncio
import logging
import math

from fastapi import APIRouter, Query
from fastapi.responses import Response

from imapapi.credentials.tokens import hash_token
from imapapi.service import Service
from imapapi.ui import session as sessions
from imapapi.ui.password import PASSWORD_SETTING, verify_password
from imapapi.ui.render import AnyPage, Page, redirect, render, safe_next
from imapapi.ui.throttle import SignInThrottle

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


WRONG = "Wrong password or token."
# Said only to who holds a real token: it tells them nothing they could not learn from the API.
NOT_FOR_PAGES = (
    "This token cannot sign in: the pages need an admin token bound to no account "
    "(create one with `imapapi token create`)."
)


async def _authenticate(service: Service, credential: str) -> tuple[str | None, str]:
    """The session subject for an admin password or an API token, else None and why."""
    if not credential:
        return None, WRONG
    record = await service.store.get_token_by_hash(hash_token(credential))
    if record is not None:
        if sessions.opens_pages(record):
            return f"{sessions.TOKEN_PREFIX}{record.id}", ""
        return None, WRONG if record.revoked is not None else NOT_FOR_PAGES
    stored = (await service.store.get_settings()).get(PASSWORD_SETTING)
    # scrypt takes ~0.2 s of CPU: off the event loop, or every connection would stall.
    if isinstance(stored, str) and await asyncio.to_thread(verify_password, credential, stored):
        return sessions.ADMIN, ""
    return None, WRONG


async def _password_set(service: Service) -> bool:
    return isinstance((await service.store.get_settings()).get(PASSWORD_SETTING), str)


@router.get("/login")
async def login_form(page: AnyPage, next: str = Query("/", max_length=2048)) -> Response:
    if page.session.signed_in:
        return redirect(safe_next(next))
    return render(
        page,
        "login.html",
        title="Sign in",
        next=safe_next(next),
        error=None,
        password_set=await _password_set(page.service),
    )


def _throttle(page: Page) -> SignInThrottle:
    throttle: SignInThrottle = page.request.app.state.sign_in_throttle
    return throttle


@router.post("/login")
async def login(page: AnyPage) -> Response:
    form = await page.form()
    target = safe_next(form.get("next"))
    client = page.request.client.host if page.request.client else "?"
    throttle = _throttle(page)
    wait = throttle.retry_after(client)
    if wait is not None:
        # Refused unchecked: the right password is not confirmed to a guesser either.
        log.warning("web sign-in from %s refused unchecked: too many failures", client)
        refused = render(
            page,
            "login.html",
            status_code=429,
            title="Sign in",
            next=target,
            error=f"Too many failed sign-ins from your address. Try again in "
            f"{math.ceil(wait / 60)} minute(s).",
            password_set=await _password_set(page.service),
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    subject, why = await _authenticate(page.service, form.get("credential"))
    if subject is None:
        throttle.failed(client)
        log.warning("web sign-in refused from %s", client)
        # 200, the form again with a message, as sign-in pages answer: a 401 would need a
        # WWW-Authenticate challenge the browser cannot answer, and logs a console error.
        return render(
            page,
            "login.html",
            title="Sign in",
            next=target,
            error=why,
            password_set=await _password_set(page.service),
        )
    throttle.succeeded(client)
    session = sessions.UiSession.new(subject)
    key = await sessions.signing_key(page.service)
    response = redirect(target)
    sessions.set_cookie(response, page.request, sessions.encode(session, key))
    log.info("web sign-in as %s", subject)
    return response


@router.post("/logout")
async def logout(page: AnyPage) -> Response:
    await page.form()  # the CSRF check: another site must not sign the operator out either
    response = redirect("/login")
    sessions.clear_cookie(response, page.request)
    return response
