"""Corpus: bounces and delay warnings of the common shapes, DSN (RFC 3464) and legacy."""

from __future__ import annotations

from tests.unit.classify.corpus import (
    ORIGINAL_ID,
    Case,
    delivery_status,
    mail,
    multipart,
    recipient,
    report,
    returned_message,
    text_part,
)

_TO_US = ("To: sales@sender.example", "Date: Mon, 13 Nov 2023 09:00:05 +0000")
_POSTFIX_FROM = (
    "Return-Path: <>",
    "From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)",
    *_TO_US,
    "Auto-Submitted: auto-replied",
)
_GMAIL_FROM = (
    "Return-Path: <>",
    "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    *_TO_US,
    "Auto-Submitted: auto-replied",
)

_EXIM_BODY = """This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  bob@customer.example
    host mx.customer.example [192.0.2.7]
    SMTP error from remote mail server after RCPT TO:<bob@customer.example>:
    550 5.1.1 <bob@customer.example>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

Return-path: <sales@sender.example>
Message-ID: {original}
From: Sam Sales <sales@sender.example>
Subject: Proposal for Q3

Hi, here is our proposal for Q3.
"""

_QMAIL_BODY = """Hi. This is the qmail-send program at mail.customer.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<carol@customer.example>:
192.0.2.9 does not like recipient.
Remote host said: 550 5.7.1 mailbox disabled
Giving up on 192.0.2.9.

--- Below this line is a copy of the message.

Return-Path: <sales@sender.example>
Message-ID: {original}
Subject: Proposal for Q3
"""

_EXCHANGE_LEGACY_BODY = """Your message

  To:      dave@customer.example
  Subject: Proposal for Q3
  Sent:    Mon, 13 Nov 2023 09:00:00 +0000

did not reach the following recipient(s):

dave@customer.example on Mon, 13 Nov 2023 09:00:05 +0000
    The e-mail account does not exist at the organization this message was sent to.
    <mx.customer.example #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found>

MSEXCH:IMS:Customer:Site:MX 0 (000C05A6) Unknown Recipient
"""

_YAHOO_BODY = """Sorry, we were unable to deliver your message to the following address.

<erin@customer.example>:
554: delivery error: dd This user doesn't have a yahoo.com account

--- Below this line is a copy of the message.

Message-ID: {original}
"""

_EXIM_FAILED = mail(
    "Return-Path: <>",
    "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>",
    *_TO_US,
    "Subject: Mail delivery failed: returning message to sender",
    "X-Failed-Recipients: bob@customer.example",
    "Auto-Submitted: auto-replied",
    "Content-Type: text/plain; charset=us-ascii",
    body=_EXIM_BODY.format(original=ORIGINAL_ID),
)

_EXCHANGE_CTYPE, _EXCHANGE_BODY = multipart(
    "mixed",
    "ex-legacy",
    [text_part(_EXCHANGE_LEGACY_BODY), returned_message()],
)

BOUNCE = [
    Case(
        "postfix-dsn-failed-returned-message",
        report(
            *_POSTFIX_FROM,
            "Subject: Undelivered Mail Returned to Sender",
            boundary="pf-1",
            parts=[
                text_part(
                    "This is the mail system at host mx.customer.example.\n\n"
                    "<bob@customer.example>: host mx said: 550 5.1.1 User unknown\n",
                    "Notification",
                ),
                delivery_status(
                    "mx.customer.example",
                    recipient(
                        "bob@customer.example",
                        "failed",
                        "5.1.1",
                        "550 5.1.1 <bob@customer.example>: Recipient address rejected",
                    ),
                ),
                returned_message(),
            ],
        ),
        "bounce",
        reasons=("report-type:delivery-status", "from:mailer-daemon", "return-path:null"),
        recipients=(("bob@customer.example", "failed", "5.1.1"),),
        original_message_id=ORIGINAL_ID,
        delayed=False,
    ),
    Case(
        "postfix-dsn-delayed-headers-part",
        report(
            *_POSTFIX_FROM,
            "Subject: Delayed Mail (still being retried)",
            boundary="pf-2",
            parts=[
                text_part("This is a delay notification; no action is required.\n", "Notification"),
                delivery_status(
                    "mx.sender.example",
                    {
                        "Final-Recipient": "rfc822; bob@customer.example",
                        "Original-Recipient": "rfc822;bob@customer.example",
                        "Action": "delayed",
                        "Status": "4.4.1",
                        "Diagnostic-Code": "X-Postfix; connect to mx.customer.example: timed out",
                        "Will-Retry-Until": "Fri, 17 Nov 2023 09:00:00 +0000",
                    },
                ),
                returned_message(headers_only=True),
            ],
        ),
        "bounce",
        recipients=(("bob@customer.example", "delayed", "4.4.1"),),
        original_message_id=ORIGINAL_ID,
        delayed=True,
    ),
    Case(
        "exim-text-bounce-x-failed-recipients",
        _EXIM_FAILED,
        "bounce",
        reasons=("x-failed-recipients", "from:mailer-daemon", "return-path:null"),
        recipients=(("bob@customer.example", "failed", "5.1.1"),),
        original_message_id=ORIGINAL_ID,
        delayed=False,
    ),
    Case(
        "exim-dsn-delay-warning",
        report(
            "Return-Path: <>",
            "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>",
            *_TO_US,
            "Subject: Warning: message 1rAbCd-000123-Ef delayed 24 hours",
            boundary="exim-3",
            parts=[
                text_part("This message was created automatically by mail delivery software.\n"),
                delivery_status(
                    "mx.sender.example",
                    recipient(
                        "bob@customer.example", "delayed", "4.0.0", "451 4.3.0 Temporary failure"
                    ),
                ),
                returned_message(headers_only=True),
            ],
        ),
        "bounce",
        recipients=(("bob@customer.example", "delayed", "4.0.0"),),
        original_message_id=ORIGINAL_ID,
        delayed=True,
    ),
    Case(
        "exchange-online-ndr-dsn",
        report(
            "Return-Path: <>",
            "From: postmaster@customer.onmicrosoft.example",
            *_TO_US,
            "Subject: Undeliverable: Proposal for Q3",
            "X-MS-Exchange-Message-Is-Ndr:",
            "Auto-Submitted: auto-replied",
            "Thread-Topic: Proposal for Q3",
            boundary="ex-1",
            parts=[
                "Content-Type: text/html; charset=us-ascii\n\n<b>Delivery has failed</b>\n",
                delivery_status(
                    "PR3PR02MB1234.eurprd02.prod.outlook.com",
                    {
                        "Final-Recipient": "rfc822;dave@customer.example",
                        "Action": "failed",
                        "Status": "5.1.10",
                        "Diagnostic-Code": "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound",
                        "Remote-MTA": "dns;mx.customer.example",
                    },
                ),
                returned_message(headers_only=True),
            ],
        ),
        "bounce",
        reasons=("report-type:delivery-status", "x-ms-exchange-message-is-ndr"),
        recipients=(("dave@customer.example", "failed", "5.1.10"),),
        original_message_id=ORIGINAL_ID,
        delayed=False,
    ),
    Case(
        "exchange-2003-legacy-ndr-flufl",
        mail(
            "Return-Path: <>",
            "From: System Administrator <postmaster@customer.example>",
            *_TO_US,
            "Subject: Undeliverable: Proposal for Q3",
            "MIME-Version: 1.0",
            f"Content-Type: {_EXCHANGE_CTYPE}",
            body=_EXCHANGE_BODY,
        ),
        "bounce",
        recipients=(("dave@customer.example", "failed", "5.1.1"),),
        original_message_id=ORIGINAL_ID,
        delayed=False,
    ),
    Case(
        "gmail-dsn-failure-multiple-recipients",
        report(
            *_GMAIL_FROM,
            "Subject: Delivery Status Notification (Failure)",
            "X-Failed-Recipients: bob@customer.example, carol@customer.example",
            f"References: {ORIGINAL_ID}",
            f"In-Reply-To: {ORIGINAL_ID}",
            boundary="gm-1",
            parts=[
                text_part("Address not found\n\nYour message wasn't delivered.\n"),
                delivery_status(
                    "mx.google.com",
                    recipient("bob@customer.example", "failed", "5.1.1", "550-5.1.1 no such user"),
                    recipient("carol@customer.example", "delayed", "4.2.2", "452 4.2.2 full"),
                ),
                returned_message(),
            ],
        ),
        "bounce",
        recipients=(
            ("bob@customer.example", "failed", "5.1.1"),
            ("carol@customer.example", "delayed", "4.2.2"),
        ),
        original_message_id=ORIGINAL_ID,
        delayed=False,
    ),
    Case(
        "gmail-dsn-delay",
        report(
            *_GMAIL_FROM,
            "Subject: Delivery Status Notification (Delay)",
            boundary="gm-2",
            parts=[
                text_part("Message not delivered yet\n\nGmail will keep trying.\n"),
                delivery_status(
                    "mx.google.com",
                    recipient("bob@customer.example", "delayed", "4.4.1", "421 try again"),
                ),
                returned_message(),
            ],
        ),
        "bounce",
        recipients=(("bob@customer.example", "delayed", "4.4.1"),),
        original_message_id=ORIGINAL_ID,
        delayed=True,
    ),
    Case(
        "qmail-failure-notice",
        mail(
            "Return-Path: <>",
            "From: MAILER-DAEMON@mail.customer.example",
            *_TO_US,
            "Subject: failure notice",
            body=_QMAIL_BODY.format(original=ORIGINAL_ID),
        ),
        "bounce",
        recipients=(("carol@customer.example", "failed", "5.7.1"),),
        original_message_id=ORIGINAL_ID,
        delayed=False,
    ),
    Case(
        "yahoo-legacy-bounce",
        mail(
            "Return-Path: <>",
            "From: MAILER-DAEMON@yahoo.com",
            *_TO_US,
            "Subject: Failure Notice",
            body=_YAHOO_BODY.format(original=ORIGINAL_ID),
        ),
        "bounce",
        recipients=(("erin@customer.example", "failed", "5.0.0"),),
        original_message_id=ORIGINAL_ID,
    ),
    Case(
        "opensmtpd-action-error-global-dsn",
        report(
            "Return-Path: <>",
            "From: Mailer Daemon <MAILER-DAEMON@relay.customer.example>",
            *_TO_US,
            "Subject: Delivery status notification: error",
            boundary="os-1",
            report_type="global-delivery-status",
            parts=[
                text_part("Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this email.\n"),
                "Content-Type: message/global-delivery-status\n\n"
                "Reporting-MTA: dns; relay.customer.example\n\n"
                "Final-Recipient: utf-8; josé@customer.example\n"
                "Action: error\nStatus: 5.0.0\n",
                f"Content-Type: message/global-headers\n\nMessage-ID: {ORIGINAL_ID}\n",
            ],
        ),
        "bounce",
        recipients=(("josé@customer.example", "failed", "5.0.0"),),
        original_message_id=ORIGINAL_ID,
        delayed=False,
    ),
    Case(
        "legacy-bounce-null-path-found-by-flufl-only",
        mail(
            "Return-Path: <>",
            "From: Mail Gateway <gateway@relay.customer.example>",
            *_TO_US,
            "Subject: Message status",
            body="This message was created automatically by mail delivery software.\n\n"
            "RCPT TO:<frank@customer.example> 550 5.1.1 unknown user\n\n"
            "------ original message follows ------\n"
            f"Message-ID: {ORIGINAL_ID}\n",
        ),
        "bounce",
        recipients=(("frank@customer.example", "failed", "5.1.1"),),
        original_message_id=ORIGINAL_ID,
        needs_body=True,
    ),
]
