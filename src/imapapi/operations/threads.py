"""A conversation's messages across folders, found on the server (issue 16).

Nothing of the mail is stored, so a thread is looked up where it lives: on Gmail, All Mail (the
`\\All` folder, RFC 6154) searched by X-GM-THRID; elsewhere every selectable folder searched for
the thread's root Message-ID (`search.thread_criteria`), each hit checked exactly
(`search.in_thread`). The messages are then ordered oldest first (by their date, then folder and
UID, so the order is the same on every call) and paged like a listing.
"""

from __future__ import annotations

from typing import Any

from imapapi.errors import InvalidInputError, NotFoundError
from imapapi.mail.threads import ThreadKey, parse_thread_id
from imapapi.operations.lookup import search_order
from imapapi.operations.messages import (
    MessagePage,
    open_folder,
    page_count,
    read_retrying,
    summary_items,
)
from imapapi.operations.page_summaries import fetch_summaries
from imapapi.operations.search import in_thread, thread_criteria
from imapapi.sessions.command_pool import CommandConnection, CommandLeases
from imapapi.store.base import Store


async def get_thread(
    leases: CommandLeases, store: Store, thread_id: str, *, page: int, page_size: int
) -> MessagePage:
    """One page of the thread `thread_id`, oldest first; NotFoundError when it has no
    message on the server, or when the id (of the right form) names no thread."""
    try:
        key = parse_thread_id(thread_id)
    except InvalidInputError:
        raise NotFoundError("thread not found (the id names no thread)") from None
    return await read_retrying(
        lambda: _get_thread(leases, store, thread_id, key, page=page, page_size=page_size)
    )


async def _get_thread(
    leases: CommandLeases,
    store: Store,
    thread_id: str,
    key: ThreadKey,
    *,
    page: int,
    page_size: int,
) -> MessagePage:
    async with leases.command() as command:
        found: list[dict[str, Any]] = []
        for path in await _folders(command, store, key):
            found += await _in_folder(command, store, path, thread_id, key)
    if not found:
        raise NotFoundError("thread not found")
    found.sort(key=lambda m: (m.get("date") or "", m["path"], m["uid"]))
    start = page * page_size
    total = len(found)
    return MessagePage(page, page_count(total, page_size), total, found[start : start + page_size])


async def _folders(command: CommandConnection, store: Store, key: ThreadKey) -> list[str]:
    """Where the thread's messages can be."""
    conn = command.conn
    gmail = conn.has_capability("X-GM-EXT-1")
    if key.message is not None:  # a message without Message-ID: the thread is that one copy
        binding = await store.resolve_mailbox_index(command.account, key.message[0])
        return [binding[0]] if binding is not None and not gmail else []
    if (key.gmail is not None) != gmail:  # Gmail's ids are its own, and it has no others
        return []
    # The folders a Message-ID lookup searches: on Gmail All Mail, elsewhere every selectable one.
    return search_order(await conn.list_mailboxes(), gmail=gmail)


async def _in_folder(
    command: CommandConnection, store: Store, path: str, thread_id: str, key: ThreadKey
) -> list[dict[str, Any]]:
    conn = command.conn
    try:
        folder = await open_folder(command, store, path)
    except NotFoundError:
        return []  # deleted since it was listed
    if not command.view.exists:
        return []
    criteria = thread_criteria(key, gmail=conn.has_capability("X-GM-EXT-1"), utf8=conn.utf8)
    # A non-ASCII root travels as a literal, which needs CHARSET without UTF8=ACCEPT (RFC 6855).
    charset = "UTF-8" if not conn.utf8 and key.root is not None and not key.root.isascii() else None
    uids = sorted(set(await conn.uid_search(criteria, charset=charset)))
    uids = await in_thread(conn, uids, thread_id, index=folder.index)
    return await fetch_summaries(command, folder, uids, summary_items(conn))
