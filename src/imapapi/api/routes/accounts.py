"""/v1/account, /v1/accounts: register, list, read, update, delete and verify accounts."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from imapapi.accounts.model import AccountConfig, AccountState
from imapapi.accounts.status import AccountStatus
from imapapi.api.deps import AccountDep, AccountIdPath, AccountsDep, ServiceDep, TokenDep
from imapapi.api.schemas.accounts import (
    AccountCreate,
    AccountDeleted,
    AccountList,
    AccountOut,
    AccountReconnect,
    AccountSummary,
    AccountUpdate,
    AccountUpserted,
    OAuth2LinkOut,
    ServerIn,
    ServerOut,
    ServerPatch,
    VerifyIn,
    VerifyOut,
    VerifyResult,
)
from imapapi.api.schemas.common import ErrorResponse
from imapapi.credentials.authserver import AuthServerSource
from imapapi.credentials.tokens import sees_account
from imapapi.errors import ImapApiError, InvalidInputError, UnprocessableError
from imapapi.operations.verify import verify_imap, verify_smtp
from imapapi.servers import ServerAuth, ServerConfig

router = APIRouter(prefix="/v1", tags=["Account"])


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _next_attempt(status: AccountStatus) -> datetime | None:
    return None if status.next_attempt is None else _when(status.next_attempt)


def _account_out(config: AccountConfig, accounts: AccountsDep) -> AccountOut:
    status = accounts.status(config.account)
    return AccountOut(
        account=config.account,
        name=config.name,
        email=config.email,
        state=status.state,
        lastError=status.last_error,
        attempts=status.attempts,
        nextAttempt=_next_attempt(status),
        imap=ServerOut.of(config.imap),
        smtp=ServerOut.of(config.smtp) if config.smtp else None,
        oauth2=(
            OAuth2LinkOut(app=config.oauth2.app, user=config.oauth2.user) if config.oauth2 else None
        ),
        notifyFrom=config.notify_from,
        created=_when(config.created),
        updated=_when(config.updated),
    )


@router.post(
    "/account",
    summary="Register an account, or update it if the id exists",
    description="Stores the account (passwords encrypted) and starts syncing it. Posting an "
    "existing `account` id replaces that account's settings (upsert).",
)
async def upsert_account(body: AccountCreate, accounts: AccountsDep) -> AccountUpserted:
    stored, created = await accounts.upsert(body.to_config())
    return AccountUpserted(
        account=stored.account, state=accounts.status(stored.account).state, created=created
    )


@router.get(
    "/accounts",
    summary="List accounts",
    description="Paged list of registered accounts ordered by id, optionally only those in one "
    "connection state. A token bound to accounts lists only those.",
)
async def list_accounts(
    accounts: AccountsDep,
    token: TokenDep,
    page: Annotated[int, Query(ge=0, le=1_000_000, description="Zero-based page.")] = 0,
    pageSize: Annotated[int, Query(ge=1, le=1000, description="Accounts per page.")] = 20,
    state: Annotated[AccountState | None, Query(description="Only this state.")] = None,
) -> AccountList:
    summaries = []
    for config in await accounts.registry.list():
        if not sees_account(token, config.account):
            continue
        status = accounts.status(config.account)
        if state is None or status.state == state:
            summaries.append(
                AccountSummary(
                    account=config.account,
                    name=config.name,
                    email=config.email,
                    state=status.state,
                    lastError=status.last_error,
                    attempts=status.attempts,
                    nextAttempt=_next_attempt(status),
                )
            )
    total = len(summaries)
    start = page * pageSize
    return AccountList(
        accounts=summaries[start : start + pageSize],
        page=page,
        pages=max(1, math.ceil(total / pageSize)),
        total=total,
    )


@router.get("/account/{account}", summary="Account details (never passwords)")
async def get_account(config: AccountDep, accounts: AccountsDep) -> AccountOut:
    return _account_out(config, accounts)


def _patch_server(current: ServerConfig | None, patch: ServerPatch, field: str) -> ServerConfig:
    if current is None:
        if patch.host is None or patch.port is None:
            raise UnprocessableError(field, "host and port are required to add these settings")
        current = ServerConfig(host=patch.host, port=patch.port)
    changes = patch.model_dump(exclude_unset=True, exclude={"tls", "auth"})
    server = replace(
        current,
        host=changes.get("host") or current.host,
        port=changes.get("port") or current.port,
        secure=current.secure if patch.secure is None else patch.secure,
        starttls=current.starttls if patch.starttls is None else patch.starttls,
        tls_verify=current.tls_verify if patch.tls is None else patch.tls.rejectUnauthorized,
    )
    given = patch.model_fields_set
    if patch.auth is not None:
        server = replace(
            server, auth=ServerAuth(patch.auth.user, patch.auth.password), use_auth_server=False
        )
    elif "auth" in given:  # an explicit null: no password login any more
        server = replace(server, auth=None)
    if patch.useAuthServer is True:
        server = replace(server, auth=None, use_auth_server=True)
    elif patch.useAuthServer is False:
        server = replace(server, use_auth_server=False)
    # SMTP without either is a server that takes mail without a login; IMAP always logs in.
    if field == "imap" and server.auth is None and not server.use_auth_server:
        raise UnprocessableError(f"{field}.auth", "either auth or useAuthServer: true is required")
    return server


@router.put(
    "/account/{account}",
    summary="Update an account",
    description="Changes only the given fields (also inside `imap` and `smtp`) and reconnects.",
)
async def update_account(
    body: AccountUpdate, config: AccountDep, accounts: AccountsDep
) -> AccountUpserted:
    fields = body.model_fields_set
    updated = replace(
        config,
        name=body.name if "name" in fields else config.name,
        email=body.email if "email" in fields else config.email,
        notify_from=(
            (body.notifyFrom.isoformat() if body.notifyFrom else None)
            if "notifyFrom" in fields
            else config.notify_from
        ),
        imap=_patch_server(config.imap, body.imap, "imap") if body.imap else config.imap,
        smtp=_patch_server(config.smtp, body.smtp, "smtp") if body.smtp else config.smtp,
    )
    stored, _ = await accounts.upsert(updated)
    return AccountUpserted(
        account=stored.account, state=accounts.status(stored.account).state, created=False
    )


@router.delete(
    "/account/{account}",
    summary="Delete an account",
    description="Stops syncing, closes its connections and forgets its sync state.",
)
async def delete_account(
    account: AccountIdPath, accounts: AccountsDep, service: ServiceDep
) -> AccountDeleted:
    await accounts.delete(account)  # its OAuth2 grant goes with it (the store's delete)
    if service.oauth2 is not None:
        service.oauth2.tokens.forget(account)  # and this process's access token
    return AccountDeleted(account=account)


@router.post(
    "/verifyAccount",
    summary="Test IMAP and SMTP settings without storing them",
    description="Logs in to each given server and reports success or the server's error. "
    "`account` is required when a server has `useAuthServer: true`; 422 when no auth server "
    "is configured then.",
    responses={
        422: {"model": ErrorResponse, "description": "`useAuthServer` without an auth server."}
    },
)
async def verify_account(body: VerifyIn, service: ServiceDep) -> VerifyOut:
    timeout = service.settings.connect_timeout + service.settings.imap_timeout
    result = VerifyOut()
    if body.imap is not None:
        source = _auth_source(service, body, body.imap, "imap")
        error = await verify_imap(body.imap.to_config(), timeout=timeout, credentials=source)
        result.imap = _verified(error)
    if body.smtp is not None:
        source = _auth_source(service, body, body.smtp, "smtp")
        error = await verify_smtp(body.smtp.to_config(), timeout=timeout, credentials=source)
        result.smtp = _verified(error)
    return result


def _auth_source(
    service: ServiceDep, body: VerifyIn, server: ServerIn, proto: Literal["imap", "smtp"]
) -> AuthServerSource | None:
    if not server.useAuthServer:
        return None
    if body.account is None:
        raise InvalidInputError("account", "required to ask the auth server for credentials")
    if service.auth_server is None:
        raise UnprocessableError(f"{proto}.useAuthServer", "no auth server is configured")
    return service.auth_server.source(body.account, proto)


def _verified(error: ImapApiError | None) -> VerifyResult:
    if error is None:
        return VerifyResult(success=True)
    return VerifyResult(success=False, error=error.message, code=error.code)


@router.put(
    "/account/{account}/reconnect",
    summary="Reconnect the account now",
    description="Drops the IMAP connection and opens a new one immediately, without waiting "
    "for the reconnect backoff.",
)
async def reconnect_account(config: AccountDep, accounts: AccountsDep) -> AccountReconnect:
    await accounts.reconnect(config.account)
    return AccountReconnect(account=config.account)
