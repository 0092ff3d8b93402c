"""Bounce detection (headers) and bounce reports (body): RFC 3464 DSNs and legacy shapes.

Header evidence alone decides a bounce when it cannot be anything else: a
``multipart/report; report-type=delivery-status`` body (RFC 3464 §2, RFC 6522), Exim's
``X-Failed-Recipients``, Exchange's ``X-MS-Exchange-Message-Is-Ndr``, or two of: a bounce sender
(MAILER-DAEMON, postmaster, Exchange's system mailbox; ``classify.vendors``), a null
Return-Path, a bounce subject. One of them alone makes a *candidate* whose body decides:

* a bounce sender: a delivery-status part, flufl.bounce, or failed addresses named in a text
  that says something failed (``classify.scan``) make it a bounce, whatever auto-reply or list
  marks it carries (MTAs stamp bounces with ``Auto-Submitted: auto-replied`` and copy the
  bounced list mail's ``List-Id``/``Precedence: bulk``);
* a null Return-Path or a bounce subject alone: only a delivery-status part or flufl.bounce
  count, and for the null Return-Path only without auto-reply marks (RFC 3834 §3.3 asks
  auto-responders to use it too).
"""

from __future__ import annotations

import email
import html
import logging
import re
from dataclasses import dataclass
from email import policy
from email.message import Message

from imapapi.classify import dsn, legacy, scan, vendors
from imapapi.classify.automated import null_return_path
from imapapi.classify.fields import Headers, address, first, local_part, nfc
from imapapi.classify.model import BounceRecipient, BounceReport

log = logging.getLogger(__name__)

_TAG = re.compile(r"<[^>]*>")

_DELIVERY_STATUS = frozenset({"delivery-status", "global-delivery-status"})  # RFC 3464, 6533
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the headers say: ``decisive`` is a bounce outright, ``candidate`` needs the body;
    ``sender`` is a bounce sender, whose text alone may name the failed recipients."""

    reasons: tuple[str, ...]
    decisive: bool
    candidate: bool
    sender: bool = False
    null_path: bool = False


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
    daemon = _daemon(from_value)
    if daemon is not None:
        reasons.append(f"from:{daemon}")
    null_path = null_return_path(headers)
    if null_path:
        reasons.append("return-path:null")
    bounce_subject = bool(subject) and vendors.BOUNCE_SUBJECT.match(nfc(subject or "")) is not None
    if bounce_subject:
        reasons.append("subject:bounce")
    marks = (daemon is not None) + null_path + bounce_subject
    return Evidence(
        tuple(reasons),
        decisive=strong or marks >= 2,
        candidate=marks >= 1,
        sender=daemon is not None,
        null_path=null_path,
    )


def _daemon(from_value: str | None) -> str | None:
    """The bounce sender's local part ("null" for a From without an address, such as
    "MAILER-DAEMON <>"), or None for anyone else."""
    local = local_part(from_value)
    if local is not None:
        if local in vendors.DAEMON_LOCAL_PARTS or vendors.EXCHANGE_SYSTEM.fullmatch(local):
            return local
        return None
    if from_value is None:
        return None
    name = from_value.split("<", 1)[0].strip().strip('"')
    if not name.strip("<> ") or vendors.DAEMON_NAMES.match(name):
        return "null"
    return None


def read(raw: bytes, headers: Headers, subject: str | None, evidence: Evidence) -> Reading:
    """Parse the bounce body into a report. Never raises: a body it cannot read gives an empty
    report (the classification still says bounce when the headers did)."""
    try:
        return _read(raw, headers, subject, evidence)
    except Exception:  # malformed MIME can trip the stdlib parser in odd places
        log.warning("could not parse a bounce body", exc_info=True)
        return Reading(BounceReport(delayed=_delay_subject(subject)), False, False)


def _read(raw: bytes, headers: Headers, subject: str | None, evidence: Evidence) -> Reading:
    # compat32: the policy flufl.bounce's detectors are written for, and lenient on bad headers.
    message = email.message_from_bytes(raw, policy=policy.compat32)
    texts = _texts(message)
    text = "\n".join(texts)
    found = dsn.recipients(message) or dsn.inline_recipients(text)
    if not found:
        found = _legacy(message, text)
    from_dsn_or_flufl = bool(found)
    if not found:
        failed = first(headers, "x-failed-recipients") or ""
        found = [
            BounceRecipient(addr, "failed")
            for addr in filter(None, (address(part) for part in failed.split(",")))
        ]
    scanned = False
    if not found and (evidence.decisive or (evidence.sender and scan.FAILURE_CUE.search(text))):
        action = (
            "delayed" if _delay_subject(subject) and not _failure_subject(subject) else "failed"
        )
        found = [legacy.enrich(a, action, text) for a in scan.failed_recipients(message, texts)]
        scanned = bool(found)
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
    return Reading(report, success_only, from_dsn_or_flufl or scanned)


def _texts(message: Message) -> list[str]:
    """The bounce's own text parts (plain, else HTML without its tags)."""
    parts = [p for p in dsn.leaves(message) if p.get_content_maintype() in ("text", "multipart")]
    # A multipart leaf is one whose boundaries did not match: the stdlib kept its body as text.
    plain = [
        dsn.part_text(p)
        for p in parts
        if p.get_content_type() == "text/plain" or p.get_content_maintype() == "multipart"
    ]
    if plain:
        return plain
    return [
        html.unescape(_TAG.sub(" ", dsn.part_text(p)))
        for p in parts
        if p.get_content_type() == "text/html"
    ]


def _legacy(message: Message, text: str) -> list[BounceRecipient]:
    temporary, permanent = legacy.failures(message)
    return [legacy.enrich(addr, "failed", text) for addr in permanent] + [
        legacy.enrich(addr, "delayed", text) for addr in temporary
    ]


def _delay_subject(subject: str | None) -> bool:
    return bool(subject) and vendors.DELAY_SUBJECT.search(subject or "") is not None


def _failure_subject(subject: str | None) -> bool:
    # MDaemon's "Warning: … User unknown!" is a permanent failure despite its "Warning:".
    return bool(subject) and re.search(r"unknown|fail", subject or "", re.IGNORECASE) is not None
