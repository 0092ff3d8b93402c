"""FastAPI dependencies: the service, its parts, and API-token authentication."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPBearer

from imapapi.accounts.model import AccountConfig
from imapapi.api.access import token_of
from imapapi.api.schemas.common import ACCOUNT_ID_PATTERN
from imapapi.cluster.manager import AccountManager
from imapapi.credentials.tokens import check_token
from imapapi.service import Service
from imapapi.sessions.session import AccountSession
from imapapi.store.base import Store, TokenRecord

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `imapapi token create` (or printed once at first start).",
)


# These are `async def` on purpose: FastAPI runs a plain `def` dependency in its thread pool,
# a thread hop per dependency per request for what is an attribute read.
async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


async def get_store(service: ServiceDep) -> Store:
    return service.store


async def get_accounts(service: ServiceDep) -> AccountManager:
    return service.accounts


StoreDep = Annotated[Store, Depends(get_store)]
AccountsDep = Annotated[AccountManager, Depends(get_accounts)]

# Whether a request carries a signed-in page session (ui/session.py).
PageSignIn = Callable[[Request, Service], Awaitable[bool]]


# Set in the request scope by api/guard.py once `authorize` admitted the request.
AUTHORIZED = "imapapi.authorized"

# The token rule of /v1 routes, as the OpenAPI document states it (api/app.py adds it to every
# /v1 operation): the check itself is the guard's, which runs before any route or dependency.
BEARER_SCHEME = {
    _bearer.scheme_name: _bearer.model.model_dump(mode="json", by_alias=True, exclude_none=True)
}


async def authorize(request: Request, service: Service) -> TokenRecord | None:
    """Every /v1 route requires a bearer token unless the service runs in insecure mode.

    A signed-in web page session also admits reads (GET/HEAD only, so a cookie can never be
    used to change anything): the account page links to `GET /v1/logs/{account}`.
    Raises `UnauthorizedError` or `ForbiddenError` (credentials/tokens.py decides tokens);
    returns the token's record, or None when no token is needed (insecure mode, a page), for
    api/access.py to check against the route.
    """
    if service.settings.insecure:
        return None
    credentials = await _bearer(request)  # the header read exactly as the OpenAPI scheme says
    if credentials is None and request.method in ("GET", "HEAD"):
        # Set by the pages (ui.install), which sit above the API: no import of ui/ here.
        signed_in: PageSignIn | None = getattr(request.app.state, "page_signed_in", None)
        if signed_in is not None and await signed_in(request, service):
            return None  # only an unbound admin token or the password signs in (ui/auth.py)
    token = credentials.credentials if credentials else None
    return await check_token(service.tokens, token, scope=None)


async def get_token(request: Request) -> TokenRecord | None:
    """The token api/guard.py admitted for this request (None: insecure mode, a page)."""
    return token_of(request)


# For the routes that list accounts: a token bound to accounts sees only those.
TokenDep = Annotated[TokenRecord | None, Depends(get_token)]


AccountIdPath = Annotated[
    str,
    Path(
        pattern=ACCOUNT_ID_PATTERN,
        max_length=128,
        description="Account id given at registration.",
        examples=["example"],
    ),
]


async def get_account(account: AccountIdPath, accounts: AccountsDep) -> AccountConfig:
    """The account named in the path, or 404."""
    return await accounts.registry.get(account)


AccountDep = Annotated[AccountConfig, Depends(get_account)]


async def get_session(account: AccountIdPath, request: Request) -> AccountSession:
    """The live session of the account in the path; 404 for an unknown account, 503 when it
    has no session in this process. (The request rather than `AccountsDep`: the hot routes
    take this alone, and each dependency is solved per request.)"""
    accounts: AccountManager = request.app.state.service.accounts
    return await accounts.live_session(account)


SessionDep = Annotated[AccountSession, Depends(get_session)]
