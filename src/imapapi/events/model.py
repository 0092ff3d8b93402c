"""The webhook event model: event names, the payload envelope, event ids, the wire encoding.

The payload is exactly the webhook body of DESIGN.md §4::

    {"account", "path", "specialUse", "event", "eventId", "date", "data"}

It is built once by the writer (sync, the submit path, the account session), stored as-is in the
outbox and posted unchanged, so a re-delivery is byte-for-byte the same event with the same
`eventId` — receivers de-duplicate on it (delivery is at-least-once).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from imapapi.store.base import NewEvent


class EventName(StrEnum):
    """Every event imapapi posts; the value is the `event` field of the payload."""

    MESSAGE_NEW = "messageNew"
    MESSAGE_DELETED = "messageDeleted"
    MESSAGE_UPDATED = "messageUpdated"
    MAILBOX_NEW = "mailboxNew"
    MAILBOX_DELETED = "mailboxDeleted"
    MAILBOX_RESET = "mailboxReset"
    ACCOUNT_CONNECTED = "accountConnected"
    AUTHENTICATION_ERROR = "authenticationError"
    CONNECT_ERROR = "connectError"
    MESSAGE_SENT = "messageSent"
    MESSAGE_FAILED = "messageFailed"
    MESSAGE_BOUNCE = "messageBounce"
    MESSAGE_REPLY = "messageReply"
    MESSAGE_AUTO_REPLY = "messageAutoReply"


# Event ids travel in the X-Imapapi-Event-Id header, so they are restricted to visible ASCII
# without spaces: no header injection, nothing a proxy would re-encode (RFC 9110 §5.5).
_EVENT_ID = re.compile(r"[!-~]{1,128}")
# What json.dumps(value, separators=(",", ":"), ensure_ascii=...) builds on every call, built
# once: the same encoder, so the same text (ids and bodies are made for every event).
_COMPACT_UTF8 = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_COMPACT_ASCII = json.JSONEncoder(separators=(",", ":"))


def new_event_id() -> str:
    """A random event id (32 lowercase hex digits), for events that have no natural identity."""
    return uuid.uuid4().hex


def derive_event_id(*parts: str | int) -> str:
    """A deterministic event id from the facts that identify one change.

    For writers that may write the same change twice (sync after a crash): the same parts give
    the same id, so the outbox insert is a no-op the second time (STYLE.md 13). Parts may hold
    any text (non-ASCII folder names); the result is 32 hex digits. Parts are JSON-encoded
    before hashing so ("a", "bc") and ("ab", "c") differ.
    """
    if not parts:
        raise ValueError("derive_event_id needs at least one part")
    try:
        # orjson writes text and integers exactly as the encoder below does (a unit test
        # compares them), at a tenth of its cost: one id per message of a burst (issue 17).
        material = orjson.dumps(parts)
    except TypeError:  # a lone surrogate, an integer beyond 64 bits: as it always was
        material = _COMPACT_UTF8.encode(list(parts)).encode("utf-8")
    return hashlib.sha256(material).hexdigest()[:32]


def format_date(timestamp: float) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`, e.g. `2024-05-01T12:00:00.123Z`."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_event(
    *,
    account: str,
    event: EventName | str,
    data: dict[str, Any],
    path: str | None = None,
    special_use: str | None = None,
    event_id: str | None = None,
    now: float | None = None,
) -> NewEvent:
    """Build the outbox record of one event, its payload shaped as DESIGN.md §4.

    `event_id` is chosen by the writer when the event must be idempotent (see
    `derive_event_id`); otherwise a random id is used. `now` (epoch seconds, default the current
    time) becomes both the payload `date` and the record's `created`, from which the dispatcher
    measures the retry window. Raises ValueError on an unknown event name, an empty account or
    an event id that cannot travel in an HTTP header.
    """
    name = EventName(event)  # ValueError on an unknown name: a programming error of the writer
    if not account:
        raise ValueError("account must not be empty")
    if event_id is None:
        event_id = new_event_id()
    elif not _EVENT_ID.fullmatch(event_id):
        raise ValueError("event_id must be 1-128 visible ASCII characters without spaces")
    created = time.time() if now is None else now
    payload: dict[str, Any] = {
        "account": account,
        "path": path,
        "specialUse": special_use,
        "event": name.value,
        "eventId": event_id,
        "date": format_date(created),
        "data": data,
    }
    return NewEvent(event_id=event_id, account=account, payload=payload, created=created)


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The request body: compact UTF-8 JSON, serialized once per attempt and signed as-is.

    Text stays UTF-8 (not \\u escapes). A lone surrogate (a header decoded with
    surrogateescape) cannot be UTF-8, so such a payload falls back to ASCII escapes rather than
    failing delivery forever.
    """
    try:
        return _COMPACT_UTF8.encode(payload).encode("utf-8")
    except UnicodeEncodeError:
        return _COMPACT_ASCII.encode(payload).encode("ascii")
