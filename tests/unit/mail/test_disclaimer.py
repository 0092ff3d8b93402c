# ruff: noqa: RUF001 (samples in Cyrillic)
"""`mail/disclaimer.py`: a closing paragraph is a disclaimer only when it says all that
disclaimers say; a person's own words stay."""

from __future__ import annotations

import pytest

from imapapi.mail.disclaimer import without_disclaimer

EN = (
    "This email and any attachments are confidential and intended solely for the addressee. "
    "If you have received it in error, please notify the sender and delete it."
)
DE = (
    "Diese E-Mail enthält vertrauliche Informationen. Wenn Sie diese E-Mail irrtümlich "
    "erhalten haben, informieren Sie bitte sofort den Absender und vernichten Sie diese Mail."
)
RU = (
    "Это сообщение конфиденциально. Если вы получили его по ошибке, сообщите, пожалуйста, "
    "отправителю и удалите его."
)

# Says "meant for the addressee" rather than "confidential", and "ten onrechte" for in error.
NL = (
    "De informatie verzonden met dit e-mailbericht is uitsluitend bestemd voor de "
    "geadresseerde. Indien u dit bericht ten onrechte ontvangt, wordt u verzocht de afzender "
    "direct te informeren en het bericht te verwijderen."
)
PRIVACY_SV = (
    "När du skickar e-post till Example kommun behandlar vi dina personuppgifter. Läs mer på "
    "https://www.example.se/personuppgifter"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Ok.\n\nAnna\n\n{EN}", "Ok.\n\nAnna"),
        (f"Ja.\n\n{DE}", "Ja."),
        (f"Да.\n\n{RU}", "Да."),
        (f"Ok.\n\n{EN}\n\n{DE}", "Ok."),  # one notice per language, both closing the text
        (f"Ja.\n\n{NL}", "Ja."),
        (f"Ok.\n\n{PRIVACY_SV}", "Ok."),  # a privacy notice closes the text as well
        # A person's words on personal data without e-mail and a link or law stay.
        (
            "Ok.\n\nWe process the personal data of new members only after they sign the form "
            "at the front desk.",
            "Ok.\n\nWe process the personal data of new members only after they sign the form "
            "at the front desk.",
        ),
        # A disclaimer in the middle is followed by the person's text: not a closing one.
        (f"{EN}\n\nOk.", f"{EN}\n\nOk."),
        # A message that is only a disclaimer keeps it: that is what it says.
        (EN, EN),
        # A person's words about a confidential mail sent in error, without the rest, stay.
        (
            "Ok.\n\nI think the confidential report reached me in error, it was meant for the "
            "board and not for the whole team.",
            "Ok.\n\nI think the confidential report reached me in error, it was meant for the "
            "board and not for the whole team.",
        ),
        (
            "Ok.\n\nPlease delete the old file, it was sent in error.",
            "Ok.\n\nPlease delete the old file, it was sent in error.",
        ),
    ],
)
def test_without_disclaimer(text: str, expected: str) -> None:
    assert without_disclaimer(text) == expected
