"""Bounces that are not RFC 3464 reports, read with flufl.bounce (Mailman's detectors).

flufl.bounce knows the free-text shapes of Postfix, Exim, qmail, Exchange, Yahoo, AOL, GroupWise
and many more, and tells temporary from permanent failures; it returns addresses only. This
module adds what it lacks: the enhanced status code and the diagnostic line near each address.
"""

from __future__ import annotations

import logging
import re
import warnings
from email.message import Message
from email.utils import getaddresses

from imapapi.classify.dsn import STATUS_CODE
from imapapi.classify.model import BounceRecipient

with warnings.catch_warnings():
    # Targeted: a DeprecationWarning raised while flufl.bounce or its `atpublic` dependency is
    # imported must not break callers that run with warnings as errors (our pytest config does).
    # 6.0 emits none today; nothing is silenced once the import is done.
    warnings.simplefilter("ignore", DeprecationWarning)
    from flufl.bounce import all_failures

log = logging.getLogger(__name__)

# An SMTP reply line (RFC 5321 §4.2): three digits then space or hyphen (":" in Yahoo's).
_SMTP_REPLY = re.compile(r"\b[245]\d\d[ :-]")
_WINDOW = 400  # characters after an address searched for its status and diagnostic


def failures(message: Message) -> tuple[list[str], list[str]]:
    """(temporary, permanent) addresses flufl.bounce finds; empty when none or on error."""
    if not getaddresses([str(message.get("from", ""))]):
        # flufl.bounce's Yale detector indexes the From's first address and raises on a From
        # with none ("MAILER-DAEMON <>"), which loses every other detector's answer too.
        del message["from"]
        message["From"] = "MAILER-DAEMON"
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # flufl re-raises whatever a detector hits on malformed input
        log.warning("flufl.bounce failed on a bounce candidate", exc_info=True)
        return [], []
    return _decode(temporary - permanent), _decode(permanent)


def _decode(addresses: frozenset[bytes]) -> list[str]:
    return sorted(address.decode("ascii", errors="replace").strip("<>") for address in addresses)


def enrich(address: str, action: str, text: str) -> BounceRecipient:
    """A recipient with the status code and SMTP reply found just after its address in `text`."""
    position = text.lower().find(address.lower())
    status = diagnostic = None
    if position >= 0:
        line_start = text.rfind("\n", 0, position) + 1
        window = text[line_start : position + _WINDOW]
        match = STATUS_CODE.search(window)
        status = match.group(1) if match else None
        for line in window.splitlines():
            if _SMTP_REPLY.search(line):
                diagnostic = " ".join(line.split())
                break
    if status is None and diagnostic is not None:
        match = re.search(r"\b([245])\d\d\b", diagnostic)
        if match is not None:  # RFC 3463 §3.1: X.0.0 when only the reply class is known
            status = f"{match.group(1)}.0.0"
    return BounceRecipient(address, action, status, diagnostic)
