"""The submission queue as an operator sees it: which states a listing shows, and cancelling.

Shared by `GET/DELETE /v1/outbox` and `imapapi outbox`, so both refuse the same things."""

from __future__ import annotations

from typing import Literal, get_args

from imapapi.errors import ConflictError, NotFoundError
from imapapi.store.base import PENDING_STATES, Submission, SubmissionState, SubmissionStore

StateFilter = Literal["pending", "queued", "sending", "sent", "failed", "cancelled", "all"]
STATE_FILTERS: tuple[str, ...] = get_args(StateFilter)


def states_of(state: StateFilter) -> list[SubmissionState]:
    """`pending` is queued or sending; `all` every state; otherwise that one state."""
    if state == "pending":
        return list(PENDING_STATES)
    if state == "all":
        return list(SubmissionState)
    return [SubmissionState(state)]


async def cancel(store: SubmissionStore, queue_id: str, now: float) -> Submission:
    """Cancel a queued message; `NotFoundError` when unknown, `ConflictError` once sending
    started or ended (the worker claims a submission atomically, so this never races it)."""
    found = await store.cancel_submission(queue_id, now)
    if found is None:
        raise NotFoundError(f"no queued message {queue_id!r}")
    if found.state is not SubmissionState.CANCELLED:
        raise ConflictError(
            f"message {queue_id!r} is {found.state.value}; only queued messages can be cancelled",
            details={"state": found.state.value},
        )
    return found
