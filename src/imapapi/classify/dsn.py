"""RFC 3464 delivery-status parsing and finding the returned message's Message-ID."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message

from imapapi.classify.model import BounceRecipient
from imapapi.mail.headers import normalize_msgid, parse_header_block

# RFC 3464 §2.1 and RFC 6533 §6 (SMTPUTF8) delivery-status body types.
DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
# RFC 3464 §2.1: the returned message or just its headers; RFC 6533 §6: the global variants.
_RETURNED_MESSAGE = ("message/rfc822", "message/global")
_RETURNED_HEADERS = ("text/rfc822-headers", "message/global-headers")

# RFC 3463 §2 enhanced status code: class.subject.detail.
STATUS_CODE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BLOCK_SPLIT = re.compile(rb"\r?\n[ \t]*\r?\n")
_MESSAGE_ID_LINE = re.compile(r"^[ \t>]*message-id:[ \t]*(\S[^\r\n]*)", re.IGNORECASE | re.M)
# An addr-spec (a local host name is fine), and one inside a pipe or file recipient.
_MAILBOX = re.compile(r"[^@\s<>|/:,;]+@[\w.-]+")
_MAILBOX_IN = re.compile(r"(?<![\w.@/-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SUCCESS_BY_CLASS = {"5": "failed", "4": "delayed", "2": "delivered"}


def leaves(message: Message) -> Iterator[Message]:
    """The parts of `message` outside any embedded message (the returned original is skipped)."""
    stack = [message]
    while stack:
        part = stack.pop()
        if part is not message and part.get_content_maintype() == "message":
            yield part  # the caller decides what to do with message/* parts themselves
            continue
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
        else:
            yield part


def part_bytes(part: Message) -> bytes:
    """The decoded body of a non-multipart part; b"" when there is none."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def part_text(part: Message) -> str:
    charset = part.get_content_charset() or "utf-8"
    data = part_bytes(part)
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # unknown charset name
        return data.decode("utf-8", errors="replace")


def recipients(message: Message) -> list[BounceRecipient]:
    """Per-recipient blocks of every delivery-status part (RFC 3464 §2.3)."""
    found: list[BounceRecipient] = []
    for part in leaves(message):
        if part.get_content_type() in DELIVERY_STATUS_TYPES:
            for block in _status_blocks(part):
                recipient = _recipient(block)
                if recipient is not None:
                    found.append(recipient)
    return found


def inline_recipients(text: str) -> list[BounceRecipient]:
    """RFC 3464 recipient blocks written in a text part (Amazon WorkMail's "Technical report")
    or left in a body whose MIME boundaries do not match (the stdlib then keeps it as text)."""
    if "recipient:" not in text.lower():
        return []
    found = []
    for chunk in _BLOCK_SPLIT.split(text.encode("utf-8", errors="replace")):
        block = parse_header_block(chunk.strip(b"\r\n"))
        if block.get("final-recipient") or block.get("original-recipient"):
            recipient = _recipient(block)
            if recipient is not None and "@" in recipient.recipient:
                found.append(recipient)
    return found


def _status_blocks(part: Message) -> list[dict[str, list[str]]]:
    payload = part.get_payload()
    if part.get_content_type() == "message/delivery-status" and isinstance(payload, list):
        # The stdlib parses message/delivery-status into one Message per header block.
        return [
            {name.lower(): [str(value)] for name, value in block.items()}
            for block in payload
            if isinstance(block, Message)
        ]
    # message/global-delivery-status is parsed like message/rfc822 (one Message whose body holds
    # the recipient blocks), or stays a string when encoded: go back to bytes either way.
    raw = _inner_bytes(part) if isinstance(payload, list) else part_bytes(part)
    return [parse_header_block(chunk) for chunk in _BLOCK_SPLIT.split(raw)]


def _inner_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0].as_bytes()
    return part_bytes(part)


def _recipient(block: dict[str, list[str]]) -> BounceRecipient | None:
    values = [
        _strip_type(block[name][0]).strip("<> \t")
        for name in ("final-recipient", "original-recipient", "x-actual-recipient")
        if block.get(name)
    ]
    values = [value for value in values if value]
    if not values:
        return None  # the per-message block (Reporting-MTA, Arrival-Date, …)
    # Final-Recipient first (RFC 3464 §2.3.2), unless it is no mailbox: a source route
    # ("@relay:user@host", Sun Messaging Server), a pipe or a file (Exim, Sendmail aliases).
    address = next((v for v in values if _MAILBOX.fullmatch(v)), None)
    if address is None:
        embedded = _MAILBOX_IN.search(values[0])
        address = embedded.group(0) if embedded else values[0]
    status_value = " ".join(block.get("status", []))
    diagnostic = _strip_type(block["diagnostic-code"][0]) if block.get("diagnostic-code") else ""
    diagnostic = " ".join(diagnostic.split())
    status_match = STATUS_CODE.search(status_value) or STATUS_CODE.search(diagnostic)
    status = status_match.group(1) if status_match else None
    action = block["action"][0].split()[0].lower() if block.get("action", [""])[0].split() else ""
    if action == "error":  # OpenSMTPD's non-standard spelling of "failed"
        action = "failed"
    if not action:
        action = _SUCCESS_BY_CLASS.get((status or "5")[0], "failed")
    return BounceRecipient(address, action, status, diagnostic or None)


def _strip_type(value: str) -> str:
    """Drop RFC 3464's "address-type;" / "diagnostic-type;" prefix."""
    kind, semicolon, rest = value.partition(";")
    if semicolon and kind.strip() and " " not in kind.strip():
        return rest.strip()
    return value.strip()


def original_message_id(message: Message, texts: list[str]) -> str | None:
    """The Message-ID of the message that bounced.

    Looks, in order, at the returned message or its headers (RFC 3464 §2.1 third part, also
    attached by most non-DSN bounces), then at a "Message-ID:" line in the bounce's own text
    (Exim and qmail quote the original inline), then at the bounce's In-Reply-To/References.
    """
    for part in leaves(message):
        if part.get_content_type() in _RETURNED_MESSAGE + _RETURNED_HEADERS:
            # message/* parts arrive parsed as a Message; text/rfc822-headers as text.
            found = normalize_msgid(_first_header(_inner_bytes(part), "message-id"))
            if found:
                return found
    for text in texts:
        match = _MESSAGE_ID_LINE.search(text)
        if match is not None:
            found = normalize_msgid(match.group(1))
            if found:
                return found
    for name in ("in-reply-to", "references"):
        found = normalize_msgid(_get(message, name))
        if found:
            return found
    return None


def _first_header(raw: bytes, name: str) -> str | None:
    values = parse_header_block(raw).get(name)
    return values[0] if values else None


def _get(message: Message, name: str) -> str | None:
    value = message.get(name)  # compat32 may hand back a Header object for 8-bit values
    return None if value is None else str(value)
