"""NAMESPACE parsing (RFC 2342) and where a new folder goes (operations/mailboxes.py)."""

from __future__ import annotations

import pytest

from imapapi.imap import parse
from imapapi.imap.reader import Response, ResponseReader
from imapapi.imap.types import Namespace, Namespaces
from imapapi.operations.mailboxes import personal_path

COURIER = Namespaces(
    personal=(Namespace("INBOX.", "."),),
    shared=(Namespace("#shared.", "."), Namespace("shared.", ".")),
)
DOVECOT = Namespaces(personal=(Namespace("", "/"),))


def one(raw: bytes) -> Response:
    (response,) = ResponseReader().feed(raw)
    return response


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'* NAMESPACE (("INBOX." ".")) NIL (("#shared." ".")("shared." "."))\r\n', COURIER),
        (b'* NAMESPACE (("" "/")) NIL NIL\r\n', DOVECOT),
        (
            b'* NAMESPACE (("" "/")("&AMQ-rzte/" "/" "X-PARAM" ("a"))) (("~" NIL)) NIL\r\n',
            Namespaces(
                personal=(Namespace("", "/"), Namespace("Ärzte/", "/")),
                other_users=(Namespace("~", None),),
            ),
        ),
    ],
    ids=["courier", "dovecot", "extensions-and-flat"],
)
def test_parse_namespace(raw: bytes, expected: Namespaces) -> None:
    assert parse.parse_namespace(one(raw)) == expected


@pytest.mark.parametrize(
    ("path", "namespaces", "expected"),
    [
        ("Projekte", COURIER, "INBOX.Projekte"),
        ("Projekte.2024", COURIER, "INBOX.Projekte.2024"),
        ("INBOX.Projekte", COURIER, "INBOX.Projekte"),
        ("inbox.Projekte", COURIER, "inbox.Projekte"),  # INBOX is case-insensitive
        ("INBOX", COURIER, "INBOX"),
        ("INBOXEN", COURIER, "INBOX.INBOXEN"),
        ("shared.Team", COURIER, "shared.Team"),
        ("Projekte", DOVECOT, "Projekte"),
        ("Projekte/2024", DOVECOT, "Projekte/2024"),
    ],
)
def test_personal_path(path: str, namespaces: Namespaces, expected: str) -> None:
    assert personal_path(path, namespaces) == expected
