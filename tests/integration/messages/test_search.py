"""POST /search against the real Dovecot: every field, paging, and no command injection; every
field, UIDs and paging on every server too (`server_mailbox`)."""

from __future__ import annotations

from typing import Any

import pytest

from imapapi.api.schemas.messages import MessageList
from tests.integration.messages.conftest import Mailbox
from tests.integration.sync.helpers import message

pytestmark = pytest.mark.integration

ALICE = message(
    "Quarterly report",
    sender="Alice Ärger <alice@example.test>",
    to="bob@example.test",
    body="The numbers are in. Grüße!\n",
    message_id="<alice-1@example.test>",
    headers={"Cc": "carol@example.test", "X-Mailer": "Outlook 16", "Bcc": "dave@example.test"},
)
BOB = message(
    "Lunch?",
    sender="Bob <bob@example.test>",
    to="alice@example.test",
    body="Pizza at noon " + "x" * 3000 + "\n",
    message_id="<bob-1@example.test>",
)
CAROL = message(
    'He said "hi" \\ there',
    sender="Carol <carol@example.test>",
    to="alice@example.test",
    body="quotes\n",
    message_id="<carol-1@example.test>",
)


def fill(mailbox: Mailbox) -> Mailbox:
    mailbox.deliver(ALICE, flags=("\\Seen", "\\Flagged"))
    mailbox.deliver(BOB, flags=("\\Answered",))
    mailbox.deliver(CAROL)
    return mailbox


@pytest.fixture
async def searchable(mailbox: Mailbox) -> Mailbox:
    return fill(mailbox)


@pytest.fixture
async def server_searchable(server_mailbox: Mailbox) -> Mailbox:
    return fill(server_mailbox)


async def search(
    mailbox: Mailbox, terms: dict[str, Any], **params: Any
) -> tuple[int, dict[str, Any]]:
    response = await mailbox.api.client.post(
        f"{mailbox.base}/search", params={"path": "INBOX", **params}, json={"search": terms}
    )
    body: dict[str, Any] = response.json()
    if response.status_code == 200:
        MessageList.model_validate(body)
    return response.status_code, body


async def subjects(mailbox: Mailbox, terms: dict[str, Any]) -> list[str]:
    status, body = await search(mailbox, terms)
    assert status == 200, body
    return [m["subject"] for m in body["messages"]]


LUNCH, REPORT, QUOTES = "Lunch?", "Quarterly report", 'He said "hi" \\ there'


FIELD_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({}, [QUOTES, LUNCH, REPORT]),
    ({"from": "alice@"}, [REPORT]),
    ({"from": "Ärger"}, [REPORT]),  # 8-bit: sent as a literal with CHARSET UTF-8
    ({"to": "alice@example.test"}, [QUOTES, LUNCH]),
    ({"cc": "carol@"}, [REPORT]),
    ({"bcc": "dave@"}, [REPORT]),
    ({"subject": "quarterly"}, [REPORT]),
    ({"body": "pizza"}, [LUNCH]),
    ({"body": "Grüße"}, [REPORT]),
    ({"text": "numbers"}, [REPORT]),
    ({"header": {"X-Mailer": "Outlook"}}, [REPORT]),
    ({"header": {"X-Mailer": ""}}, [REPORT]),  # the header exists
    ({"messageId": "<bob-1@example.test>"}, [LUNCH]),
    ({"seen": True}, [REPORT]),
    ({"seen": False}, [QUOTES, LUNCH]),
    ({"unseen": True}, [QUOTES, LUNCH]),
    ({"flagged": True}, [REPORT]),
    ({"answered": True}, [LUNCH]),
    ({"answered": False, "seen": False}, [QUOTES]),
    ({"larger": 3000}, [LUNCH]),
    ({"smaller": 3000}, [QUOTES, REPORT]),
    ({"since": "2000-01-01"}, [QUOTES, LUNCH, REPORT]),  # internal date: delivery time
    ({"before": "2000-01-01"}, []),
    ({"since": "2000-01-01T23:59:59+02:00", "from": "bob"}, [LUNCH]),
    ({"subject": 'said "hi" \\ there'}, [QUOTES]),  # quotes and backslash escaped
    ({"subject": 'x" OR ALL "'}, []),  # a quoted string cannot end early
    ({"subject": "nothing matches this"}, []),
]


@pytest.mark.parametrize(("terms", "expected"), FIELD_CASES)
async def test_search_by_each_field(
    searchable: Mailbox, terms: dict[str, Any], expected: list[str]
) -> None:
    assert await subjects(searchable, terms) == expected


async def test_search_by_each_field_on_every_server(server_searchable: Mailbox) -> None:
    """The table above on each server, in one account: every answer that differs is shown."""
    wrong = []
    for terms, expected in FIELD_CASES:
        status, body = await search(server_searchable, terms)
        found = [m["subject"] for m in body["messages"]] if status == 200 else (status, body)
        if found != expected:
            wrong.append((terms, expected, found))
    assert wrong == []


async def test_search_by_uid(server_searchable: Mailbox) -> None:
    searchable = server_searchable
    uids = {m["subject"]: m["uid"] for m in (await searchable.listing())["messages"]}
    assert await subjects(searchable, {"uid": uids[LUNCH]}) == [LUNCH]
    both = f"{uids[REPORT]},{uids[QUOTES]}"
    assert await subjects(searchable, {"uid": both}) == [QUOTES, REPORT]
    status, body = await search(searchable, {"uid": "1:2) OR (ALL"})
    assert status == 400 and body["details"][0]["field"] == "search.uid"


async def test_search_pages_newest_first(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    for n in range(7):
        mailbox.deliver(message(f"match {n}"))
        mailbox.deliver(message(f"other {n}"))
    status, first = await search(mailbox, {"subject": "match"}, pageSize=3)
    assert status == 200
    assert (first["total"], first["pages"]) == (7, 3)
    assert [m["subject"] for m in first["messages"]] == ["match 6", "match 5", "match 4"]
    _, last = await search(mailbox, {"subject": "match"}, pageSize=3, page=2)
    assert [m["subject"] for m in last["messages"]] == ["match 0"]
    _, past = await search(mailbox, {"subject": "match"}, pageSize=3, page=3)
    assert past["messages"] == [] and past["total"] == 7


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"subject": "x\r\nA1 DELETE INBOX"}, "search.subject"),
        ({"from": "x\nA1 LOGOUT"}, "search.from"),
        ({"body": "a\x00b"}, "search.body"),
        ({"header": {"X-Evil\r\nA1 DELETE INBOX": "x"}}, "search.header"),
        ({"header": {"Subject": "x\rA1 LOGOUT"}}, "search.header.Subject"),
        ({"header": {"Bad Name": "x"}}, "search.header"),
        ({"messageId": "<a>\r\nA1 LOGOUT"}, "search.messageId"),
        ({"since": "yesterday"}, "search.since"),
        ({"before": "2024-02-30"}, "search.before"),
        ({"since": "0239-03-09"}, "search.since"),  # Dovecot would answer BAD
        ({"before": 1700000000}, "search.before"),  # ISO 8601 only, not Unix time
        ({"smaller": False}, "search.smaller"),
        ({"uid": "1:*) ALL"}, "search.uid"),
        ({"larger": -1}, "search.larger"),
        ({"seen": "maybe"}, "search.seen"),
        ({"subject": ""}, "search.subject"),
        ({"nosuchfield": "x"}, "search.nosuchfield"),
    ],
)
async def test_bad_terms_are_400_and_never_reach_the_server(
    searchable: Mailbox, terms: dict[str, Any], field: str
) -> None:
    status, body = await search(searchable, terms)
    assert status == 400, body
    assert any(d["field"].startswith(field) for d in body["details"]), body
    sent = await searchable.sent_commands()
    assert not [c for c in sent if any(w in c for w in ("DELETE", "LOGOUT", "SEARCH"))], sent
    assert await subjects(searchable, {}) == [QUOTES, LUNCH, REPORT]  # INBOX still there


async def test_search_terms_travel_quoted_or_as_literals(searchable: Mailbox) -> None:
    assert await subjects(searchable, {"subject": 'x" OR ALL "', "from": "Ärger"}) == []
    sent = await searchable.sent_commands()
    (start,) = [n for n, command in enumerate(sent) if "UID SEARCH" in command]
    # The log shows a command in pieces around its literals: "… FROM {6+}", "{6 bytes}", "…".
    assert "CHARSET UTF-8 FROM {" in sent[start]  # the 8-bit value travels as a literal
    assert sent[start + 1] == "{6 bytes}"
    assert sent[start + 2] == ' SUBJECT "x\\" OR ALL \\""'  # one quoted string, escaped


async def test_search_unknown_folder_is_404(mailbox: Mailbox) -> None:
    response = await mailbox.api.client.post(
        f"{mailbox.base}/search", params={"path": "Nope"}, json={"search": {}}
    )
    assert response.status_code == 404
    missing_body = await mailbox.api.client.post(
        f"{mailbox.base}/search", params={"path": "INBOX"}, json={}
    )
    assert missing_body.status_code == 400
