"""Tell a person's reply from an auto-reply, a bounce, list mail or other machine mail.

Pure functions (no I/O): the sync engine hands over the headers it fetched, and for bounce
candidates (``needs_body``) the raw message, and gets a ``Classification`` back.

Precedence, first match wins (every signal seen is still listed in ``reasons``):

1. ``bounce`` — a delivery report or a legacy bounce (see ``classify.bounce``). First because
   MTAs stamp bounces with auto-reply and bulk marks too (Postfix adds
   ``Auto-Submitted: auto-replied``; a bounced list mail's copy brings ``List-Id`` and
   ``Precedence: bulk``), and the report is what the application needs.
   A DSN whose recipients were all delivered/relayed/expanded is ``automated``, not a bounce.
2. ``autoReply`` — ``Auto-Submitted: auto-replied`` (RFC 3834 §5.1), X-Autoreply /
   X-Autorespond / X-Autoresponder, ``Precedence: auto_reply``, X-MS-Exchange-Inbox-Rules-Loop;
   or another non-"no" Auto-Submitted value when the message shows it answers one (an
   auto-reply subject or an In-Reply-To field: Exchange labels its out-of-office replies
   "auto-generated"); or a responder's envelope (null Return-Path with Precedence bulk/junk and no
   List-* field); or, with no header saying otherwise, an auto-reply subject prefix.
   "Saying otherwise" is ``Auto-Submitted: no`` or a List-* field (a newsletter titled
   "Out of office: …" is list mail). ``X-Auto-Response-Suppress`` alone never decides (see
   ``classify.autoreply``).
3. ``list`` — List-Id (RFC 2919), List-Unsubscribe / List-Post (RFC 2369), Precedence
   bulk/list/junk.
4. ``automated`` — other non-"no" Auto-Submitted values (RFC 3834 §5.1 "auto-generated": not a
   response to a message), no-reply senders, read receipts and feedback reports, a null
   Return-Path (RFC 5321 §4.5.5: only machine mail uses it).
5. ``human`` — none of the above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from imapapi.classify import automated, autoreply, bounce, lists
from imapapi.classify.fields import content_type as parse_content_type
from imapapi.classify.fields import first, lowercase_keys
from imapapi.classify.model import (
    BounceRecipient,
    BounceReport,
    Classification,
    ClassificationType,
)
from imapapi.mail.headers import parse_header_block

# The header fields `classify` reads beyond ENVELOPE/BODYSTRUCTURE; the sync engine fetches them
# with every new message (BODY.PEEK[HEADER.FIELDS (...)], RFC 3501 §6.4.5) in the same round trip.
HEADER_FIELDS = (
    "REFERENCES",
    "IN-REPLY-TO",
    "RETURN-PATH",
    "AUTO-SUBMITTED",
    "X-AUTOREPLY",
    "X-AUTORESPOND",
    "X-AUTORESPONDER",
    "X-POST-MESSAGECLASS",
    "PRECEDENCE",
    "X-AUTO-RESPONSE-SUPPRESS",
    "LIST-ID",
    "LIST-UNSUBSCRIBE",
    "LIST-POST",
    "X-FAILED-RECIPIENTS",
    "X-MS-EXCHANGE-MESSAGE-IS-NDR",
    "X-MS-EXCHANGE-INBOX-RULES-LOOP",
    "X-ACTUAL-RECIPIENT",
)

__all__ = [
    "HEADER_FIELDS",
    "BounceRecipient",
    "BounceReport",
    "Classification",
    "ClassificationType",
    "Signals",
    "classify",
    "needs_body",
    "signals",
    "verdict",
]


@dataclass(frozen=True, slots=True)
class Signals:
    """What the headers say before any body is read, found once per message (`signals`): the
    sync and the listings ask `needs_body` first and then `verdict`, which share it."""

    headers: dict[str, list[str]]  # lowercase names
    subject: str | None
    from_value: str | None
    ctype: str
    report_type: str | None  # of a multipart/report only
    evidence: bounce.Evidence
    given: tuple[str | None, str | None, str | None]  # subject, from_address, content_type

    @property
    def needs_body(self) -> bool:
        """True when `verdict` would read `raw_message` (a bounce or bounce candidate): the
        sync engine fetches the body only for these."""
        return self.evidence.decisive or self.evidence.candidate


def signals(
    headers: Mapping[str, Sequence[str]],
    *,
    subject: str | None = None,
    from_address: str | None = None,
    content_type: str | None = None,
) -> Signals:
    """The signals of one message; the arguments as `classify` takes them."""
    return _signals(lowercase_keys(headers), subject, from_address, content_type)


def _signals(
    h: dict[str, list[str]],
    subject: str | None,
    from_address: str | None,
    content_type: str | None,
) -> Signals:
    subj = subject if subject is not None else first(h, "subject")
    from_value = from_address if from_address is not None else first(h, "from")
    ctype, report_type = parse_content_type(
        content_type if content_type is not None else first(h, "content-type")
    )
    if ctype != "multipart/report":
        report_type = None
    evidence = bounce.evidence(h, subj, from_value, report_type)
    return Signals(
        h, subj, from_value, ctype, report_type, evidence, (subject, from_address, content_type)
    )


def classify(
    headers: Mapping[str, Sequence[str]],
    *,
    subject: str | None = None,
    from_address: str | None = None,
    content_type: str | None = None,
    raw_message: bytes | None = None,
) -> Classification:
    """Classify one message.

    `headers` is what ``mail.headers.parse_header_block`` returns (lowercase name → decoded
    values); when it is empty, the header block of `raw_message` is used. `subject`,
    `from_address` and `content_type` override the header values (the sync engine has them from
    ENVELOPE and BODYSTRUCTURE). `raw_message`, when given for a bounce, fills
    ``Classification.bounce``; without it a bounce is still recognized from its headers and
    ``bounce`` stays None.
    """
    found = signals(headers, subject=subject, from_address=from_address, content_type=content_type)
    return verdict(found, raw_message)


# The fields that send a message past the short path of `verdict`: every fetched field but
# three. Return-Path counts through the bounce evidence (a null one leaves a reason), and
# In-Reply-To is read only with an Auto-Submitted field. Derived from HEADER_FIELDS, so a field
# added there for a new rule can never be skipped by the short path.
_MARK_FIELDS = frozenset(name.lower() for name in HEADER_FIELDS) - {
    "references",
    "in-reply-to",
    "return-path",
}
_HUMAN = Classification("human")


def verdict(found: Signals, raw_message: bytes | None = None) -> Classification:
    """`classify` from the message's signals (and its raw start, for a bounce candidate)."""
    if not found.headers and raw_message:
        found = _signals(parse_header_block(raw_message), *found.given)
    if (
        not found.evidence.reasons
        and found.headers.keys().isdisjoint(_MARK_FIELDS)
        and autoreply.subject_reason(found.subject) is None
        and not automated.report_reasons(found.ctype, found.report_type)
        and not automated.sender_reasons(found.from_value)
    ):
        # Most mail: no machine-mail field, subject or sender, so nothing below can apply.
        return _HUMAN
    return _verdict(found, raw_message)


def _verdict(found: Signals, raw_message: bytes | None) -> Classification:
    h, subj, from_value, evidence = found.headers, found.subject, found.from_value, found.evidence
    ctype, report_type = found.ctype, found.report_type
    submitted = autoreply.auto_submitted(h)
    reply_headers = autoreply.header_reasons(h)
    subject_hit = autoreply.subject_reason(subj)
    list_headers = lists.list_header_reasons(h)
    precedence = lists.precedence_reasons(h)
    machine = automated.report_reasons(ctype, report_type) + automated.sender_reasons(from_value)
    generated = submitted not in (None, autoreply.NOT_AUTOMATIC, autoreply.AUTO_REPLIED)
    answers = generated and first(h, "in-reply-to") is not None

    reasons = [*evidence.reasons]
    if submitted is not None:
        reasons.append(f"auto-submitted:{submitted}")
    reasons += reply_headers
    if subject_hit is not None:
        reasons.append(subject_hit)
    if answers:
        reasons.append("in-reply-to")
    reasons += list_headers + precedence + machine + autoreply.weak_reasons(h)

    replied_mark = submitted == autoreply.AUTO_REPLIED or bool(reply_headers)
    reading = None
    if raw_message is not None and (evidence.decisive or evidence.candidate):
        reading = bounce.read(raw_message, h, subj, evidence)
    # A candidate's report wins over auto-reply and list marks when a bounce sender sent it; a
    # null Return-Path alone is also what auto-responders use (RFC 3834 §3.3).
    auto_cues = replied_mark or subject_hit is not None
    is_bounce = evidence.decisive or (
        reading is not None
        and reading.found
        and (evidence.sender or not (evidence.null_path and auto_cues))
    )
    if is_bounce and reading is not None and reading.success_only:
        reasons.append("dsn:success")
        is_bounce = False

    # A responder's envelope: a null Return-Path (RFC 3834 §3.3) with Precedence bulk/junk and no
    # List-* field. Not a bounce (decided above); list and bulk mail keep a bounce address.
    # Corpus: Mail-DeliveryStatus-BounceParser autoreply.msg ("Thank you for your e-mail").
    responder_envelope = evidence.null_path and bool(precedence) and not list_headers
    # List-Unsubscribe / List-Post speak for a newsletter or a discussion list; a List-Id alone is
    # also what a team alias adds when it relays an out-of-office reply (corpus: alaveteli
    # track-response-exchange-oof-1 and -messagelabs-oof-1, via WhatDoTheyKnow's team list).
    list_voice = any(name != "list-id" for name in list_headers)

    kind: ClassificationType
    if is_bounce:
        kind = "bounce"
    elif (
        replied_mark
        or responder_envelope
        or (generated and (subject_hit is not None or answers))
        or (subject_hit is not None and submitted != autoreply.NOT_AUTOMATIC and not list_voice)
    ):
        kind = "autoReply"
    elif list_headers or precedence:
        kind = "list"
    elif generated or machine or "return-path:null" in reasons or "dsn:success" in reasons:
        kind = "automated"
    else:
        kind = "human"
    report = reading.report if kind == "bounce" and reading is not None else None
    return Classification(kind, tuple(dict.fromkeys(reasons)), report)


def needs_body(
    headers: Mapping[str, Sequence[str]],
    *,
    subject: str | None = None,
    from_address: str | None = None,
    content_type: str | None = None,
) -> bool:
    """True when ``classify`` would read `raw_message` (a bounce or bounce candidate): the sync
    engine fetches the body only for these."""
    return signals(
        headers, subject=subject, from_address=from_address, content_type=content_type
    ).needs_body
