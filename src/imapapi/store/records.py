"""The records the store keeps and hands back: frozen dataclasses and enums, no I/O.

`store/base.py` re-exports every name here, so `from imapapi.store.base import FolderState` and
the like keep working; new code may import from either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_MAILBOX_INDEX = 0xFFFFFFFF  # a uint32 in message ids (DESIGN.md §4)


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """A registered account. `data` is the JSON document (secrets inside already encrypted)."""

    account: str
    data: dict[str, Any]
    created: float
    updated: float


@dataclass(frozen=True, slots=True)
class OAuth2AppRecord:
    """An OAuth2 app. `data` is its JSON document (the client secret inside encrypted)."""

    id: str
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
    # The accounts this token may see; empty: every account (credentials/tokens.py).
    accounts: tuple[str, ...] = ()


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
    # The payload's JSON as stored, the webhook body as it is; None: encode `payload` for it.
    body: bytes | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing and the total count across all pages."""

    items: list[Any] = field(default_factory=list)
    total: int = 0


class SubmissionState(StrEnum):
    """Where a queued message stands. QUEUED and SENDING are pending; the rest are final."""

    QUEUED = "queued"  # waiting for its send time or its next attempt
    SENDING = "sending"  # claimed by a worker until `next_attempt` (a lease)
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


PENDING_STATES = (SubmissionState.QUEUED, SubmissionState.SENDING)


@dataclass(frozen=True, slots=True)
class Submission:
    """A message in the submission queue (issue 6).

    `raw` is the composed message encrypted by the caller (never stored in clear) and is None
    once the submission is final. `reference` says what to flag on the original after sending:
    `{"path", "uidValidity", "uid", "action"}`. `idempotency_key` is unique per account among
    submissions created since the window the caller gives to `add_submission`.
    """

    queue_id: str
    account: str
    message_id: str
    envelope_from: str
    envelope_to: tuple[str, ...]
    created: float
    send_at: float
    raw: str | None = None
    idempotency_key: str | None = None
    state: SubmissionState = SubmissionState.QUEUED
    next_attempt: float = 0.0
    attempts: int = 0
    last_response: str | None = None
    smtp_code: int | None = None
    reference: dict[str, Any] | None = None
    updated: float = 0.0


@dataclass(frozen=True, slots=True)
class SentRecord:
    """One sent Message-ID, for reply tracking (a reply's In-Reply-To is looked up here)."""

    account: str
    message_id: str
    queue_id: str
    sent_at: float


@dataclass(frozen=True, slots=True)
class RemoteStatus:
    """An account's state as its owning node last published it (issue 8: any node answers)."""

    node: str
    state: str
    error: str | None
    updated: float
