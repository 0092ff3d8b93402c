"""Dead-letter models (`/v1/webhooks/dead`, `/v1/webhooks/replay`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from imapapi.api.schemas.common import ApiModel
from imapapi.store.base import QueuedEvent

EventId = Annotated[str, Field(pattern=r"^[!-~]{1,128}$")]


class DeadEvent(ApiModel):
    eventId: str
    account: str
    event: str | None = None
    attempts: int
    lastError: str | None = None
    payload: dict[str, Any] = Field(description="The webhook body that could not be delivered.")

    @classmethod
    def of(cls, event: QueuedEvent) -> DeadEvent:
        return cls(
            eventId=event.event_id,
            account=event.account,
            event=event.payload.get("event"),
            attempts=event.attempts,
            lastError=event.last_error,
            payload=event.payload,
        )


class DeadEventList(ApiModel):
    events: list[DeadEvent]
    page: int
    pages: int
    total: int


class ReplayIn(ApiModel):
    eventIds: list[EventId] | None = Field(
        None, max_length=10000, description="Events to send again; omit to replay every one."
    )


class ReplayOut(ApiModel):
    replayed: int = Field(description="How many dead events were queued again.")
