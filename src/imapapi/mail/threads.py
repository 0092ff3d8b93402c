"""Thread ids: which conversation a message belongs to, on every server (issue 16).

Gmail (X-GM-EXT-1) numbers its threads itself: the id is X-GM-THRID in decimal. Elsewhere the
id is derived from the threading headers (RFC 5322 §3.6.4), so a message and every reply to it,
in any folder, share it without anything being stored:

* the conversation's root is the first Message-ID of References, else the first of
  In-Reply-To, else the message's own Message-ID (References lists the root first; a reply
  whose mailer dropped References still names its parent in In-Reply-To);
* the id is "T" + base64url (no padding) of the root without its angle brackets, cut at
  MAX_ROOT_OCTETS octets of UTF-8 (a longer root is named by its start: the server search is a
  substring match, and two roots alike in their first 200 octets do not occur in practice);
* a message with none of the three headers (or none holding an id) is a thread of its own:
  "M" + its message id, which names that one copy.

The form is reversible so the thread route can search the server for the root; a prefix
letter tells the forms apart from each other and from Gmail's digits before anything is
decoded. Ids from broken headers are read as `parse_msgid_list` reads them (tokens that are not
ids are skipped), the same for the message that holds them and for its replies.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from imapapi.errors import InvalidInputError, UnprocessableError
from imapapi.mail.headers import normalize_msgid, parse_msgid_list
from imapapi.mail.ids import decode_message_id, encode_message_id

ROOT_PREFIX = "T"
OWN_PREFIX = "M"
MAX_ROOT_OCTETS = 200
# X-GM-THRID is an unsigned 64-bit number (Gmail IMAP extensions).
_GMAIL = re.compile(r"[1-9][0-9]{0,19}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class ThreadKey:
    """What a threadId names: exactly one of a root Message-ID text ("id@host", without the
    brackets, possibly cut), a Gmail X-GM-THRID, or one message (mailbox index, uid)."""

    root: str | None = None
    gmail: int | None = None
    message: tuple[int, int] | None = None


def thread_root(
    message_id: str | None, in_reply_to: str | None, references: Sequence[str] | str | None
) -> str | None:
    """The conversation's root Message-ID ("<id@host>"), or None when the message names none.

    `references` is the raw References value or the ids already parsed from it."""
    refs = parse_msgid_list(references) if isinstance(references, str) else list(references or ())
    if refs:
        return refs[0]
    replied = parse_msgid_list(in_reply_to)
    if replied:
        return replied[0]
    return normalize_msgid(message_id)


def root_thread_id(root: str) -> str:
    """The threadId of a root Message-ID ("<id@host>")."""
    text = _cut(root.strip("<>"), MAX_ROOT_OCTETS)
    return ROOT_PREFIX + base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode()


def thread_id(
    message_id: str | None,
    in_reply_to: str | None,
    references: Sequence[str] | str | None,
    *,
    index: int,
    uid: int,
) -> str:
    """The threadId of a message that is not on Gmail (see the module docstring)."""
    return root_or_own_thread_id(thread_root(message_id, in_reply_to, references), index, uid)


def root_or_own_thread_id(root: str | None, index: int, uid: int) -> str:
    """The threadId of a message whose root (`thread_root`) is `root`."""
    if root is None:
        return OWN_PREFIX + encode_message_id(index, uid)
    return root_thread_id(root)


def headers_thread_id(headers: Mapping[str, Sequence[str]], *, index: int, uid: int) -> str:
    """`thread_id` from a parsed header block (`parse_header_block`) that holds Message-ID,
    In-Reply-To and References."""

    def joined(name: str) -> str | None:
        values = headers.get(name)
        return " ".join(values) if values else None

    return thread_id(
        joined("message-id"), joined("in-reply-to"), joined("references"), index=index, uid=uid
    )


def parse_thread_id(value: str, *, field: str = "threadId") -> ThreadKey:
    """What `value` names. InvalidInputError (400, naming `field`) when it is not of the form
    (digits, or T or M and base64url); its subclass UnprocessableError (422) when it is but
    decodes to nothing a message could have (the API's schema states only the form)."""
    if _GMAIL.fullmatch(value):
        number = int(value)
        if number < 2**64:
            return ThreadKey(gmail=number)
        raise UnprocessableError(field, "a Gmail thread id is a 64-bit number")
    prefix, rest = value[:1], value[1:]
    if prefix not in (ROOT_PREFIX, OWN_PREFIX) or not _BASE64URL.fullmatch(rest):
        raise InvalidInputError(field, "not a thread id (digits, or T or M and base64url)")
    if prefix == OWN_PREFIX:
        try:
            return ThreadKey(message=decode_message_id(rest, field=field))
        except InvalidInputError:
            raise UnprocessableError(field, "not a thread id (M and a message id)") from None
    try:
        raw = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4))
        root = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise UnprocessableError(field, "not a thread id (its root is not UTF-8)") from None
    # One spelling per id: the root must be one a message could have, and encode back the same.
    if (
        not root
        or len(raw) > MAX_ROOT_OCTETS
        or any(char.isspace() or char in "<>" or ord(char) < 0x20 for char in root)
        or root_thread_id(f"<{root}>") != value
    ):
        raise UnprocessableError(field, "not a thread id (it names no Message-ID)")
    return ThreadKey(root=root)


def _cut(value: str, limit: int) -> str:
    # A character split by the cut is dropped whole ("ignore" decodes only complete ones).
    return value.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")
