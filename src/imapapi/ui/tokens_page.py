"""The API tokens page: list, create (the token is shown once), revoke after a confirmation.

Tokens are made by `credentials/tokens.py`, as `imapapi token create` makes them: only the
SHA-256 of a token is stored, so the page can show a new token only in the answer to the form
that created it. When it is revoked, the API refuses it (403) and its web sessions end.
"""

from __future__ import annotations

import logging
import re
import time

from fastapi import APIRouter
from fastapi.responses import Response

from imapapi.api.schemas.common import ACCOUNT_ID_PATTERN
from imapapi.credentials.tokens import DEFAULT_SCOPES, SCOPES, create_token
from imapapi.store.base import TokenRecord
from imapapi.ui import session as sessions
from imapapi.ui.render import Page, SignedInPage, redirect, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

MAX_DESCRIPTION = 200
_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)
_NOTICES = {"revoked": "Token revoked: the API refuses it from now on."}


def _own_token(page: Page) -> str | None:
    """The id of the token this session signed in with, if it did."""
    subject = page.session.subject or ""
    prefix = sessions.TOKEN_PREFIX
    return subject.removeprefix(prefix) if subject.startswith(prefix) else None


async def _find(page: Page, token_id: str) -> TokenRecord | None:
    return next((t for t in await page.service.store.list_tokens() if t.id == token_id), None)


async def _render(
    page: Page,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
    new_token: str | None = None,
    new_id: str | None = None,
    description: str = "",
    accounts: str = "",
) -> Response:
    tokens = sorted(await page.service.store.list_tokens(), key=lambda t: -t.created)
    return render(
        page,
        "tokens.html",
        status_code=status_code,
        title="API tokens",
        tokens=tokens,
        own=_own_token(page),
        scopes=SCOPES,
        default_scopes=DEFAULT_SCOPES,
        notice=notice,
        error=error,
        new_token=new_token,
        new_id=new_id,
        description=description,
        accounts=accounts,
    )


def _form_error(description: str, scopes: list[str], accounts: list[str]) -> str | None:
    if len(description) > MAX_DESCRIPTION:
        return f"description: at most {MAX_DESCRIPTION} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in description):
        return "description: no control characters"
    if not scopes:
        return "scopes: tick at least one"
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        return f"scopes: unknown scope {unknown[0]!r} (one of {', '.join(SCOPES)})"
    malformed = [a for a in accounts if not _ACCOUNT_ID.fullmatch(a)]
    if malformed:
        return f"accounts: {malformed[0]!r} is not an account id (letters, digits, . _ @ + -)"
    return None


@router.get("/tokens")
async def tokens_page(page: SignedInPage, done: str = "") -> Response:
    return await _render(page, notice=_NOTICES.get(done))


@router.post("/tokens")
async def create(page: SignedInPage) -> Response:
    form = await page.form()
    description = form.get("description").strip()
    scopes = list(dict.fromkeys(form.getall("scopes")))
    accounts_text = form.get("accounts").strip()
    # Account ids hold no comma or space: either separates them.
    accounts = list(dict.fromkeys(accounts_text.replace(",", " ").split()))
    error = _form_error(description, scopes, accounts)
    if error is not None:
        return await _render(
            page, status_code=400, error=error, description=description, accounts=accounts_text
        )
    record, token = await create_token(
        page.service.store, description, tuple(scopes), tuple(accounts)
    )
    log.info(
        "API token %s created on the web page (scopes %s, accounts %s)",
        record.id,
        ",".join(scopes),
        ",".join(accounts) or "all",
    )
    # Answered here, not redirected: the token must not travel in a URL, and is not kept.
    return await _render(page, new_token=token, new_id=record.id)


@router.get("/tokens/{token_id}/revoke")
async def confirm_revoke(page: SignedInPage, token_id: str) -> Response:
    record = await _find(page, token_id)
    if record is None or record.revoked is not None:
        return _unknown(page, token_id)
    return render(
        page, "token_revoke.html", title="Revoke token", token=record, own=_own_token(page)
    )


@router.post("/tokens/{token_id}/revoke")
async def revoke(page: SignedInPage, token_id: str) -> Response:
    await page.form()
    if not await page.service.store.revoke_token(token_id, time.time()):
        return _unknown(page, token_id)
    log.info("API token %s revoked on the web page", token_id)
    # Revoking the session's own token signs it out: /tokens then leads to the sign-in page.
    return redirect("/tokens?done=revoked")


def _unknown(page: Page, token_id: str) -> Response:
    return render(
        page,
        "error.html",
        status_code=404,
        title="Unknown token",
        message=f"No active token {token_id!r}.",
    )
