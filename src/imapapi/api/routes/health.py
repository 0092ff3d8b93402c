"""/health (liveness) and /health/ready (readiness): no token, for load balancers and probes."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from imapapi.api.deps import ServiceDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["Health"])

STORE_PING_TIMEOUT = 2.0  # a store that hangs is as unready as one that fails


@router.get("/health", include_in_schema=False)
async def health() -> JSONResponse:
    """200 whenever the process answers at all."""
    return JSONResponse({"status": "ok"})


@router.get("/health/ready", include_in_schema=False)
async def ready(service: ServiceDep) -> JSONResponse:
    """200 when the store answers and the webhook dispatcher runs; else 503 with the reasons.
    On a Redis store the body also names this node and how many accounts it syncs."""
    reasons: list[str] = []
    try:
        async with asyncio.timeout(STORE_PING_TIMEOUT):
            reachable = await service.store.ping()
    except TimeoutError:
        reachable = False
    except Exception:
        log.exception("readiness: store ping failed")
        reachable = False
    if not reachable:
        reasons.append("store unreachable")
    dispatcher = service.dispatcher
    if dispatcher is None or not dispatcher.running:
        reasons.append("webhook dispatcher not running")
    checks = {
        "store": "ok" if reachable else "failed",
        "dispatcher": "failed" if "webhook dispatcher not running" in reasons else "ok",
    }
    body: dict[str, object] = {}
    if service.scheduler is not None:  # several nodes on one Redis: this node's share
        scheduler = service.scheduler
        body["cluster"] = {
            "node": scheduler.node,
            "liveNodes": len(scheduler.live),
            "accountsSynced": len(scheduler.owned),
        }
    if reasons:
        return JSONResponse(
            {"status": "unavailable", "checks": checks, "reasons": reasons, **body},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "checks": checks, **body})
