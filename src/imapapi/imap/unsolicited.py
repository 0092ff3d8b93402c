"""Unsolicited server data (RFC 3501 §7, RFC 7162, RFC 5465) as small frozen events.

Everything the server says that is not part of the running command's result becomes one of
these and is handed to the connection's event channel; none is ever dropped.

The message-level ones name no mailbox on the wire: they are about the mailbox selected when
they arrive. `mailbox` records it then (None while a SELECT/EXAMINE runs, when it may be
either), since a reader that drains the channel later may have selected another one since.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imapapi.imap.types import FetchResult, MailboxInfo, MailboxStatus


@dataclass(frozen=True, slots=True)
class Exists:
    """`* n EXISTS`: the selected mailbox now has `count` messages (RFC 3501 §7.3.1)."""

    count: int
    mailbox: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Recent:
    """`* n RECENT` (RFC 3501 §7.3.2)."""

    count: int


@dataclass(frozen=True, slots=True)
class Expunge:
    """`* n EXPUNGE`: message `seq` was removed; later sequence numbers shift down (§7.4.1)."""

    seq: int
    mailbox: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Vanished:
    """`* VANISHED [(EARLIER)] uids` (RFC 7162 §3.2.10): removed messages by UID."""

    uids: tuple[int, ...]
    earlier: bool = False
    mailbox: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class FetchUpdate:
    """An unsolicited `* n FETCH`, e.g. flags changed by another client (RFC 3501 §7.4.2)."""

    result: FetchResult
    mailbox: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class FlagsUpdate:
    """`* FLAGS (...)`: the flags defined in the selected mailbox changed (RFC 3501 §7.2.6)."""

    flags: tuple[str, ...]
    mailbox: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class MailboxStatusUpdate:
    """An unsolicited `* STATUS` for another mailbox, as NOTIFY sends them (RFC 5465 §5.1)."""

    status: MailboxStatus


@dataclass(frozen=True, slots=True)
class MailboxListUpdate:
    """An unsolicited `* LIST`: a mailbox was created, renamed or deleted (RFC 5465 §5.4)."""

    mailbox: MailboxInfo


@dataclass(frozen=True, slots=True)
class Alert:
    """`* OK [ALERT] text` / `* NO ...` outside a command: text meant for the user (§7.1)."""

    text: str
    status: str = "OK"
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Bye:
    """`* BYE text`: the server is closing the connection (RFC 3501 §7.1.5)."""

    text: str


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The connection is gone (after BYE, an error or `close()`); always the last event."""

    reason: str
    error: Exception | None = None


UnsolicitedEvent = (
    Exists
    | Recent
    | Expunge
    | Vanished
    | FetchUpdate
    | FlagsUpdate
    | MailboxStatusUpdate
    | MailboxListUpdate
    | Alert
    | Bye
    | ConnectionClosed
)
