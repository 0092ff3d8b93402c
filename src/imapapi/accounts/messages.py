"""Message reads for the API (issue 5): paged listings, search results, message details.

Runs on an account's command connection. Every operation SELECTs its folder first: that one
round trip gives the message count the paging needs and the UIDVALIDITY that ids are checked
against, so a stale id (RFC 3501 §2.3.1.1: UIDVALIDITY changed) answers 404 and can never name
another message. Downloads, text and changes live in `message_read.py` / `message_write.py`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from imapapi.accounts.search import SearchTerms, compile_search
from imapapi.accounts.session import AccountSession
from imapapi.errors import CommandFailedError, NotFoundError, ProtocolError
from imapapi.imap import FetchResult, ImapConnection
from imapapi.imap.encode import raw_sequence_set
from imapapi.mail.bodystructure import find_text_parts
from imapapi.mail.decode import decode_text
from imapapi.mail.headers import parse_header_block
from imapapi.mail.ids import decode_message_id
from imapapi.mail.summary import message_summary

SUMMARY_ITEMS = ("UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE")
GMAIL_ITEMS = ("X-GM-LABELS", "X-GM-MSGID", "X-GM-THRID")
HEADER_ITEM = "BODY.PEEK[HEADER]"
DEFAULT_TEXT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class OpenFolder:
    """A folder selected on the command connection, with the mailbox index of its ids."""

    path: str
    uid_validity: int
    index: int
    exists: int


@dataclass(frozen=True, slots=True)
class MessagePage:
    page: int
    pages: int
    total: int
    messages: list[dict[str, Any]]


@contextlib.contextmanager
def folder_refusals(path: str) -> Iterator[None]:
    """SELECT/APPEND/MOVE refusals that mean "no such folder" become NotFoundError."""
    try:
        yield
    except CommandFailedError as exc:
        code = (exc.response_code or "").upper()
        # RFC 5530 NONEXISTENT; RFC 3501 §6.3.11 TRYCREATE. A SELECT refused without a code is
        # (with every server seen) a missing or unselectable folder as well.
        selecting = exc.command in ("SELECT", "EXAMINE")
        if code in ("NONEXISTENT", "TRYCREATE") or (selecting and not code):
            raise NotFoundError(f"folder {path!r} does not exist") from exc
        raise


async def open_folder(
    session: AccountSession, conn: ImapConnection, path: str, *, readonly: bool = True
) -> OpenFolder:
    """EXAMINE (reads) or SELECT (changes) `path` and bind its mailbox index.

    Reads EXAMINE so that they never take \\Recent from the user's other clients (RFC 3501
    §6.3.2). Changes SELECT; the next read simply EXAMINEs again.
    """
    with folder_refusals(path):
        selected = await conn.select(path, readonly=readonly)
    if selected.uid_validity is None:
        raise ProtocolError(f"{path}: the server sent no UIDVALIDITY")
    index = await session.ctx.store.mailbox_index(session.account, path, selected.uid_validity)
    return OpenFolder(path, selected.uid_validity, index, selected.exists)


async def locate(
    session: AccountSession,
    conn: ImapConnection,
    index: int,
    *,
    what: str = "message",
    readonly: bool = True,
) -> OpenFolder:
    """Open the folder a decoded id points to; 404 when it is gone or was recreated."""
    resolved = await session.ctx.store.resolve_mailbox_index(session.account, index)
    if resolved is None:
        raise NotFoundError(f"{what} not found")
    path, uid_validity = resolved
    try:
        folder = await open_folder(session, conn, path, readonly=readonly)
    except NotFoundError:
        raise NotFoundError(f"{what} not found (its folder no longer exists)") from None
    if folder.uid_validity != uid_validity:
        raise NotFoundError(f"{what} not found (its folder was reset: UIDVALIDITY changed)")
    return folder


def summary_items(conn: ImapConnection, *extra: str) -> tuple[str, ...]:
    gmail = GMAIL_ITEMS if conn.has_capability("X-GM-EXT-1") else ()
    return (*SUMMARY_ITEMS, *gmail, *extra)


async def fetch_one(conn: ImapConnection, uid: int, items: Sequence[str]) -> FetchResult:
    """UID FETCH of one message; NotFoundError when the server returns nothing (expunged)."""
    for result in await conn.uid_fetch([uid], items).collect():
        if result.uid == uid:
            return result
    raise NotFoundError("message not found")


def section(fetch: FetchResult, prefix: str) -> bytes | None:
    """A BODY[...] item by the name the server echoed, e.g. prefix "BODY[1]" for BODY[1]<0>."""
    wanted = prefix.upper()
    for name, value in fetch.sections.items():
        upper = name.upper()
        if upper == wanted or upper.startswith(wanted + "<"):
            return value
    return None


def page_count(total: int, page_size: int) -> int:
    return max(1, math.ceil(total / page_size))


# --- listings ---------------------------------------------------------------------------------


async def list_messages(
    session: AccountSession, path: str, *, page: int, page_size: int
) -> MessagePage:
    """One page of `path`, newest first: SELECT, UID SEARCH of the page's sequence numbers,
    then one UID FETCH of ENVELOPE/BODYSTRUCTURE for just those messages.

    Sequence numbers are in UID order (RFC 3501 §2.3.1.2), so the newest are the highest; the
    UID SEARCH turns the page's sequence range into UIDs without listing the whole folder.
    """
    async with session.command() as conn:
        folder = await open_folder(session, conn, path)
        total = folder.exists
        high = total - page * page_size
        uids: list[int] = []
        if high >= 1:
            low = max(1, high - page_size + 1)
            uids = await conn.uid_search([raw_sequence_set(f"{low}:{high}")])
        messages = await _summaries(conn, folder, sorted(set(uids), reverse=True))
    return MessagePage(page, page_count(total, page_size), total, messages)


async def search_messages(
    session: AccountSession, path: str, terms: SearchTerms, *, page: int, page_size: int
) -> MessagePage:
    """Messages of `path` matching `terms` (compiled to IMAP SEARCH), paged newest first."""
    compile_search(terms)  # bad terms answer 400 before a connection is even asked for
    async with session.command() as conn:
        criteria, charset = compile_search(terms, utf8=conn.utf8)
        folder = await open_folder(session, conn, path)
        if conn.has_capability("ESEARCH"):  # RFC 4731: a compact set instead of every number
            found = list((await conn.uid_esearch(criteria, charset=charset)).all)
        else:
            found = await conn.uid_search(criteria, charset=charset)
        matches = sorted(set(found), reverse=True)
        start = page * page_size
        messages = await _summaries(conn, folder, matches[start : start + page_size])
    return MessagePage(page, page_count(len(matches), page_size), len(matches), messages)


async def _summaries(
    conn: ImapConnection, folder: OpenFolder, uids: list[int]
) -> list[dict[str, Any]]:
    if not uids:
        return []
    fetched = {
        result.uid: result
        async for result in conn.uid_fetch(uids, summary_items(conn))
        if result.uid is not None
    }
    # Messages expunged between SEARCH and FETCH are simply missing from the page.
    return [summarize(fetched[uid], folder) for uid in uids if uid in fetched]


def summarize(fetch: FetchResult, folder: OpenFolder) -> dict[str, Any]:
    """The listing object; \\Recent is session state, not the message's (gone in RFC 9051)."""
    message = message_summary(fetch, index=folder.index, path=folder.path)
    flags = message.get("flags")
    if flags is not None:
        message["flags"] = visible_flags(flags)
    return message


def visible_flags(flags: Sequence[str]) -> list[str]:
    return [flag for flag in flags if flag.lower() != "\\recent"]


# --- one message ------------------------------------------------------------------------------


async def get_message(
    session: AccountSession, message_id: str, *, max_bytes: int = DEFAULT_TEXT_BYTES
) -> dict[str, Any]:
    """The listing object plus `headers` and the decoded text, each text part cut at
    `max_bytes` encoded octets (`text.hasMore` tells when something was left out)."""
    index, uid = decode_message_id(message_id)
    async with session.command() as conn:
        folder = await locate(session, conn, index)
        fetch = await fetch_one(conn, uid, summary_items(conn, HEADER_ITEM))
        message = summarize(fetch, folder)
        message["headers"] = parse_header_block(section(fetch, "BODY[HEADER]") or b"")
        text = message.get("text")
        if text is not None and fetch.body_structure is not None:
            plain, html = find_text_parts(fetch.body_structure)
            wanted = {k: p for k, p in (("plain", plain), ("html", html)) if p is not None}
            content, has_more = await fetch_text(conn, uid, wanted, max_bytes)
            text.update(content)
            text["hasMore"] = has_more
    return message


async def fetch_text(
    conn: ImapConnection, uid: int, parts: dict[str, Any], max_bytes: int
) -> tuple[dict[str, str], bool]:
    """Decoded text of `parts` ("plain"/"html" → BodyPart), each cut at `max_bytes` encoded
    octets with a partial fetch (RFC 3501 §6.4.5 `<0.N>`): the rest is never downloaded.

    One octet more than the cap is asked for, so "cut" is known from the answer itself rather
    than from a BODYSTRUCTURE size that servers sometimes get wrong.
    """
    if not parts:
        return {}, False
    items = [f"BODY.PEEK[{part.part}]<0.{max_bytes + 1}>" for part in parts.values()]
    fetch = await fetch_one(conn, uid, ["UID", *items])
    content: dict[str, str] = {}
    has_more = False
    for kind, part in parts.items():
        raw = section(fetch, f"BODY[{part.part}]") or b""
        cut = len(raw) > max_bytes
        has_more = has_more or cut
        content[kind] = decode_text(
            raw[:max_bytes], part.encoding, part.param("charset"), complete=not cut
        )
    return content, has_more
