"""Tracked Message-IDs (`/v1/account/{account}/tracking`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from imapapi.api.schemas.common import ApiModel

# RFC 5322 §3.6.4 msg-id: "<" id-left "@" id-right ">", visible ASCII without spaces.
MessageId = Annotated[
    str,
    Field(
        pattern=r"^<[!-;=?-~]+@[!-;=?-~]+>$",
        max_length=998,
        examples=["<0ebdd7b084794911b03986c827128f1b@example.com>"],
    ),
]


class TrackingIn(ApiModel):
    messageIds: list[MessageId] = Field(
        min_length=1,
        max_length=1000,
        description="Message-IDs (with angle brackets) of messages sent by other means.",
    )


class TrackingOut(ApiModel):
    tracked: int | None = Field(None, description="How many were added (already tracked: 0).")
    removed: int | None = Field(None, description="How many were removed.")
