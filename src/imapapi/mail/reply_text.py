# ruff: noqa: RUF001, RUF002 (the patterns are words of other scripts: Cyrillic, Greek, Turkish)
"""The new text of a reply: the message without its quoted history, forwarded blocks and
signature, in the formats of common clients in English, German, French, Spanish, Russian,
Portuguese, Dutch and Swedish (and the same words in a few more languages).

Written here rather than taken from a library: of those on PyPI, `mail-parser-reply` knows no
Russian or Portuguese and also cuts greetings ("Best regards,") as signatures,
`email-reply-parser` is English-only and unmaintained since 2020, `quotequail` finds quotes
but no signatures, and `talon` was last released in 2017 with a machine-learning stack. On
`tests/corpus/replies` (`./scripts/bench --only replytext`) they scored far below this module.

Plain text, line by line, top to bottom:
- quoted lines (`>`, RFC 3676 §4.5; `|` under an attribution that quotes with it) are left
  out, and so is the attribution line above a quote ("On … wrote:", "Am … schrieb …:",
  "пн, 7 окт. 2019 г. в 08:05, Имя <a@b>:", "Name <a@b> escreveu no dia …:"; also wrapped over
  two lines, as Gmail does at 78 columns); text between quotes (an inline answer) is kept;
- the text ends at an attribution followed by unquoted history (Yahoo; Zoho's
  "---- On … wrote ---"), an "Original Message" or "Forwarded message" separator, a header
  block ("From: … Sent: … To: …" in any of the languages), the signature delimiter "-- "
  (RFC 3676 §4.3) or a mobile or webmail footer ("Sent from my iPhone", "Get Outlook for
  Android<https://…>", "Sent with Proton Mail secure email.", "Verzonden vanuit Mail voor
  Windows" …);
- a legal disclaimer closing the text (a paragraph that calls itself confidential, speaks to a
  reader who got it in error and asks to tell the sender or delete it) or a privacy notice
  (`mail/disclaimer.py`) is left out.
HTML is made text first, without the parts clients mark as quoted or as signature
(`<blockquote>`, Gmail's `gmail_quote`, Thunderbird's `moz-cite-prefix`/`moz-signature`,
Outlook's `divRplyFwdMsg`/`appendonsend`/`Signature`, Zoho's `zmail_extra`); the plain-text
rules then apply.

A sign-off written by hand ("Best regards, Anna") is part of the reply; an undelimited
signature block (a name, a title, a phone number with no "-- " above it) cannot be told from
text and stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imapapi.mail.disclaimer import without_disclaimer
from imapapi.mail.html_text import Attrs, html_to_text


@dataclass(frozen=True, slots=True)
class Reply:
    """The new text, and whether something marked where it ends (a quote, a separator, a
    signature): when not, a text cut before its end may have more new text after the cut."""

    text: str
    bounded: bool


# Verbs of attribution lines, lowercase ("On … wrote:", "Le … a écrit :", "… пишет:").
_WROTE = (
    r"wrote|writes|schrieb|a écrit|a ecrit|escribió|escribio|пишет|написал|написала|"
    r"написал\(а\)|escreveu|schreef|geschreven|skrev|skriver|ha scritto|scrisse|"
    r"napisał|napisal|napsal|kirjoitti|yazdı|έγραψε"
)
_ATTRIBUTION = re.compile(rf"(?:^|[\s,)])(?:{_WROTE})(?:\s.{{0,80}})?\s?:$", re.IGNORECASE)
_VERB = re.compile(rf"(?:^|[\s,)])(?:{_WROTE})(?=[\s,:]|$)", re.IGNORECASE)
# Gmail in Russian, Yandex, Mail.ru: "<date> <time>, Name <addr>:" without a verb.
_DATED_ADDRESS = re.compile(r"\d{1,2}:\d{2}.*<[^<>\s]+@[^<>\s]+>\)?\s?:$")
# Mutt's default: "* Name <addr> [2019-10-07 08:05]:".
_MUTT = re.compile(r"^\* .*<[^<>\s]+@[^<>\s]+> \[[^\]]*\d[^\]]*\]:$")
# A line that starts an attribution (date or opener word), to join a wrapped one.
_OPENER = re.compile(
    r"^(?:on|am|le|el|em|op|den|il|dnia|dne|w dniu|\d{1,4}|пн|вт|ср|чт|пт|сб|вс)\b", re.IGNORECASE
)
_MAX_ATTRIBUTION = 300
# Zoho: "---- On Mon, 07 Oct 2019 08:05:00 +0200 Peter <p@example.com> wrote ----".
_DASHED = re.compile(r"^-{2,}\s*(?P<inner>.+?)\s*-{2,}$")

# Header labels of quoted or forwarded messages (Outlook, Samsung, Zimbra, GMX …) by kind.
_LABELS = {
    "from": "from|von|de|от|van|från|fra|da|od|lähettäjä|kimden",
    "date": "sent|date|gesendet|datum|envoyé|enviado|enviada|enviadas|fecha|data|отправлено|"
    "дата|verzonden|skickat|sendt|inviato|lähetetty",
    "to": "to|an|à|a|para|pour|кому|aan|till|til|per|vastaanottaja",
    "cc": "cc|kopie|copie à|копия|kopia|kopi",
    "subject": "subject|betreff|objet|sujet|asunto|тема|assunto|onderwerp|ämne|emne|oggetto|aihe",
}
_LABEL = re.compile(
    r"^\*?\s*(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _LABELS.items()) + r")\s*\*?\s*:",
    re.IGNORECASE,
)
_HEADER_WINDOW = 8  # lines in which a header block shows its labels
_SEPARATOR = re.compile(
    r"^[-_=]{2,}\s*(?:original message|ursprüngliche nachricht|originalnachricht|"
    r"ursprüngliche mail|message d'origine|message original|mail original|mensaje original|"
    r"исходное сообщение|"
    r"mensagem original|oorspronkelijk bericht|ursprungligt meddelande|originalmeddelande|"
    r"oprindelig meddelelse|messaggio originale|forwarded message|weitergeleitete nachricht|"
    r"message transféré|mensaje reenviado|пересылаемое сообщение|mensagem encaminhada|"
    r"doorgestuurd bericht|vidarebefordrat meddelande|videresendt meddelelse|"
    r"messaggio inoltrato)\s*[-_=]{2,}$"
    r"|^(?:begin forwarded message|anfang der weitergeleiteten nachricht|"
    r"début du message réexpédié|inicio del mensaje reenviado|"
    r"начало переадресованного сообщения|início da mensagem (?:re)?encaminhada|"
    r"begin doorgestuurd bericht|vidarebefordrat mejl|inizio messaggio inoltrato)\s*:$",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^(?:sent from my .+|sent from (?:outlook|mail|yahoo mail)\b.*|get outlook for .+|"
    r"von meinem(?:/meiner)? .+ gesendet\.?|gesendet von .+|"
    r"outlook für .+ (?:herunterladen|beziehen)|"
    r"envoyé (?:de|depuis) (?:mon|ma|l'application) .+|(?:télécharger|obtenir) outlook pour .+|"
    r"enviado desde mi .+|obtener outlook para .+|отправлено (?:с|из) .+|"
    r"получить outlook для .+|enviado (?:do|de|a partir do) meu .+|obter o outlook para .+|"
    r"verstuurd vanaf mijn .+|verzonden (?:vanaf|met) mijn .+|outlook voor .+ downloaden|"
    r"skickat från min .+|(?:hämta|skaffa) outlook för .+|sendt fra min .+|inviato da .+|"
    # Webmail footers: Yahoo's app in other languages, Proton's in every language.
    r"(?:envoyé|enviado|verzonden|verstuurd|skickat) (?:de|depuis|desde|do|vanuit|vanaf|från) "
    r"yahoo mail\b.*|"
    r"(?:sent|envoyé|gesendet|enviado|verzonden|verstuurd|skickat|sendt) .{0,60}"
    r"\bproton ?mail\b.*|"
    # Windows Mail: "Verzonden vanuit Mail voor Windows", "Envoyé à partir de Courrier pour …".
    r"(?:sent|gesendet|envoyé|enviado|verzonden|skickades|skickat|sendt|отправлено) "
    r"(?:from|von|à partir de|desde|do|vanuit|från|fra|из приложения) "
    r"(?:mail|courrier|correo|e-?mail|e-post|почта) (?:for|für|pour|para|voor|för|для) "
    r"windows\b.*)$",
    re.IGNORECASE,
)
_MAX_FOOTER = 80
# Outlook mobile appends the link: "Get Outlook for iOS<https://aka.ms/…>".
_FOOTER_LINK = re.compile(r"\s*<https?://[^<>\s]*>$")
_RULE = re.compile(r"^[-_=*\s]+$")  # a line drawn with dashes or underscores
# A titled rule right above the history ("----- Ursprüngliche Mail -----" over Zimbra's headers).
_BANNER = re.compile(r"^[-_=*]{2,}[^-_=*]{1,40}[-_=*]{2,}$")
_BLANK_RUNS = re.compile(r"\n{3,}")


def reply_text(plain: str | None, html: str | None) -> Reply:
    """The new text of a message from its text/plain part, or its text/html part if it has
    no plain text (the plain part is what the sender's client meant as text)."""
    if plain is not None and plain.strip():
        return reply_from_text(plain)
    if html is not None:
        return reply_from_html(html)
    return Reply("", False)


def reply_from_html(html: str) -> Reply:
    text, stopped = html_to_text(html, skip=_quoted_element, stop=_history_starts)
    reply = reply_from_text(text)
    return Reply(reply.text, reply.bounded or stopped)


def _classes(attrs: Attrs) -> set[str]:
    return set(attrs.get("class", "").split())


def _quoted_element(tag: str, attrs: Attrs) -> bool:
    classes = _classes(attrs)
    return (
        tag == "blockquote"
        or bool(classes & {"gmail_quote", "gmail_signature", "moz-cite-prefix", "moz-signature"})
        or bool(classes & {"yahoo_quoted", "gmail_extra", "zmail_extra"})
        or attrs.get("id") in ("Signature", "signature")
    )


def _history_starts(tag: str, attrs: Attrs) -> bool:
    # Outlook on the web and new Outlook put everything after these: the quoted message.
    return attrs.get("id") in (
        "appendonsend",
        "divRplyFwdMsg",
        "mail-editor-reference-message-container",
    )


def reply_from_text(text: str) -> Reply:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    bounded = False
    piped = False  # the quote under an attribution was marked with "|": so are the others
    i = 0
    while i < len(lines):
        line = lines[i]
        if _quoted(line) or (piped and _pipe_quoted(line)):
            bounded = True
            i += 1
            continue
        span = _attribution(lines, i)
        if span:
            bounded = True
            after = _next_text(lines, i + span)
            piped = piped or (after is not None and _pipe_quoted(lines[after]))
            if after is not None and (_quoted(lines[after]) or _pipe_quoted(lines[after])):
                i += span  # the attribution of a quote: an inline answer may follow it
                continue
            break  # unquoted history follows (Yahoo, some webmail)
        if _ends_text(lines, i):
            bounded = True
            break
        kept.append(line.rstrip())
        i += 1
    # Blank lines and "____" above the history, and a titled rule when the history follows.
    while kept and (_RULE.match(kept[-1] or " ") or (bounded and _BANNER.match(kept[-1]))):
        kept.pop()
    joined = _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip("\n")
    return Reply(without_disclaimer(joined), bounded)


def _quoted(line: str) -> bool:
    return line.lstrip(" ").startswith(">")


def _pipe_quoted(line: str) -> bool:
    """Quoted with "| " (some older clients and list archives); only believed under an
    attribution, and never for a table row ("| a | b |"), which ends with a bar too."""
    text = line.strip(" ")
    return text.startswith("|") and (text == "|" or not text.endswith("|"))


def _next_text(lines: list[str], start: int) -> int | None:
    for j in range(start, len(lines)):
        if lines[j].strip():
            return j
    return None


def _is_attribution(text: str) -> bool:
    dashed = _DASHED.match(text)
    if dashed:
        text = dashed["inner"].rstrip(":") + ":"
    if len(text) > _MAX_ATTRIBUTION or not text.endswith(":"):
        return False
    if _DATED_ADDRESS.search(text) or _MUTT.match(text):
        return True
    # A verb alone is not enough ("As Peter wrote:"): attributions carry a date or an address.
    return bool(_ATTRIBUTION.search(text)) and bool(re.search(r"\d|@", text))


def _attribution(lines: list[str], i: int) -> int:
    """How many lines (1 or 2) the attribution starting at line `i` spans; 0 if none."""
    first = lines[i].strip()
    if not first:
        return 0
    if i + 1 < len(lines):
        # Wrapped by the client: the first half has no verb yet, the second ends the line.
        second = lines[i + 1].strip()
        looks_cut = (
            _OPENER.match(first) is not None
            or first.endswith(("<", "("))
            or _name_first_over_a_quote(lines, i)
        )
        joined = first + ("" if first.endswith(("<", "(")) else " ") + second
        if looks_cut and not first.endswith(":") and _is_attribution(joined):
            return 2
    return 1 if _is_attribution(first) else 0


def _name_first_over_a_quote(lines: list[str], i: int) -> bool:
    """Line `i` may be the first half of a wrapped attribution that starts with the name
    ("Rui <r@example.pt> escreveu no dia segunda, 17/03/2025 à(s)" over "10:20:", Gmail in
    Portuguese of Portugal, K-9 Mail): it names an address and the verb, and a quote follows
    the line after it (without the quote, such a pair may be a sentence of the reply)."""
    if "@" not in lines[i] or not _VERB.search(lines[i]):
        return False
    after = _next_text(lines, i + 2)
    return after is not None and _quoted(lines[after])


def _ends_text(lines: list[str], i: int) -> bool:
    """Line `i` starts what is not the new text: a separator, a header block, a signature or
    a mobile footer."""
    line = lines[i].strip()
    if lines[i].rstrip("\n") in ("-- ", "--"):  # RFC 3676 §4.3 (some clients drop the space)
        return True
    if not line:
        return False
    if _SEPARATOR.match(line):
        return True
    footer = _FOOTER_LINK.sub("", line)
    if len(footer) <= _MAX_FOOTER and _FOOTER.match(footer):
        return True
    return _header_block(lines, i)


def _label(line: str) -> str | None:
    match = _LABEL.match(line.strip().replace("\u00a0", " "))
    return match.lastgroup if match else None


def _header_block(lines: list[str], i: int) -> bool:
    """A quoted message's headers start at `i`: a From or Date label, then labels of at least
    three kinds within a few lines (one label alone is text: "To: all of you")."""
    if _label(lines[i]) not in ("from", "date"):
        return False
    kinds = {_label(line) for line in lines[i : i + _HEADER_WINDOW]}
    kinds.discard(None)
    return len(kinds) >= 3


def cap_text(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to at most `limit` UTF-8 octets (a character split by the cut is dropped
    whole), and whether it was cut."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return text, False
    return encoded[:limit].decode("utf-8", "ignore"), True
