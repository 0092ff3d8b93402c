"""Bounce shapes of issue 16 item 6, one line each: vendor subjects, system senders, bounces
that carry list and auto-reply marks, free-text notices and broken delivery reports."""

from __future__ import annotations

import pytest

from imapapi.classify import classify
from imapapi.mail.headers import parse_header_block
from tests.unit.classify.corpus import mail

_RETURNED = (
    "\n------ Original message ------\n"
    "From: Sam Sales <sales@sender.example>\nTo: bob@customer.example\nSubject: Proposal\n"
)
_FAILED = "Delivery to bob@customer.example failed: 550 5.1.1 user unknown.\n"


def _bounce(subject: str, sender: str, body: str = _FAILED + _RETURNED, *extra: str) -> bytes:
    return mail(
        f"From: {sender}",
        "To: sales@sender.example",
        f"Subject: {subject}",
        "Date: Mon, 13 Nov 2023 09:00:05 +0000",
        *extra,
        body=body,
    )


BOUNCES = [
    (
        "mdaemon-permanent",
        _bounce(
            "Permanent Delivery Failure", "MDaemon@mx.customer.example", _FAILED, "Return-Path: <>"
        ),
    ),
    (
        "mdaemon-warning",
        _bounce("Warning: Proposal - User unknown!", "postmaster@customer.example"),
    ),
    ("symantec", _bounce("Delivery failure notification", "postmaster@gw.customer.example")),
    ("exchange", _bounce("Undeliverable: Proposal", "postmaster@customer.example")),
    (
        "domino-failure",
        _bounce(
            "DELIVERY FAILURE: User bob (bob@customer.example) not listed",
            "Postmaster@customer.example",
        ),
    ),
    ("domino-dsn", _bounce("Delivery Status Notification", "postmaster@customer.example")),
    ("russian", _bounce("Ваше сообщение не доставлено", "mailer-daemon@mail.example.ru")),
    (
        "returned-mail-error",
        _bounce(
            "Returned Mail - Error During Delivery",
            "Mail Delivery System <MAILER-DAEMON@customer.example>",
        ),
    ),
    ("dragonfly-no-address", _bounce("Mail delivery failed", "MAILER-DAEMON <>")),
    (
        "list-and-auto-reply-marks",
        _bounce(
            "Mail delivery failed: returning message to sender",
            "Mail Delivery System <Mailer-Daemon@customer.example>",
            _FAILED + _RETURNED,
            "Auto-Submitted: auto-replied",
            "Precedence: bulk",
            "List-Id: <news.sender.example>",
        ),
    ),
    (
        "auto-replied-without-subject",
        _bounce(
            "Re: Proposal",
            "MAILER-DAEMON@customer.example",
            _FAILED,
            "Auto-Submitted: auto-replied",
        ),
    ),
    (
        "rcpt-to-line",
        _bounce(
            "Re:Proposal",
            "post_master@vtext.example",
            "Error: Invalid user address\n\n  RCPT TO: bob@customer.example\n",
        ),
    ),
]


@pytest.mark.parametrize("raw", [pytest.param(raw, id=name) for name, raw in BOUNCES])
def test_vendor_bounce_is_a_bounce_with_its_recipient(raw: bytes) -> None:
    result = classify(parse_header_block(raw), raw_message=raw)
    assert result.type == "bounce", result.reasons
    assert result.bounce is not None
    assert [r.recipient for r in result.bounce.recipients] == ["bob@customer.example"]


_DSN_BROKEN_BOUNDARY = mail(
    "From: MAILER-DAEMON@mx.customer.example",
    "Return-Path: <>",
    "To: sales@sender.example",
    "Subject: Undelivered Mail Returned to Sender",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="declared"',
    body="--used\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
    "Final-Recipient: rfc822; bob@customer.example\nAction: failed\nStatus: 5.1.1\n--used--\n",
)
_SOURCE_ROUTE = mail(
    "From: postmaster@customer.example",
    "Return-Path: <>",
    "To: sales@sender.example",
    "Subject: Delivery Notification: Delivery has failed",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    body="--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
    "Original-recipient: rfc822;bob@customer.example\n"
    "Final-recipient: rfc822;@relay.customer.example:bob@ims_daemon\n"
    "Action: failed\nStatus: 5.0.0\n--b--\n",
)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_DSN_BROKEN_BOUNDARY, id="boundary-mismatch"),
        pytest.param(_SOURCE_ROUTE, id="source-route"),
    ],
)
def test_delivery_report_recipient_is_a_mailbox(raw: bytes) -> None:
    result = classify(parse_header_block(raw), raw_message=raw)
    assert result.bounce is not None
    assert [(r.recipient, r.action) for r in result.bounce.recipients] == [
        ("bob@customer.example", "failed")
    ]


def test_auto_reply_with_a_null_return_path_and_addresses_in_its_text_stays_an_auto_reply() -> None:
    raw = mail(
        "From: Pat <pat@customer.example>",
        "Return-Path: <>",
        "To: sales@sender.example",
        "Subject: Automatic reply: Proposal",
        "Auto-Submitted: auto-replied",
        body="I am away; mail to carol@customer.example could not wait? Write to her.\n",
    )
    assert classify(parse_header_block(raw), raw_message=raw).type == "autoReply"
