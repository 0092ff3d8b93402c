"""Bounce detection (headers) and bounce reports (body): RFC 3464 DSNs and legacy shapes.

Header evidence alone decides a bounce when it cannot be anything else: a
``multipart/report; report-type=delivery-status`` body (RFC 3464 §2, RFC 6522), Exim's
``X-Failed-Recipients``, Exchange's ``X-MS-Exchange-Message-Is-Ndr``, or a bounce sender
(MAILER-DAEMON, postmaster, Exchange's system mailbox) or null Return-Path together with a
bounce subject or with each other. A null Return-Path alone is not enough: RFC 3834 §3.3 asks
auto-responders to use it too. Such messages are *candidates*: their body decides, through
flufl.bounce finding failed recipients in it.
"""

from __future__ import annotations

import email
import logging
import re
from dataclasses import dataclass
from email import policy
from email.message import Message

from imapapi.classify import dsn, legacy
from imapapi.classify.automated import null_return_path
from imapapi.classify.fields import Headers, address, first, local_part, nfc
from imapapi.classify.model import BounceRecipient, BounceReport

log = logging.getLogger(__name__)

_DELIVERY_STATUS = frozenset({"delivery-status", "global-delivery-status"})  # RFC 3464, 6533
_DAEMONS = frozenset({"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster"})
# Exchange sends NDRs from "MicrosoftExchange<32 hex digits>@domain".
_EXCHANGE_SYSTEM = re.compile(r"microsoftexchange[0-9a-f]{32}")
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})

# Subjects of the common MTAs, anchored so that "Fwd: Undeliverable: …" is a person's forward.
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undelivered\s+mail|undeliverable|undeliverable\s+mail|mail\s+delivery\s+failed"
    r"|delivery\s+status\s+notification|failure\s+notice|returned\s+mail|delivery\s+failure"
    r"|delivery\s+has\s+failed|delivery\s+delayed|delayed\s+mail|warning:\s+message\s"
    r"|mail\s+system\s+error|non[-\s]delivery|message\s+not\s+delivered|unzustellbar"
    r"|nicht\s+zustellbar|non\s+remis|non\s+recapitabile|no\s+se\s+puede\s+entregar"
    r"|onbestelbaar|kan\s+ikke\s+leveres|olevererbart)",
    re.IGNORECASE,
)
_DELAY_SUBJECT = re.compile(
    r"delay|still\s+being\s+retried|will\s+be\s+retried|warning:", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the headers say: ``decisive`` is a bounce outright, ``candidate`` needs the body."""

    reasons: tuple[str, ...]
    decisive: bool
    candidate: bool


@dataclass(frozen=True, slots=True)
class Reading:
    """A parsed report; ``success_only`` when a DSN reports only successful deliveries."""

    report: BounceReport
    success_only: bool
    found: bool  # recipients were found in a DSN or by flufl.bounce


def evidence(
    headers: Headers, subject: str | None, from_value: str | None, report_type: str | None
) -> Evidence:
    reasons: list[str] = []
    strong = False
    if report_type in _DELIVERY_STATUS:
        reasons.append(f"report-type:{report_type}")
        strong = True
    for name in ("x-failed-recipients", "x-ms-exchange-message-is-ndr"):
        if name in headers:
            reasons.append(name)
            strong = True
    local = local_part(from_value)
    daemon = local is not None and (local in _DAEMONS or bool(_EXCHANGE_SYSTEM.fullmatch(local)))
    if daemon:
        reasons.append(f"from:{local}")
    null_path = null_return_path(headers)
    if null_path:
        reasons.append("return-path:null")
    bounce_subject = bool(subject) and _BOUNCE_SUBJECT.match(nfc(subject or "")) is not None
    if bounce_subject and (daemon or null_path):
        reasons.append("subject:bounce")
    decisive = strong or (daemon and null_path) or (bounce_subject and (daemon or null_path))
    return Evidence(tuple(reasons), decisive, candidate=daemon or null_path)


def read(raw: bytes, headers: Headers, subject: str | None) -> Reading:
    """Parse the bounce body into a report. Never raises: a body it cannot read gives an empty
    report (the classification still says bounce when the headers did)."""
    try:
        return _read(raw, headers, subject)
    except Exception:  # malformed MIME can trip the stdlib parser in odd places
        log.warning("could not parse a bounce body", exc_info=True)
        return Reading(BounceReport(delayed=_delay_subject(subject)), False, False)


def _read(raw: bytes, headers: Headers, subject: str | None) -> Reading:
    # compat32: the policy flufl.bounce's detectors are written for, and lenient on bad headers.
    message = email.message_from_bytes(raw, policy=policy.compat32)
    texts = [dsn.part_text(p) for p in dsn.leaves(message) if p.get_content_type() == "text/plain"]
    found = dsn.recipients(message)
    if not found:
        found = _legacy(message, "\n".join(texts))
    from_dsn_or_flufl = bool(found)
    if not found:
        failed = first(headers, "x-failed-recipients") or ""
        found = [
            BounceRecipient(addr, "failed")
            for addr in filter(None, (address(part) for part in failed.split(",")))
        ]
    actions = {recipient.action for recipient in found}
    success_only = bool(actions) and actions <= _SUCCESS_ACTIONS
    if found:
        delayed = "delayed" in actions and "failed" not in actions
    else:
        delayed = _delay_subject(subject)
    report = BounceReport(
        recipients=tuple(found),
        original_message_id=dsn.original_message_id(message, texts),
        delayed=delayed,
    )
    return Reading(report, success_only, from_dsn_or_flufl)


def _legacy(message: Message, text: str) -> list[BounceRecipient]:
    temporary, permanent = legacy.failures(message)
    return [legacy.enrich(addr, "failed", text) for addr in permanent] + [
        legacy.enrich(addr, "delayed", text) for addr in temporary
    ]


def _delay_subject(subject: str | None) -> bool:
    return bool(subject) and _DELAY_SUBJECT.search(subject or "") is not None
