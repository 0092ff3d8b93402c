"""Find a message by its Message-ID in any folder of the mailbox (issue 16, item 3).

IMAP has no index by Message-ID, so every selectable folder is searched in turn with
`UID SEARCH HEADER Message-ID "<id>"` (RFC 3501 §6.4.4): INBOX first, then Sent, the other
folders, and Junk and Trash last, so a live copy wins over a discarded one. On Gmail
(X-GM-EXT-1) every message is in the `\\All` folder (All Mail), which is searched alone.

HEADER search is a case-insensitive substring match, so each hit's Message-ID is read back and
compared: an exact match of the normalised id wins; failing that, one that differs only in
letter case (the id is compared by its text, RFC 5322 §3.6.4, but mailers do rewrite domains to
lower case).
"""

from __future__ import annotations

from typing import NamedTuple

from imapapi.errors import CommandFailedError
from imapapi.imap import ImapConnection, MailboxInfo, encode
from imapapi.mail.headers import normalize_msgid, parse_header_block
from imapapi.sync.mailboxes import assign_special_use

MESSAGE_ID_ITEM = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"
# A Message-ID names one message, but copies (a message filed in two folders, one sent to
# oneself) share it; more hits than this in one folder are not worth reading back.
MAX_HITS = 20
_FIRST = {"\\Inbox": 0, "\\Sent": 1}
_LAST = {"\\Junk": 3, "\\Trash": 4}


class FoundMessage(NamedTuple):
    """Where a message is: its folder, the folder's UIDVALIDITY and its UID."""

    path: str
    uid_validity: int
    uid: int


async def find_by_message_id(conn: ImapConnection, message_id: str) -> FoundMessage | None:
    """The message whose Message-ID is `message_id` (`<left@right>`), or None.

    Leaves no folder selected: it runs on a connection that other calls share.
    """
    wanted = normalize_msgid(message_id)
    if wanted is None:
        return None
    casefold_match: FoundMessage | None = None
    try:
        for path in search_order(
            await conn.list_mailboxes(), gmail=conn.has_capability("X-GM-EXT-1")
        ):
            try:
                selected = await conn.examine(path)
            except CommandFailedError:
                continue  # gone since LIST, or not selectable after all
            if selected.uid_validity is None:
                continue
            hits = await conn.uid_search(
                [b"HEADER", b"Message-ID", encode.string(wanted, "messageId", utf8=conn.utf8)]
            )
            for uid, found in await _message_ids(conn, sorted(hits)[-MAX_HITS:]):
                located = FoundMessage(path, selected.uid_validity, uid)
                if found == wanted:
                    return located
                if casefold_match is None and found.casefold() == wanted.casefold():
                    casefold_match = located
    finally:
        if conn.selected is not None:
            await conn.unselect()
    return casefold_match


def search_order(listed: list[MailboxInfo], *, gmail: bool) -> list[str]:
    """The selectable folders in the order they are searched (see the module docstring)."""
    uses = assign_special_use(listed)
    if gmail:
        every = [path for path, use in uses.items() if use == "\\All"]
        if every:
            return every[:1]
    paths = [info.path for info in listed if info.selectable]
    return sorted(paths, key=lambda p: _FIRST.get(uses.get(p, ""), _LAST.get(uses.get(p, ""), 2)))


async def _message_ids(conn: ImapConnection, uids: list[int]) -> list[tuple[int, str]]:
    if not uids:
        return []
    found = []
    for result in await conn.uid_fetch(uids, ["UID", MESSAGE_ID_ITEM]).collect():
        block = next(iter(result.sections.values()), b"")
        values = parse_header_block(block).get("message-id", [])
        msgid = normalize_msgid(values[0]) if values else None
        if result.uid is not None and msgid is not None:
            found.append((result.uid, msgid))
    return found
