"""Legal disclaimers at the end of a reply's text ("This email is confidential … if you
received it in error, notify the sender and delete it"), which company signatures add without
a "-- " line above them. No reader counts them as the reply, and nothing but their wording
sets them apart, so a closing paragraph is one only when it says all three things disclaimers
say, in one of the corpus's languages: that it is confidential or meant for its addressee,
that it may have reached someone in error, and that such a reader should tell the sender or
delete it. A person's own last paragraph seldom says all three.

The privacy notices that public bodies and companies append the same way ("När du skickar
e-post till oss behandlar vi dina personuppgifter … https://…", "When you email us we process
your personal data …") go too, by four things: e-mail, personal data, their processing, and a
link or the name of the law or policy.
"""

from __future__ import annotations

import re

_CONFIDENTIAL = re.compile(
    r"confidential|intended (?:solely |only )?for|vertraulich|bestimmt für|confidencial|"
    r"confidentiel|destinataire|vertrouwelijk|bestemd voor|konfidentiell|avsett för|"
    r"конфиденциальн|destinatári|destinatario",
    re.IGNORECASE,
)
_IN_ERROR = re.compile(
    r"in error|by mistake|mistakenly|erroneously|not the intended|irrtümlich|fälschlich|"
    r"versehentlich|nicht der richtige|par erreur|n'êtes pas le destinataire|por error|"
    r"por equivocaci|no es (?:usted )?el destinatario|por engano|por erro\b|"
    r"(?:não|nao) (?:for|é|seja) o destinat|onterecht|ten onrechte|per abuis|per vergissing|"
    r"abusievelijk|av misstag|felaktigt|по ошибке|ошибочно|не являетесь адресатом",
    re.IGNORECASE,
)
_TELL_OR_DELETE = re.compile(
    r"sender|delete|destroy|absender|lösch|vernicht|expéditeur|supprim|détrui|remitente|"
    r"borr|elimin|destru|remetente|apag|afzender|verwijder|retourneren|avsändare|radera|"
    r"отправител|удал|уничтож",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"e-?mail|e-post|mejl|correo|courriel|письм|почт", re.IGNORECASE)
_PERSONAL_DATA = re.compile(
    r"personal data|personuppgifter|personenbezogen\w* daten|données (?:à caractère )?personnel|"
    r"datos (?:de carácter )?personales|dados pessoais|persoonsgegevens|персональн\w* данн",
    re.IGNORECASE,
)
_PROCESSING = re.compile(
    r"process|behandl|behandel|verarbeit|trait|trata|verwerk|обрабат|обработк", re.IGNORECASE
)
_POLICY = re.compile(
    r"https?://|privacy|integritet|dataskydd|datenschutz|dsgvo|gdpr|rgpd|lgpd|"
    r"confidentialité|privacidad|privacidade|политик",
    re.IGNORECASE,
)
_MIN_LENGTH = 100  # disclaimers are sentences, not a line
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def is_disclaimer(paragraph: str) -> bool:
    if len(paragraph) < _MIN_LENGTH:
        return False
    legal = (_CONFIDENTIAL, _IN_ERROR, _TELL_OR_DELETE)
    privacy = (_EMAIL, _PERSONAL_DATA, _PROCESSING, _POLICY)
    return any(all(p.search(paragraph) for p in kind) for kind in (legal, privacy))


def without_disclaimer(text: str) -> str:
    """`text` without the disclaimer paragraphs that close it; a text that is nothing but a
    disclaimer is left whole (it is then what the message says)."""
    paragraphs = _PARAGRAPHS.split(text)
    kept = len(paragraphs)
    while kept > 1 and is_disclaimer(paragraphs[kept - 1]):
        kept -= 1
    return text if kept == len(paragraphs) else "\n\n".join(paragraphs[:kept]).rstrip()
