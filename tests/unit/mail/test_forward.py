"""Forwarding: attached as message/rfc822 under a safe name, or quoted inline with files."""

from __future__ import annotations

from email.message import EmailMessage

from imapapi.mail.forward import SEPARATOR, attached, inline
from imapapi.mail.references import read_original


def original(*, html: bool = True) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Peter <peter@example.org>"
    msg["To"] = "me@example.com"
    msg["Subject"] = 'Re: Plans / "v2"'
    msg["Date"] = "Mon, 07 Oct 2019 06:05:23 +0000"
    msg.set_content("Original text <b>\n")
    if html:
        msg.add_alternative("<p>Original <i>html</i></p>", subtype="html")
        msg.get_payload()[1].add_related(b"IMG", "image", "png", cid="<logo@x>")  # type: ignore[index,union-attr]
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="plan.pdf")
    return msg.as_bytes()


def test_attached_is_named_after_the_subject_without_unsafe_characters() -> None:
    raw = original()
    forwarded = attached(raw, read_original(raw))
    assert forwarded.raw == raw
    assert forwarded.filename == "Plans v2.eml"


def test_inline_quotes_headers_and_bodies_and_carries_the_files() -> None:
    raw = original()
    result = inline(raw, read_original(raw), "See below", None)
    assert result.text is not None
    assert result.text.startswith("See below\n\n" + SEPARATOR)
    assert "From: Peter <peter@example.org>" in result.text
    assert "Original text <b>" in result.text
    assert result.html is not None
    assert "<p>See below</p>" in result.html
    assert "<p>Original <i>html</i></p>" in result.html
    assert "Peter &lt;peter@example.org&gt;" in result.html
    files = {(a.filename, a.content_type, a.cid) for a in result.attachments}
    assert files == {(None, "image/png", "<logo@x>"), ("plan.pdf", "application/pdf", None)}


def test_inline_of_a_plain_original_gives_no_html_unless_asked() -> None:
    raw = original(html=False)
    result = inline(raw, read_original(raw), None, None)
    assert result.html is None
    assert result.text is not None and result.text.startswith(SEPARATOR)
    with_html = inline(raw, read_original(raw), None, "<b>mine</b>")
    assert with_html.html is not None and "<pre>Original text &lt;b&gt;" in with_html.html
