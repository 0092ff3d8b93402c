"""/metrics: Prometheus text exposition of the service's own registry.

Access: a token with the `metrics` scope (`imapapi token create --scope metrics`) or an `admin`
token bound to no account (the figures are the whole service's); without a token only from
the loopback interface when IMAPAPI_METRICS_ALLOW_LOCALHOST is set (beware a reverse proxy on
the same host: its requests come from loopback too).
"""

from __future__ import annotations

import ipaddress
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from imapapi.accounts.model import AccountState
from imapapi.api.deps import ServiceDep
from imapapi.credentials.tokens import check_token, require_unbound
from imapapi.errors import ForbiddenError
from imapapi.metrics import CONTENT_TYPE_LATEST
from imapapi.service import Service
from imapapi.sessions.session import AccountSession

router = APIRouter(tags=["Metrics"])
_bearer = HTTPBearer(auto_error=False)


def _from_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def require_metrics_access(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if service.settings.insecure:
        return
    if credentials is None and service.settings.metrics_allow_localhost and _from_loopback(request):
        return
    token = credentials.credentials if credentials else None
    try:
        await check_token(service.tokens, token, scope="metrics")
    except ForbiddenError:
        # An admin token will do, unless bound to accounts: these are the service's figures.
        require_unbound(await check_token(service.tokens, token, scope="admin"))


async def refresh(service: Service) -> None:
    """Set the gauges of current state (accounts, connections, outbox) for one scrape."""
    accounts = service.accounts
    connections = 0
    for record in await service.store.list_accounts():  # raw records: nothing to decrypt
        session = accounts.session(record.account)
        if isinstance(session, AccountSession):
            connections += session.open_connections
    service.metrics.refresh(
        states=[state.value for state in AccountState],
        by_state=accounts.count_by_state(),
        connections=connections,
        outbox=await service.store.outbox_stats(time.time()),
    )


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_metrics_access)])
async def metrics(service: ServiceDep) -> Response:
    await refresh(service)
    return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)
