"""Gmail's FETCH items (X-GM-MSGID, X-GM-THRID, X-GM-LABELS) from recorded server responses.

hoodiecrow, the Gmail-like test server, serves X-GM-THRID only as the launcher fakes it and
quotes labels its own way, so the shapes real Gmail sends are pinned here: the examples of
Google's "IMAP Extensions" page and lines as Gmail writes them (system labels quoted with an
escaped backslash, user labels in modified UTF-7, RFC 3501 §5.1.3).
"""

from __future__ import annotations

import pytest

from imapapi.imap import parse
from imapapi.imap.reader import Response, ResponseReader
from imapapi.imap.types import FetchResult


def one(raw: bytes) -> Response:
    (response,) = ResponseReader().feed(raw)
    return response


CASES = [
    (
        "google_doc_thrid",
        b"* 1 FETCH (X-GM-THRID 1278455344230334865)\r\n",
        FetchResult(seq=1, gmail_thrid=1278455344230334865),
    ),
    (
        "google_doc_msgid_uid",
        b"* 2 FETCH (X-GM-MSGID 1278455344230334866 UID 5)\r\n",
        FetchResult(seq=2, uid=5, gmail_msgid=1278455344230334866),
    ),
    (
        "google_doc_labels",
        b'* 1 FETCH (X-GM-LABELS (\\Inbox \\Sent Important "Muy Importante"))\r\n',
        FetchResult(seq=1, gmail_labels=("\\Inbox", "\\Sent", "Important", "Muy Importante")),
    ),
    (
        "google_doc_no_labels",
        b"* 3 FETCH (X-GM-LABELS ())\r\n",
        FetchResult(seq=3, gmail_labels=()),
    ),
    (
        "gmail_quoted_system_labels",
        b'* 7 FETCH (X-GM-LABELS ("\\\\Important" "\\\\Inbox" "&AMk-quipe") UID 42)\r\n',
        FetchResult(seq=7, uid=42, gmail_labels=("\\Important", "\\Inbox", "Équipe")),
    ),
    (
        "gmail_sync_line",
        b"* 12 FETCH (X-GM-THRID 1783329513329036543 X-GM-MSGID 1783329513329036543"
        b' X-GM-LABELS ("\\\\Inbox" "\\\\Starred" Work) UID 311 MODSEQ (1234567) FLAGS (\\Seen'
        b" \\Flagged))\r\n",
        FetchResult(
            seq=12,
            uid=311,
            flags=("\\Seen", "\\Flagged"),
            modseq=1234567,
            gmail_labels=("\\Inbox", "\\Starred", "Work"),
            gmail_msgid=1783329513329036543,
            gmail_thrid=1783329513329036543,
        ),
    ),
    (
        "gmail_label_change_push",  # what an IDLEing All Mail connection gets on a label change
        b'* 12 FETCH (X-GM-LABELS ("\\\\Important" Work) UID 311 FLAGS (\\Seen))\r\n',
        FetchResult(seq=12, uid=311, flags=("\\Seen",), gmail_labels=("\\Important", "Work")),
    ),
    (
        "hoodiecrow_line",  # recorded from the test server (tests/servers/hoodiecrow_launcher.js)
        b'* 1 FETCH (UID 1 FLAGS () X-GM-LABELS (\\Inbox "My label" \\Important)'
        b" X-GM-MSGID 1278455344230334866 X-GM-THRID 1278455344230334866)\r\n",
        FetchResult(
            seq=1,
            uid=1,
            flags=(),
            gmail_labels=("\\Inbox", "My label", "\\Important"),
            gmail_msgid=1278455344230334866,
            gmail_thrid=1278455344230334866,
        ),
    ),
    (
        "msgid_over_63_bits",  # X-GM-MSGID is an unsigned 64-bit number
        b"* 1 FETCH (X-GM-MSGID 18446744073709551615)\r\n",
        FetchResult(seq=1, gmail_msgid=18446744073709551615),
    ),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gmail_fetch(raw: bytes, expected: FetchResult) -> None:
    assert parse.parse_fetch(one(raw)) == expected
    assert parse.parse_fetch_generic(one(raw)) == expected
