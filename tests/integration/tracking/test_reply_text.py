"""The reply's own text end to end: replies to a tracked Message-ID land in INBOX (Dovecot) in
the formats of two clients and languages → `data.text.reply` of messageReply holds only what
the person wrote, `GET …/message/{id}` shows the same `text.reply`, and the webhook's copy is
cut at IMAPAPI_REPLY_TEXT_MAX."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api
from tests.integration.submit.helpers import register_sender
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration
TRACKED = "<offer-4711@crm.example.com>"

GMAIL_TEXT = "Hi Tom,\n\nthanks, option B works for us.\n\nBest regards,\nAnna"
GMAIL_ATTRIBUTION = "On Mon, Oct 7, 2019 at 8:05 AM Tom Baker <tom@crm.example.com> wrote:"
OUTLOOK_TEXT = "Hallo Herr Baker,\nwir nehmen Variante B.\nMit freundlichen Grüßen\nJana Vogel"


def reply(subject: str, *, plain: str | None, html: str | None, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Anna Berg <anna@example.org>"
    msg["To"] = "tom@crm.example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash(subject))}@example.org>"
    msg["In-Reply-To"] = TRACKED
    msg["References"] = TRACKED
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    if plain is not None:
        msg.set_content(plain)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    else:
        msg.set_content(html or "", subtype="html")
    return msg.as_bytes()


def gmail_reply() -> bytes:
    """An English Gmail reply: text/plain with `>` quotes and text/html with gmail_quote."""
    quote = "> Here is our offer.\n> Does option B work for you?\n"
    html = (
        '<div dir="ltr">Hi Tom,<div><br></div><div>thanks, option B works for us.</div>'
        "<div><br></div><div>Best regards,</div><div>Anna</div></div><br>"
        f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{GMAIL_ATTRIBUTION}'
        '<br></div><blockquote class="gmail_quote">Here is our offer.</blockquote></div>'
    )
    plain = f"{GMAIL_TEXT}\n\n{GMAIL_ATTRIBUTION}\n\n{quote}"
    return reply("Re: Offer", plain=plain, html=html)


def outlook_reply() -> bytes:
    """A German Outlook reply, HTML only: Word paragraphs, a Von:/Gesendet: header block and
    the quoted offer unprefixed below it."""
    lines = "".join(
        f'<p class="MsoNormal">{line}<o:p></o:p></p>' for line in OUTLOOK_TEXT.split("\n")
    )
    html = (
        "<html><head><style>p.MsoNormal {margin:0cm}</style></head><body lang=DE>"
        f'<div class="WordSection1">{lines}<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
        '<p class="MsoNormal"><b>Von:</b> Tom Baker &lt;tom@crm.example.com&gt;<br>'
        "<b>Gesendet:</b> Montag, 7. Oktober 2019 08:05<br><b>An:</b> Jana Vogel<br>"
        "<b>Betreff:</b> Angebot</p></div><p class=MsoNormal>Hier unser Angebot.</p>"
        "</div></body></html>"
    )
    return reply("AW: Angebot", plain=None, html=html)


async def track(api: Api, account: str) -> None:
    added = await api.client.post(f"/v1/account/{account}/tracking", json={"messageIds": [TRACKED]})
    assert added.status_code == 200, added.text


async def test_reply_text_in_webhooks_and_message_details(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
    await track(api, account)
    dovecot.deliver(imap_user, gmail_reply())
    dovecot.deliver(imap_user, outlook_reply())
    out_of_office = "Ich bin bis 14. Oktober nicht im Büro.\n\n-- \nJana Vogel\n"
    dovecot.deliver(
        imap_user,
        reply("Abwesend: Angebot", plain=out_of_office, html=None, Auto_Submitted="auto-replied"),
    )

    replies = await webhook_receiver.wait_for(lambda r: r.event == "messageReply", count=2)
    [auto] = await webhook_receiver.wait_for(lambda r: r.event == "messageAutoReply")
    by_subject = {r.json["data"]["subject"]: r.json["data"] for r in replies}
    assert by_subject["Re: Offer"]["text"]["reply"] == GMAIL_TEXT
    assert by_subject["AW: Angebot"]["text"]["reply"] == OUTLOOK_TEXT
    assert auto.json["data"]["text"]["reply"] == "Ich bin bis 14. Oktober nicht im Büro."
    for data in (*by_subject.values(), auto.json["data"]):
        assert "truncated" not in data
    # messageNew carries no text (that would be a body fetch per new message).
    news = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=3)
    assert all("reply" not in r.json["data"]["text"] for r in news)

    for data in by_subject.values():
        details = await api.client.get(f"/v1/account/{account}/message/{data['id']}")
        assert details.status_code == 200, details.text
        assert details.json()["text"]["reply"] == data["text"]["reply"]


async def test_the_webhook_text_is_cut_at_the_setting_and_details_keep_it_whole(
    tmp_path: Path,
    store_backend: StoreBackend,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    long_text = "Grüße aus Köln! " * 40  # 17 octets per repetition: 680 octets
    plain = f"{long_text}\n\n{GMAIL_ATTRIBUTION}\n\n> Here is our offer.\n"
    async with running_api(tmp_path / "data", store_backend, reply_text_max=200) as api:
        account = await register_sender(api, dovecot, imap_user, smtp, webhook_receiver)
        await track(api, account)
        dovecot.deliver(imap_user, reply("Re: Offer", plain=plain, html=None))
        [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageReply")
        data = hook.json["data"]
        cut = data["text"]["reply"]
        assert len(cut.encode()) <= 200
        assert len(cut.encode()) > 190  # cut at the cap, not far before it
        assert long_text.strip().startswith(cut)
        assert data["truncated"] == ["text.reply"]
        details = await api.client.get(f"/v1/account/{account}/message/{data['id']}")
        assert details.json()["text"]["reply"] == long_text.strip()
        assert "truncated" not in details.json()
