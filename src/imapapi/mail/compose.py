"""Build an outgoing message with the standard library `email` package (pure: values in, bytes
out).

Structure (RFC 2046 §5.1, RFC 2387), from the inside out:

    text/plain + text/html                 -> multipart/alternative (plain first: §5.1.4 puts
                                              the preferred, richest version last)
    html + attachments with a Content-ID   -> multipart/related around the html only, so a
                                              client showing the plain version shows no images
    anything + other attachments/forward   -> multipart/mixed

Bodies are UTF-8, sent 7-bit clean (quoted-printable or base64, RFC 2045 §6) so no 8BITMIME is
needed; header text outside US-ASCII becomes RFC 2047 encoded words and attachment names RFC 2231
parameters (both done by `policy.default`). Bcc recipients are in the envelope only: the message
bytes never name them (RFC 5322 §3.6.3 allows either; a copy in Sent must not leak them either).
Lines end in CRLF (RFC 5322 §2.1), as they travel over SMTP and IMAP APPEND.
"""

from __future__ import annotations

import mimetypes
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, formataddr
from io import BytesIO

from email_validator import EmailNotValidError, validate_email

from imapapi.errors import InvalidInputError
from imapapi.mail.references import Mailbox, dedupe

# policy.default with CRLF and 7-bit transfer encodings chosen for non-ASCII text. Headers set
# with `msg[name] = value` become header objects and are folded (and RFC 2047 encoded) by their
# class; refold_source="none" applies only to values set raw (`set_raw`), which we use for the
# threading headers: an unstructured header longer than a line would otherwise be turned into
# encoded words, and a Message-ID inside an encoded word no longer threads.
POLICY = policy.default.clone(cte_type="7bit", linesep="\r\n", refold_source="none")

# RFC 5322 §3.2.3 atext, and §3.6.4 msg-id = "<" id-left "@" id-right ">" where id-left is a
# dot-atom-text and id-right a dot-atom-text or a no-fold-literal ("[" *dtext "]").
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
MSG_ID_PATTERN = rf"<{_DOT_ATOM}@(?:{_DOT_ATOM}|\[[!-Z^-~]*\])>"
_MSG_ID = re.compile(MSG_ID_PATTERN)
# Not in RFC 5322, but longer ids get truncated or refused by real systems (and every one of our
# replies carries them in References).
MAX_MESSAGE_ID = 255
# What may go out raw in In-Reply-To / References: "<" visible ASCII ">", under a line's length.
_THREAD_ID = re.compile(r"<[!-;=?-~]{1,900}>")
# RFC 5322 §3.6.8: field-name = 1*ftext, printable US-ASCII except ":". Lines are limited to
# 998 octets (§2.1.1), so the name has to fit in one with room for a value.
_FIELD_NAME = re.compile(r"[!-9;-~]{1,76}")
MAX_HEADER_VALUE = 16 * 1024
# Headers that the message fields set or that describe the MIME structure we build: a custom
# header with one of these names would contradict them. Lowercase.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "content-id",
    }
)
# The submit field that sets each reserved header; the others follow from the body and the
# attachments (MIME) or the time of sending (Date).
_FIELD_OF_HEADER = {
    "from": "from",
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "reply-to": "replyTo",
    "subject": "subject",
    "message-id": "messageId",
    "in-reply-to": "inReplyTo",
    "references": "references",
}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters except TAB
_MIME_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # RFC 2045 §5.1 token (minus what RFC 6838 forbids)
_CONTENT_TYPE = re.compile(rf"\s*({_MIME_NAME})/({_MIME_NAME})\s*(?:;.*)?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to attach. `cid` (without angle brackets or with) makes it referable from the html
    as `cid:...`; `disposition` defaults to inline when there is a cid, attachment otherwise."""

    content: bytes
    filename: str | None = None
    content_type: str | None = None
    disposition: str | None = None
    cid: str | None = None


@dataclass(frozen=True, slots=True)
class ForwardedMessage:
    """An original message attached whole as message/rfc822 (RFC 2046 §5.2.1)."""

    raw: bytes
    filename: str = "forwarded message.eml"


@dataclass(frozen=True, slots=True)
class Draft:
    """Everything that goes into one message; addresses are already validated."""

    sender: Mailbox
    to: tuple[Mailbox, ...] = ()
    cc: tuple[Mailbox, ...] = ()
    bcc: tuple[Mailbox, ...] = ()
    reply_to: tuple[Mailbox, ...] = ()
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    forwarded: ForwardedMessage | None = None


@dataclass(frozen=True, slots=True)
class Composed:
    """The message as sent: `raw` never names Bcc recipients; `envelope_to` includes them."""

    raw: bytes
    message_id: str
    envelope_from: str
    envelope_to: tuple[str, ...]


# --- validation --------------------------------------------------------------------------------


def validate_address(value: str, field: str) -> str:
    """An addr-spec checked by email-validator; IDN domains become their ASCII (A-label) form.

    Non-ASCII local parts are refused: they need SMTPUTF8 (RFC 6531), which we do not negotiate.
    """
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidInputError(field, f"is not a valid email address: {exc}") from exc
    return str(result.ascii_email)


def validate_display_name(value: str, field: str) -> str:
    if _CONTROL.search(value):
        raise InvalidInputError(field, "must not contain control characters (CR, LF, ...)")
    return value.strip()


def validate_message_id(value: str, field: str = "messageId") -> str:
    """A Message-ID exactly as RFC 5322 §3.6.4 spells one: `<left@right>`, no spaces."""
    candidate = value.strip()
    if len(candidate) > MAX_MESSAGE_ID:
        raise InvalidInputError(field, f"must be at most {MAX_MESSAGE_ID} characters")
    if not _MSG_ID.fullmatch(candidate):
        raise InvalidInputError(
            field, "must be an RFC 5322 message id such as <unique-part@example.com>"
        )
    return candidate


def generate_message_id(domain: str) -> str:
    """A new Message-ID on the sender's domain (RFC 5322 §3.6.4: unique, right side a domain
    the generator controls). A random UUID on the left makes collisions practically nil."""
    right = domain.strip().lower() or "localhost"
    try:
        right = right.encode("idna").decode("ascii")
    except UnicodeError:
        right = "localhost"
    message_id = f"<{uuid.uuid4().hex}@{right}>"
    if not _MSG_ID.fullmatch(message_id):
        message_id = f"<{uuid.uuid4().hex}@localhost>"
    return message_id


def validate_header(name: str, value: str, field: str = "headers") -> tuple[str, str]:
    """A custom header: RFC 5322 field name, a value without CR/LF, not one we set ourselves."""
    where = f"{field}.{name}"
    if not _FIELD_NAME.fullmatch(name):
        raise InvalidInputError(
            where, "is not a valid header name (printable ASCII without ':' or spaces)"
        )
    if name.lower() in RESERVED_HEADERS:
        instead = _FIELD_OF_HEADER.get(name.lower())
        raise InvalidInputError(
            where,
            f"is set by imapapi; use the `{instead}` field instead"
            if instead
            else "is set by imapapi from the message it builds",
        )
    if _CONTROL.search(value):
        # CR or LF would end the header and start another (header injection).
        raise InvalidInputError(where, "must not contain CR, LF or other control characters")
    if len(value) > MAX_HEADER_VALUE:
        raise InvalidInputError(where, f"must be at most {MAX_HEADER_VALUE} characters")
    header = POLICY.header_factory(name, value)
    # A structured header (e.g. Sender, Resent-To) that its parser cannot read.
    defects = [d for d in header.defects if "Invalid" in type(d).__name__]
    if defects:
        raise InvalidInputError(where, f"is not a valid value for this header: {defects[0]}")
    return name, value


def normalize_cid(value: str, field: str) -> str:
    """A Content-ID as `<id>` (RFC 2045 §7 uses the msg-id syntax). Spaces and tabs around it
    are dropped; the API schema states the same rule (`CID_PATTERN` in api/schemas/submit.py)."""
    inner = value.strip(" \t").removeprefix("<").removesuffix(">")
    if not inner or _CONTROL.search(inner) or any(c in inner for c in " <>\t"):
        raise InvalidInputError(field, "must be a content id without spaces or angle brackets")
    return f"<{inner}>"


def split_content_type(value: str | None, filename: str | None, field: str) -> tuple[str, str]:
    """(maintype, subtype) of an attachment: given, else guessed from the file name."""
    if not value:
        guessed = mimetypes.guess_type(filename or "", strict=False)[0] if filename else None
        value = guessed or "application/octet-stream"
    match = _CONTENT_TYPE.fullmatch(value)
    if match is None or _CONTROL.search(value):
        raise InvalidInputError(field, "must be a MIME type such as application/pdf")
    maintype, subtype = match.group(1).lower(), match.group(2).lower()
    if maintype == "multipart":
        raise InvalidInputError(field, "multipart types cannot be attached as a file")
    return maintype, subtype


# --- building ----------------------------------------------------------------------------------


def compose(draft: Draft, *, date: datetime) -> Composed:
    """The message bytes of `draft`, with Date `date` (timezone-aware)."""
    message_id = (
        validate_message_id(draft.message_id)
        if draft.message_id
        else generate_message_id(draft.sender.address.rpartition("@")[2])
    )
    recipients = dedupe([*draft.to, *draft.cc, *draft.bcc])
    if not recipients:
        raise InvalidInputError("to", "at least one recipient (to, cc or bcc) is needed")
    custom = [validate_header(name, value) for name, value in draft.headers]
    for field, mailboxes in (
        ("from", (draft.sender,)),
        ("to", draft.to),
        ("cc", draft.cc),
        ("bcc", draft.bcc),
        ("replyTo", draft.reply_to),
    ):
        _check_mailboxes(field, mailboxes)

    message = EmailMessage(policy=POLICY)
    message["Date"] = format_datetime(date)
    message["From"] = _addresses([draft.sender])
    if draft.reply_to:
        message["Reply-To"] = _addresses(draft.reply_to)
    if draft.to:
        message["To"] = _addresses(draft.to)
    if draft.cc:
        message["Cc"] = _addresses(draft.cc)
    if draft.subject is not None:
        if _CONTROL.search(draft.subject):
            raise InvalidInputError("subject", "must not contain CR, LF or control characters")
        message["Subject"] = draft.subject
    message["Message-ID"] = message_id
    in_reply_to = _threading_ids([draft.in_reply_to] if draft.in_reply_to else [])
    if in_reply_to:
        message.set_raw("In-Reply-To", in_reply_to[0])
    references = _threading_ids(draft.references)
    if references:
        message.set_raw("References", _fold_ids(references))
    for name, value in custom:
        message[name] = value
    message["MIME-Version"] = "1.0"
    _adopt(message, _body(draft))

    buffer = BytesIO()
    _Generator(buffer, mangle_from_=False, policy=POLICY).flatten(message)
    raw = buffer.getvalue()
    return Composed(
        raw=raw,
        message_id=message_id,
        envelope_from=draft.sender.address,
        envelope_to=tuple(m.address for m in recipients),
    )


def _check_mailboxes(field: str, mailboxes: Iterable[Mailbox]) -> None:
    # Callers validate with validate_address; this guards the invariants the header writer
    # relies on: ASCII addr-specs (no SMTPUTF8) and nothing that could end a header line.
    for i, mailbox in enumerate(mailboxes):
        where = f"{field}.{i}" if field != "from" else field
        if (
            not mailbox.address.isascii()
            or _CONTROL.search(mailbox.address)
            or ("@" not in mailbox.address)
        ):
            raise InvalidInputError(f"{where}.address", "must be a validated ASCII address")
        if _CONTROL.search(mailbox.name):
            raise InvalidInputError(f"{where}.name", "must not contain control characters")


def _addresses(mailboxes: Iterable[Mailbox]) -> str:
    # formataddr quotes names with specials and RFC 2047-encodes non-ASCII ones. Strings rather
    # than headerregistry.Address objects: CPython 3.11 folds an Address whose encoded name holds
    # a comma into `<"user@host">` (a broken address).
    return ", ".join(formataddr((m.name, m.address), charset="utf-8") for m in mailboxes)


def _threading_ids(ids: Iterable[str]) -> list[str]:
    # Ids come from the original's headers as parse_msgid_list read them: no spaces or angle
    # brackets inside, but possibly 8-bit text or absurd lengths, which cannot go out raw.
    return [i for i in ids if _THREAD_ID.fullmatch(i)]


def _fold_ids(ids: Sequence[str]) -> str:
    """Ids separated by folding whitespace, lines kept under 78 characters where the ids allow
    (RFC 5322 §2.1.1); an id is never split."""
    lines: list[str] = []
    line = ""
    for msgid in ids:
        if line and len(line) + 1 + len(msgid) > 76 - len("References: ") * (not lines):
            lines.append(line)
            line = msgid
        else:
            line = f"{line} {msgid}" if line else msgid
    lines.append(line)
    return "\n ".join(lines)


def _body(draft: Draft) -> MIMEPart:
    related = [a for a in draft.attachments if a.cid and draft.html is not None]
    files = [a for a in draft.attachments if not (a.cid and draft.html is not None)]

    html: MIMEPart | None = None
    if draft.html is not None:
        html = _text("html", draft.html)
        if related:
            images = [_file(a, i) for i, a in _indexed(draft, related)]
            html = _multipart("related", [html, *images])
    plain = _text("plain", draft.text) if draft.text is not None else None
    if plain is not None and html is not None:
        body = _multipart("alternative", [plain, html])
    elif html is not None:
        body = html
    elif plain is not None:
        body = plain
    else:
        body = _text("plain", "")  # a forward without a comment still needs a first part

    extra = [_file(a, i) for i, a in _indexed(draft, files)]
    if draft.forwarded is not None:
        extra.append(_message_part(draft.forwarded))
    return _multipart("mixed", [body, *extra]) if extra else body


def _indexed(draft: Draft, chosen: Sequence[Attachment]) -> list[tuple[int, Attachment]]:
    # Positions in the request's list, so an error names attachments[i] as the caller sent it.
    wanted = {id(a) for a in chosen}
    return [(i, a) for i, a in enumerate(draft.attachments) if id(a) in wanted]


def _text(subtype: str, content: str) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    part.set_content(content, subtype=subtype, charset="utf-8")
    return part


def _multipart(subtype: str, parts: Sequence[MIMEPart]) -> MIMEPart:
    container = MIMEPart(policy=POLICY)
    container["Content-Type"] = f"multipart/{subtype}"
    # The generator picks a boundary that occurs in none of the parts (RFC 2046 §5.1.1).
    container.set_payload(list(parts))
    return container


def _file(attachment: Attachment, index: int) -> MIMEPart:
    field = f"attachments.{index}"
    filename = attachment.filename
    if filename is not None and _CONTROL.search(filename):
        raise InvalidInputError(f"{field}.filename", "must not contain control characters")
    maintype, subtype = split_content_type(
        attachment.content_type, filename, f"{field}.contentType"
    )
    cid = normalize_cid(attachment.cid, f"{field}.cid") if attachment.cid else None
    disposition = attachment.disposition or ("inline" if cid else "attachment")
    if disposition not in ("inline", "attachment"):
        raise InvalidInputError(f"{field}.contentDisposition", "must be inline or attachment")
    if (maintype, subtype) == ("message", "rfc822"):
        return _message_part(ForwardedMessage(attachment.content, filename or "message.eml"))
    part = MIMEPart(policy=POLICY)
    # base64 for every file, text ones included: it keeps their bytes (and line ends) exact.
    part.set_content(
        attachment.content,
        maintype,
        subtype,
        cte="base64",
        disposition=disposition,
        filename=filename,
        cid=cid,
    )
    return part


def _message_part(forwarded: ForwardedMessage) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = "message/rfc822"
    # RFC 2046 §5.2.1: no base64/QP for message/rfc822, so 8-bit originals are marked 8bit and
    # the sender asks for 8BITMIME (RFC 6152).
    if any(byte > 0x7F for byte in forwarded.raw):
        part["Content-Transfer-Encoding"] = "8bit"
    part["Content-Disposition"] = "attachment"
    part.set_param("filename", forwarded.filename, header="Content-Disposition")
    raw = forwarded.raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    # A str payload is written as-is by the generator (email.generator._handle_message, and
    # _Generator below for 8-bit bytes), so the original travels byte for byte instead of
    # being parsed and re-serialized.
    part.set_payload(raw.decode("ascii", "surrogateescape"))
    return part


class _Generator(BytesGenerator):
    """BytesGenerator that writes 8-bit message/rfc822 payloads through unchanged.

    CPython's BytesGenerator encodes such a str payload with strict ASCII and fails on the
    surrogate-escaped bytes of an 8-bit original; the str Generator path it shares with would
    keep them. `clone` uses `self.__class__`, so nested parts get this generator too.
    """

    def _encode(self, s: str) -> bytes:
        return s.encode("ascii", "surrogateescape")


def _adopt(message: EmailMessage, body: MIMEPart) -> None:
    """Make `message` (which holds the top-level headers) carry `body`'s type and payload."""
    for name, value in body.items():
        message[name] = value
    message.set_payload(body.get_payload())
