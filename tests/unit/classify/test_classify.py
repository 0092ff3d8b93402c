from __future__ import annotations

import email
from email import policy

import pytest

from imapapi.classify import Classification, classify, needs_body
from imapapi.mail.headers import parse_header_block
from tests.unit.classify.cases_bounces import BOUNCE
from tests.unit.classify.cases_machines import AUTO_REPLY, AUTOMATED, LIST
from tests.unit.classify.cases_people import HUMAN
from tests.unit.classify.corpus import Case

CORPUS = [*HUMAN, *AUTO_REPLY, *LIST, *AUTOMATED, *BOUNCE]


def _params(cases: list[Case]) -> list[object]:
    return [pytest.param(case, id=case.id) for case in cases]


def _classify(case: Case, *, with_body: bool = True) -> Classification:
    headers = parse_header_block(case.raw)
    return classify(headers, raw_message=case.raw if with_body else None)


def test_corpus_size_and_unique_ids() -> None:
    assert len(CORPUS) >= 40
    assert len({case.id for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", _params(CORPUS))
def test_corpus_is_well_formed_mime(case: Case) -> None:
    message = email.message_from_bytes(case.raw, policy=policy.default)
    assert not message.defects
    assert all(not part.defects for part in message.walk())


@pytest.mark.parametrize("case", _params(HUMAN))
def test_no_human_reply_misclassified(case: Case) -> None:
    result = _classify(case)
    assert result.type == "human", result.reasons
    assert result.bounce is None
    assert set(case.reasons) <= set(result.reasons)


@pytest.mark.parametrize("case", _params(AUTO_REPLY + LIST + AUTOMATED + BOUNCE))
def test_machine_mail(case: Case) -> None:
    result = _classify(case)
    assert result.type == case.type, result.reasons
    missing = [reason for reason in case.reasons if reason not in result.reasons]
    assert not missing, result.reasons


@pytest.mark.parametrize("case", _params(BOUNCE))
def test_bounce_report(case: Case) -> None:
    report = _classify(case).bounce
    assert report is not None
    if case.recipients is not None:
        got = sorted((r.recipient, r.action, r.status) for r in report.recipients)
        assert got == sorted(case.recipients)
    if case.original_message_id is not None:
        assert report.original_message_id == case.original_message_id
    if case.delayed is not None:
        assert report.delayed is case.delayed


@pytest.mark.parametrize("case", _params(CORPUS))
def test_headers_alone_give_the_same_verdict(case: Case) -> None:
    """The sync engine classifies from fetched headers and reads bodies only when told to."""
    headers = parse_header_block(case.raw)
    if case.type == "bounce" or case.needs_body:
        assert needs_body(headers)
    if not case.needs_body:
        assert _classify(case, with_body=False).type == case.type


# A bounce sender (postmaster@) is a bounce candidate even when a person writes from it; the
# body (no failed recipients in it) then says human. It costs one body fetch.
_BODY_FETCH_EXPECTED = {"postmaster-mailbox-replying-in-person"}


@pytest.mark.parametrize("case", _params(HUMAN))
def test_human_replies_need_no_body_fetch(case: Case) -> None:
    assert needs_body(parse_header_block(case.raw)) is (case.id in _BODY_FETCH_EXPECTED)


def test_webhook_json_shape() -> None:
    [case] = [c for c in BOUNCE if c.id == "postfix-dsn-failed-returned-message"]
    payload = _classify(case).as_json()
    assert payload["type"] == "bounce"
    assert payload["reasons"][0] == "report-type:delivery-status"
    assert payload["bounce"] == {
        "recipients": [
            {
                "recipient": "bob@customer.example",
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "550 5.1.1 <bob@customer.example>: Recipient address rejected",
            }
        ],
        "originalMessageId": "<cold-lead-42.1700000000@sender.example>",
        "delayed": False,
    }
    human = _classify(HUMAN[0]).as_json()
    assert human == {"type": "human", "reasons": []}


def test_bounce_without_body_has_no_report() -> None:
    [case] = [c for c in BOUNCE if c.id == "gmail-dsn-delay"]
    result = _classify(case, with_body=False)
    assert (result.type, result.bounce) == ("bounce", None)
    assert "bounce" not in result.as_json()


def test_overrides_from_envelope_and_bodystructure() -> None:
    headers = {"return-path": ["<>"]}
    result = classify(
        headers,
        subject="Undelivered Mail Returned to Sender",
        from_address="MAILER-DAEMON@mx.example",
        content_type="multipart/report; report-type=delivery-status; boundary=x",
    )
    assert result.type == "bounce"
    assert classify({}, subject="Automatic reply: hi").type == "autoReply"
    assert classify({}, from_address="Bank <noreply@bank.example>").type == "automated"


def test_header_names_and_bare_strings_tolerated() -> None:
    assert classify({"Auto-Submitted": ["auto-replied"]}).type == "autoReply"
    assert classify({"list-id": "<x.lists.example>"}).type == "list"  # a str, not a list


def test_headers_taken_from_raw_message_when_map_is_empty() -> None:
    [case] = [c for c in AUTO_REPLY if c.id == "x-autoreply-yes"]
    assert classify({}, raw_message=case.raw).type == "autoReply"
