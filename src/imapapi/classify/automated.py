"""Other machine mail: RFC 3834 auto-generated, no-reply senders, MDNs and feedback reports."""

from __future__ import annotations

import re

from imapapi.classify.fields import Headers, first, local_part

# Conservative on purpose: only local parts that say "do not reply" or "notifications", with an
# optional tag ("noreply+abc", "no-reply-billing"). "info@", "support@", "team@" and the like
# are people often enough that they are left alone.
_NO_REPLY = re.compile(
    r"(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|notifications?)(?:[-_.+].*)?",
    re.IGNORECASE,
)

# multipart/report types that are machine reports but not bounces: RFC 8098 read receipts
# (MDN), RFC 5965 abuse feedback (ARF), RFC 8460 TLS reports.
_MACHINE_REPORTS = frozenset({"disposition-notification", "feedback-report", "tlsrpt"})


def sender_reasons(from_value: str | None) -> list[str]:
    local = local_part(from_value)
    if local is not None and _NO_REPLY.fullmatch(local):
        return [f"from:{local}"]
    return []


def report_reasons(ctype: str, report_type: str | None) -> list[str]:
    if ctype == "multipart/report" and report_type in _MACHINE_REPORTS:
        return [f"report-type:{report_type}"]
    return []


def null_return_path(headers: Headers) -> bool:
    """Return-Path is "<>": the null reverse-path of DSNs and auto-replies (RFC 5321 §4.5.5,
    RFC 3834 §3.3). IIS writes it as "<<>>"."""
    value = first(headers, "return-path")
    if value is None:
        return "return-path" in headers  # present but empty
    return value.replace(" ", "") in ("<>", "<<>>")
