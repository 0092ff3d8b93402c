"""Threading headers and reply recipients derived from the original's header block."""

from __future__ import annotations

import pytest

from imapapi.mail.references import (
    MAX_REFERENCES,
    Mailbox,
    OriginalHeaders,
    build_references,
    read_original,
    reply_recipients,
    trim_references,
)

HEADER = (
    b"From: =?utf-8?q?Peter_P=C3=B5der?= <peter@example.org>\r\n"
    b"Reply-To: replies@example.org\r\n"
    b'To: me@example.com, "Mari, M." <mari@example.org>\r\n'
    b"Cc: jaan@example.org, ME@Example.com\r\n"
    b"Subject: =?utf-8?q?T=C3=A9l=C3=A9phone?=\r\n"
    b"Message-ID: <orig@example.org>\r\n"
    b"References: <root@example.org>\r\n <mid@example.org>\r\n"
    b"In-Reply-To: <mid@example.org>\r\n"
)
ME = Mailbox("me@example.com")


def addresses(mailboxes: tuple[Mailbox, ...]) -> list[str]:
    return [m.address for m in mailboxes]


def test_read_original_decodes_and_unfolds() -> None:
    original = read_original(HEADER)
    assert original.message_id == "<orig@example.org>"
    assert original.references == ("<root@example.org>", "<mid@example.org>")
    assert original.subject == "Téléphone"
    assert original.sender == (Mailbox("peter@example.org", "Peter Põder"),)
    assert addresses(original.to) == ["me@example.com", "mari@example.org"]
    assert original.to[1].name == "Mari, M."


def test_read_original_survives_garbage() -> None:
    original = read_original(b"From: <<<\r\nTo: ,,,\r\nMessage-ID: \xff\xfe\r\n")
    assert original.sender == () and original.to == ()
    assert read_original(b"") == OriginalHeaders()


@pytest.mark.parametrize(
    ("references", "in_reply_to", "message_id", "expected"),
    [
        ((), (), "<a@x>", ["<a@x>"]),
        (("<r@x>",), (), "<a@x>", ["<r@x>", "<a@x>"]),
        ((), ("<p@x>",), "<a@x>", ["<p@x>", "<a@x>"]),
        ((), ("<p@x>", "<q@x>"), "<a@x>", ["<a@x>"]),  # several parents: no single chain
        (("<r@x>",), (), None, ["<r@x>"]),
        (("<r@x>", "<a@x>"), (), "<a@x>", ["<r@x>", "<a@x>"]),  # a loop is not repeated
    ],
)
def test_build_references(
    references: tuple[str, ...],
    in_reply_to: tuple[str, ...],
    message_id: str | None,
    expected: list[str],
) -> None:
    original = OriginalHeaders(
        message_id=message_id, references=references, in_reply_to=in_reply_to
    )
    assert build_references(original) == expected


def test_long_chains_keep_the_root_and_the_latest() -> None:
    chain = tuple(f"<{i}@x>" for i in range(50))
    result = build_references(OriginalHeaders(message_id="<new@x>", references=chain))
    assert len(result) == MAX_REFERENCES
    assert result[0] == "<0@x>"
    assert result[-2:] == ["<49@x>", "<new@x>"]


@pytest.mark.parametrize(
    ("chain", "limit", "expected"),
    [
        ([], 3, []),
        (["<a@x>", "<b@x>"], 3, ["<a@x>", "<b@x>"]),
        (["<a@x>", "<b@x>", "<a@x>"], 3, ["<a@x>", "<b@x>"]),  # repeated ids sent once
        (["<1@x>", "<2@x>", "<3@x>", "<4@x>"], 3, ["<1@x>", "<3@x>", "<4@x>"]),
    ],
    ids=["empty", "short", "repeated", "root-and-latest"],
)
def test_trim_references(chain: list[str], limit: int, expected: list[str]) -> None:
    assert trim_references(chain, limit) == expected


def test_reply_goes_to_reply_to_and_reply_all_copies_the_rest_but_us() -> None:
    original = read_original(HEADER)
    reply = reply_recipients(original, [ME], reply_all=False)
    assert addresses(reply.to) == ["replies@example.org"] and reply.cc == ()
    everyone = reply_recipients(original, [ME], reply_all=True)
    assert addresses(everyone.to) == ["replies@example.org"]
    # ME@Example.com is us too (case-insensitive), so it is left out.
    assert addresses(everyone.cc) == ["mari@example.org", "jaan@example.org"]


def test_reply_to_our_own_message_goes_to_its_recipients() -> None:
    original = OriginalHeaders(
        sender=(ME,), to=(Mailbox("you@example.org"),), cc=(Mailbox("c@example.org"),)
    )
    reply = reply_recipients(original, [ME], reply_all=True)
    assert addresses(reply.to) == ["you@example.org"]
    assert addresses(reply.cc) == ["c@example.org"]
