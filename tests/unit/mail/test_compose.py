"""Composing outgoing messages: MIME structure, encodings, ids, headers, Bcc."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from imapapi.errors import InvalidInputError
from imapapi.mail.compose import (
    Attachment,
    Draft,
    ForwardedMessage,
    compose,
    generate_message_id,
    validate_address,
    validate_header,
    validate_message_id,
)
from imapapi.mail.references import Mailbox

DATE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ME = Mailbox("me@example.com", "Më Myself")
YOU = Mailbox("you@example.org", "Smith, John")


def build(**fields: object) -> tuple[bytes, EmailMessage]:
    values: dict[str, object] = {"sender": ME, "to": (YOU,), "subject": "Hi", "text": "Hello"}
    values.update(fields)
    composed = compose(Draft(**values), date=DATE)  # type: ignore[arg-type]
    parsed = email.message_from_bytes(composed.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return composed.raw, parsed


def structure(part: EmailMessage) -> object:
    if part.get_content_maintype() == "multipart":
        return (part.get_content_type(), [structure(p) for p in part.iter_parts()])  # type: ignore[arg-type]
    return part.get_content_type()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "text/plain"),
        ({"text": None, "html": "<p>x</p>"}, "text/html"),
        ({"html": "<p>x</p>"}, ("multipart/alternative", ["text/plain", "text/html"])),
        (
            {"html": '<img src="cid:a">', "attachments": (Attachment(b"img", "a.png", cid="a"),)},
            (
                "multipart/alternative",
                ["text/plain", ("multipart/related", ["text/html", "image/png"])],
            ),
        ),
        (
            {"attachments": (Attachment(b"%PDF", "a.pdf"),)},
            ("multipart/mixed", ["text/plain", "application/pdf"]),
        ),
        (
            {"text": None, "attachments": (Attachment(b"img", "a.png", cid="a"),)},
            ("multipart/mixed", ["text/plain", "image/png"]),
        ),
        (
            {"forwarded": ForwardedMessage(b"Subject: x\r\n\r\nbody\r\n")},
            ("multipart/mixed", ["text/plain", "message/rfc822"]),
        ),
    ],
    ids=["text", "html", "alternative", "related", "mixed", "cid-without-html", "forward"],
)
def test_structure(fields: dict[str, object], expected: object) -> None:
    _, parsed = build(**fields)
    assert structure(parsed) == expected


def test_headers_are_encoded_and_bcc_stays_out() -> None:
    raw, parsed = build(
        subject="Grüße 東京",
        cc=(Mailbox("cc@example.org", "Андрей, Jr"),),
        bcc=(Mailbox("secret@example.org"),),
        reply_to=(Mailbox("replies@example.com"),),
    )
    assert raw.isascii()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"secret@example.org" not in raw
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Grüße 東京"
    assert parsed["From"].addresses[0].display_name == "Më Myself"
    assert parsed["To"].addresses[0].display_name == "Smith, John"
    assert parsed["Cc"].addresses[0].display_name == "Андрей, Jr"
    assert parsed["Cc"].addresses[0].addr_spec == "cc@example.org"
    assert parsed["Date"].datetime == DATE
    assert parsed["MIME-Version"] == "1.0"


def test_envelope_has_every_recipient_once() -> None:
    composed = compose(
        Draft(
            sender=ME,
            to=(YOU, Mailbox("YOU@example.org")),
            cc=(Mailbox("c@example.org"),),
            bcc=(Mailbox("b@example.org"), Mailbox("c@example.org")),
            text="x",
        ),
        date=DATE,
    )
    assert composed.envelope_from == "me@example.com"
    assert composed.envelope_to == ("you@example.org", "c@example.org", "b@example.org")


def test_attachment_names_use_rfc2231_and_content_is_exact() -> None:
    data = bytes(range(256))
    raw, parsed = build(attachments=(Attachment(data, "résumé très long.bin"),))
    assert b"filename*=utf-8''r%C3%A9sum%C3%A9" in raw
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "résumé très long.bin"
    assert attachment.get_content() == data
    assert attachment.get_content_type() == "application/octet-stream"


def test_forwarded_original_travels_byte_for_byte() -> None:
    original = b"Subject: caf\xc3\xa9\r\nFrom: a@example.com\r\n\r\nbody \xff\r\n"
    raw, _ = build(forwarded=ForwardedMessage(original, "café.eml"))
    assert original in raw
    assert b"Content-Transfer-Encoding: 8bit" in raw


def test_threading_headers_are_never_encoded_words() -> None:
    long_id = "<" + "a" * 150 + "@example.com>"
    refs = (*(f"<{i}.some-long-thread-id@example.com>" for i in range(6)), long_id)
    raw, parsed = build(in_reply_to=long_id, references=(*refs, "<bad id>", "<ü@x>"))
    head = raw.split(b"\r\n\r\n")[0].decode()
    threading = head.split("In-Reply-To:", 1)[1].split("\r\nMIME-Version")[0]
    assert "=?" not in threading
    assert str(parsed["In-Reply-To"]) == long_id
    assert str(parsed["References"]).split() == list(refs)
    header_lines = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert all(len(line) <= 998 for line in header_lines)


def test_custom_headers_and_message_id_as_given() -> None:
    raw, parsed = build(
        message_id="<given.123@example.com>",
        headers=(("X-Auto-Response-Suppress", "OOF"), ("X-Note", "naïve")),
    )
    assert b"\r\nMessage-ID: <given.123@example.com>\r\n" in raw
    assert b"\r\nX-Auto-Response-Suppress: OOF\r\n" in raw
    assert parsed["X-Note"] == "naïve"


def test_generated_message_id_is_on_the_sender_domain() -> None:
    _, parsed = build(sender=Mailbox("me@xn--bcher-kva.example"))
    assert parsed["Message-ID"].endswith("@xn--bcher-kva.example>")
    assert generate_message_id("Bücher.example").endswith("@xn--bcher-kva.example>")
    assert validate_message_id(generate_message_id("example.com")).endswith("@example.com>")
    assert generate_message_id("example.com") != generate_message_id("example.com")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("<a@b>", True),
        ("<a.b.c@example.com>", True),
        ("<x+y=z@[127.0.0.1]>", True),
        ("a@b", False),
        ("<a>", False),
        ("<a@b@c>", False),
        ("<a b@c>", False),
        ("<a..b@c>", False),
        ("<.a@c>", False),
        ("<a@b>\r\nBcc: x@y", False),
        ("<" + "a" * 300 + "@b>", False),
    ],
)
def test_validate_message_id(value: str, ok: bool) -> None:
    if ok:
        assert validate_message_id(value) == value
    else:
        with pytest.raises(InvalidInputError) as info:
            validate_message_id(value)
        assert info.value.field == "messageId"


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("X-Ok", "fine", None),
        ("X-Ok", "tab\tinside", None),
        ("X-Bad", "a\r\nBcc: x@example.com", "CR, LF"),
        ("X-Bad", "a\nb", "CR, LF"),
        ("Bad Name", "x", "header name"),
        ("Bad:Name", "x", "header name"),
        ("Ünï", "x", "header name"),
        ("", "x", "header name"),
        ("Subject", "x", "set by imapapi; use the `subject` field"),
        ("bcc", "x", "set by imapapi; use the `bcc` field"),
        ("In-Reply-To", "<a@x>", "set by imapapi; use the `inReplyTo` field"),
        ("references", "<a@x>", "set by imapapi; use the `references` field"),
        ("Reply-To", "a@example.com", "set by imapapi; use the `replyTo` field"),
        ("Content-Type", "text/html", "set by imapapi from the message it builds"),
        ("Date", "Mon, 1 Jan 2024 00:00:00 +0000", "set by imapapi from the message it builds"),
        ("X-Long", "x" * 20000, "at most"),
    ],
)
def test_validate_header(name: str, value: str, reason: str | None) -> None:
    if reason is None:
        assert validate_header(name, value) == (name, value)
        return
    with pytest.raises(InvalidInputError) as info:
        validate_header(name, value)
    assert reason in info.value.reason
    assert info.value.field == f"headers.{name}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a@example.com", "a@example.com"),
        ("Andris@Bücher.de", "Andris@xn--bcher-kva.de"),
        ("no-at-sign", None),
        ("a@b", None),
        ("ünï@example.com", None),
        ("a@example.com\r\nBcc: x@y.com", None),
    ],
)
def test_validate_address(value: str, expected: str | None) -> None:
    if expected is not None:
        assert validate_address(value, "to") == expected
    else:
        with pytest.raises(InvalidInputError):
            validate_address(value, "to")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": ()}, "to"),
        ({"subject": "a\r\nb"}, "subject"),
        ({"attachments": (Attachment(b"", "a", content_type="multipart/mixed"),)}, "contentType"),
        ({"attachments": (Attachment(b"", "a", content_type="nonsense"),)}, "contentType"),
        ({"attachments": (Attachment(b"", "a", cid="has space"),)}, "cid"),
        ({"attachments": (Attachment(b"", "a\nb"),)}, "filename"),
        ({"attachments": (Attachment(b"", "a", disposition="weird"),)}, "contentDisposition"),
        ({"to": (Mailbox("ü@bücher.example"),)}, "to"),
        ({"sender": Mailbox("me@example.com", "Evil\r\nBcc: x@y")}, "from"),
    ],
)
def test_refused_drafts_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        build(**fields)
    assert field in info.value.field


def test_content_type_is_guessed_from_the_file_name() -> None:
    _, parsed = build(attachments=(Attachment(b"%PDF", "report.pdf"),))
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
