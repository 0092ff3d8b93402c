"""Failed recipients read from a bounce's own words, when it has no RFC 3464 part and
flufl.bounce names nobody.

Vendors that write free text (Lotus Domino, MDaemon, m-FILTER, Amazon WorkMail, OpenSMTPD,
DragonFly, gateways, non-English notices) still name the failed address somewhere: on a line of
its own, after "RCPT TO:", in a quoted SMTP reply, or as the To of the returned message. This
module collects the addresses of the notice's text and drops the ones that cannot be the failed
recipient: the bounce's own From/To (the reporting system and the original sender), the
returned message's senders, Message-IDs and system mailboxes.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable
from email import policy
from email.message import Message
from email.utils import getaddresses

from imapapi.classify import dsn
from imapapi.classify.vendors import DAEMON_LOCAL_PARTS

# An addr-spec as bounces print it (RFC 5322 §3.4.1 dot-atom local part, any script).
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Lines whose addresses name a sender or an id, never the failed recipient (inline header lines
# of the returned message, and the SMTP envelope sender).
_SENDER_LINE = re.compile(
    r"^[\s>]*(?:from|reply-to|sender|return-path|message-id|in-reply-to|references|"
    r"mail\s+from|envelope-from|x-[\w-]+|errors-to|list-[\w-]+|dkim-signature|"
    r"received|resent-[\w-]+|arc-[\w-]+|authentication-results)\s*[:=]",
    re.IGNORECASE,
)
# Where an inline copy of the returned message starts: addresses after it only count as the
# returned message's recipients (its To/Cc lines).
_RETURNED_START = re.compile(
    r"^[\s>=*-]*(?:original\s+message\b(?!\s+was)|returned\s+message|unsent\s+message"
    r"|below\s+is\s+a\s+copy|this\s+is\s+a\s+copy|a\s+copy\s+of\s+(?:your|the)\s+message"
    r"|message\s+headers\s+follow|the\s+original\s+message\s+(?:follows|headers))",
    re.IGNORECASE | re.MULTILINE,
)
_RECIPIENT_LINE = re.compile(r"^[\s>]*(?:to|cc|rcpt\s+to|x-original-to)\s*:", re.IGNORECASE)
# A bounce says something failed: an SMTP reply (RFC 5321 §4.2), an RFC 3463 code, or words.
FAILURE_CUE = re.compile(
    r"\b[45]\d\d[\s:-]|\b[45]\.\d{1,3}\.\d{1,3}\b|fail|error|unknown|undeliver|not\s+deliver"
    r"|reject|could\s+not|couldn't|does\s+not\s+exist|no\s+such|invalid|disabled|malformed"
    r"|did\s+not\s+reach|unavailable|denied|refused|quota|full",
    re.IGNORECASE,
)


def failed_recipients(message: Message, texts: Iterable[str]) -> list[str]:
    """Addresses the bounce's text names as failed, in order; [] when it names none."""
    excluded = _senders(message) | _senders(*_returned_messages(message), recipients=False)
    returned_to = _recipients(_returned_messages(message))
    body: list[str] = []
    inline_to: list[str] = []
    for text in texts:
        start = _RETURNED_START.search(text)
        notice, copy = (text[: start.start()], text[start.start() :]) if start else (text, "")
        for line in notice.splitlines():
            if not _SENDER_LINE.match(line):
                body += _addresses(line)
        for line in copy.splitlines():
            if _RECIPIENT_LINE.match(line):
                inline_to += _addresses(line)
    named = [a for a in dict.fromkeys(body) if _usable(a, excluded)]
    if returned_to:
        # The notice names several addresses (a help desk, a host): keep those the original was
        # sent to when any are.
        chosen = [a for a in named if a in returned_to]
        if chosen:
            return chosen
    if named:
        return named
    fallback = [a for a in dict.fromkeys(returned_to or inline_to) if _usable(a, excluded)]
    # With nothing named, the returned message's recipient is the answer only when it had one.
    return fallback if len(fallback) == 1 else []


def _addresses(text: str) -> list[str]:
    return [m.group(0).strip(".").lower() for m in _ADDRESS.finditer(text)]


def _usable(address: str, excluded: set[str]) -> bool:
    local = address.rpartition("@")[0]
    return address not in excluded and local not in DAEMON_LOCAL_PARTS


def _returned_messages(message: Message) -> list[Message]:
    """The returned message (or its headers) attached to the bounce, parsed."""
    found: list[Message] = []
    for part in dsn.leaves(message):
        payload = part.get_payload()
        if part.get_content_type() in ("message/rfc822", "message/global") and isinstance(
            payload, list
        ):
            found += [p for p in payload[:1] if isinstance(p, Message)]
        elif part.get_content_type() in ("text/rfc822-headers", "message/global-headers"):
            found.append(email.message_from_bytes(dsn.part_bytes(part), policy=policy.compat32))
    return found


def _field_addresses(messages: Iterable[Message], names: tuple[str, ...]) -> set[str]:
    values = [str(v) for m in messages for name in names for v in (m.get_all(name) or [])]
    try:
        pairs = getaddresses(values)
    except Exception:  # getaddresses has had crash bugs on hostile input
        return set()
    return {addr.strip().lower() for _name, addr in pairs if "@" in addr}


def _senders(*messages: Message, recipients: bool = True) -> set[str]:
    """The bounce's own From/To/Return-Path (`recipients`: also its To/Cc), or a returned
    message's senders."""
    names: tuple[str, ...] = ("from", "sender", "reply-to", "return-path")
    if recipients:
        names += ("to", "cc", "delivered-to")
    return _field_addresses(messages, names)


def _recipients(messages: list[Message]) -> list[str]:
    return sorted(_field_addresses(messages, ("to", "cc")))
