"""Forwarding: the original attached as message/rfc822, or quoted inline with its files.

Attached (the default) keeps the original intact, headers and all (RFC 2046 §5.2.1). Inline
mode quotes it under a "Forwarded message" block the way Gmail and Thunderbird do, and carries
its attachments over so nothing is lost.
"""

from __future__ import annotations

import email
import html as html_lib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message

from imapapi.errors import InvalidInputError
from imapapi.mail.compose import Attachment, ForwardedMessage, normalize_cid
from imapapi.mail.references import Mailbox, OriginalHeaders
from imapapi.mail.subjects import base_subject

SEPARATOR = "---------- Forwarded message ---------"
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True, slots=True)
class InlineForward:
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]


def attached(raw: bytes, original: OriginalHeaders) -> ForwardedMessage:
    """The original as a message/rfc822 attachment named after its subject."""
    name = " ".join(_UNSAFE_FILENAME.sub(" ", base_subject(original.subject)).split())[:100]
    return ForwardedMessage(raw=raw, filename=f"{name.strip() or 'forwarded message'}.eml")


def _people(mailboxes: tuple[Mailbox, ...]) -> str:
    return ", ".join(f"{m.name} <{m.address}>" if m.name else m.address for m in mailboxes)


def _header_lines(original: OriginalHeaders) -> list[tuple[str, str]]:
    lines = [("From", _people(original.sender)), ("Date", original.date or "")]
    lines += [("Subject", original.subject or ""), ("To", _people(original.to))]
    if original.cc:
        lines.append(("Cc", _people(original.cc)))
    return [(k, v) for k, v in lines if v]


def inline(
    raw: bytes, original: OriginalHeaders, text: str | None, html: str | None
) -> InlineForward:
    """The caller's text/html followed by the quoted original; the original's files attached."""
    parsed = _parse(raw)
    plain_part = parsed.get_body(("plain",))
    html_part = parsed.get_body(("html",))
    original_text = _content(plain_part)
    original_html = _content(html_part)
    headers = _header_lines(original)

    block = "\n".join([SEPARATOR, *(f"{k}: {v}" for k, v in headers)])
    new_text = "\n\n".join(p for p in (text, block, original_text) if p is not None)

    new_html: str | None = None
    if html is not None or original_html is not None:
        mine = html if html is not None else _paragraphs(text or "")
        head = "<br>".join(
            [html_lib.escape(SEPARATOR)]
            + [f"{html_lib.escape(k)}: {html_lib.escape(v)}" for k, v in headers]
        )
        theirs = (
            original_html
            if original_html is not None
            else f"<pre>{html_lib.escape(original_text or '')}</pre>"
        )
        new_html = f'{mine}<br><div class="forwarded">{head}<br><br>{theirs}</div>'

    files = []
    for part in parsed.walk():
        if part.is_multipart() or part is plain_part or part is html_part:
            continue
        files.append(_as_attachment(part))
    return InlineForward(text=new_text, html=new_html, attachments=tuple(files))


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _content(part: Message | None) -> str | None:
    if part is None:
        return None
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError, AttributeError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    return content if isinstance(content, str) else None


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html_lib.escape(p)}</p>" for p in text.split("\n\n")) if text else ""


def _as_attachment(part: Message) -> Attachment:
    payload = part.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            content = inner[0].as_bytes(policy=policy.default.clone(linesep="\r\n"))
    cid: str | None = None
    if part.get("Content-ID"):
        try:
            cid = normalize_cid(str(part.get("Content-ID")), "cid")
        except InvalidInputError:
            cid = None  # an unusable id in someone else's message: attach the file without it
    filename = part.get_filename()
    if filename is not None:
        filename = _UNSAFE_FILENAME.sub(" ", filename).strip() or None
    return Attachment(
        content=content,
        filename=filename,
        content_type=part.get_content_type(),
        disposition="inline" if cid else "attachment",
        cid=cid,
    )
