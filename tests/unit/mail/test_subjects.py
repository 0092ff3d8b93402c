"""Reply and forward subjects: one prefix, whatever the original piled up."""

from __future__ import annotations

import pytest

from imapapi.mail.subjects import base_subject, forward_subject, reply_subject, split_subject


@pytest.mark.parametrize(
    ("original", "reply"),
    [
        ("Hello", "Re: Hello"),
        ("Re: Hello", "Re: Hello"),
        ("RE: Hello", "Re: Hello"),
        ("re:Hello", "Re: Hello"),
        ("Re: Re: Re: Hello", "Re: Hello"),
        ("AW: Hello", "Re: Hello"),
        ("Aw: RE: Sv: Hello", "Re: Hello"),
        ("SV: Hello", "Re: Hello"),
        ("Antw: Hello", "Re: Hello"),
        ("Fwd: Hello", "Re: Hello"),
        ("FW: Hello", "Re: Hello"),
        ("WG: Hello", "Re: Hello"),
        ("TR: Hello", "Re: Hello"),
        ("RV: Hello", "Re: Hello"),
        ("Re[2]: Hello", "Re: Hello"),
        ("Re(3): Hello", "Re: Hello"),
        ("Re : Hello", "Re: Hello"),
        ("回复\uff1a你好", "Re: 你好"),  # fullwidth colon
        ("[dev] Hello", "Re: [dev] Hello"),
        ("[dev] Re: Hello", "Re: [dev] Hello"),
        ("Re: [dev] Re: [dev] Hello", "Re: [dev] Hello"),
        ("[dev]", "Re: [dev]"),
        ("Agenda: Monday", "Re: Agenda: Monday"),
        ("Reply: Monday", "Re: Reply: Monday"),
        ("Tracking your order", "Re: Tracking your order"),
        ("Rerun tests", "Re: Rerun tests"),
        ("  Re:   spaced   out  ", "Re: spaced out"),
        ("", "Re:"),
        (None, "Re:"),
    ],
    ids=lambda value: repr(value),
)
def test_reply_subject(original: str | None, reply: str) -> None:
    assert reply_subject(original) == reply


@pytest.mark.parametrize(
    ("original", "forward"),
    [
        ("Hello", "Fwd: Hello"),
        ("Fwd: Hello", "Fwd: Hello"),
        ("Fw: Fwd: Hello", "Fwd: Hello"),
        ("Re: Hello", "Fwd: Hello"),
        ("[list] AW: Hello", "Fwd: [list] Hello"),
    ],
)
def test_forward_subject(original: str, forward: str) -> None:
    assert forward_subject(original) == forward


def test_split_keeps_the_first_tag_only() -> None:
    assert split_subject("[a] Re: [b] Hi") == ("[a]", "Hi")
    assert base_subject("Re: [a] Hi") == "Hi"
