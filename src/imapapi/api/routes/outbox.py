"""/v1/outbox: messages queued for sending, their outcome, and cancelling them (issue 6)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from imapapi.api.deps import ServiceDep, TokenDep
from imapapi.api.schemas.common import AccountId, ErrorResponse
from imapapi.api.schemas.submit import EnvelopeOut, OutboxDeleted, OutboxEntry, OutboxList
from imapapi.credentials.tokens import sees_account
from imapapi.errors import NotFoundError
from imapapi.events.model import format_date
from imapapi.sending.outbox import StateFilter, cancel, states_of
from imapapi.store.base import (
    PENDING_STATES,
    Page,
    Submission,
    SubmissionState,
    SubmissionStore,
    TokenRecord,
)

router = APIRouter(prefix="/v1/outbox", tags=["Outbox"])

QueueId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="From the submit answer.")]
# Documented here: app.py adds 404 only to paths under {account} (found by tests/e2e/test_fuzz.py).
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No queued message with this id."}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "Sending has started or ended already."}
}


def entry(s: Submission) -> OutboxEntry:
    pending = s.state in PENDING_STATES
    return OutboxEntry(
        queueId=s.queue_id,
        account=s.account,
        messageId=s.message_id,
        state=s.state.value,
        created=format_date(s.created),
        sendAt=format_date(s.send_at),
        nextAttempt=format_date(s.next_attempt) if pending else None,
        attempts=s.attempts,
        lastResponse=s.last_response,
        smtpCode=s.smtp_code,
        envelope=EnvelopeOut(from_=s.envelope_from, to=list(s.envelope_to)),
    )


async def _listing(
    store: SubmissionStore,
    accounts: tuple[str, ...] | None,
    states: Sequence[SubmissionState],
    offset: int,
    limit: int,
) -> Page:
    """The store's listing of `accounts` (None: every account, one account: the store's own
    filter), merged in its order (created, queue id) when there are several."""
    if accounts is None or len(accounts) == 1:
        one = accounts[0] if accounts else None
        return await store.list_submissions(one, states, offset, limit)
    pages = [await store.list_submissions(a, states, 0, offset + limit) for a in accounts]
    merged = sorted((s for p in pages for s in p.items), key=lambda s: (s.created, s.queue_id))
    return Page(items=merged[offset : offset + limit], total=sum(p.total for p in pages))


def _shown(token: TokenRecord | None, account: str | None) -> tuple[str, ...] | None:
    """The accounts to list: a bound token's (or the asked one if it is among them)."""
    if token is None or not token.accounts:
        return None if account is None else (account,)
    if account is None:
        return token.accounts
    return (account,) if sees_account(token, account) else ()


async def _visible(store: SubmissionStore, token: TokenRecord | None, queue_id: str) -> Submission:
    """The submission, or the unknown one's 404 when it is missing or of an account the token
    is not bound to."""
    found = await store.get_submission(queue_id)
    if found is None or not sees_account(token, found.account):
        raise NotFoundError(f"no queued message {queue_id!r}")
    return found


@router.get(
    "",
    summary="List queued messages (or, with `state`, recent outcomes)",
    description="A token bound to accounts lists only their messages.",
)
async def list_outbox(
    service: ServiceDep,
    token: TokenDep,
    account: Annotated[AccountId | None, Query(description="Only this account.")] = None,
    state: Annotated[
        StateFilter, Query(description="`pending` (queued or sending) by default.")
    ] = "pending",
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    pageSize: Annotated[int, Query(ge=1, le=250)] = 20,
) -> OutboxList:
    shown = _shown(token, account)
    result = (
        Page()
        if shown == ()
        else await _listing(service.store, shown, states_of(state), page * pageSize, pageSize)
    )
    return OutboxList(
        messages=[entry(s) for s in result.items],
        page=page,
        pages=max(1, math.ceil(result.total / pageSize)),
        total=result.total,
    )


@router.get(
    "/{queueId}",
    summary="One queued (or recently sent or failed) message",
    responses=_NOT_FOUND,
)
async def get_outbox_entry(queueId: QueueId, service: ServiceDep, token: TokenDep) -> OutboxEntry:
    return entry(await _visible(service.store, token, queueId))


@router.delete(
    "/{queueId}",
    summary="Cancel a queued message (409 once sending started)",
    responses={**_NOT_FOUND, **_CONFLICT},
)
async def cancel_outbox_entry(
    queueId: QueueId, service: ServiceDep, token: TokenDep
) -> OutboxDeleted:
    if token is not None and token.accounts:
        await _visible(service.store, token, queueId)
    await cancel(service.store, queueId, time.time())
    return OutboxDeleted(queueId=queueId, deleted=True)
