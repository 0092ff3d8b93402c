"""The folders a Message-ID lookup searches, in order (`operations/lookup.py`)."""

from __future__ import annotations

import pytest

from imapapi.imap import MailboxInfo
from imapapi.operations.lookup import search_order


def box(path: str, *flags: str, delimiter: str = "/") -> MailboxInfo:
    return MailboxInfo(path=path, delimiter=delimiter, flags=flags)


DOVECOT = [
    box("Trash", "\\Trash"),
    box("Archive", "\\Archive"),
    box("Junk", "\\Junk"),
    box("Sent", "\\Sent"),
    box("Projects"),
    box("Shared", "\\Noselect"),
    box("INBOX"),
]
GMAIL = [
    box("INBOX"),
    box("[Gmail]", "\\Noselect"),
    box("[Gmail]/All Mail", "\\All"),
    box("[Gmail]/Sent Mail", "\\Sent"),
    box("[Gmail]/Trash", "\\Trash"),
]


@pytest.mark.parametrize(
    ("listed", "gmail", "expected"),
    [
        (DOVECOT, False, ["INBOX", "Sent", "Archive", "Projects", "Junk", "Trash"]),
        # Sent found by its name where the server sends no special-use flags.
        (
            [
                box("INBOX.Trash", delimiter="."),
                box("INBOX.Sent Items", delimiter="."),
                box("INBOX"),
            ],
            False,
            ["INBOX", "INBOX.Sent Items", "INBOX.Trash"],
        ),
        (GMAIL, True, ["[Gmail]/All Mail"]),
        # X-GM-EXT-1 without an \All folder (hidden from IMAP): every folder instead.
        (
            [m for m in GMAIL if m.path != "[Gmail]/All Mail"],
            True,
            ["INBOX", "[Gmail]/Sent Mail", "[Gmail]/Trash"],
        ),
    ],
    ids=["dovecot", "by-name", "gmail-all-mail", "gmail-without-all-mail"],
)
def test_search_order(listed: list[MailboxInfo], gmail: bool, expected: list[str]) -> None:
    assert search_order(listed, gmail=gmail) == expected
