# ruff: noqa: RUF001 (samples in Cyrillic)
"""`mail/reply_text.py`: the cases the rules hinge on, one line each."""

from __future__ import annotations

import pytest

from imapapi.mail.html_text import html_to_text
from imapapi.mail.reply_text import cap_text, reply_from_html, reply_from_text, reply_text

GMAIL = "On Mon, Oct 7, 2019 at 8:05 AM Peter <peter@example.com> wrote:"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"Yes.\n\n{GMAIL}\n\n> Coming?\n", "Yes."),
        (
            "Yes.\n\nOn Mon, Oct 7, 2019 at 8:05 AM Peter <\npeter@example.com> wrote:\n\n> x\n",
            "Yes.",
        ),
        ("Ja.\n\nAm 07.10.19 um 08:05 schrieb Peter:\n> x\n", "Ja."),
        ("Oui.\n\nLe 07/10/2019 à 08:05, Pierre a écrit :\n> x\n", "Oui."),
        ("Sí.\n\nEl 7/10/19 a las 8:05, Pablo escribió:\n> x\n", "Sí."),
        ("Да.\n\n07.10.2019 8:05, Пётр пишет:\n> x\n", "Да."),
        ("Да.\n\nпн, 7 окт. 2019 г. в 08:05, Пётр <p@example.ru>:\n\n> x\n", "Да."),
        ("Sim.\n\nEm 07/10/2019 08:05, Paulo escreveu:\n> x\n", "Sim."),
        (
            "Ja.\n\nOp 7 okt. 2019 om 08:05 heeft Pieter <p@example.nl> het volgende "
            "geschreven:\n\n> x",
            "Ja.",
        ),
        ("Ja.\n\nDen 2019-10-07 kl. 08:05, skrev Per:\n> x\n", "Ja."),
        # Name first, wrapped by Gmail (Portuguese of Portugal) over the quote.
        (
            "Sim.\n\nRui <r@example.pt> escreveu no dia segunda, 17/03/2025 à(s)\n10:20:\n\n> x",
            "Sim.",
        ),
        # The same two lines over no quote may be the reply's own sentence: kept.
        (
            "I wrote to r@example.pt on Monday, 17/03, and she said\nwe meet at 10:20:\nnoon.",
            "I wrote to r@example.pt on Monday, 17/03, and she said\nwe meet at 10:20:\nnoon.",
        ),
        # Quoted with "|" under an attribution; answers between the quotes stay.
        ("Ruud schreef op 26-3-2025 9:12:\n| Backup?\n|\n| Ruud\n\nJa.\n| En?\nNee.", "Ja.\nNee."),
        # Without an attribution above, "|" lines are text, and a table row always is.
        ("| a | b |\n| 1 | 2 |\n", "| a | b |\n| 1 | 2 |"),
        (f"{GMAIL}\n| x\n\nSee:\n| a | b |\n", "See:\n| a | b |"),
        # Text that looks like an attribution but has no date or address stays.
        ("As Maria wrote:\nthe launch moves.\n", "As Maria wrote:\nthe launch moves."),
        # Inline answers between quotes are the reply; the quotes are not.
        (f"{GMAIL}\n> Budget?\n\n20k.\n\n> Signer?\n\nThe CFO.\n", "20k.\n\nThe CFO."),
        # History after an attribution that is not quoted (Yahoo) is cut all the same.
        (f"Fine.\n\n    {GMAIL}\n\nold text\n", "Fine."),
        ("Ok.\n\n-- \nAnna\n+1 555 0100\n", "Ok."),
        ("Ok.\n\n--\nAnna\n", "Ok."),
        ("Ok.\n\nSent from my iPhone\n", "Ok."),
        ("Ok.\n\nVon meinem iPhone gesendet\n", "Ok."),
        ("It was sent from my phone app.\n", "It was sent from my phone app."),
        # Outlook mobile's footers carry their link, in every language.
        ("Ok.\n\nOutlook für Android herunterladen<https://aka.ms/AAb9ysg>\n", "Ok."),
        ("Ok.\n\nObtenir Outlook pour iOS<https://aka.ms/o0ukef>\n", "Ok."),
        ("Ok.\n\nSkaffa Outlook för Android<https://aka.ms/AAb9ysg>\n", "Ok."),
        ("Ok.\n\nSent with Proton Mail secure email.\n", "Ok."),
        ("Ok.\n\nVon meinem/meiner Galaxy gesendet\n", "Ok."),  # Samsung Email
        ("Ok.\n\nVerzonden vanuit Mail voor Windows\n\nVan: a\n", "Ok."),
        ("Ok.\n\nEnvoyé à partir de Courrier pour Windows 10\n", "Ok."),
        (
            "Ok.\n\nWe sent the fix for Windows today.\n",
            "Ok.\n\nWe sent the fix for Windows today.",
        ),
        ("Ok.\n\nSkickat med säker e-post från Proton Mail.\n", "Ok."),
        ("Ok.\n\nEnvoyé de Yahoo Mail pour Android\n", "Ok."),
        # Zoho: a dashed attribution over unquoted history.
        (
            "Ok.\n\n---- On Thu, 06 Jun 2024 09:55:17 +0530 Arjun <a@example.in> wrote ---\n\nold",
            "Ok.",
        ),
        ("Ok.\n\n---- El vie, 07 jun 2024 14:22 Ana <a@example.es> escribió ----\n", "Ok."),
        ("--- Agenda ---\nItem one.\n", "--- Agenda ---\nItem one."),
        # Zimbra's titled rule goes with the headers under it, whatever its language.
        ("Ok.\n\n----- Ursprüngliche Mail -----\nVon: a\nAn: b\nGesendet: c\nBetreff: d\n", "Ok."),
        ("Ok.\n\n----- Mail d'origine -----\nDe: a\nÀ: b\nEnvoyé: c\nObjet: d\n", "Ok."),
        ("Ok.\n\n-----Original Message-----\nFrom: a\nSent: b\nTo: c\nSubject: d\n\nold", "Ok."),
        (
            "Ok.\n\n________________________________\nVon: a\nGesendet: b\nAn: c\nBetreff: d\n",
            "Ok.",
        ),
        ("Ok.\n\nDe : a\nEnvoyé : b\nÀ : c\nObjet : d\n\nold", "Ok."),
        ("Ok.\n\nОт: a\nОтправлено: b\nКому: c\nТема: d\n\nold", "Ok."),
        ("Ok.\n\nFrån: a\nSkickat: b\nTill: c\nÄmne: d\n\nold", "Ok."),
        # Two header-like lines a person wrote are not a quoted message's headers.
        ("Date: Thursday\nTo: everyone\nSee you.\n", "Date: Thursday\nTo: everyone\nSee you."),
        ("FYI\n\n---------- Forwarded message ---------\nFrom: a\n\nold\n", "FYI"),
        ("FYI\n\nBegin forwarded message:\n\nFrom: a\n", "FYI"),
        ("FYI\n\n-------- Пересылаемое сообщение --------\nТема: a\n", "FYI"),
        ("No quote here.\r\nSecond line.\r\n", "No quote here.\nSecond line."),
        ("", ""),
    ],
)
def test_plain(body: str, expected: str) -> None:
    assert reply_from_text(body).text == expected


def test_bounded_tells_whether_the_end_of_the_new_text_was_seen() -> None:
    assert reply_from_text(f"Yes.\n\n{GMAIL}\n> x").bounded is True
    assert reply_from_text("Ok.\n-- \nAnna").bounded is True
    assert reply_from_text("Just text, perhaps cut here").bounded is False


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<div dir="ltr">Yes.</div><div class="gmail_quote"><div class="gmail_attr">'
            f"{GMAIL}</div><blockquote>old</blockquote></div>",
            "Yes.",
        ),
        (
            '<p>Ok.</p><div class="moz-signature">-- <br>Anna</div>'
            '<div class="moz-cite-prefix">On 10/7/19, Peter wrote:</div>'
            "<blockquote>old</blockquote>",
            "Ok.",
        ),
        (
            '<div>Ok.</div><div id="Signature">Anna<br>ACME</div><div id="appendonsend"></div>'
            '<hr><div id="divRplyFwdMsg"><b>From:</b> a</div><div>old</div>',
            "Ok.",
        ),
        (
            '<p class="MsoNormal">Ok.</p><div style="border-top:solid #E1E1E1 1.0pt">'
            "<p><b>From:</b> a<br><b>Sent:</b> b<br><b>To:</b> c<br><b>Subject:</b> d</p></div>"
            "<p>old</p>",
            "Ok.",
        ),
        # List items keep a marker, as Gmail's own text part has them.
        (
            "<div>Need:</div><ul><li>invoice</li><li>seats</li></ul><ol><li>a</li><li>b</li></ol>"
            '<div class="gmail_quote"><ul><li>old</li></ul></div>',
            "Need:\n- invoice\n- seats\n1. a\n2. b",
        ),
        # Unclosed elements and stray end tags do not lose the text.
        ("<div><p>One<p>Two</span></div><blockquote><div>old", "One\nTwo"),
        ("<style>p {color: red}</style><p>Only&nbsp;this &amp; that</p>", "Only this & that"),
    ],
)
def test_html(html: str, expected: str) -> None:
    assert reply_from_html(html).text == expected


def test_plain_part_is_preferred_and_html_is_used_without_one() -> None:
    assert reply_text("plain", "<p>html</p>").text == "plain"
    assert reply_text(" \n", "<p>html</p>").text == "html"
    assert reply_text(None, None).text == ""


def test_html_to_text_keeps_blank_lines_and_stops_where_asked() -> None:
    html = "<div>a</div><div><br></div><div>b</div><p><o:p>&nbsp;</o:p></p><p>c</p><hr><i>d</i>"
    assert html_to_text(html) == ("a\n\nb\n\nc\nd", False)
    stop = html_to_text(html, stop=lambda tag, attrs: tag == "hr")
    assert stop == ("a\n\nb\n\nc", True)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 4096, ("short", False)),
        ("abcdef", 3, ("abc", True)),
        ("aé", 2, ("a", True)),  # é is two octets: cut whole, never half
        ("€€", 4, ("€", True)),
        ("€", 3, ("€", False)),
    ],
)
def test_cap_text_cuts_at_utf8_octets(text: str, limit: int, expected: tuple[str, bool]) -> None:
    assert cap_text(text, limit) == expected
