"""Overview, accounts, one account, and the API docs page."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from imapapi.accounts.model import AccountState
from imapapi.errors import ImapApiError
from imapapi.service import Service
from imapapi.sessions.session import AccountSession
from imapapi.ui.render import SignedInPage, redirect, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class AccountRow:
    account: str
    name: str | None
    email: str | None
    user: str | None
    state: str
    last_error: str | None


def _open_connections(service: Service, account: str) -> int:
    session = service.accounts.session(account)
    return session.open_connections if isinstance(session, AccountSession) else 0


async def _rows(service: Service) -> list[AccountRow]:
    """Every account with its live state, from the stored documents (nothing to decrypt)."""
    rows = []
    for record in await service.store.list_accounts():
        status = service.accounts.status(record.account)
        imap = record.data.get("imap") or {}
        auth = imap.get("auth") if isinstance(imap, dict) else None
        rows.append(
            AccountRow(
                account=record.account,
                name=record.data.get("name"),
                email=record.data.get("email"),
                user=auth.get("user") if isinstance(auth, dict) else None,
                state=status.state.value,
                last_error=status.last_error,
            )
        )
    return rows


def _matches(row: AccountRow, query: str) -> bool:
    needle = query.casefold()
    return any(
        needle in (value or "").casefold() for value in (row.account, row.name, row.email, row.user)
    )


@router.get("/")
async def overview(page: SignedInPage) -> Response:
    service = page.service
    rows = await _rows(service)
    by_state = {state.value: 0 for state in AccountState}
    for row in rows:
        by_state[row.state] += 1
    dispatcher = service.dispatcher
    return render(
        page,
        "overview.html",
        title="Overview",
        accounts_total=len(rows),
        by_state=by_state,
        connections=sum(_open_connections(service, row.account) for row in rows),
        outbox=await service.store.outbox_stats(time.time()),
        last_hour=service.metrics.activity.last_hour(),
        last=service.metrics.activity.last,
        stats=dispatcher.stats if dispatcher else None,
        dispatcher_running=bool(dispatcher and dispatcher.running),
        settings=await service.runtime.public(),
        started_at=service.started_at,
        uptime=time.time() - service.started_at,
    )


@router.get("/accounts")
async def accounts(
    page: SignedInPage,
    q: str = Query("", max_length=256),
    state: str = Query("", max_length=32),
    p: int = Query(0, ge=0, le=1_000_000),
) -> Response:
    rows = [
        row
        for row in await _rows(page.service)
        if (not q or _matches(row, q)) and (not state or row.state == state)
    ]
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    current = min(p, pages - 1)
    return render(
        page,
        "accounts.html",
        title="Accounts",
        rows=rows[current * PAGE_SIZE : (current + 1) * PAGE_SIZE],
        total=len(rows),
        page_number=current,
        pages=pages,
        q=q,
        state=state,
        states=[s.value for s in AccountState],
    )


async def _account_context(service: Service, account: str) -> dict[str, Any] | None:
    config = await service.accounts.registry.find(account)
    if config is None:
        return None
    status = service.accounts.status(account)
    session = service.accounts.session(account)
    live: dict[str, str | None] = {}
    sync_stats = None
    if isinstance(session, AccountSession):
        live = {path: folder.special_use for path, folder in session.syncer.folders.items()}
        sync_stats = session.syncer.stats
    return {
        "config": config,
        "state": status.state.value,
        "last_error": status.last_error,
        "folders": await service.store.get_folders(account),
        "live_folders": live,
        "sync_stats": sync_stats,
        "connections": _open_connections(service, account),
        "recent": service.metrics.activity.recent(account),
    }


@router.get("/accounts/{account}")
async def account_page(page: SignedInPage, account: str, done: str = Query("")) -> Response:
    context = await _account_context(page.service, account)
    if context is None:
        return render(
            page,
            "error.html",
            status_code=404,
            title="Unknown account",
            message=f"No account {account!r} is registered.",
        )
    notice = "Reconnect requested." if done == "reconnect" else None
    return render(page, "account.html", title=account, account=account, notice=notice, **context)


@router.post("/accounts/{account}/reconnect")
async def reconnect(page: SignedInPage, account: str) -> Response:
    await page.form()
    try:
        await page.service.accounts.reconnect(account)
    except ImapApiError as exc:
        return render(page, "error.html", status_code=404, title="Reconnect", message=exc.message)
    return redirect(f"/accounts/{quote(account, safe='@+')}?done=reconnect")


@router.get("/api-docs")
async def api_docs(page: SignedInPage) -> Response:
    return render(page, "docs.html", title="API docs", base_url=str(page.request.base_url))
