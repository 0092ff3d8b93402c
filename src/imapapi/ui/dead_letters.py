"""The dead-letter page: events whose webhook delivery finally failed, and their replay.

Listing and replay go through the same code as `GET /v1/webhooks/dead` and
`POST /v1/webhooks/replay`, so the page and the API cannot disagree (the replay also wakes the
dispatcher, so a replayed event goes out at once).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from imapapi.api.routes.webhooks import list_dead, replay
from imapapi.api.schemas.webhooks import ReplayIn
from imapapi.metrics.activity import MAX_ERROR, EventFacts, short
from imapapi.ui.render import Page, SignedInPage, describe, redirect, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25


async def _render(
    page: Page,
    number: int,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    listing = await list_dead(page.service, number, PAGE_SIZE)
    if listing.events == [] and number >= listing.pages:  # past the end (fewer now): the last
        listing = await list_dead(page.service, listing.pages - 1, PAGE_SIZE)
    rows = [
        {
            "event": dead,
            "facts": EventFacts.of(dead.payload),
            "date": short(dead.payload.get("date")),
            "error": short(dead.lastError, MAX_ERROR),
        }
        for dead in listing.events
    ]
    return render(
        page,
        "dead_letters.html",
        status_code=status_code,
        title="Dead letters",
        rows=rows,
        total=listing.total,
        page_number=listing.page,
        pages=listing.pages,
        notice=notice,
        error=error,
    )


def _notice(replayed: int | None) -> str | None:
    if replayed is None:
        return None
    if replayed == 0:
        return "Nothing was replayed: no such dead letter (any more)."
    return f"{replayed} event{'' if replayed == 1 else 's'} queued for delivery again."


@router.get("/dead-letters")
async def dead_letters(
    page: SignedInPage,
    p: int = Query(0, ge=0, le=1_000_000),
    replayed: int | None = Query(None, ge=0),
) -> Response:
    return await _render(page, p, notice=_notice(replayed))


@router.post("/dead-letters/replay")
async def replay_one(page: SignedInPage) -> Response:
    form = await page.form()
    try:
        body = ReplayIn.model_validate({"eventIds": [form.get("eventId")]})
    except ValidationError as exc:
        return await _render(page, 0, status_code=400, error=describe(exc))
    done = await replay(body, page.service)
    log.info("dead letter %s replayed on the web page (%d)", form.get("eventId"), done.replayed)
    return redirect(f"/dead-letters?replayed={done.replayed}")


@router.post("/dead-letters/replay-all")
async def replay_all(page: SignedInPage) -> Response:
    await page.form()
    done = await replay(ReplayIn(eventIds=None), page.service)
    log.info("every dead letter replayed on the web page (%d)", done.replayed)
    return redirect(f"/dead-letters?replayed={done.replayed}")
