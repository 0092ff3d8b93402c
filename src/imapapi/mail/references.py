"""Threading headers and reply recipients of a message answering another (RFC 5322 §3.6.4).

Pure: the caller hands in what it read of the original message (its header block) and gets back
the In-Reply-To, References and recipients of the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import Message
from email.parser import BytesHeaderParser

from imapapi.mail.headers import decode_8bit, normalize_msgid, parse_msgid_list

# RFC 5322 sets no limit on References, but some servers refuse header lines over 998 octets
# and mail clients themselves trim long chains (Thunderbird keeps about 20 ids). We keep the
# first id (the thread root, which several threading algorithms key on — RFC 5256 §2.2 uses the
# first reference as the parent of last resort) and the most recent ones.
MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One address: `name` may be empty; `address` is `local@domain`."""

    address: str
    name: str = ""

    def key(self) -> str:
        """Comparison key: domains are case-insensitive (RFC 5321 §2.4); local parts in practice
        are too, and treating them so only ever drops a duplicate, never adds one."""
        return self.address.casefold()


@dataclass(frozen=True, slots=True)
class OriginalHeaders:
    """What an answer needs from the message it answers."""

    message_id: str | None = None
    references: tuple[str, ...] = ()
    in_reply_to: tuple[str, ...] = ()
    subject: str | None = None
    date: str | None = None
    sender: tuple[Mailbox, ...] = ()  # From
    reply_to: tuple[Mailbox, ...] = ()
    to: tuple[Mailbox, ...] = ()
    cc: tuple[Mailbox, ...] = ()


@dataclass(frozen=True, slots=True)
class Recipients:
    to: tuple[Mailbox, ...] = ()
    cc: tuple[Mailbox, ...] = ()
    bcc: tuple[Mailbox, ...] = field(default_factory=tuple)


def read_original(header_block: bytes) -> OriginalHeaders:
    """Parse the header block of the original message; never raises on malformed input.

    Address headers go through the standard library's RFC 5322 parser (policy.default), which
    decodes RFC 2047 names and records defects instead of failing; an address without a domain
    (an unparseable fragment) is dropped.
    """
    # Parsed as text so 8-bit names (RFC 6532) survive; undecodable bytes become Latin-1.
    parser = BytesHeaderParser(policy=policy.default)
    message = parser.parsebytes(decode_8bit(header_block).encode("utf-8", "surrogateescape"))

    def text(name: str) -> str | None:
        try:
            value = message.get(name)
        except Exception:  # the stdlib parser has raised on odd input in the past
            return None
        return None if value is None else str(value)

    def mailboxes(name: str) -> tuple[Mailbox, ...]:
        found: list[Mailbox] = []
        try:
            headers = message.get_all(name) or []
            for header in headers:
                for address in getattr(header, "addresses", ()):
                    found.extend(_mailbox(address))
        except Exception:
            return tuple(found)
        return tuple(found)

    return OriginalHeaders(
        message_id=normalize_msgid(_raw(message, "message-id")),
        references=tuple(parse_msgid_list(_raw(message, "references"))),
        in_reply_to=tuple(parse_msgid_list(_raw(message, "in-reply-to"))),
        subject=text("subject"),
        date=text("date"),
        sender=mailboxes("from"),
        reply_to=mailboxes("reply-to"),
        to=mailboxes("to"),
        cc=mailboxes("cc"),
    )


def _raw(message: Message, name: str) -> str | None:
    # Message-ID lists are read from the unparsed value: policy.default's MessageIDHeader is
    # stricter than what real mail contains, and parse_msgid_list is tolerant on purpose.
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _mailbox(address: Address) -> list[Mailbox]:
    if not address.username or not address.domain:
        return []
    return [Mailbox(address=address.addr_spec, name=address.display_name or "")]


def build_references(original: OriginalHeaders, limit: int = MAX_REFERENCES) -> list[str]:
    """RFC 5322 §3.6.4: the parent's References (or, lacking them, its single In-Reply-To)
    followed by the parent's Message-ID; trimmed to the root plus the latest ids."""
    chain = list(original.references)
    if not chain and len(original.in_reply_to) == 1:
        chain = list(original.in_reply_to)
    if original.message_id:
        chain.append(original.message_id)
    return trim_references(chain, limit)


def trim_references(chain: Sequence[str], limit: int = MAX_REFERENCES) -> list[str]:
    """`chain` without repeated ids (a loop in a broken chain), cut to the root and the latest
    ids when longer than `limit` (see MAX_REFERENCES)."""
    unique = list(dict.fromkeys(chain))
    if len(unique) > limit:
        unique = [unique[0], *unique[-(limit - 1) :]]
    return unique


def dedupe(mailboxes: Iterable[Mailbox], exclude: Iterable[Mailbox] = ()) -> tuple[Mailbox, ...]:
    """Mailboxes in order with duplicates (and those in `exclude`) removed."""
    seen = {m.key() for m in exclude}
    result: list[Mailbox] = []
    for mailbox in mailboxes:
        if mailbox.key() not in seen:
            seen.add(mailbox.key())
            result.append(mailbox)
    return tuple(result)


def reply_recipients(
    original: OriginalHeaders, own: Sequence[Mailbox], *, reply_all: bool
) -> Recipients:
    """Recipients of a reply (RFC 5322 §3.6.3): Reply-To if the original has one, else From.

    replyAll adds the original's To and Cc as Cc. The sender's own addresses (`own`: the From of
    the answer and the account's address) are never among the recipients — except when the
    original came from us (replying to one's own sent message), where the answer goes to the
    original's recipients instead, as mail clients do.
    """
    primary = original.reply_to or original.sender
    to = dedupe(primary, own)
    if not to:
        to = dedupe(original.to, own)
    cc: tuple[Mailbox, ...] = ()
    if reply_all:
        cc = dedupe([*original.to, *original.cc], [*own, *to])
    return Recipients(to=to, cc=cc)
