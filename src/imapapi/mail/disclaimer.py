"""Legal disclaimers at the end of a reply's text ("This email is confidential … if you
received it in error, notify the sender and delete it"), which company signatures add without
a "-- " line above them. No reader counts them as the reply, and nothing but their wording
sets them apart, so a closing paragraph is one only when it says all three things disclaimers
say, in one of the corpus's languages: that it is confidential or meant for its addressee,
that it may have reached someone in error, and that such a reader should tell the sender or
delete it. A person's own last paragraph seldom says all three.
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
    r"in error|by mistake|not the intended|irrtümlich|fälschlich|nicht der richtige|"
    r"par erreur|n'êtes pas le destinataire|por error|no es (?:usted )?el destinatario|"
    r"por engano|(?:não|nao) (?:for|é|seja) o destinat|onterecht|per abuis|per vergissing|"
    r"av misstag|felaktigt|по ошибке|не являетесь адресатом",
    re.IGNORECASE,
)
_TELL_OR_DELETE = re.compile(
    r"sender|delete|destroy|absender|lösch|vernicht|expéditeur|supprim|détrui|remitente|"
    r"borr|elimin|destru|remetente|apag|afzender|verwijder|retourneren|avsändare|radera|"
    r"отправител|удал|уничтож",
    re.IGNORECASE,
)
_MIN_LENGTH = 100  # disclaimers are sentences, not a line
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def is_disclaimer(paragraph: str) -> bool:
    return (
        len(paragraph) >= _MIN_LENGTH
        and _CONFIDENTIAL.search(paragraph) is not None
        and _IN_ERROR.search(paragraph) is not None
        and _TELL_OR_DELETE.search(paragraph) is not None
    )


def without_disclaimer(text: str) -> str:
    """`text` without the disclaimer paragraphs that close it; a text that is nothing but a
    disclaimer is left whole (it is then what the message says)."""
    paragraphs = _PARAGRAPHS.split(text)
    kept = len(paragraphs)
    while kept > 1 and is_disclaimer(paragraphs[kept - 1]):
        kept -= 1
    return text if kept == len(paragraphs) else "\n\n".join(paragraphs[:kept]).rstrip()
