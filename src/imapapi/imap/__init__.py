"""IMAP protocol: a small asyncio client (DESIGN.md §6).

Layers, each using only the one below: `transport` (TCP/TLS/DEFLATE) → `reader` (bytes to
responses) → `core` (tags, continuations, routing) → `connection`/`commands` (`ImapConnection`).
`encode` builds arguments, `parse` turns responses into the frozen types of `types`, and
`unsolicited` holds the events for untagged data no command asked for. `flagfetch` reads the
answer of a folder's index fetch in bulk, beside the reader (see `ResponseReader.bulk`).
"""

from __future__ import annotations

from imapapi.imap.connection import (
    DEFAULT_CHUNK,
    NOTIFY_PERSONAL,
    NOTIFY_SELECTED,
    FetchStream,
    ImapConnection,
    Security,
)
from imapapi.imap.encode import Literal
from imapapi.imap.flagfetch import FlagFetch
from imapapi.imap.types import (
    Address,
    AppendUid,
    BodyPart,
    ConnectionState,
    CopyUid,
    Envelope,
    ESearchResult,
    FetchResult,
    MailboxInfo,
    MailboxStatus,
    Namespace,
    Namespaces,
    QresyncParams,
    ResponseCode,
    SelectedMailbox,
    StatusResponse,
)
from imapapi.imap.unsolicited import (
    Alert,
    Bye,
    ConnectionClosed,
    Exists,
    Expunge,
    FetchUpdate,
    FlagsUpdate,
    MailboxListUpdate,
    MailboxStatusUpdate,
    Recent,
    UnsolicitedEvent,
    Vanished,
)

__all__ = [
    "DEFAULT_CHUNK",
    "NOTIFY_PERSONAL",
    "NOTIFY_SELECTED",
    "Address",
    "Alert",
    "AppendUid",
    "BodyPart",
    "Bye",
    "ConnectionClosed",
    "ConnectionState",
    "CopyUid",
    "ESearchResult",
    "Envelope",
    "Exists",
    "Expunge",
    "FetchResult",
    "FetchStream",
    "FetchUpdate",
    "FlagFetch",
    "FlagsUpdate",
    "ImapConnection",
    "Literal",
    "MailboxInfo",
    "MailboxListUpdate",
    "MailboxStatus",
    "MailboxStatusUpdate",
    "Namespace",
    "Namespaces",
    "QresyncParams",
    "Recent",
    "ResponseCode",
    "Security",
    "SelectedMailbox",
    "StatusResponse",
    "UnsolicitedEvent",
    "Vanished",
]
