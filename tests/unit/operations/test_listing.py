"""The listing algorithm of `operations/messages.py` against a scripted server: what it sends for
a kept folder, and how it recovers when the server reports changes during the page's FETCH.

The server's side of each exchange is written out, so the changes arrive exactly where a
real server may send them (after a UID FETCH's data, RFC 3501 §7.4.1), which a real Dovecot
cannot be made to do on cue. tests/integration/messages covers the same against Dovecot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from imapapi.imap import ImapConnection
from imapapi.imap.core import EventCallback
from imapapi.operations import messages
from imapapi.sessions.command_pool import CommandConnection, CommandPool
from imapapi.sessions.folder_view import FolderView
from imapapi.syncing.classification import SUMMARY_HEADERS
from tests.unit.imap.test_connection import Harness, Server
from tests.unit.sessions.test_command_pool import spawned


class Indexes:
    """The store's part in a listing: one mailbox index per (path, UIDVALIDITY)."""

    def __init__(self) -> None:
        self.bound: dict[tuple[str, int], int] = {}

    async def mailbox_index(self, account: str, path: str, uid_validity: int) -> int:
        return self.bound.setdefault((path, uid_validity), len(self.bound) + 1)


@dataclass
class Ctx:
    store: Indexes = field(default_factory=Indexes)


class Session:
    """What `messages.py` uses of an AccountSession (`CommandLeases`: leases of its pool's
    connections), and the store's indexes."""

    account = "scripted"

    def __init__(self, pool: CommandPool) -> None:
        self.commands = pool
        self.ctx = Ctx()

    @asynccontextmanager
    async def command(self, folder: str | None = None) -> AsyncIterator[CommandConnection]:
        async with self.commands.lease(folder=folder) as command:
            yield command

    def command_views(self) -> list[FolderView]:
        return self.commands.views()


class Script:
    """One scripted server; `sent` collects the client's commands without tags."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.sent: list[str] = []

    async def expect(self, command: str, *lines: bytes) -> None:
        """Wait for `command` (compared without its tag), answer `lines` then tagged OK."""
        raw = await self.server.line()
        tag, text = raw.decode().rstrip("\r\n").split(" ", 1)
        self.sent.append(text)
        assert text == command
        await self.server.send(b"".join(line + b"\r\n" for line in lines))
        await self.server.send(tag.encode() + b" OK done\r\n")


class Scripted:
    """A session whose one command connection goes to a scripted server."""

    account = Session.account

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.opened = asyncio.Event()
        self.scripts: list[Script] = []
        pool = CommandPool(self, size=1, idle_close=60.0, wait_timeout=5.0, spawn=spawned)
        self.session: Any = Session(pool)

    async def open(self, name: str, *, on_event: EventCallback, **_: Any) -> ImapConnection:
        """The pool's `Connector`."""
        conn, server, _ = await self.harness.pair(on_event=on_event)
        self.scripts.append(Script(server))
        self.opened.set()
        return conn

    async def script(self) -> Script:
        await self.opened.wait()
        return self.scripts[0]


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    harness = Harness()
    yield Scripted(harness)
    await harness.close()


def fetched(seq: int, uid: int) -> bytes:
    """A whole answer to ITEMS (a line without them would be a server's push, not the answer)."""
    return (
        b'* %d FETCH (UID %d FLAGS () INTERNALDATE "07-Oct-2019 06:05:23 +0000" RFC822.SIZE 10 '
        b'ENVELOPE (NIL "m%d" NIL NIL NIL NIL NIL NIL NIL NIL) '
        b'BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 1 NIL NIL NIL) '
        b'BODY[HEADER.FIELDS (REFERENCES)] "")'
    ) % (seq, uid, uid)


SELECTED = (b"* 3 EXISTS", b"* OK [UIDVALIDITY 5] ok")
ITEMS = f"(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE {SUMMARY_HEADERS})"


async def listing(session: Any, page: int = 0) -> messages.MessagePage:
    return await messages.list_messages(session, session.ctx.store, "INBOX", page=page, page_size=2)


async def first_listing(scripted: Scripted) -> tuple[asyncio.Task[messages.MessagePage], Script]:
    """Page 0 of INBOX (UIDs 10, 20, 30) started on a fresh connection, up to its FETCH."""
    task = asyncio.create_task(listing(scripted.session))
    script = await scripted.script()
    await script.expect('SELECT "INBOX"', *SELECTED)
    await script.expect("UID SEARCH ALL", b"* SEARCH 10 20 30")
    return task, script


async def test_a_kept_folder_costs_a_noop_and_one_fetch(scripted: Scripted) -> None:
    task, script = await first_listing(scripted)
    session = scripted.session
    await script.expect(f"UID FETCH 20,30 {ITEMS}", fetched(3, 30), fetched(2, 20))
    first = await task
    assert [m["uid"] for m in first.messages] == [30, 20] and first.total == 3

    task = asyncio.create_task(listing(session, page=1))
    await script.expect("NOOP")
    await script.expect(f"UID FETCH 10 {ITEMS}", fetched(1, 10))
    second = await task
    assert [m["uid"] for m in second.messages] == [10] and second.pages == 2


async def test_changes_reported_after_the_fetch_mean_another_fetch(scripted: Scripted) -> None:
    task, script = await first_listing(scripted)
    # The newest message was expunged by another client and one arrived; the server still
    # served the old one from the session's view before telling.
    await script.expect(
        f"UID FETCH 20,30 {ITEMS}", fetched(3, 30), fetched(2, 20), b"* 3 EXPUNGE", b"* 3 EXISTS"
    )
    await script.expect("NOOP")
    await script.expect("UID FETCH 21:* (UID)", fetched(3, 40))
    await script.expect(f"UID FETCH 20,40 {ITEMS}", fetched(3, 40), fetched(2, 20))
    page = await task
    assert [m["uid"] for m in page.messages] == [40, 20] and page.total == 3


async def test_a_selection_the_server_ends_is_made_again(scripted: Scripted) -> None:
    task, script = await first_listing(scripted)
    session = scripted.session
    await script.expect(f"UID FETCH 20,30 {ITEMS}", fetched(3, 30), fetched(2, 20))
    await task
    # Dovecot's answer when the folder was deleted and created again under the session.
    task = asyncio.create_task(listing(session))
    await script.expect("NOOP", b"* NO Internal error occurred.")
    await script.expect('SELECT "INBOX"', b"* 1 EXISTS", b"* OK [UIDVALIDITY 6] ok")
    await script.expect("UID SEARCH ALL", b"* SEARCH 1")
    await script.expect(f"UID FETCH 1 {ITEMS}", fetched(1, 1))
    page = await task
    assert [m["uid"] for m in page.messages] == [1] and page.total == 1
    assert session.ctx.store.bound == {("INBOX", 5): 1, ("INBOX", 6): 2}  # a new index: new ids
