"""Message reads for the API (issue 5): paged listings, search results, message details.

Runs on the account's command connections, each call on a leased `CommandConnection`: the
connection and its `FolderView` (`command_pool.py`). A folder stays selected on its connection
between calls, and the view follows what the server reports on it (arrivals, expunges), so
reading a folder that is selected already costs a NOOP instead of a SELECT whose price grows
with the folder: a listing page is then one UID FETCH of the page's UIDs, taken from the view's
sequence → UID map. What a page shows of a message, except its flags and labels, is kept
between calls (`sessions/summaries.py`, built and read by `page_summaries.py`): a page listed
before is a UID FETCH of flags only, and details asked for before one UID FETCH of flags and
text; the NOOP of a kept selection goes in the same write as that FETCH (one round trip), and
the answer stands only when neither reported a change (`_pipelined_page`, `_checked_fetch`).
Folders are SELECTed read-write, for reads too (see `open_folder`); the UIDVALIDITY that ids are
checked against comes from that response, so a stale id (RFC 3501 §2.3.1.1: UIDVALIDITY
changed) answers 404 and can never name another message. Downloads, text and changes live in
`message_read.py` / `message_write.py`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from imapapi.errors import CommandFailedError, NetworkError, NotFoundError, ProtocolError
from imapapi.imap import BodyPart, FetchResult, ImapConnection
from imapapi.mail.bodystructure import find_text_parts
from imapapi.mail.decode import decode_text
from imapapi.mail.headers import parse_header_block
from imapapi.mail.ids import decode_message_id
from imapapi.mail.reply_text import reply_text
from imapapi.mail.summary import MUTABLE_FIELDS, add_flags, message_summary
from imapapi.operations.page_summaries import (
    OpenFolder,
    encoded,
    fetch_summaries,
)
from imapapi.operations.search import SearchTerms, compile_search, in_thread
from imapapi.sessions.command_pool import CommandConnection, CommandLeases
from imapapi.store.base import Store
from imapapi.syncing.classification import SUMMARY_HEADERS, add_classification

SUMMARY_ITEMS = ("UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE")
GMAIL_ITEMS = ("X-GM-LABELS", "X-GM-MSGID", "X-GM-THRID")
HEADER_ITEM = "BODY.PEEK[HEADER]"
DEFAULT_TEXT_BYTES = 5 * 1024 * 1024
# A folder that changes during every one of these attempts gets the last consistent answer.
PAGE_ATTEMPTS = 3
MAP_ATTEMPTS = 5

T = TypeVar("T")


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


async def read_retrying(call: Callable[[], Awaitable[T]]) -> T:
    """Run a read; once more if the connection was lost under it. A kept connection can be
    dropped by the server between two calls (Dovecot ends a session whose selected folder was
    deleted with BYE, RFC 3501 §7.1.5); the pool then opens a fresh one."""
    try:
        return await call()
    except NetworkError:
        return await call()


async def open_folder(
    command: CommandConnection,
    store: Store,
    path: str,
    *,
    readonly: bool = True,
    defer_noop: bool = False,
) -> OpenFolder:
    """`path` selected on the leased connection, with its mailbox index bound in `store`.

    Kept from an earlier call when it still is; otherwise SELECTed read-write, for reads too:
    some servers keep their numbering only for what a read-write session has seen (Courier
    numbers a maildir's new mail afresh for every EXAMINE, so a listing's UIDs and order
    changed from one call to the next). The sync selects read-write for the same reason
    (`select_for_sync` in `syncing/folder.py`), so \\Recent (RFC 3501 §6.3.2, gone in RFC 9051)
    is not kept for other clients either way. Nothing here sends CLOSE, which would expunge.

    A kept selection is checked with a NOOP first, which makes the server report what changed
    since the last call. A UID FETCH alone would report arrivals and expunges as well, but not
    a folder deleted and created again by another client: Dovecot 2.3 then serves the old
    folder's messages from the session's view for a command or more, while a NOOP answers
    `* NO` at once (or BYE), which resets the view. `defer_noop`: the caller sends it with its
    next command and checks the view after both (`noop_pending`).

    Not every time: Dovecot has also answered that NOOP and FETCH from the old folder, noticing
    only a command later. So the account's sync tells the pool of each folder's UIDVALIDITY
    before it commits the events that report it (`CommandPool.folder_synced`), and a kept
    selection of another is dropped. What is guaranteed: once imapapi reported a folder
    deleted or reset (mailboxDeleted, mailboxReset, or messageNew in the new folder), no
    read shows the old one; before that, a read may show what the server's session shows.
    """
    conn, view = command.conn, command.view
    if view.is_selected(path) and conn.selected == path and (readonly or not view.read_only):
        if defer_noop:
            return OpenFolder(path, view.uid_validity, view.index, noop_pending=True)
        await conn.noop()
        if view.is_selected(path):
            return OpenFolder(path, view.uid_validity, view.index)
    with folder_refusals(path):
        selected = await conn.select(path)
    if selected.uid_validity is None:
        raise ProtocolError(f"{path}: the server sent no UIDVALIDITY")
    index = await store.mailbox_index(command.account, path, selected.uid_validity)
    view.opened(
        path,
        uid_validity=selected.uid_validity,
        index=index,
        exists=selected.exists,
        read_only=selected.read_only,
        highest_modseq=selected.highest_modseq,
    )
    return OpenFolder(path, selected.uid_validity, index)


def _selected_binding(leases: CommandLeases, index: int) -> tuple[str, int] | None:
    """(path, UIDVALIDITY) of a mailbox index from a connection that has its folder selected
    (a binding never changes, so this is what the store would answer)."""
    for view in leases.command_views():
        if view.path is not None and view.index == index:
            return view.path, view.uid_validity
    return None


@contextlib.asynccontextmanager
async def located(
    leases: CommandLeases,
    store: Store,
    index: int,
    *,
    what: str = "message",
    readonly: bool = True,
    defer_noop: bool = False,
) -> AsyncIterator[tuple[CommandConnection, OpenFolder]]:
    """A leased connection with the folder of a decoded id selected; 404 when the index is
    unknown, the folder gone or recreated. `defer_noop` as in `open_folder`."""
    binding = _selected_binding(leases, index)
    async with leases.command(folder=binding[0] if binding else None) as command:
        if binding is None:
            binding = await store.resolve_mailbox_index(command.account, index)
            if binding is None:
                raise NotFoundError(f"{what} not found")
        path, uid_validity = binding
        try:
            folder = await open_folder(
                command, store, path, readonly=readonly, defer_noop=defer_noop
            )
        except NotFoundError:
            raise NotFoundError(f"{what} not found (its folder no longer exists)") from None
        if folder.uid_validity != uid_validity:
            raise NotFoundError(f"{what} not found (its folder was reset: UIDVALIDITY changed)")
        yield command, folder


def summary_items(conn: ImapConnection, headers: str = SUMMARY_HEADERS) -> tuple[str, ...]:
    """What a message object is built from: one header item (the fields threading and the
    classification read, or the whole header for details), so a page stays one round trip."""
    gmail = GMAIL_ITEMS if conn.has_capability("X-GM-EXT-1") else ()
    return (*SUMMARY_ITEMS, headers, *gmail)


async def fetch_one(
    command: CommandConnection, uid: int, items: Sequence[str], *, noop_first: bool = False
) -> FetchResult:
    """UID FETCH of one message; NotFoundError when the server returns nothing, or reports
    the message expunged (it may still serve one from its session's view, RFC 3501 §7.4.1).
    `noop_first`: a NOOP goes in the same write."""
    stream = command.conn.uid_fetch([uid], items, noop_first=noop_first)
    for result in await stream.collect():
        if result.uid == uid and uid not in command.view.expunged:
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
    leases: CommandLeases, store: Store, path: str, *, page: int, page_size: int
) -> MessagePage:
    """One page of `path`, newest first: the page's UIDs from the connection's sequence → UID
    map (sequence numbers are in UID order, RFC 3501 §2.3.1.2, so the newest are the highest),
    then one UID FETCH of ENVELOPE/BODYSTRUCTURE for just those messages.

    The server reports arrivals and expunges after a UID FETCH; when it did, the page may
    have shifted and is fetched again from the updated map. A folder kept selected is listed
    in one round trip when nothing changed (`_pipelined_page`).
    """
    return await read_retrying(lambda: _list_messages(leases, store, path, page, page_size))


async def _list_messages(
    leases: CommandLeases, store: Store, path: str, page: int, page_size: int
) -> MessagePage:
    async with leases.command(folder=path) as command:
        view = command.view
        items = summary_items(command.conn)
        answer: MessagePage | None = None
        uids = _kept_page(command, path, page, page_size)
        kept = command.summaries.get(path, view.uid_validity, uids) if uids else {}
        if kept:
            answer = await _pipelined_page(command, path, page, page_size, uids, kept, items)
            if answer is not None:
                return answer
        for attempt in range(PAGE_ATTEMPTS):
            # Again after a change: the NOOP of a kept selection lets the server report the
            # rest, and a view the server made us forget (`* NO`) is selected anew. Not when
            # one went with the page's FETCH just now.
            if attempt == 0 and kept and view.is_selected(path):
                folder = OpenFolder(path, view.uid_validity, view.index)
            else:
                folder = await open_folder(command, store, path)
            total = view.exists
            if page * page_size >= total:  # past the end: no map needed
                return MessagePage(page, page_count(total, page_size), total, [])
            if not await _complete_map(command):
                continue
            changes, total = view.changes, view.exists
            messages = await fetch_summaries(command, folder, view.page(page, page_size), items)
            answer = MessagePage(page, page_count(total, page_size), total, messages)
            if view.changes == changes:
                break
    if answer is None:
        raise ProtocolError(f"{path}: the folder changed during every attempt to list it")
    return answer  # the last one consistent with itself, if the folder never stood still


def _kept_page(command: CommandConnection, path: str, page: int, page_size: int) -> list[int]:
    """The page's UIDs when `path` is kept selected with a complete map, before any NOOP.
    Worth a NOOP in the same write when some summaries of them are kept: that FETCH of flags
    takes a flag change the NOOP reports as its answer, which stays exact (`fetch_summaries`);
    a FETCH in full would not tell it from news that came after the answer."""
    conn, view = command.conn, command.view
    if not (view.is_selected(path) and conn.selected == path and view.complete):
        return []
    return view.page(page, page_size)  # nothing past the end: the sequential way is as quick


async def _pipelined_page(
    command: CommandConnection,
    path: str,
    page: int,
    page_size: int,
    uids: list[int],
    kept: dict[int, bytes],
    items: Sequence[str],
) -> MessagePage | None:
    """The page of a folder kept selected with the NOOP of `open_folder` and the page's FETCH
    in one write, its UIDs taken from the view as it was before the NOOP. That is the answer
    only when neither reported a change (arrival, expunge, reset): then the view after the
    NOOP, which the sequential way reads, is the same (flag changes reported by the NOOP are
    older than the FETCH's answer, see `fetch_summaries`). Else None: the caller lists again
    the sequential way, as it would have (a FETCH refused because the folder went away too).
    """
    view = command.view
    changes, total = view.changes, view.exists
    folder = OpenFolder(path, view.uid_validity, view.index)
    try:
        messages = await fetch_summaries(command, folder, uids, items, kept=kept, noop_first=True)
    except CommandFailedError:
        if view.changes == changes:
            raise
        return None
    if view.changes != changes:
        return None
    return MessagePage(page, page_count(total, page_size), total, messages)


async def _complete_map(command: CommandConnection) -> bool:
    """Make the view's sequence → UID map name every message: built with one UID SEARCH ALL
    (ESEARCH, RFC 4731, answers a compact set), then extended with the UIDs of arrivals.
    False when the view was reset meanwhile (the folder must be selected again)."""
    conn, view = command.conn, command.view
    for _ in range(MAP_ATTEMPTS):
        if view.path is None:
            return False
        if view.complete:
            return True
        changes = view.changes
        if view.uids is None or not view.uids:
            found: Sequence[int] = ()
            if view.exists:
                if conn.has_capability("ESEARCH"):
                    found = (await conn.uid_esearch([b"ALL"])).all
                else:
                    found = await conn.uid_search([b"ALL"])
            if view.changes == changes:  # else: before or after the change? ask again
                view.set_uids(found)
        else:
            last = view.uids[-1]
            # `last+1:*` names at least the last message (RFC 3501 §6.4.8): only higher count.
            arrived = await conn.uid_fetch(f"{last + 1}:*", ["UID"]).collect()
            if view.changes == changes:
                view.extend_uids(r.uid for r in arrived if r.uid is not None)
    raise ProtocolError(f"{view.path}: the folder changed during every attempt to list it")


async def search_messages(
    leases: CommandLeases,
    store: Store,
    path: str,
    terms: SearchTerms,
    *,
    page: int,
    page_size: int,
) -> MessagePage:
    """Messages of `path` matching `terms` (compiled to IMAP SEARCH), paged newest first.
    A `threadId` term is searched on the server by its root and then checked exactly on each
    hit (`in_thread`) before the paging, so `total` counts only the thread's messages."""
    compile_search(terms)  # bad terms answer 400 before a connection is even asked for
    return await read_retrying(
        lambda: _search_messages(leases, store, path, terms, page, page_size)
    )


async def _search_messages(
    leases: CommandLeases, store: Store, path: str, terms: SearchTerms, page: int, page_size: int
) -> MessagePage:
    async with leases.command(folder=path) as command:
        conn = command.conn
        gmail = conn.has_capability("X-GM-EXT-1")
        criteria, charset = compile_search(terms, utf8=conn.utf8, gmail=gmail)
        folder = await open_folder(command, store, path)
        if conn.has_capability("ESEARCH"):  # RFC 4731: a compact set instead of every number
            found = list((await conn.uid_esearch(criteria, charset=charset)).all)
        else:
            found = await conn.uid_search(criteria, charset=charset)
        matches = sorted(set(found), reverse=True)
        if terms.thread_id is not None:
            matches = await in_thread(conn, matches, terms.thread_id, index=folder.index)
        start = page * page_size
        uids = matches[start : start + page_size]
        messages = await fetch_summaries(command, folder, uids, summary_items(conn))
    return MessagePage(page, page_count(len(matches), page_size), len(matches), messages)


# --- one message ------------------------------------------------------------------------------


async def get_message(
    leases: CommandLeases,
    store: Store,
    message_id: str,
    *,
    max_bytes: int = DEFAULT_TEXT_BYTES,
) -> dict[str, Any]:
    """The listing object plus `headers` and the decoded text, each text part cut at
    `max_bytes` encoded octets (`text.hasMore` tells when something was left out)."""
    index, uid = decode_message_id(message_id)
    return await read_retrying(lambda: _get_message(leases, store, index, uid, max_bytes))


class _SelectionLost(Exception):
    """The NOOP sent with a FETCH reset the kept selection: ask again, one command at a time."""


async def _get_message(
    leases: CommandLeases, store: Store, index: int, uid: int, max_bytes: int
) -> dict[str, Any]:
    try:
        return await _read_message(leases, store, index, uid, max_bytes, pipelined=True)
    except _SelectionLost:
        return await _read_message(leases, store, index, uid, max_bytes, pipelined=False)


async def _checked_fetch(
    command: CommandConnection, folder: OpenFolder, uid: int, items: Sequence[str]
) -> FetchResult:
    """`fetch_one`, with the NOOP of a kept selection in the same write when it is pending.

    The answer is the sequential one unless the NOOP reset the view (the folder deleted or
    recreated): then whatever the FETCH said is dropped (`_SelectionLost`). Arrivals and
    expunges do not matter here: the UID was known before the NOOP.
    """
    try:
        fetch = await fetch_one(command, uid, items, noop_first=folder.noop_pending)
    except (CommandFailedError, NotFoundError):
        if folder.noop_pending and not command.view.is_selected(folder.path):
            raise _SelectionLost from None
        raise
    if folder.noop_pending and not command.view.is_selected(folder.path):
        raise _SelectionLost
    return fetch


async def _read_message(
    leases: CommandLeases, store: Store, index: int, uid: int, max_bytes: int, *, pipelined: bool
) -> dict[str, Any]:
    async with located(leases, store, index, defer_noop=pipelined) as (command, folder):
        conn = command.conn
        kept = command.summaries.get(folder.path, folder.uid_validity, [uid], whole=True)
        if uid in kept:
            # Asked for before: one FETCH of what can change or was never kept (its flags, and
            # the text, fetched afresh each time, as the cap may differ).
            message, parts = _unkept(kept[uid])
            labels = ("X-GM-LABELS",) * conn.has_capability("X-GM-EXT-1")
            items = ["UID", "FLAGS", *labels, *text_items(parts, max_bytes)]
            fetch = await _checked_fetch(command, folder, uid, items)
            content, has_more = decode_texts(fetch, parts, max_bytes)
        else:
            fetch = await _checked_fetch(command, folder, uid, summary_items(conn, HEADER_ITEM))
            message, parts = await _details(conn, folder, fetch)
            command.summaries.put(
                folder.path, folder.uid_validity, _kept(uid, message, parts), whole=True
            )
            content, has_more = await fetch_text(command, uid, parts, max_bytes)
        add_flags(message, fetch.flags, fetch.gmail_labels)
        text = message.get("text")
        if text is not None:
            text.update(content)
            text["hasMore"] = has_more
            text["reply"] = reply_text(content.get("plain"), content.get("html")).text
    return message


async def _details(
    conn: ImapConnection, folder: OpenFolder, fetch: FetchResult
) -> tuple[dict[str, Any], dict[str, BodyPart]]:
    """The details of `fetch` without the fields another client can change or the text, and
    the text parts to fetch."""
    # One message asked for by id: its values whole, unlike a listing's (mail/summary.py).
    message = message_summary(fetch, index=folder.index, path=folder.path, max_value=None)
    await add_classification(conn, [(fetch, message)])
    message["headers"] = parse_header_block(section(fetch, "BODY[HEADER]") or b"")
    parts: dict[str, BodyPart] = {}
    if "text" in message and fetch.body_structure is not None:
        plain, html = find_text_parts(fetch.body_structure)
        parts = {k: p for k, p in (("plain", plain), ("html", html)) if p is not None}
    return {k: v for k, v in message.items() if k not in MUTABLE_FIELDS}, parts


def _kept(uid: int, message: dict[str, Any], parts: dict[str, BodyPart]) -> dict[int, bytes]:
    """What `_unkept` reads back: the details and, under a key no message object has, what
    decoding each text part needs."""
    texts = {k: [p.part, p.subtype, p.encoding, p.param("charset")] for k, p in parts.items()}
    return encoded({uid: {**message, _TEXT_PARTS: texts}})


def _unkept(data: bytes) -> tuple[dict[str, Any], dict[str, BodyPart]]:
    message = orjson.loads(data)
    parts = {
        kind: BodyPart(
            part=part,
            type="text",
            subtype=subtype,
            encoding=encoding,
            params=(("charset", charset),) if charset is not None else (),
        )
        for kind, (part, subtype, encoding, charset) in message.pop(_TEXT_PARTS).items()
    }
    return message, parts


_TEXT_PARTS = "_textParts"


async def fetch_text(
    command: CommandConnection, uid: int, parts: dict[str, Any], max_bytes: int
) -> tuple[dict[str, str], bool]:
    """Decoded text of `parts` ("plain"/"html" → BodyPart), each cut at `max_bytes` encoded
    octets with a partial fetch (RFC 3501 §6.4.5 `<0.N>`): the rest is never downloaded."""
    if not parts:
        return {}, False
    fetch = await fetch_one(command, uid, ["UID", *text_items(parts, max_bytes)])
    return decode_texts(fetch, parts, max_bytes)


def text_items(parts: dict[str, Any], max_bytes: int) -> list[str]:
    """The FETCH items of `parts`' text, cut at `max_bytes` encoded octets.

    One octet more than the cap is asked for, so "cut" is known from the answer itself rather
    than from a BODYSTRUCTURE size that servers sometimes get wrong.
    """
    return [f"BODY.PEEK[{part.part}]<0.{max_bytes + 1}>" for part in parts.values()]


def decode_texts(
    fetch: FetchResult, parts: dict[str, Any], max_bytes: int
) -> tuple[dict[str, str], bool]:
    """The text of `parts` from the answer to `text_items`, and whether one was cut."""
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
