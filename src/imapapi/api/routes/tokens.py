"""/v1/tokens: API tokens listed, created (the token shown once) and revoked, as `imapapi token`
and the tokens page do. Admin routes: a token bound to accounts is refused (api/access.py)."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path

from imapapi.api.deps import ServiceDep
from imapapi.api.schemas.common import ErrorResponse
from imapapi.api.schemas.tokens import TokenCreate, TokenCreated, TokenList, TokenOut, TokenRevoked
from imapapi.credentials.tokens import create_token
from imapapi.errors import NotFoundError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/tokens", tags=["Tokens"])

TokenId = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$", description="From the listing.")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No active token with this id."}
}


@router.get("", summary="List API tokens (never the tokens themselves)")
async def list_tokens(service: ServiceDep) -> TokenList:
    return TokenList(tokens=[TokenOut.of(t) for t in await service.store.list_tokens()])


@router.post(
    "",
    summary="Create an API token",
    description="The answer's `token` is shown only once: only its SHA-256 is stored.",
)
async def create(body: TokenCreate, service: ServiceDep) -> TokenCreated:
    scopes = tuple(dict.fromkeys(body.scopes))
    accounts = tuple(dict.fromkeys(body.accounts))
    record, token = await create_token(service.store, body.description, scopes, accounts)
    log.info(
        "API token %s created through the API (scopes %s, accounts %s)",
        record.id,
        ",".join(scopes),
        ",".join(accounts) or "all",
    )
    return TokenCreated(**TokenOut.of(record).model_dump(), token=token)


@router.delete("/{tokenId}", summary="Revoke an API token", responses=_NOT_FOUND)
async def revoke(tokenId: TokenId, service: ServiceDep) -> TokenRevoked:
    if not await service.store.revoke_token(tokenId, time.time()):
        raise NotFoundError(f"no active token {tokenId!r}")
    log.info("API token %s revoked through the API", tokenId)
    return TokenRevoked(id=tokenId, revoked=True)
