"""Raw RFC 5322 messages for the classifier tests, modelled on what real clients and MTAs send.

Builders keep each case short: ``mail`` joins header lines and a body with CRLF, ``report``
wraps parts into ``multipart/report`` (RFC 6522) and ``delivery_status`` writes RFC 3464 fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

ORIGINAL_ID = "<cold-lead-42.1700000000@sender.example>"
OUR_ADDRESS = "sales@sender.example"

_ORIGINAL_HEADERS = (
    f"Message-ID: {ORIGINAL_ID}",
    f"From: Sam Sales <{OUR_ADDRESS}>",
    "To: lead@customer.example",
    "Subject: Proposal for Q3",
    "Date: Mon, 13 Nov 2023 09:00:00 +0000",
    "X-Auto-Response-Suppress: OOF",
)


def mail(*headers: str, body: str = "Hello.\n") -> bytes:
    head = "\r\n".join(headers)
    return (head + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


def reply_headers(sender: str, subject: str = "Re: Proposal for Q3") -> tuple[str, ...]:
    return (
        f"Return-Path: <{parseaddr(sender)[1]}>",
        "Delivered-To: sales@sender.example",
        "Date: Tue, 14 Nov 2023 10:12:00 +0100",
        f"From: {sender}",
        f"To: {OUR_ADDRESS}",
        f"Subject: {subject}",
        "Message-ID: <reply-1@customer.example>",
        f"In-Reply-To: {ORIGINAL_ID}",
        f"References: {ORIGINAL_ID}",
        "MIME-Version: 1.0",
    )


QUOTE = (
    "\nOn Mon, 13 Nov 2023 at 10:00, Sam Sales <sales@sender.example> wrote:\n"
    "> Hi, here is our proposal for Q3.\n> Best, Sam\n"
)


def multipart(subtype: str, boundary: str, parts: list[str], params: str = "") -> tuple[str, str]:
    """(Content-Type value, body) of a multipart entity made of pre-rendered `parts`."""
    body = "This is a MIME-encapsulated message.\n\n"
    for part in parts:
        body += f"--{boundary}\n{part}\n"
    body += f"--{boundary}--\n"
    return f'multipart/{subtype}; boundary="{boundary}"{params}', body


def delivery_status(mta: str, *recipients: dict[str, str]) -> str:
    """A message/delivery-status part: per-message fields, then one block per recipient."""
    text = f"Content-Type: message/delivery-status\n\nReporting-MTA: dns; {mta}\n"
    text += "Arrival-Date: Mon, 13 Nov 2023 09:00:01 +0000\n"
    for fields in recipients:
        text += "\n" + "".join(f"{name}: {value}\n" for name, value in fields.items())
    return text


def recipient(
    address: str, action: str, status: str, diagnostic: str | None = None
) -> dict[str, str]:
    fields = {"Final-Recipient": f"rfc822; {address}", "Action": action, "Status": status}
    if diagnostic is not None:
        fields["Diagnostic-Code"] = f"smtp; {diagnostic}"
    return fields


def text_part(text: str, description: str | None = None) -> str:
    head = "Content-Type: text/plain; charset=us-ascii\n"
    if description:
        head += f"Content-Description: {description}\n"
    return head + "\n" + text


def returned_message(headers_only: bool = False) -> str:
    if headers_only:
        return "Content-Type: text/rfc822-headers\n\n" + "\n".join(_ORIGINAL_HEADERS) + "\n"
    return (
        "Content-Type: message/rfc822\n\n"
        + "\n".join(_ORIGINAL_HEADERS)
        + "\n\nHi, here is our proposal for Q3.\n"
    )


def report(
    *head: str, boundary: str, parts: list[str], report_type: str = "delivery-status"
) -> bytes:
    ctype, body = multipart("report", boundary, parts, f"; report-type={report_type}")
    return mail(*head, "MIME-Version: 1.0", f"Content-Type: {ctype}", body=body)


@dataclass(frozen=True)
class Case:
    """One corpus message and what the classifier must say about it.

    ``needs_body``: the verdict depends on the body (a legacy bounce found by flufl.bounce);
    with headers alone the classifier may say something else.
    """

    id: str
    raw: bytes
    type: str
    reasons: tuple[str, ...] = ()
    recipients: tuple[tuple[str, str, str | None], ...] | None = None
    original_message_id: str | None = None
    delayed: bool | None = None
    needs_body: bool = False
