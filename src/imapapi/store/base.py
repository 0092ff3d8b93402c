"""The Store interface: everything imapapi persists, and nothing else.

Kept: accounts (secrets already encrypted by the caller), runtime settings, API tokens (hashed),
per-folder sync state, the event outbox, the submission queue and the sent index. Never kept:
message bodies or attachments (a queued message is kept encrypted until it is final).

One small protocol per concern (`AccountStore`, `SettingsStore`, `TokenStore`, `SyncStore`,
`OutboxStore`, `SubmissionStore`), combined with open/close/ping into `Store`; `ClusterStore`
adds what several nodes on one store share. The records they take and return live in
`store/records.py` and are re-exported here.

Implementations: `store/sqlite/` (embedded default) and `store/redis/` (a `ClusterStore`), one
module per concern each. Every method is atomic on its own; `commit_sync` is the one place where
events and the sync state that produced them are written together, so a crash can re-send an
event but never lose it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from imapapi.store.records import (
    PENDING_STATES,
    AccountRecord,
    FolderState,
    NewEvent,
    OAuth2AppRecord,
    Page,
    QueuedEvent,
    RemoteStatus,
    SentRecord,
    Submission,
    SubmissionState,
    TokenRecord,
)
from imapapi.store.revocations import RevocationListener

__all__ = [
    "PENDING_STATES",
    "AccountRecord",
    "AccountStore",
    "ClusterStore",
    "FolderState",
    "NewEvent",
    "OAuth2AppRecord",
    "OAuth2Store",
    "OutboxStore",
    "Page",
    "QueuedEvent",
    "RemoteStatus",
    "RevocationListener",
    "SentRecord",
    "SettingsStore",
    "Store",
    "Submission",
    "SubmissionState",
    "SubmissionStore",
    "SyncStore",
    "TokenRecord",
    "TokenStore",
]


class AccountStore(Protocol):
    """Registered accounts: their JSON documents (secrets inside already encrypted)."""

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


class SettingsStore(Protocol):
    """Runtime settings: one JSON document per key, changed from the API and the UI."""

    async def get_settings(self) -> dict[str, Any]: ...

    async def update_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """Merge `values` into the settings (a None value removes the key); returns all."""
        ...


class TokenStore(Protocol):
    """API tokens, kept as the SHA-256 of the token only."""

    async def add_token(self, token: TokenRecord) -> None: ...

    async def get_token_by_hash(self, token_hash: str) -> TokenRecord | None: ...

    async def list_tokens(self) -> list[TokenRecord]: ...

    async def revoke_token(self, token_id: str, now: float) -> bool: ...

    def watch_token_revocations(self, listener: RevocationListener) -> None:
        """From now on, call `listener(token_id)` after every revoke through this store object;
        a store shared between processes (Redis) also calls it for revokes made elsewhere, as
        their notices arrive, and calls `listener(None)` when some may have been missed (while
        it was not listening): forget every token. Lets callers cache token records."""
        ...


class SyncStore(Protocol):
    """What the sync engine keeps per account: mailbox indexes and per-folder state."""

    async def mailbox_index(self, account: str, path: str, uid_validity: int) -> int:
        """The index bound to (path, uid_validity), allocating the next one if new."""
        ...

    async def mailbox_indexes(self, account: str, folders: Sequence[tuple[str, int]]) -> list[int]:
        """`mailbox_index` of each (path, uid_validity), in order, in one round trip: a first
        sync records every empty folder at once."""
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
        *,
        fence: int | None = None,
    ) -> None:
        """Append `events` and write the folder states in one transaction (events first).

        `fence` is the fencing token of the writer's lease on the account (ClusterStore): when
        another node has taken the account over since, nothing is written and LeaseLostError
        is raised. A single-process store has no other writer and ignores it."""
        ...


class OutboxStore(Protocol):
    """The durable event outbox that webhook delivery drains, in order per account."""

    async def add_events(self, events: list[NewEvent]) -> None:
        """Append events not tied to a sync state change (idempotent by event_id)."""
        ...

    async def due_events(
        self,
        now: float,
        limit: int,
        *,
        owner: str | None = None,
        orphans: bool = True,
        per_account: int = 1,
        exclude: Collection[str] = (),
    ) -> list[QueuedEvent]:
        """Up to `limit` accounts whose oldest pending event (head) is due, oldest head first;
        for each, its head and the pending events after it, `per_account` at most, in order.

        Only a head's own `next_attempt` counts: the events behind it go out after it, so a
        delivery run takes an account's queue in one read. Accounts in `exclude` (the ones
        being delivered already) are passed over. With `owner` (several nodes on one
        ClusterStore), only the events of accounts whose lease that node holds, plus, when
        `orphans`, those of accounts no longer registered (one node, the oldest, is told to
        take those). A single-process store returns all."""
        ...

    async def events_delivered(self, seqs: Sequence[int]) -> None:
        """Remove these events (delivered, or not wanted) in one write."""
        ...

    async def event_retry(
        self, seq: int, attempts: int, next_attempt: float, error: str
    ) -> None: ...

    async def event_dead(self, seq: int, attempts: int, error: str) -> None: ...

    async def list_dead_events(self, offset: int, limit: int) -> Page: ...

    async def replay_dead_events(self, event_ids: list[str] | None, now: float) -> int:
        """Re-queue dead events (all when `event_ids` is None); returns how many."""
        ...

    async def outbox_stats(self, now: float) -> dict[str, float]:
        """{"pending": n, "dead": n, "oldestAge": seconds} for metrics and the UI."""
        ...


class SubmissionStore(Protocol):
    """The submission queue (issue 6) and the index of sent Message-IDs used for reply tracking."""

    async def add_submission(
        self, submission: Submission, idempotency_since: float
    ) -> tuple[Submission, bool]:
        """Queue `submission`, or return the one queued earlier with the same idempotency key
        (created at or after `idempotency_since`) and False. Atomic: two concurrent calls
        with one key queue one message."""
        ...

    async def find_submission_by_key(
        self, account: str, idempotency_key: str, since: float
    ) -> Submission | None: ...

    async def get_submission(self, queue_id: str) -> Submission | None: ...

    async def list_submissions(
        self, account: str | None, states: Sequence[SubmissionState], offset: int, limit: int
    ) -> Page:
        """Submissions in the given states (all accounts when `account` is None), oldest
        first; `raw` is left out (None) of the listed items."""
        ...

    async def claim_submissions(self, now: float, lease: float, limit: int) -> list[Submission]:
        """Take up to `limit` due submissions: QUEUED with `next_attempt <= now`, or SENDING
        whose lease ran out (its worker died). They become SENDING until `now + lease`."""
        ...

    async def submission_retry(
        self,
        queue_id: str,
        attempts: int,
        next_attempt: float,
        response: str,
        smtp_code: int | None,
        now: float,
    ) -> None:
        """Back to QUEUED after a temporary failure, due again at `next_attempt`."""
        ...

    async def finish_submission(
        self,
        queue_id: str,
        state: SubmissionState,
        *,
        attempts: int,
        response: str | None,
        smtp_code: int | None,
        now: float,
        events: list[NewEvent],
        sent: SentRecord | None = None,
    ) -> None:
        """Final state, the raw message dropped, the webhook events and the sent-index entry
        written in the same transaction."""
        ...

    async def cancel_submission(self, queue_id: str, now: float) -> Submission | None:
        """Cancel a QUEUED submission (raw dropped); returns the submission as it is now
        (unchanged when it was not QUEUED), None when unknown."""
        ...

    async def purge_submissions(self, before: float) -> int:
        """Forget final submissions last updated before `before`; returns how many."""
        ...

    async def get_sent(self, account: str, message_id: str) -> SentRecord | None:
        """The sent-index entry of a Message-ID (`<id>` form) sent from `account`."""
        ...

    async def find_sent(self, account: str, message_ids: Sequence[str]) -> list[SentRecord]:
        """The sent-index entries among `message_ids` (reply tracking looks up a reply's
        In-Reply-To and References in one query)."""
        ...

    async def track_message_ids(self, account: str, message_ids: Sequence[str], now: float) -> int:
        """Track Message-IDs sent by other means (queue id ""); returns how many were new."""
        ...

    async def untrack_message_ids(self, account: str, message_ids: Sequence[str]) -> int: ...

    async def purge_sent(self, before: float) -> int:
        """Forget sent-index entries older than `before` (the tracking retention)."""
        ...


class OAuth2Store(Protocol):
    """OAuth2 apps, each account's grant and the consents under way (issue 19). Documents hold
    their secrets (client secret, refresh token) encrypted already, like accounts."""

    async def put_oauth2_app(self, app: str, data: dict[str, Any], now: float) -> bool:
        """Insert or replace an app; True when it was created."""
        ...

    async def get_oauth2_app(self, app: str) -> OAuth2AppRecord | None: ...

    async def list_oauth2_apps(self) -> list[OAuth2AppRecord]:
        """Every app, ordered by id."""
        ...

    async def delete_oauth2_app(self, app: str) -> bool: ...

    async def put_oauth2_grant(self, account: str, data: dict[str, Any], now: float) -> None:
        """Insert or replace the account's grant (a rotated refresh token, a new consent)."""
        ...

    async def get_oauth2_grant(self, account: str) -> dict[str, Any] | None: ...

    async def delete_oauth2_grant(self, account: str) -> bool: ...

    async def put_oauth2_pending(self, key: str, data: dict[str, Any], expires: float) -> None:
        """Keep a consent under way until `expires` (Unix time)."""
        ...

    async def take_oauth2_pending(self, key: str, now: float) -> dict[str, Any] | None:
        """The consent under `key`, removed in the same step (so a callback can use it once
        only); None when unknown, taken already or expired."""
        ...

    async def lock_oauth2_refresh(self, account: str, owner: str, ttl: float) -> bool:
        """Take the account's refresh lock for `ttl` seconds unless someone else holds it.
        Only a store shared between processes needs one: SQLite (one process) always agrees,
        the caller's in-process lock already keeps refreshes one at a time."""
        ...

    async def unlock_oauth2_refresh(self, account: str, owner: str) -> None:
        """Give the lock back if `owner` still holds it."""
        ...


class Store(
    AccountStore,
    SettingsStore,
    TokenStore,
    SyncStore,
    OutboxStore,
    SubmissionStore,
    OAuth2Store,
    Protocol,
):
    """Everything imapapi persists, with the connection's lifecycle; see the module docstring.

    Code that needs one concern only may take the narrower protocol (e.g. `OutboxStore`); both
    backends implement the whole `Store`.
    """

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool: ...


class ClusterStore(Store, Protocol):
    """What several nodes on one store use to share the accounts (issue 8, DESIGN.md §7).

    Time is the store's own clock (Redis TIME, key expiry), never a node's, so nodes on hosts
    whose clocks disagree still agree on who is alive and who owns what.
    """

    async def heartbeat(self, node: str, ttl: float) -> list[str]:
        """Mark `node` alive for `ttl` seconds; returns every live node's id, sorted."""
        ...

    async def leave(self, node: str) -> None:
        """Forget `node` at once (a clean stop), so the others take its share now."""
        ...

    async def claim_leases(self, node: str, accounts: Sequence[str], ttl: float) -> dict[str, int]:
        """For each account: renew the lease if `node` holds it, take it if nobody does.
        Returns the accounts `node` holds afterwards with their fencing tokens; a token
        changes only when the lease changes hands."""
        ...

    async def release_leases(self, node: str, accounts: Sequence[str]) -> None:
        """Give up the leases `node` holds among `accounts` (after stopping their sessions)."""
        ...

    async def account_versions(self, accounts: Sequence[str] | None = None) -> dict[str, str]:
        """Every account id (or those of `accounts` that exist) with a token that changes when
        the account is updated or signalled, so an owner on another node knows to restart
        its session."""
        ...

    async def signal_account(self, account: str) -> None:
        """Ask the account's owner, wherever it runs, to reconnect."""
        ...

    async def set_account_status(
        self, account: str, node: str, state: str, error: str | None, now: float
    ) -> None: ...

    async def account_statuses(self) -> dict[str, RemoteStatus]: ...

    async def lease_history(self, limit: int) -> list[dict[str, str]]:
        """The latest lease acquisitions and releases, oldest first: `account`, `node`,
        `fence`, `action` ("acquire"/"release") and `at` (store time, ms)."""
        ...
