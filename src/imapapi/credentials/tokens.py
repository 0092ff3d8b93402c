"""API tokens: random bearer tokens of which only the SHA-256 hash is stored.

Every API request names its token, so the records are cached in process (`TokenCache`), for
at most `token_cache_seconds`. A revoke through this process's store drops the record at once,
and on the Redis store so does a revoke by any other process (a node, or `imapapi token
revoke`), as its notice arrives (`TokenStore.watch_token_revocations`). The one revoke this
process cannot hear of is the CLI's on the SQLite file of a running service: the cache's
lifetime is the bound for that one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from imapapi.errors import AccountNotFoundError, ForbiddenError, UnauthorizedError
from imapapi.store.base import TokenRecord, TokenStore

TOKEN_BYTES = 32
# What a token may be given (README "API tokens"): `read` (accounts, mailboxes, messages, text,
# attachments, threads, search), `send` (submit, outbox), `write` (flags, move, delete, upload,
# mailboxes, account settings), `admin` (everything: accounts, settings, tokens, webhooks, logs,
# and all of the above), `metrics` (only /metrics).
SCOPES = ("read", "send", "write", "admin", "metrics")
DEFAULT_SCOPES = ("admin",)
# Scopes stored before there were more than two: "api" opened all of /v1, as `admin` does.
_LEGACY = {"api": "admin"}


def grants(record: TokenRecord | None, scope: str) -> bool:
    """Whether the token holds `scope`; `None` is insecure mode, where everything is allowed."""
    if record is None:
        return True
    held = {_LEGACY.get(s, s) for s in record.scopes}
    return scope in held or "*" in held or ("admin" in held and scope != "metrics")


def require_scope(record: TokenRecord | None, scope: str) -> None:
    """`ForbiddenError` unless the token holds `scope`."""
    if not grants(record, scope):
        raise ForbiddenError(f"this API token lacks the {scope!r} scope")


def sees_account(record: TokenRecord | None, account: str) -> bool:
    """Whether the token may see `account`: an unbound token sees every account."""
    return record is None or not record.accounts or account in record.accounts


def require_account(record: TokenRecord | None, account: str) -> None:
    """`AccountNotFoundError`, word for word the unknown account's, for an account the token is
    not bound to: a bound token cannot tell whether other accounts exist."""
    if not sees_account(record, account):
        raise AccountNotFoundError(f"account {account!r} is not registered")


def require_unbound(record: TokenRecord | None) -> None:
    """`ForbiddenError` for a token bound to accounts: what concerns the whole service (admin
    routes, the web pages) is not for a token that may see only some accounts."""
    if record is not None and record.accounts:
        raise ForbiddenError(
            "this API token is bound to accounts; admin routes need a token bound to none"
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    store: TokenStore,
    description: str = "",
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    accounts: tuple[str, ...] = (),
) -> tuple[TokenRecord, str]:
    """A new token (bound to `accounts`, if any); the plain value is returned once and never
    stored."""
    token = secrets.token_hex(TOKEN_BYTES)
    record = TokenRecord(
        id=secrets.token_hex(6),
        token_hash=hash_token(token),
        description=description,
        scopes=scopes,
        created=time.time(),
        accounts=accounts,
    )
    await store.add_token(record)
    return record, token


# Records kept at most (only tokens that exist get in, so this is a guard, never a limit).
CACHE_MAX = 10_000


class TokenCache:
    """Token records by hash for `ttl` seconds (0: no caching), forgotten at a revoke notice.

    Only tokens found are kept: a token created a moment ago by another process works at once.
    A lookup that was already under way when a revoke notice came is not kept, since it may
    have read the record before the revoke was written.
    """

    def __init__(
        self, store: TokenStore, ttl: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.ttl = ttl
        self._clock = clock
        self._records: dict[str, tuple[TokenRecord, float]] = {}
        self._generation = 0  # moved on by every notice
        self._watching = False

    async def get_token_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The store's answer, or a copy of it at most `ttl` seconds old."""
        now = self._clock()
        kept = self._records.get(token_hash)
        if kept is not None and kept[1] > now:
            return kept[0]
        if not self._watching:  # from the first use: the store is open by then
            self.store.watch_token_revocations(self.forget)
            self._watching = True
        generation = self._generation
        record = await self.store.get_token_by_hash(token_hash)
        if record is None or self.ttl <= 0 or generation != self._generation:
            self._records.pop(token_hash, None)
            return record
        if len(self._records) >= CACHE_MAX:
            self._records.clear()
        self._records[token_hash] = (record, now + self.ttl)
        return record

    def forget(self, token_id: str | None = None) -> None:
        """Drop the record of `token_id` (None: every record)."""
        self._generation += 1
        if token_id is None:
            self._records.clear()
        else:
            self._records = {
                key: kept for key, kept in self._records.items() if kept[0].id != token_id
            }


async def check_token(
    tokens: TokenStore | TokenCache, token: str | None, scope: str | None = "read"
) -> TokenRecord:
    """The token's record; `UnauthorizedError` when missing or unknown, `ForbiddenError` when
    revoked or lacking the scope (`None`: any scope, for a caller that checks each action's
    scope itself, as /mcp does per tool)."""
    if not token:
        raise UnauthorizedError("an API token is required: Authorization: Bearer <token>")
    record = await tokens.get_token_by_hash(hash_token(token))
    if record is None:
        raise UnauthorizedError("unknown API token")
    if record.revoked is not None:
        raise ForbiddenError("this API token has been revoked")
    if scope is not None:
        require_scope(record, scope)
    return record
