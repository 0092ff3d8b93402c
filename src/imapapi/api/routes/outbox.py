"""/v1/outbox: messages queued for sending, their outcome, and cancelling them (issue 6)."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from imapapi.api.deps import ServiceDep
from imapapi.api.schemas.common import AccountId, ErrorResponse
from imapapi.api.schemas.submit import EnvelopeOut, OutboxDeleted, OutboxEntry, OutboxList
from imapapi.errors import NotFoundError
from imapapi.events.model import format_date
from imapapi.sending.outbox import StateFilter, cancel, states_of
from imapapi.store.base import PENDING_STATES, Submission

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


@router.get("", summary="List queued messages (or, with `state`, recent outcomes)")
async def list_outbox(
    service: ServiceDep,
    account: Annotated[AccountId | None, Query(description="Only this account.")] = None,
    state: Annotated[
        StateFilter, Query(description="`pending` (queued or sending) by default.")
    ] = "pending",
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    pageSize: Annotated[int, Query(ge=1, le=250)] = 20,
) -> OutboxList:
    result = await service.store.list_submissions(
        account, states_of(state), page * pageSize, pageSize
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
async def get_outbox_entry(queueId: QueueId, service: ServiceDep) -> OutboxEntry:
    found = await service.store.get_submission(queueId)
    if found is None:
        raise NotFoundError(f"no queued message {queueId!r}")
    return entry(found)


@router.delete(
    "/{queueId}",
    summary="Cancel a queued message (409 once sending started)",
    responses={**_NOT_FOUND, **_CONFLICT},
)
async def cancel_outbox_entry(queueId: QueueId, service: ServiceDep) -> OutboxDeleted:
    await cancel(service.store, queueId, time.time())
    return OutboxDeleted(queueId=queueId, deleted=True)
