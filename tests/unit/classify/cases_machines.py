"""Corpus: auto-replies, list mail and other machine mail (everything but bounces)."""

from __future__ import annotations

from tests.unit.classify.corpus import (
    ORIGINAL_ID,
    Case,
    delivery_status,
    mail,
    recipient,
    reply_headers,
    report,
    returned_message,
    text_part,
)

_OOF_BODY = "I am out of the office until Monday and will reply on my return.\n"


def _vacation(*extra: str, subject: str = "Re: Proposal for Q3", null_path: bool = True) -> bytes:
    head = list(reply_headers("lena@customer.example", subject))
    if null_path:
        head[0] = "Return-Path: <>"
    return mail(*head, *extra, "Content-Type: text/plain; charset=utf-8", body=_OOF_BODY)


def _subject_only(subject: str) -> bytes:
    return _vacation(subject=subject, null_path=False)


AUTO_REPLY = [
    Case(
        "sieve-vacation-auto-submitted-with-comment",
        _vacation("Auto-Submitted: auto-replied (vacation)", "Precedence: bulk"),
        "autoReply",
        reasons=("auto-submitted:auto-replied", "precedence:bulk"),
    ),
    Case(
        "auto-submitted-mixed-case-with-parameters",
        _vacation("Auto-Submitted: Auto-Replied; owner-email=lena@customer.example"),
        "autoReply",
        reasons=("auto-submitted:auto-replied",),
    ),
    Case(
        "gmail-vacation-responder",
        _vacation("Auto-Submitted: auto-replied", "X-Gm-Message-State: AOJu0Yw2"),
        "autoReply",
    ),
    Case("x-autoreply-yes", _vacation("X-Autoreply: yes"), "autoReply", reasons=("x-autoreply",)),
    Case(
        "x-autorespond", _vacation("X-Autorespond: Lena"), "autoReply", reasons=("x-autorespond",)
    ),
    Case(
        "x-autoresponder-no-null-path",
        _vacation("X-Autoresponder: 1", null_path=False),
        "autoReply",
        reasons=("x-autoresponder",),
    ),
    Case(
        "precedence-auto-reply",
        _vacation("Precedence: auto_reply", null_path=False),
        "autoReply",
        reasons=("precedence:auto_reply",),
    ),
    Case(
        "exchange-online-oof",
        _vacation(
            "Auto-Submitted: auto-generated",
            "X-MS-Exchange-Inbox-Rules-Loop: lena@customer.example",
            "X-Auto-Response-Suppress: All",
            "Thread-Topic: Proposal for Q3",
            "Thread-Index: AQHaFnbL0y7p2mO0Ek6h3Vn0c5kVfLCPnq5E",
            subject="Automatic reply: Proposal for Q3",
        ),
        "autoReply",
        reasons=(
            "auto-submitted:auto-generated",
            "x-ms-exchange-inbox-rules-loop",
            "subject:automatic reply",
            "x-auto-response-suppress (weak)",
        ),
    ),
    Case(
        "exchange-oof-auto-generated-in-reply-to-only",
        _vacation(
            "Auto-Submitted: auto-generated",
            "X-Auto-Response-Suppress: All",
            subject="Proposal for Q3",
        ),
        "autoReply",
        reasons=("auto-submitted:auto-generated", "in-reply-to"),
    ),
    Case(
        "exchange-2007-out-of-office-autoreply-subject",
        _vacation("X-Auto-Response-Suppress: All", subject="Out of Office AutoReply: Proposal"),
        "autoReply",
        reasons=("subject:out of office autoreply", "x-auto-response-suppress (weak)"),
    ),
    Case(
        "gateway-tag-before-automatic-reply",
        _subject_only("[External] Automatic reply: Proposal for Q3"),
        "autoReply",
    ),
    Case(
        "subject-only-precedence-bulk-vacation",
        _vacation("Precedence: bulk", subject="Out of office", null_path=False),
        "autoReply",
        reasons=("subject:out of office", "precedence:bulk"),
    ),
    Case(
        "subject-only-en-out-of-office", _subject_only("Out of Office: Re: Proposal"), "autoReply"
    ),
    Case("subject-only-auto", _subject_only("Auto: Proposal for Q3"), "autoReply"),
    Case(
        "subject-only-de-abwesenheitsnotiz",
        _subject_only("Abwesenheitsnotiz: Angebot"),
        "autoReply",
    ),
    Case(
        "subject-only-de-automatische-antwort",
        _subject_only("Automatische Antwort: Angebot"),
        "autoReply",
    ),
    Case("subject-only-fr", _subject_only("Réponse automatique : Proposition Q3"), "autoReply"),
    Case(
        "subject-only-fr-encoded-nbsp",
        _subject_only("=?UTF-8?Q?R=C3=A9ponse_automatique=C2=A0:_Proposition?="),
        "autoReply",
        reasons=("subject:réponse automatique",),
    ),
    Case("subject-only-it", _subject_only("Risposta automatica: Proposta"), "autoReply"),
    Case("subject-only-es", _subject_only("Respuesta automática: Propuesta"), "autoReply"),
    Case("subject-only-pt", _subject_only("Resposta automática: Proposta"), "autoReply"),
    Case("subject-only-sv", _subject_only("Autosvar: Förslag"), "autoReply"),
    Case("subject-only-nl", _subject_only("Automatisch antwoord: Voorstel"), "autoReply"),
    Case("subject-only-zh-fullwidth-colon", _subject_only("自动回复\uff1a提案"), "autoReply"),
]

_GITHUB_LIST = (
    "List-ID: sender/repo <repo.sender.github.com>",
    "List-Unsubscribe: <mailto:unsub+abc@reply.github.com>",
    "List-Archive: https://github.com/sender/repo",
    "Precedence: list",
)

LIST = [
    Case(
        "mailman-list-reply",
        mail(
            *reply_headers("dev@customer.example", "Re: [dev] Proposal for Q3"),
            "List-Id: Developers <dev.lists.example.org>",
            "List-Unsubscribe: <https://lists.example.org/unsub>, <mailto:dev-leave@example.org>",
            "List-Post: <mailto:dev@lists.example.org>",
            "Precedence: list",
            "Content-Type: text/plain; charset=us-ascii",
            body="+1 from me.\n",
        ),
        "list",
        reasons=("list-id", "list-unsubscribe", "list-post", "precedence:list"),
    ),
    Case(
        "newsletter-with-out-of-office-subject",
        mail(
            "Return-Path: <bounces+123@em.news.example>",
            "From: Travel Weekly <news@news.example>",
            "To: sales@sender.example",
            "Subject: Out of office: 5 tips for a real holiday",
            "List-Unsubscribe: <https://news.example/u/123>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Content-Type: text/html; charset=utf-8",
            body="<p>tips</p>\n",
        ),
        "list",
        reasons=("list-unsubscribe",),
    ),
    Case(
        "github-notification-list-id",
        mail(
            "From: Octo Cat <notifications@github.com>",
            "To: sender/repo <repo@noreply.github.com>",
            "Subject: Re: [sender/repo] Fix the build (#12)",
            f"In-Reply-To: {ORIGINAL_ID}",
            *_GITHUB_LIST,
            body="LGTM\n",
        ),
        "list",
        reasons=("list-id", "list-unsubscribe", "precedence:list", "from:notifications"),
    ),
    Case(
        "google-groups-precedence-bulk-only",
        mail(
            "From: someone@customer.example",
            "To: group@googlegroups.example",
            "Subject: Weekly digest",
            "Precedence: bulk",
            body="digest\n",
        ),
        "list",
        reasons=("precedence:bulk",),
    ),
    Case(
        "precedence-junk",
        mail("From: promo@shop.example", "Subject: Sale", "Precedence: junk", body="Sale!\n"),
        "list",
    ),
]

AUTOMATED = [
    Case(
        "noreply-bank-notification",
        mail(
            "Return-Path: <bounce@bank.example>",
            "From: My Bank <noreply@bank.example>",
            "To: sales@sender.example",
            "Subject: Your statement is ready",
            body="Log in to view it.\n",
        ),
        "automated",
        reasons=("from:noreply",),
    ),
    Case(
        "no-reply-tagged",
        mail("From: no-reply+billing@saas.example", "Subject: Invoice 42", body="Paid.\n"),
        "automated",
        reasons=("from:no-reply+billing",),
    ),
    Case(
        "donotreply",
        mail("From: DoNotReply@airline.example", "Subject: Boarding pass", body="Gate 3.\n"),
        "automated",
    ),
    Case(
        "notifications-sender",
        mail("From: Service <notifications@service.example>", "Subject: Login", body="New login\n"),
        "automated",
    ),
    Case(
        "monitoring-alert-auto-generated",
        mail(
            "From: alerts@monitor.example",
            "Subject: [FIRING] disk full on db1",
            "Auto-Submitted: auto-generated",
            body="disk 98%\n",
        ),
        "automated",
        reasons=("auto-submitted:auto-generated",),
    ),
    Case(
        "sieve-notify-auto-notified",
        mail("From: lena@customer.example", "Subject: New mail", "Auto-Submitted: auto-notified"),
        "automated",
    ),
    Case(
        "read-receipt-mdn",
        report(
            *reply_headers("lena@customer.example", "Read: Proposal for Q3"),
            boundary="mdn-1",
            report_type="disposition-notification",
            parts=[
                text_part("Your message was read on Tuesday.\n"),
                "Content-Type: message/disposition-notification\n\n"
                "Final-Recipient: rfc822; lena@customer.example\n"
                f"Original-Message-ID: {ORIGINAL_ID}\n"
                "Disposition: manual-action/MDN-sent-manually; displayed\n",
            ],
        ),
        "automated",
        reasons=("report-type:disposition-notification",),
    ),
    Case(
        "success-dsn-delivered",
        report(
            "Return-Path: <>",
            "From: Mail Delivery System <MAILER-DAEMON@mx.sender.example>",
            "To: sales@sender.example",
            "Subject: Successful Mail Delivery Report",
            boundary="ok-1",
            parts=[
                text_part("Your message was successfully delivered.\n", "Notification"),
                delivery_status(
                    "mx.sender.example",
                    recipient("lena@customer.example", "relayed", "2.0.0", "250 2.0.0 Ok"),
                ),
                returned_message(headers_only=True),
            ],
        ),
        "automated",
        reasons=("report-type:delivery-status", "dsn:success"),
        needs_body=True,
    ),
    Case(
        "null-return-path-system-message",
        mail(
            "Return-Path: <>",
            "From: Calendar <calendar@customer.example>",
            "Subject: Reminder: call with Sam",
            body="In 15 minutes.\n",
        ),
        "automated",
        reasons=("return-path:null",),
    ),
]
