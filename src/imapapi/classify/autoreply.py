"""Auto-reply signals: RFC 3834 Auto-Submitted, vendor headers, localized subject prefixes.

Decisions (see also ``classify.classify`` for how the signals combine):

* ``Auto-Submitted`` (RFC 3834 §5) is read as its keyword before any ";" parameters,
  case-insensitively. "auto-replied" makes an auto-reply. "no" says a person sent the message
  and turns the subject heuristic off. Every other value ("auto-generated", RFC 5436's
  "auto-notified", extensions) means machine mail that RFC 3834 §5.1 says is *not* a response
  to a message, so it classifies as ``automated`` — unless the message itself shows it answers
  one (see ``classify``), which is how Exchange marks its out-of-office replies.

* ``X-Auto-Response-Suppress`` alone is *not* an auto-reply: it is recorded as a weak reason and
  nothing more. The header is a request about replies *to* the message that carries it
  ([MS-OXOMSG] §2.2.1.77 PidTagAutoResponseSuppress: "whether a client or server application
  can forego sending automated replies in response to this message"), not a statement that
  the message is automatic. Senders set it on mail that people write too: the reply-tracking
  seed tells applications to add it to every message they send, Symfony's mailer docs and
  Zulip (PR #22134) add it to outgoing mail, so a human replying through such a tool carries
  it. Exchange's own auto-replies set it (value "All") but always together with a stronger
  mark (Auto-Submitted, X-MS-Exchange-Inbox-Rules-Loop, an "Automatic reply:" subject), so
  ignoring it alone costs no recall and avoids misreading human replies.
"""

from __future__ import annotations

import re

from imapapi.classify.fields import Headers, first, keyword, nfc

# RFC 3834 §5 auto-submitted keywords.
AUTO_REPLIED = "auto-replied"
NOT_AUTOMATIC = "no"

# Vendor headers whose presence marks an auto-reply (unless their value denies it).
_VENDOR_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder")
_DENIALS = frozenset({"no", "false", "0", "off"})
# Vendor headers that mark an auto-reply only with a given word in their value. Mailtraq's
# "X-POST-MessageClass: 9; Autoresponder" (corpus: alaveteli track-response-messageclass-oof;
# Alaveteli's and Allura's auto-reply checks test the same value).
_VENDOR_VALUES = (("x-post-messageclass", "autoresponder"),)

# Localized prefixes used by Exchange/Outlook, Gmail, Zimbra, Dovecot/Sieve vacation and others.
# Anchored at the start ("Re: out of office plans" is a person) and followed by ":" (ASCII or
# full-width) or the end of the subject. An "[External]"-style gateway tag may come first.
_PHRASES = (
    r"automatic\s+reply",
    r"automatic\s+response",  # Mailtraq (corpus: alaveteli track-response-messageclass-oof)
    r"auto[\s-]*reply",
    r"auto[\s-]*response",
    r"auto",
    r"out\s+of\s+(?:the\s+)?office(?:\s+(?:auto[\s-]*)?reply)?",
    r"vacation\s+(?:auto[\s-]*)?reply",
    r"abwesenheitsnotiz",
    r"automatische\s+antwort",
    r"réponse\s+automatique",
    r"risposta\s+automatica",
    r"respuesta\s+automática",
    r"resposta\s+automática",
    r"autosvar",
    r"automatiskt?\s+svar",  # Danish/Norwegian "automatisk", Swedish Outlook "Automatiskt svar"
    r"automatisch\s+antwoord",
    r"automaattinen\s+vastaus",
    r"automatyczna\s+odpowiedź",
    r"automatická\s+odpověď",
    r"automatikus\s+válasz",
    "otomatik\\s+yan\u0131t",  # Turkish, dotless i
    r"αυτόματη\s+απάντηση",
    r"автоматический\s+ответ",
    r"自动回复",
    r"自動回覆",
    r"自動応答",
    r"자동\s*회신",
    # Latvian Outlook 2003 "Ārpus biroja atrašanās automātiskā atbilde" (out-of-office automatic
    # reply), also sent without diacritics (corpus: bounce_email tt_1234210666).
    r"(?:[āa]rpus\s+biroja\s+atra[šs]an[āa]s\s+)?autom[āa]tisk[āa]\s+atbilde",
)
# Or the phrase in brackets, "[Automatyczna odpowiedź] subject" (wp.pl's responder; corpus:
# Mail-DeliveryStatus-BounceParser polish-autoreply.msg). Not a bare "[Auto]": build and report
# tools tag subjects that way.
_BRACKETED = "|".join(phrase for phrase in _PHRASES if phrase != r"auto")
_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]\n]{1,40}\]\s*)?(?:\[\s*(?P<bracketed>" + _BRACKETED + r")\s*\]"
    r"|(?P<phrase>" + "|".join(_PHRASES) + r")\s*(?:[:\uff1a]|$))",
    re.IGNORECASE,
)
# Lotus Notes/Domino's out-of-office subject, "<name> is out of the office", optionally with
# "(returning <date>)" (corpus: alaveteli track-response-lotus-oof-1; Alaveteli's own check
# matches the same ending). The name holds no ":", so "Re: Anna is out of the office" is a person.
_LOTUS_SUBJECT = re.compile(
    r"^[^:\n]{1,120}?\s+is\s+out\s+of\s+the\s+office\.?(?:\s*\(returning[^)]*\))?\s*$",
    re.IGNORECASE,
)


def auto_submitted(headers: Headers) -> str | None:
    """The Auto-Submitted keyword (lowercase, parameters dropped), or None when absent."""
    value = first(headers, "auto-submitted")
    return keyword(value) if value is not None else None


def header_reasons(headers: Headers) -> list[str]:
    """Headers other than Auto-Submitted that mark the message as an automatic reply."""
    reasons: list[str] = []
    for name in _VENDOR_HEADERS:
        for value in headers.get(name, ()):
            if keyword(value) not in _DENIALS:
                reasons.append(name)
                break
    for value in headers.get("precedence", ()):
        # Not in RFC 3834, which discourages Precedence; some responders still send it.
        if keyword(value) == "auto_reply":
            reasons.append("precedence:auto_reply")
            break
    for name, word in _VENDOR_VALUES:
        if any(word in value.lower() for value in headers.get(name, ())):
            reasons.append(name)
    if "x-ms-exchange-inbox-rules-loop" in headers:
        # Exchange stamps messages its mailbox rules (out-of-office, auto-reply rules) create.
        reasons.append("x-ms-exchange-inbox-rules-loop")
    return reasons


def weak_reasons(headers: Headers) -> list[str]:
    """Signals recorded but never decisive on their own (see the module docstring)."""
    if "x-auto-response-suppress" in headers:
        return ["x-auto-response-suppress (weak)"]
    return []


def subject_reason(subject: str | None) -> str | None:
    """A reason naming the auto-reply subject prefix, or None."""
    if not subject:
        return None
    subject = nfc(subject)
    match = _SUBJECT.match(subject)
    if match is None:
        return "subject:is out of the office" if _LOTUS_SUBJECT.match(subject) else None
    phrase = match.group("phrase") or match.group("bracketed")
    return "subject:" + " ".join(phrase.lower().split())
