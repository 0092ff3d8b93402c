from __future__ import annotations

import pytest

from imapapi.classify.automated import null_return_path, sender_reasons


@pytest.mark.parametrize(
    "sender",
    [
        "noreply@x.example",
        "no-reply@x.example",
        "No_Reply@x.example",
        "no.reply@x.example",
        "noreply-dmarc-support@google.example",
        "no-reply+billing@x.example",
        "donotreply@x.example",
        "do-not-reply@x.example",
        "do_not_reply@x.example",
        "dont-reply@x.example",
        "notifications@x.example",
        "notification@x.example",
        '"Bank" <NoReply@bank.example>',
    ],
)
def test_no_reply_senders(sender: str) -> None:
    assert sender_reasons(sender)


@pytest.mark.parametrize(
    "sender",
    [
        "norah@x.example",
        "noah.reply@x.example",
        "info@x.example",
        "support@x.example",
        "replies@x.example",
        "notify-me-later@x.example",
        '"No Reply Needed" <sam@x.example>',
        "not an address",
        "",
    ],
)
def test_people_and_shared_mailboxes(sender: str) -> None:
    assert not sender_reasons(sender)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(["<>"], True, id="null"),
        pytest.param(["< >"], True, id="null-spaced"),
        pytest.param(["<<>>"], True, id="iis"),
        pytest.param([""], True, id="empty"),
        pytest.param(["<a@b.example>"], False, id="address"),
        pytest.param(None, False, id="absent"),
    ],
)
def test_null_return_path(values: list[str] | None, expected: bool) -> None:
    headers = {} if values is None else {"return-path": values}
    assert null_return_path(headers) is expected
