from __future__ import annotations

import pytest

from imapapi.classify import classify
from imapapi.classify.autoreply import auto_submitted, subject_reason
from imapapi.classify.fields import keyword


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("auto-replied", "auto-replied", id="plain"),
        pytest.param("Auto-Replied", "auto-replied", id="mixed-case"),
        pytest.param("auto-replied; owner-email=a@b.example", "auto-replied", id="parameter"),
        pytest.param("auto-replied (vacation)", "auto-replied", id="comment"),
        pytest.param(" (x (nested)) auto-generated ", "auto-generated", id="nested-comment"),
        pytest.param("no", "no", id="no"),
        pytest.param("", "", id="empty"),
    ],
)
def test_keyword(value: str, expected: str) -> None:
    assert keyword(value) == expected


def test_auto_submitted_absent_and_blank() -> None:
    assert auto_submitted({}) is None
    assert auto_submitted({"auto-submitted": ["  "]}) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"auto-submitted": ["auto-replied"]}, "autoReply", id="auto-replied"),
        pytest.param({"auto-submitted": ["auto-generated"]}, "automated", id="auto-generated"),
        pytest.param(
            {"auto-submitted": ["auto-generated"], "in-reply-to": ["<a@b>"]},
            "autoReply",
            id="auto-generated-answering",
        ),
        pytest.param({"auto-submitted": ["no"]}, "human", id="no"),
        pytest.param({"x-autoreply": ["yes"]}, "autoReply", id="x-autoreply"),
        pytest.param({"x-autoreply": ["no"]}, "human", id="x-autoreply-no"),
        pytest.param({"x-autorespond": [""]}, "autoReply", id="x-autorespond-empty"),
        pytest.param({"precedence": ["auto_reply"]}, "autoReply", id="precedence"),
        pytest.param({"x-auto-response-suppress": ["All"]}, "human", id="suppress-alone"),
        pytest.param(
            {"x-ms-exchange-inbox-rules-loop": ["a@b.example"]}, "autoReply", id="rules-loop"
        ),
        pytest.param(
            {"x-post-messageclass": ["9; Autoresponder"]}, "autoReply", id="mailtraq-class"
        ),
        pytest.param({"x-post-messageclass": ["1; Normal"]}, "human", id="mailtraq-other-class"),
    ],
)
def test_header_signals(headers: dict[str, list[str]], expected: str) -> None:
    assert classify(headers).type == expected


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Proposal",
        "AUTOMATIC REPLY: Proposal",
        "Auto: Proposal",
        "Autoreply: Proposal",
        "Auto-Reply: Proposal",
        "Auto Response: Proposal",
        "Out of Office: Proposal",
        "Out of the office",
        "Out of Office AutoReply: Proposal",
        "Vacation reply: Proposal",
        "[EXT] Automatic reply: Proposal",
        "Abwesenheitsnotiz: Angebot",
        "Automatische Antwort: Angebot",
        "Réponse automatique : Proposition",
        "Risposta automatica: Proposta",
        "Respuesta automática: Propuesta",
        "Resposta automática: Proposta",
        "Autosvar: Förslag",
        "Automatisk svar: Forslag",
        "Automatisch antwoord: Voorstel",
        "Automaattinen vastaus: Ehdotus",
        "Automatyczna odpowiedź: Oferta",
        "Automatická odpověď: Nabídka",
        "Automatikus válasz: Ajánlat",
        "Otomatik yan\u0131t: Teklif",
        "Αυτόματη απάντηση: Πρόταση",
        "Автоматический ответ: Предложение",
        "自动回复: 提案",
        "自動回覆: 提案",
        "自動応答: 提案",
        "자동 회신: 제안",
        "Re\u0301ponse automatique : decomposed accent",
        "[Automatyczna odpowiedź] Oferta",
        "[EXT] [Out of office] Proposal",
        "Automatic Response",
        "Emma McKinney/MAIL/BIR/MG_REG is out of the office",
        "AUTO: Anna Berg is out of the office (returning 03/01/2012)",
        "Anna Berg is out of the office. (returning 03/01/2012)",
    ],
)
def test_auto_reply_subjects(subject: str) -> None:
    assert subject_reason(subject) is not None


@pytest.mark.parametrize(
    "subject",
    [
        "Re: out of office plans",
        "RE: Automatic reply: Proposal",
        "Fwd: Out of Office: Proposal",
        "Out of office plans for December",
        "Automatically generated report attached",
        "Autonomous cars: pricing",
        "Auto insurance quote",
        "Automatic replies are annoying, right?",
        "[Auto] nightly build failed",
        "Re: [Automatic reply] Proposal",
        "Re: Anna is out of the office",
        "Anna is out of the office until Monday, who covers?",
        "Automatic responses in our helpdesk",
        "",
    ],
)
def test_subjects_of_people(subject: str) -> None:
    assert subject_reason(subject) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            {"return-path": ["<>"], "precedence": ["bulk"]}, "autoReply", id="null-path-bulk"
        ),
        pytest.param(
            {"return-path": ["<>"], "precedence": ["junk"]}, "autoReply", id="null-path-junk"
        ),
        pytest.param(
            {"return-path": ["<>"], "precedence": ["bulk"], "list-id": ["<l.example>"]},
            "list",
            id="null-path-bulk-list",
        ),
        pytest.param({"return-path": ["<a@b.example>"], "precedence": ["bulk"]}, "list", id="bulk"),
        pytest.param({"return-path": ["<>"]}, "automated", id="null-path-alone"),
    ],
)
def test_responder_envelope(headers: dict[str, list[str]], expected: str) -> None:
    """A null Return-Path with Precedence bulk/junk and no List-* field is how responders
    without an Auto-Submitted field send (RFC 3834 §3.3)."""
    assert classify(headers).type == expected


@pytest.mark.parametrize(
    ("list_fields", "expected"),
    [
        pytest.param({"list-id": ["<team.example.org>"]}, "autoReply", id="list-id-alone"),
        pytest.param(
            {"list-id": ["<team.example.org>"], "list-post": ["<mailto:team@example.org>"]},
            "list",
            id="discussion-list",
        ),
        pytest.param({"list-unsubscribe": ["<https://news.example/u>"]}, "list", id="newsletter"),
    ],
)
def test_out_of_office_subject_through_a_list(
    list_fields: dict[str, list[str]], expected: str
) -> None:
    """A team alias stamps only its List-Id on the out-of-office replies it relays; a list or
    newsletter that speaks for itself (List-Post, List-Unsubscribe) keeps the subject from
    deciding."""
    assert classify({"subject": ["Out of Office"], **list_fields}).type == expected
