"""mail/threads.py: the thread root from threading headers, and the threadId forms."""

from __future__ import annotations

import pytest

from imapapi.errors import InvalidInputError, UnprocessableError
from imapapi.mail.ids import encode_message_id
from imapapi.mail.threads import (
    MAX_ROOT_OCTETS,
    ThreadKey,
    headers_thread_id,
    parse_thread_id,
    root_thread_id,
    thread_id,
    thread_root,
)


@pytest.mark.parametrize(
    ("message_id", "in_reply_to", "references", "root"),
    [
        pytest.param("<own@x>", None, None, "<own@x>", id="new-message-is-its-own-root"),
        pytest.param("<own@x>", "<parent@x>", None, "<parent@x>", id="in-reply-to"),
        pytest.param("<own@x>", "<parent@x>", "<root@x> <parent@x>", "<root@x>", id="references"),
        pytest.param("<own@x>", None, "<root@x>\r\n <mid@x>", "<root@x>", id="folded"),
        pytest.param("<own@x>", "<p@x>", "garbage <> ,", "<p@x>", id="references-without-ids"),
        pytest.param("<own@x>", "Your message of Monday", None, "<own@x>", id="in-reply-to-text"),
        pytest.param("<own@x>", None, "(comment) root@x", "<root@x>", id="bare-id"),
        pytest.param("own-token", None, None, "<own-token>", id="message-id-without-brackets"),
        pytest.param(None, None, None, None, id="nothing"),
        pytest.param("", "", "", None, id="all-empty"),
    ],
)
def test_thread_root(
    message_id: str | None, in_reply_to: str | None, references: str | None, root: str | None
) -> None:
    assert thread_root(message_id, in_reply_to, references) == root


def test_a_message_and_its_replies_share_the_id() -> None:
    first = thread_id("<a@x>", None, None, index=1, uid=1)
    reply = thread_id("<b@x>", "<a@x>", ["<a@x>"], index=2, uid=7)
    reply_without_references = thread_id("<c@x>", "<a@x>", None, index=2, uid=8)
    reply_to_reply = thread_id("<d@x>", "<b@x>", "<a@x> <b@x>", index=3, uid=1)
    other = thread_id("<e@x>", None, "<z@x> <a@x>", index=2, uid=9)
    assert first == reply == reply_without_references == reply_to_reply == "TYUB4"
    assert other != first


def test_a_message_without_any_id_is_a_thread_of_its_own() -> None:
    value = thread_id(None, None, None, index=3, uid=42)
    assert value == "M" + encode_message_id(3, 42)
    assert parse_thread_id(value) == ThreadKey(message=(3, 42))


def test_headers_give_the_same_id_as_the_envelope_values() -> None:
    headers = {"message-id": ["<d@x>"], "in-reply-to": ["<b@x>"], "references": ["<a@x> <b@x>"]}
    assert headers_thread_id(headers, index=1, uid=1) == root_thread_id("<a@x>")
    assert headers_thread_id({}, index=1, uid=2) == "M" + encode_message_id(1, 2)


@pytest.mark.parametrize(
    "root",
    [
        "<proposal-4711@crm.example.com>",
        "<CAKx=a+b/c_d-e@mail.gmail.com>",
        '<"quoted.local"@example.com>',
        "<grüße@example.de>",
        "<" + "x" * MAX_ROOT_OCTETS + "@long.example>",
    ],
)
def test_root_ids_read_back(root: str) -> None:
    value = root_thread_id(root)
    assert value.startswith("T")
    assert value.replace("-", "").replace("_", "").isalnum()  # URL-safe as it is
    key = parse_thread_id(value)
    assert key.root is not None
    assert root[1:-1].startswith(key.root)
    assert len(key.root.encode()) <= MAX_ROOT_OCTETS


def test_long_roots_are_named_by_their_start() -> None:
    base = "x" * MAX_ROOT_OCTETS
    assert root_thread_id(f"<{base}@a>") == root_thread_id(f"<{base}@b>")
    # A character cut in two by the limit is dropped whole.
    cut = parse_thread_id(root_thread_id("<" + "x" * (MAX_ROOT_OCTETS - 1) + "ü@a>"))
    assert cut.root == "x" * (MAX_ROOT_OCTETS - 1)


def test_gmail_ids() -> None:
    assert parse_thread_id("1646287284547898000") == ThreadKey(gmail=1646287284547898000)


# 400 when the form is wrong; 422 (UnprocessableError) when it is right but names nothing.
WRONG_FORM, NAMES_NOTHING = 400, 422


@pytest.mark.parametrize(
    ("value", "status"),
    [
        pytest.param("", WRONG_FORM, id="empty"),
        pytest.param("0", WRONG_FORM, id="gmail-zero"),
        pytest.param("X" + "YUB4", WRONG_FORM, id="unknown-prefix"),
        pytest.param("T", WRONG_FORM, id="root-empty"),
        pytest.param("TYUB4=", WRONG_FORM, id="padding"),
        pytest.param("TYU B4", WRONG_FORM, id="space"),
        pytest.param(str(2**64), NAMES_NOTHING, id="gmail-over-64-bits"),
        pytest.param("TYUB4Y", NAMES_NOTHING, id="impossible-length"),
        pytest.param("TYUB", NAMES_NOTHING, id="not-canonical"),  # YUA is "a@"
        pytest.param("T_w", NAMES_NOTHING, id="not-utf8"),
        pytest.param("T" + "YSBi", NAMES_NOTHING, id="root-with-space"),
        pytest.param("T" + "PGFAeD4", NAMES_NOTHING, id="root-with-brackets"),
        pytest.param("MAAAAAQAAAe", NAMES_NOTHING, id="message-id-too-short"),
        pytest.param("MAAAAAQAAAAA", NAMES_NOTHING, id="message-uid-zero"),
    ],
)
def test_malformed_ids_are_refused_naming_the_field(value: str, status: int) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_thread_id(value, field="search.threadId")
    assert caught.value.field == "search.threadId"
    assert isinstance(caught.value, UnprocessableError) == (status == NAMES_NOTHING)
