"""API tokens: random bearer tokens of which only the SHA-256 hash is stored."""

from __future__ import annotations

import hashlib
import secrets
import time

from imapapi.errors import ForbiddenError, UnauthorizedError
from imapapi.store.base import TokenRecord, TokenStore

TOKEN_BYTES = 32
DEFAULT_SCOPES = ("api",)
# What a token may be given: "api" opens /v1 and the web pages, "metrics" only /metrics.
SCOPES = ("api", "metrics")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    store: TokenStore, description: str = "", scopes: tuple[str, ...] = DEFAULT_SCOPES
) -> tuple[TokenRecord, str]:
    """A new token; the plain value is returned once and never stored."""
    token = secrets.token_hex(TOKEN_BYTES)
    record = TokenRecord(
        id=secrets.token_hex(6),
        token_hash=hash_token(token),
        description=description,
        scopes=scopes,
        created=time.time(),
    )
    await store.add_token(record)
    return record, token


async def check_token(store: TokenStore, token: str | None, scope: str = "api") -> TokenRecord:
    """The token's record; `UnauthorizedError` when missing or unknown, `ForbiddenError` when
    revoked or lacking the scope."""
    if not token:
        raise UnauthorizedError("an API token is required: Authorization: Bearer <token>")
    record = await store.get_token_by_hash(hash_token(token))
    if record is None:
        raise UnauthorizedError("unknown API token")
    if record.revoked is not None:
        raise ForbiddenError("this API token has been revoked")
    if scope not in record.scopes and "*" not in record.scopes:
        raise ForbiddenError(f"this API token lacks the {scope!r} scope")
    return record
