"""Events: the webhook event model, signatures and durable delivery from the store's outbox."""

from __future__ import annotations

from imapapi.events.dispatcher import DispatcherStats, WebhookDispatcher
from imapapi.events.model import (
    EventName,
    derive_event_id,
    encode_payload,
    format_date,
    make_event,
    new_event_id,
)
from imapapi.events.retry import Retry, backoff_delay, parse_retry_after
from imapapi.events.signing import SIGNATURE_HEADER, sign, verify
from imapapi.events.target import WebhookTarget

__all__ = [
    "SIGNATURE_HEADER",
    "DispatcherStats",
    "EventName",
    "Retry",
    "WebhookDispatcher",
    "WebhookTarget",
    "backoff_delay",
    "derive_event_id",
    "encode_payload",
    "format_date",
    "make_event",
    "new_event_id",
    "parse_retry_after",
    "sign",
    "verify",
]
