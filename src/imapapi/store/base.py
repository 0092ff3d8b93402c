"""The Store interface: everything imapapi persists, and nothing else.

Kept: accounts (secrets already encrypted by the caller), runtime settings, API tokens (hashed),
per-folder sync state, the event outbox. Never kept: message bodies or attachments.

Implementations: `store/sqlite.py` (embedded default) and, later, `store/redis.py`. Every method is
atomic on its own; `commit_sync` is the one place where events and the sync state that produced
them are written together, so a crash can re-send an event but never lose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """A registered account. `data` is the JSON document (secrets inside already encrypted)."""

    account: str
    data: dict[str, Any]
    created: float
    updated: float


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token: only the SHA-256 of the token is stored."""

    id: str
    token_hash: str
    description: str
    scopes: tuple[str, ...]
    created: float
    revoked: float | None = None


@dataclass(frozen=True, slots=True)
class FolderState:
    """What the sync engine remembers of one folder between runs.

    `index` is the per-account mailbox index bound to (path, uid_validity) (DESIGN.md §4 ids).
    `messages_blob` is the sync engine's compact uid → flags map; the store treats it as opaque.
    """

    account: str
    path: str
    index: int
    uid_validity: int
    uid_next: int = 0
    highest_modseq: int | None = None
    messages: int = 0
    special_use: str | None = None
    messages_blob: bytes = b""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append to the outbox. The writer decides `event_id` (idempotent inserts)."""

    event_id: str
    account: str
    payload: dict[str, Any]
    created: float


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """An event in the outbox, as the dispatcher sees it."""

    seq: int
    event_id: str
    account: str
    payload: dict[str, Any]
    created: float
    attempts: int = 0
    next_attempt: float = 0.0
    last_error: str | None = None
    dead: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing and the total count across all pages."""

    items: list[Any] = field(default_factory=list)
    total: int = 0


class Store(Protocol):
    """Async persistence interface; see module docstring for what belongs here."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool: ...

    # --- accounts ----------------------------------------------------------------------------
    async def put_account(self, account: str, data: dict[str, Any], now: float) -> bool:
        """Insert or replace an account; True when it was created."""
        ...

    async def get_account(self, account: str) -> AccountRecord | None: ...

    async def list_accounts(self) -> list[AccountRecord]:
        """Every account, ordered by id (callers page and filter by runtime state)."""
        ...

    async def delete_account(self, account: str) -> bool:
        """Remove the account with its folder state and pending events; True if it existed."""
        ...

    # --- runtime settings --------------------------------------------------------------------
    async def get_settings(self) -> dict[str, Any]: ...

    async def update_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """Merge `values` into the settings (a None value removes the key); returns all."""
        ...

    # --- API tokens --------------------------------------------------------------------------
    async def add_token(self, token: TokenRecord) -> None: ...

    async def get_token_by_hash(self, token_hash: str) -> TokenRecord | None: ...

    async def list_tokens(self) -> list[TokenRecord]: ...

    async def revoke_token(self, token_id: str, now: float) -> bool: ...

    # --- sync state --------------------------------------------------------------------------
    async def mailbox_index(self, account: str, path: str, uid_validity: int) -> int:
        """The index bound to (path, uid_validity), allocating the next one if new."""
        ...

    async def resolve_mailbox_index(self, account: str, index: int) -> tuple[str, int] | None:
        """(path, uid_validity) of an index, or None when unknown."""
        ...

    async def get_folders(self, account: str) -> list[FolderState]: ...

    async def commit_sync(
        self,
        account: str,
        events: list[NewEvent],
        folders: list[FolderState],
        removed_paths: Sequence[str] = (),
    ) -> None:
        """Append `events` and write the folder states in one transaction (events first)."""
        ...

    # --- event outbox ------------------------------------------------------------------------
    async def add_events(self, events: list[NewEvent]) -> None:
        """Append events not tied to a sync state change (idempotent by event_id)."""
        ...

    async def due_events(self, now: float, limit: int) -> list[QueuedEvent]:
        """The oldest pending event of each account, if it is due; in-order per account."""
        ...

    async def event_delivered(self, seq: int) -> None: ...

    async def event_retry(self, seq: int, attempts: int, next_attempt: float, error: str) -> None:
        ...

    async def event_dead(self, seq: int, attempts: int, error: str) -> None: ...

    async def list_dead_events(self, offset: int, limit: int) -> Page: ...

    async def replay_dead_events(self, event_ids: list[str] | None, now: float) -> int:
        """Re-queue dead events (all when `event_ids` is None); returns how many."""
        ...

    async def outbox_stats(self, now: float) -> dict[str, float]:
        """{"pending": n, "dead": n, "oldestAge": seconds} for metrics and the UI."""
        ...
