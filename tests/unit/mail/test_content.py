"""mail/content.py: finding parts by number and the headers a download is served with."""

from __future__ import annotations

import pytest

from imapapi.imap.types import BodyPart
from imapapi.mail.content import content_disposition, content_type_header, find_part
from tests.unit.mail.structures import leaf, multi

TREE = multi(
    "TEXT",
    "mixed",
    multi("1", "alternative", leaf("1.1", "text/plain"), leaf("1.2", "text/html")),
    leaf("2", "application/pdf"),
    BodyPart(
        part="3",
        type="message",
        subtype="rfc822",
        children=(multi("3.TEXT", "mixed", leaf("3.1", "text/plain"), leaf("3.2", "image/png")),),
    ),
)


@pytest.mark.parametrize(
    ("number", "content_type"),
    [
        ("1.1", "text/plain"),
        ("1.2", "text/html"),
        ("2", "application/pdf"),
        ("3", "message/rfc822"),
        ("3.2", "image/png"),
        ("1", None),  # a multipart is no downloadable part
        ("4", None),
        ("TEXT", None),
    ],
)
def test_find_part(number: str, content_type: str | None) -> None:
    part = find_part(TREE, number)
    assert (part.content_type if part else None) == content_type


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (leaf("1", "image/png"), "image/png"),
        (
            leaf("1", "text/plain", params=(("charset", "iso-8859-1"),)),
            "text/plain; charset=iso-8859-1",
        ),
        (leaf("1", "text/plain", params=(("charset", 'x"\r\nSet-Cookie: a'),)), "text/plain"),
        (leaf("1", "image/png", params=(("charset", "utf-8"),)), "image/png"),
        (BodyPart(part="1", type="te xt", subtype="html"), "application/octet-stream"),
    ],
)
def test_content_type_header(part: BodyPart, expected: str) -> None:
    assert content_type_header(part) == expected


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        (None, "attachment"),
        ("", "attachment"),
        ("report.pdf", 'attachment; filename="report.pdf"'),
        (
            "Übersicht 日本.txt",
            'attachment; filename="_bersicht __.txt"; '
            "filename*=UTF-8''%C3%9Cbersicht%20%E6%97%A5%E6%9C%AC.txt",
        ),
        (
            'a"b\\c;d%.txt',
            "attachment; filename=\"a_b_c_d_.txt\"; filename*=UTF-8''a%22b_c%3Bd%25.txt",
        ),
        ("../../etc/passwd", 'attachment; filename="_.._etc_passwd"'),
        ("line\r\nbreak.txt", 'attachment; filename="line__break.txt"'),
        ("...", 'attachment; filename="attachment"'),
    ],
)
def test_content_disposition(filename: str | None, expected: str) -> None:
    assert content_disposition(filename) == expected
