"""Reply and forward subjects: one `Re:` / `Fwd:`, never `Re: RE: Aw: Fwd: …`.

Mail clients localize their prefixes (Outlook writes `AW:` in German, `SV:` in Swedish, `RV:` in
Spanish) and mailing lists put a `[list]` tag in front, so a naive `"Re: " + subject` piles them
up. RFC 5322 §3.6.5 only says a reply subject *may* start with "Re: " and that this is Latin
("in re"), not an abbreviation to translate; so we strip every known reply and forward prefix —
in any case, with an optional counter (`Re[2]:`, `Re(3):`) and a fullwidth colon (CJK clients) —
and every list tag, then put back one prefix and the first list tag:

    "[dev] AW: Re: Fwd:  hello"  -reply->  "Re: [dev] hello"

A bare word followed by a colon at the start of an ordinary subject ("Agenda: Monday") is not a
prefix: only the listed ones are recognized.
"""

from __future__ import annotations

import re

# Lowercase. Sources: the prefix tables of Thunderbird (mail.compose.reply_header_*), Outlook's
# localized builds, and Wikipedia "List of email subject abbreviations".
REPLY_PREFIXES = (
    "re",  # Latin "in re"; RE: from Outlook
    "aw",  # German "Antwort"
    "sv",  # Swedish, Norwegian, Danish "svar"
    "antw",  # Dutch "antwoord"
    "vs",  # Finnish "vastaus"
    "odp",  # Polish "odpowiedź"
    "ynt",  # Turkish "yanit"
    "atb",  # Latvian "atbilde"
    "rif",  # Italian "riferimento"
    "réf",
    "ref",
    "odg",  # Croatian "odgovor"
    "válasz",
    "απ",  # Greek
    "σχετ",  # Greek
    "отв",  # Russian "ответ"
    "відп",  # Ukrainian
    "回复",  # Chinese (simplified)
    "回覆",  # Chinese (traditional)
    "答复",
)
FORWARD_PREFIXES = (
    "fwd",
    "fw",
    "wg",  # German "weitergeleitet"
    "tr",  # French "transféré"
    "rv",  # Spanish "reenviado"
    "enc",  # Portuguese "encaminhado"
    "doorst",  # Dutch "doorgestuurd"
    "vl",  # Finnish "välitetty"
    "vb",  # Swedish "vidarebefordrat"
    "vs",
    "pd",  # Polish "przekaż dalej"
    "yml",  # Turkish
    "továbbítás",
    "πρθ",  # Greek
    "пересл",  # Russian
    "转发",  # Chinese (simplified)
    "轉寄",  # Chinese (traditional)
)

REPLY = "Re"
FORWARD = "Fwd"

_ALL = sorted(set(REPLY_PREFIXES) | set(FORWARD_PREFIXES), key=len, reverse=True)
# One prefix: the word, an optional counter as written by some clients ("Re[2]", "Re(2)",
# "Re^2"), optional space, then ":" or the fullwidth colon U+FF1A.
_PREFIX = re.compile(
    r"(?:" + "|".join(re.escape(p) for p in _ALL) + r")"
    r"(?:\s*(?:\[\d{1,3}\]|\(\d{1,3}\)|\^\d{1,3}))?\s*[:\uff1a]",
    re.IGNORECASE,
)
# A list tag as Mailman and others add it: "[name]" (no nested brackets, kept short).
_TAG = re.compile(r"\[[^\[\]\r\n]{1,64}\]")
_SPACE = re.compile(r"\s+")


def split_subject(subject: str | None) -> tuple[str | None, str]:
    """(first list tag or None, the subject without any prefix or tag), whitespace collapsed."""
    text = _SPACE.sub(" ", subject or "").strip()
    tag: str | None = None
    while True:
        match = _PREFIX.match(text) or _TAG.match(text)
        if match is None:
            break
        rest = text[match.end() :].lstrip()
        if match.re is _TAG:
            if not rest:
                break  # "[dev]" alone is the subject, not a tag in front of one
            tag = tag or match.group(0)
        text = rest
    return tag, text


def base_subject(subject: str | None) -> str:
    """The subject without reply/forward prefixes and list tags (what threads compare)."""
    return split_subject(subject)[1]


def _derive(prefix: str, subject: str | None) -> str:
    tag, base = split_subject(subject)
    parts = [f"{prefix}:"]
    if tag:
        parts.append(tag)
    if base:
        parts.append(base)
    return " ".join(parts)


def reply_subject(subject: str | None) -> str:
    """`Re: <subject>` with every earlier prefix dropped."""
    return _derive(REPLY, subject)


def forward_subject(subject: str | None) -> str:
    """`Fwd: <subject>` with every earlier prefix dropped."""
    return _derive(FORWARD, subject)
