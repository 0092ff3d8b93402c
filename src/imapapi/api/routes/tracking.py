"""/v1/account/{account}/tracking: Message-IDs whose replies are reported (reply tracking).

Everything sent through `/submit` is tracked automatically; this registers mail sent by other
means. A new inbox message whose In-Reply-To or References names a tracked Message-ID gives a
`messageReply` (a person), `messageAutoReply` or `messageBounce` webhook.
"""

from __future__ import annotations

import time

from fastapi import APIRouter

from imapapi.api.deps import AccountDep, StoreDep
from imapapi.api.schemas.tracking import TrackingIn, TrackingOut

router = APIRouter(prefix="/v1/account/{account}", tags=["Tracking"])


@router.post("/tracking", summary="Track replies to Message-IDs sent by other means")
async def track(body: TrackingIn, config: AccountDep, store: StoreDep) -> TrackingOut:
    added = await store.track_message_ids(config.account, body.messageIds, time.time())
    return TrackingOut(tracked=added)


@router.delete("/tracking", summary="Stop tracking Message-IDs")
async def untrack(body: TrackingIn, config: AccountDep, store: StoreDep) -> TrackingOut:
    removed = await store.untrack_message_ids(config.account, body.messageIds)
    return TrackingOut(removed=removed)
