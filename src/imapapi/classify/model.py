"""What the classifiers return: frozen dataclasses and their webhook JSON shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ClassificationType = Literal["human", "autoReply", "bounce", "list", "automated"]


@dataclass(frozen=True, slots=True)
class BounceRecipient:
    """One recipient of a delivery report (RFC 3464 §2.3 per-recipient fields).

    ``action`` is RFC 3464's action-value ("failed", "delayed", "delivered", "relayed",
    "expanded"); ``status`` an RFC 3463 enhanced code such as "5.1.1" when one is known;
    ``diagnostic_code`` the remote server's text without its diagnostic-type ("smtp;").
    """

    recipient: str
    action: str
    status: str | None = None
    diagnostic_code: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "action": self.action,
            "status": self.status,
            "diagnosticCode": self.diagnostic_code,
        }


@dataclass(frozen=True, slots=True)
class BounceReport:
    """A parsed bounce: who failed (or is delayed), and which message it was.

    ``delayed`` is true when the report only says delivery is still being retried
    (RFC 3464 action "delayed", or a legacy warning) and no recipient failed for good.
    """

    recipients: tuple[BounceRecipient, ...] = ()
    original_message_id: str | None = None
    delayed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "recipients": [recipient.as_json() for recipient in self.recipients],
            "originalMessageId": self.original_message_id,
            "delayed": self.delayed,
        }


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict on one message, as carried in webhooks: ``{type, reasons[, bounce]}``.

    ``reasons`` lists every signal seen, in a fixed order, including signals of lower precedence
    than ``type`` and weak ones that did not decide it (e.g. "x-auto-response-suppress (weak)").
    ``bounce`` is set only when ``type`` is "bounce" and the message body was available.
    """

    type: ClassificationType
    reasons: tuple[str, ...] = ()
    bounce: BounceReport | None = None

    def as_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"type": self.type, "reasons": list(self.reasons)}
        if self.bounce is not None:
            payload["bounce"] = self.bounce.as_json()
        return payload
