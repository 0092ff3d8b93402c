"""Corpus: replies written by people. Every one of these must classify as ``human``."""

from __future__ import annotations

from tests.unit.classify.corpus import QUOTE, Case, mail, multipart, reply_headers

_ALT_CTYPE, _ALT_BODY = multipart(
    "alternative",
    "000000000000a1b2c3",
    [
        "Content-Type: text/plain; charset=UTF-8\n\nSounds good, let's talk Thursday.\n" + QUOTE,
        'Content-Type: text/html; charset=UTF-8\n\n<div dir="ltr">Sounds good.</div>\n',
    ],
)

HUMAN = [
    Case(
        "gmail-reply-quoted",
        mail(
            *reply_headers("Lena Lead <lena.lead@gmail.com>"),
            "X-Gm-Message-State: AOJu0Yw1",
            "X-Google-Smtp-Source: AGHT+IE",
            f"Content-Type: {_ALT_CTYPE}",
            body=_ALT_BODY,
        ),
        "human",
    ),
    Case(
        "gmail-reply-out-of-office-in-body",
        mail(
            *reply_headers("lena.lead@gmail.com"),
            "Content-Type: text/plain; charset=UTF-8",
            body="Sorry for the delay, I was out of office last week (automatic reply was on)."
            "\nYes, let's go ahead.\n" + QUOTE,
        ),
        "human",
    ),
    Case(
        "outlook-reply-thread-index",
        mail(
            *reply_headers('"Lead, Lena" <lena@customer.example>', "RE: Proposal for Q3"),
            "Thread-Topic: Proposal for Q3",
            "Thread-Index: AQHaFnbL0y7p2mO0Ek6h3Vn0c5kVfLCPnq5A",
            "X-MS-Has-Attach:",
            "X-MS-TNEF-Correlator:",
            "Content-Language: en-US",
            "X-MS-Exchange-Organization-AuthAs: Internal",
            "Content-Type: text/plain; charset=us-ascii",
            body="Hi Sam,\n\nThanks, approved.\n\n-----Original Message-----\nFrom: Sam Sales\n",
        ),
        "human",
    ),
    Case(
        "outlook-reply-subject-out-of-office-plans",
        mail(
            *reply_headers("lena@customer.example", "RE: out of office plans"),
            "Thread-Index: AQHaFnbL0y7p2mO0Ek6h3Vn0c5kVfLCPnq5B",
            "Content-Type: text/plain; charset=us-ascii",
            body="I'll be out of office from the 20th; Marc covers.\n",
        ),
        "human",
    ),
    Case(
        "outlook-mobile-reply",
        mail(
            *reply_headers("lena@customer.example"),
            "X-MS-Exchange-Organization-SCL: -1",
            "Thread-Index: AQHaFnbL0y7p2mO0Ek6h3Vn0c5kVfLCPnq5C",
            "Content-Type: text/plain; charset=utf-8",
            body="Ok!\n\nGet Outlook for iOS\n" + QUOTE,
        ),
        "human",
    ),
    Case(
        "apple-mail-reply",
        mail(
            *reply_headers("Jean Dupont <jean@customer.example>"),
            "X-Mailer: Apple Mail (2.3774.200.91.1.1)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            body="Parfait, merci =C3=A0 vous.\n\n"
            "> Le 13 nov. 2023 =C3=A0 10:00, Sam a =C3=A9crit :\n",
        ),
        "human",
    ),
    Case(
        "iphone-mail-reply",
        mail(
            *reply_headers("jean@customer.example"),
            "X-Mailer: iPhone Mail (21B101)",
            "Content-Type: text/plain; charset=us-ascii",
            body="Sent from my iPhone\n" + QUOTE,
        ),
        "human",
    ),
    Case(
        "thunderbird-reply-german-body-mentions-abwesenheitsnotiz",
        mail(
            *reply_headers("Jonas Weber <jonas@kunde.example>", "Re: Angebot Q3"),
            "User-Agent: Mozilla Thunderbird",
            "Content-Language: de-DE",
            "Content-Type: text/plain; charset=UTF-8; format=flowed",
            body="Hallo Sam,\n\nmeine Abwesenheitsnotiz war falsch eingestellt, sorry.\n"
            "Automatische Antwort: nein, das bin ich selbst.\n\n"
            "Am 13.11.23 um 10:00 schrieb Sam:\n",
        ),
        "human",
    ),
    Case(
        "mutt-reply-plain",
        mail(
            *reply_headers("ops@customer.example"),
            "User-Agent: Mutt/2.2.12 (2023-09-09)",
            "Content-Type: text/plain; charset=us-ascii",
            "Content-Disposition: inline",
            body="* Sam Sales <sales@sender.example> [2023-11-13 10:00]:\n> proposal\n\nAgreed.\n",
        ),
        "human",
    ),
    Case(
        "protonmail-reply",
        mail(
            *reply_headers("anna@proton.me"),
            "X-Pm-Origin: internal",
            "X-Pm-Content-Encryption: end-to-end",
            "Content-Type: text/plain; charset=utf-8",
            body="Thanks!\n\nSent with Proton Mail secure email.\n" + QUOTE,
        ),
        "human",
    ),
    Case(
        "yahoo-reply-spanish",
        mail(
            *reply_headers("Lucía <lucia@yahoo.es>", "Re: Propuesta Q3"),
            "X-Mailer: WebService/1.1.21896 YMailNorrin",
            "Content-Type: text/plain; charset=UTF-8",
            body="Hola Sam, ¿podemos hablar el jueves? No es una respuesta automática.\n",
        ),
        "human",
    ),
    Case(
        "reply-italian-encoded-subject",
        mail(
            *reply_headers(
                "marco@cliente.example", "=?UTF-8?Q?Re:_Proposta_per_il_Q3_=E2=80=93_ok?="
            ),
            "Content-Type: text/plain; charset=UTF-8",
            body="Ciao Sam, va bene. (Non è una risposta automatica.)\n",
        ),
        "human",
    ),
    Case(
        "reply-japanese-base64-subject",
        mail(
            *reply_headers("tanaka@kaisha.example", "=?UTF-8?B?UmU6IOS8muitsOOBruS7tg==?="),
            "Content-Type: text/plain; charset=UTF-8",
            body="サムさん、了解しました。\n",
        ),
        "human",
    ),
    Case(
        "reply-portuguese-subject-mentions-resposta-automatica",
        mail(
            *reply_headers("joao@cliente.example", "Re: Resposta automática não funciona"),
            "Content-Type: text/plain; charset=UTF-8",
            body="Olá, o problema continua.\n",
        ),
        "human",
    ),
    Case(
        "new-message-subject-out-of-office-plans-no-colon",
        mail(
            *reply_headers("lena@customer.example", "Out of office plans for December"),
            "Content-Type: text/plain; charset=us-ascii",
            body="Who is covering while I'm away?\n",
        ),
        "human",
    ),
    Case(
        "reply-to-an-automatic-reply",
        mail(
            *reply_headers("lena@customer.example", "RE: Automatic reply: Proposal for Q3"),
            "Thread-Index: AQHaFnbL0y7p2mO0Ek6h3Vn0c5kVfLCPnq5D",
            "Content-Type: text/plain; charset=us-ascii",
            body="I'm back now, ignore the auto-reply.\n",
        ),
        "human",
    ),
    Case(
        "reply-via-sales-tool-with-x-auto-response-suppress",
        mail(
            *reply_headers("rep@vendor.example"),
            "X-Auto-Response-Suppress: OOF, AutoReply",
            "X-Mailer: OutreachTool 4.2",
            "Content-Type: text/plain; charset=us-ascii",
            body="Happy to set up a call.\n" + QUOTE,
        ),
        "human",
        reasons=("x-auto-response-suppress (weak)",),
    ),
    Case(
        "auto-submitted-no-with-auto-subject",
        mail(
            *reply_headers("fleet@customer.example", "Auto: pricing for the fleet renewal"),
            "Auto-Submitted: no",
            "Content-Type: text/plain; charset=us-ascii",
            body="Please quote 40 cars.\n",
        ),
        "human",
        reasons=("auto-submitted:no",),
    ),
    Case(
        "forwarded-bounce-by-a-person",
        mail(
            *reply_headers("it@customer.example", "Fwd: Undelivered Mail Returned to Sender"),
            "Content-Type: text/plain; charset=us-ascii",
            body="FYI, your mail to bob bounced:\n\n---------- Forwarded message ---------\n"
            "From: MAILER-DAEMON@mx.customer.example\nFinal-Recipient: rfc822; bob@customer.example"
            "\nAction: failed\nStatus: 5.1.1\n",
        ),
        "human",
    ),
    Case(
        "sender-local-part-starting-with-no",
        mail(
            *reply_headers("Norah <norah@customer.example>"),
            "Content-Type: text/plain; charset=us-ascii",
            body="Yes.\n",
        ),
        "human",
    ),
    Case(
        "postmaster-mailbox-replying-in-person",
        mail(
            *reply_headers("Postmaster <postmaster@customer.example>", "Re: Proposal for Q3"),
            "Content-Type: text/plain; charset=us-ascii",
            body="Hi, I run the mail here; the address you wrote to is fine.\n" + QUOTE,
        ),
        "human",
    ),
    Case(
        "display-name-postmaster-real-address",
        mail(
            *reply_headers('"The Postmaster Team" <pat@customer.example>'),
            "Content-Type: text/plain; charset=us-ascii",
            body="Pat here, we received it.\n",
        ),
        "human",
    ),
]
