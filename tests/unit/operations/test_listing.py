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
from imapapi.sessions.summaries import SummaryCache
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

    async def expect_together(self, *exchanges: tuple[str, list[bytes]]) -> None:
        """Like `expect` for each (command, lines), but only once every command was read:
        the client wrote them all before any answer."""
        tags = []
        for command, _ in exchanges:
            raw = await self.server.line()
            tag, text = raw.decode().rstrip("\r\n").split(" ", 1)
            self.sent.append(text)
            assert text == command
            tags.append(tag)
        for tag, (_, lines) in zip(tags, exchanges, strict=True):
            await self.server.send(b"".join(line + b"\r\n" for line in lines))
            await self.server.send(tag.encode() + b" OK done\r\n")


class Scripted:
    """A session whose one command connection goes to a scripted server."""

    account = Session.account

    def __init__(self, harness: Harness, summaries: int = 0) -> None:
        self.harness = harness
        self.opened = asyncio.Event()
        self.scripts: list[Script] = []
        kept = SummaryCache(summaries).scope()
        pool = CommandPool(
            self, size=1, idle_close=60.0, wait_timeout=5.0, spawn=spawned, summaries=kept
        )
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


@pytest.fixture
async def keeping() -> AsyncIterator[Scripted]:
    """A session that keeps the summaries of what it listed (`sessions/summaries.py`)."""
    harness = Harness()
    yield Scripted(harness, summaries=100)
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


# --- a kept page: the NOOP and its FETCH of flags in one write ---------------------------------


UNFLAGGED = [b"* 3 FETCH (UID 30 FLAGS ())", b"* 2 FETCH (UID 20 FLAGS ())"]


async def second_page_0(
    keeping: Scripted, noop: list[bytes], fetch: list[bytes]
) -> tuple[asyncio.Task[messages.MessagePage], Script]:
    """Page 0 listed (20, 30 kept), then listed again: the NOOP and the FETCH of flags are
    read together, then answered with `noop` and `fetch`."""
    task, script = await first_listing(keeping)
    await script.expect(f"UID FETCH 20,30 {ITEMS}", fetched(3, 30), fetched(2, 20))
    await task
    task = asyncio.create_task(listing(keeping.session))
    await script.expect_together(("NOOP", noop), ("UID FETCH 20,30 (UID FLAGS)", fetch))
    return task, script


async def test_a_kept_page_sends_the_noop_and_its_fetch_together(keeping: Scripted) -> None:
    seen = [b"* 3 FETCH (UID 30 FLAGS (\\Seen))", UNFLAGGED[1]]
    task, _ = await second_page_0(keeping, [], seen)
    page = await task
    assert [(m["uid"], m["flags"]) for m in page.messages] == [(30, ["\\Seen"]), (20, [])]
    assert (page.total, page.pages) == (3, 2)


async def test_an_arrival_the_noop_reports_means_the_page_as_it_is(keeping: Scripted) -> None:
    """The FETCH went for the page as it was; the NOOP told of a new message: the page is
    listed again from the updated map (no second NOOP: the server just answered one)."""
    task, script = await second_page_0(keeping, [b"* 4 EXISTS"], UNFLAGGED)
    await script.expect("UID FETCH 31:* (UID)", b"* 4 FETCH (UID 40)")
    await script.expect("UID FETCH 30 (UID FLAGS)", UNFLAGGED[0])
    await script.expect(f"UID FETCH 40 {ITEMS}", fetched(4, 40))
    page = await task
    assert [m["uid"] for m in page.messages] == [40, 30] and page.total == 4


async def test_an_expunge_the_fetch_reports_means_the_page_as_it_is(keeping: Scripted) -> None:
    task, script = await second_page_0(keeping, [], [*UNFLAGGED, b"* 3 EXPUNGE"])
    await script.expect("UID FETCH 20 (UID FLAGS)", UNFLAGGED[1])
    await script.expect(f"UID FETCH 10 {ITEMS}", fetched(1, 10))
    page = await task
    assert [m["uid"] for m in page.messages] == [20, 10] and page.total == 2


async def test_a_flag_change_the_noop_reports_gives_way_to_the_answer(keeping: Scripted) -> None:
    seen = [b"* 3 FETCH (UID 30 FLAGS (\\Seen))", UNFLAGGED[1]]
    task, _ = await second_page_0(keeping, [b"* 3 FETCH (UID 30 FLAGS (\\Flagged))"], seen)
    page = await task
    assert [(m["uid"], m["flags"]) for m in page.messages] == [(30, ["\\Seen"]), (20, [])]


async def test_a_folder_gone_under_the_pair_is_selected_again(keeping: Scripted) -> None:
    task, script = await first_listing(keeping)
    await script.expect(f"UID FETCH 20,30 {ITEMS}", fetched(3, 30), fetched(2, 20))
    await task
    task = asyncio.create_task(listing(keeping.session))
    raw = await script.server.line()
    assert raw.endswith(b" NOOP\r\n")
    fetch = await script.server.line()
    assert b" UID FETCH 20,30 (UID FLAGS)" in fetch
    noop_tag, fetch_tag = raw.split(b" ")[0], fetch.split(b" ")[0]
    await script.server.send(b"* NO Internal error occurred.\r\n" + noop_tag + b" OK done\r\n")
    await script.server.send(fetch_tag + b" NO [NONEXISTENT] Mailbox does not exist\r\n")
    await script.expect('SELECT "INBOX"', b"* 1 EXISTS", b"* OK [UIDVALIDITY 6] ok")
    await script.expect("UID SEARCH ALL", b"* SEARCH 1")
    await script.expect(f"UID FETCH 1 {ITEMS}", fetched(1, 1))
    page = await task
    assert [m["uid"] for m in page.messages] == [1] and page.total == 1
