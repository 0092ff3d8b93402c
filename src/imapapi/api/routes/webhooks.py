"""/v1/webhooks: dead letters (events whose delivery finally failed) and their replay."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import APIRouter, Query

from imapapi.api.deps import ServiceDep
from imapapi.api.schemas.webhooks import DeadEvent, DeadEventList, ReplayIn, ReplayOut

router = APIRouter(prefix="/v1/webhooks", tags=["Webhooks"])


@router.get("/dead", summary="List events whose webhook delivery finally failed")
async def list_dead(
    service: ServiceDep,
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    pageSize: Annotated[int, Query(ge=1, le=250)] = 20,
) -> DeadEventList:
    result = await service.store.list_dead_events(page * pageSize, pageSize)
    return DeadEventList(
        events=[DeadEvent.of(e) for e in result.items],
        page=page,
        pages=max(1, math.ceil(result.total / pageSize)),
        total=result.total,
    )


@router.post("/replay", summary="Queue dead events for delivery again")
async def replay(body: ReplayIn, service: ServiceDep) -> ReplayOut:
    count = await service.store.replay_dead_events(body.eventIds, time.time())
    if count and service.dispatcher is not None:
        service.dispatcher.wake()
    return ReplayOut(replayed=count)
