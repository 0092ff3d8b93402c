"""Frozen result types of the IMAP layer: what `imap/parse.py` returns and `mail/` consumes.

These are ours, not imapclient's: the parser behind `imap/parse.py` can be swapped without
touching any caller. Strings are already decoded (bytes from the server are kept as bytes only
where the protocol makes them opaque, e.g. header blocks).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ConnectionState(enum.Enum):
    """RFC 3501 §3 connection states, plus IDLING while an IDLE command is outstanding."""

    NOT_CONNECTED = "notConnected"
    NOT_AUTHENTICATED = "notAuthenticated"
    AUTHENTICATED = "authenticated"
    SELECTED = "selected"
    IDLING = "idling"
    LOGOUT = "logout"


@dataclass(frozen=True, slots=True)
class Address:
    """One ENVELOPE address (RFC 3501 §7.4.2). `name` is decoded from RFC 2047 encoded words."""

    name: str
    address: str  # "mailbox@host"; "" for group syntax markers


@dataclass(frozen=True, slots=True)
class Envelope:
    """ENVELOPE of a message (RFC 3501 §7.4.2), decoded to text."""

    date: str | None  # the Date header as sent (unparsed); FETCH INTERNALDATE is separate
    subject: str | None
    from_: tuple[Address, ...] = ()
    sender: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    in_reply_to: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class BodyPart:
    """One node of a BODYSTRUCTURE tree (RFC 3501 §7.4.2).

    `part` is the IMAP section number ("1", "1.2", …; "" is never used: a single-part message's
    only part is "1"). Multipart nodes have `children` and no encoding/size.
    """

    part: str
    type: str  # lowercase, e.g. "text"
    subtype: str  # lowercase, e.g. "plain"
    params: tuple[tuple[str, str], ...] = ()  # lowercase names, decoded values (RFC 2231)
    id: str | None = None  # Content-ID
    description: str | None = None
    encoding: str | None = None  # lowercase Content-Transfer-Encoding
    size: int = 0  # encoded size in octets
    lines: int | None = None
    disposition: str | None = None  # lowercase "inline" / "attachment"
    disposition_params: tuple[tuple[str, str], ...] = ()
    children: tuple[BodyPart, ...] = ()

    @property
    def content_type(self) -> str:
        return f"{self.type}/{self.subtype}"

    @property
    def is_multipart(self) -> bool:
        return self.type == "multipart"

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    def disposition_param(self, name: str) -> str | None:
        for key, value in self.disposition_params:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The items of one FETCH response that imapapi asks for; absent items are None."""

    seq: int
    uid: int | None = None
    flags: tuple[str, ...] | None = None
    modseq: int | None = None
    internal_date: str | None = None  # ISO 8601 with offset
    size: int | None = None  # RFC822.SIZE
    envelope: Envelope | None = None
    body_structure: BodyPart | None = None
    gmail_labels: tuple[str, ...] | None = None
    gmail_msgid: int | None = None
    gmail_thrid: int | None = None
    # BODY[...] sections by their item name as the server echoed it, e.g. "BODY[HEADER.FIELDS
    # (IN-REPLY-TO)]" or "BODY[1]<0>"; values are raw bytes.
    sections: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MailboxInfo:
    """One LIST response (RFC 3501 §7.2.2), name decoded from modified UTF-7."""

    path: str
    delimiter: str | None
    flags: tuple[str, ...]  # as sent, e.g. ("\\HasNoChildren", "\\Sent")

    @property
    def selectable(self) -> bool:
        return not any(f.lower() in ("\\noselect", "\\nonexistent") for f in self.flags)


@dataclass(frozen=True, slots=True)
class Namespace:
    """One namespace of a NAMESPACE response (RFC 2342 §5): its prefix (decoded from modified
    UTF-7, e.g. "INBOX.") and its hierarchy delimiter (None: a flat namespace)."""

    prefix: str
    delimiter: str | None


@dataclass(frozen=True, slots=True)
class Namespaces:
    """The personal, other users' and shared namespaces (RFC 2342 §5), each possibly empty.
    Without NAMESPACE, `personal` is one namespace with the empty prefix."""

    personal: tuple[Namespace, ...]
    other_users: tuple[Namespace, ...] = ()
    shared: tuple[Namespace, ...] = ()

    @property
    def all(self) -> tuple[Namespace, ...]:
        return self.personal + self.other_users + self.shared


@dataclass(frozen=True, slots=True)
class MailboxStatus:
    """STATUS (RFC 3501 §7.2.4) or SELECT results; unknown items are None."""

    path: str
    messages: int | None = None
    uid_next: int | None = None
    uid_validity: int | None = None
    unseen: int | None = None
    highest_modseq: int | None = None
    recent: int | None = None


# --- added with imap/parse.py: results of commands beyond FETCH / LIST / STATUS ---------------


@dataclass(frozen=True, slots=True)
class SelectedMailbox:
    """What SELECT / EXAMINE reported (RFC 3501 §6.3.1, RFC 7162 §3.1.2, §3.2.5).

    With QRESYNC the server also reports what changed since the given modseq: `vanished` (UIDs
    from `VANISHED (EARLIER)`) and `changed` (the FETCH responses sent during the SELECT).
    """

    path: str
    exists: int = 0
    recent: int = 0
    flags: tuple[str, ...] = ()
    permanent_flags: tuple[str, ...] = ()
    uid_validity: int | None = None
    uid_next: int | None = None
    unseen: int | None = None  # sequence number of the first unseen message (not a count)
    highest_modseq: int | None = None
    nomodseq: bool = False  # RFC 7162 §3.1.2.2: the mailbox does not support mod-sequences
    read_only: bool = False
    vanished: tuple[int, ...] = ()
    changed: tuple[FetchResult, ...] = ()


@dataclass(frozen=True, slots=True)
class ESearchResult:
    """An ESEARCH response (RFC 4731 §3.1); `all` is expanded to UIDs (or sequence numbers)."""

    tag: str | None = None
    uid: bool = False
    min: int | None = None
    max: int | None = None
    count: int | None = None
    all: tuple[int, ...] = ()
    modseq: int | None = None


@dataclass(frozen=True, slots=True)
class ResponseCode:
    """A response code, `[NAME args]` (RFC 3501 §7.1); `args` is the raw text after the name."""

    name: str  # upper case, e.g. "APPENDUID", "ALERT", "AUTHENTICATIONFAILED"
    args: str = ""


@dataclass(frozen=True, slots=True)
class StatusResponse:
    """A status response (OK / NO / BAD / PREAUTH / BYE, RFC 3501 §7.1), tagged or not."""

    status: str  # upper case
    code: ResponseCode | None
    text: str


@dataclass(frozen=True, slots=True)
class AppendUid:
    """APPENDUID (RFC 4315 §3): where APPEND put the message(s)."""

    uid_validity: int
    uids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CopyUid:
    """COPYUID (RFC 4315 §3): `source_uids[i]` became `dest_uids[i]` in the target mailbox."""

    uid_validity: int
    source_uids: tuple[int, ...]
    dest_uids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class QresyncParams:
    """What SELECT (QRESYNC (...)) sends (RFC 7162 §3.2.5): the last known state of a mailbox."""

    uid_validity: int
    modseq: int
    known_uids: tuple[int, ...] = ()
