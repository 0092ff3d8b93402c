"""CommandPool over scripted-server connections (tests/unit/imap/test_connection.py's harness):
how many connections, which one a caller gets, waiting, failures, idle close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from imapapi.errors import CommandFailedError, NetworkError, ServerTimeoutError
from imapapi.imap import ImapConnection
from imapapi.imap.core import EventCallback
from imapapi.sessions.command_pool import CommandPool
from imapapi.sessions.summaries import SummaryCache
from tests.unit.imap.test_connection import Harness, Server


class Servers:
    """Opens pool connections to scripted servers that answer NOOP/LOGOUT by themselves
    (the pool's `Connector`)."""

    account = "scripted"

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.opened: list[ImapConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.noop_reply = b"OK NOOP done"

    async def open(self, name: str, *, on_event: EventCallback, **_: Any) -> ImapConnection:
        conn, server, _ = await self.harness.pair(on_event=on_event)
        self.opened.append(conn)
        self.tasks.append(asyncio.create_task(self._answer(server)))
        return conn

    async def _answer(self, server: Server) -> None:
        while line := await server.reader.readline():
            tag, name = line.split()[:2]
            if name == b"LOGOUT":
                await server.send(b"* BYE bye\r\n" + tag + b" OK bye\r\n")
                return
            await server.send(tag + b" " + self.noop_reply + b"\r\n")

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    harness = Harness()
    found = Servers(harness)
    yield found
    found.stop()
    await harness.close()


_background: set[asyncio.Task[None]] = set()


def spawned(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 (the pool offers no event to wait on)
            await asyncio.sleep(0.005)


def make_pool(servers: Servers, size: int = 2, **kwargs: Any) -> CommandPool:
    options: dict[str, Any] = {"idle_close": 60.0, "wait_timeout": 1.0, "spawn": spawned}
    options.update(kwargs)
    return CommandPool(servers, size=size, **options)


async def test_one_connection_serves_calls_one_after_another(servers: Servers) -> None:
    pool = make_pool(servers, size=3)
    for _ in range(3):
        async with pool.lease() as command:
            await command.conn.noop()
    assert len(servers.opened) == 1 and pool.open_count == 1
    await pool.close()
    assert pool.open_count == 0


async def test_concurrent_calls_open_up_to_size(servers: Servers) -> None:
    pool = make_pool(servers, size=2)
    held = asyncio.Event()
    release = asyncio.Event()
    used: list[ImapConnection] = []

    async def call() -> None:
        async with pool.lease() as command:
            used.append(command.conn)
            if len(used) == 2:
                held.set()
            await release.wait()

    tasks = [asyncio.create_task(call()) for _ in range(3)]
    await held.wait()
    assert len(servers.opened) == 2  # the third caller waits for one of them
    release.set()
    await asyncio.gather(*tasks)
    assert len(used) == 3 and set(used) == set(servers.opened)
    await pool.close()


async def test_a_caller_gets_the_connection_with_its_folder(servers: Servers) -> None:
    pool = make_pool(servers, size=2)
    async with pool.lease() as first, pool.lease() as second:
        second.view.opened("Archive", uid_validity=1, index=2, exists=0, read_only=True)
        assert first is not second
    for _ in range(2):
        async with pool.lease(folder="Archive") as conn:
            assert conn is second
    async with pool.lease(folder="INBOX") as conn:
        assert conn is first  # nobody has it: the open one with nothing selected
    assert len(servers.opened) == 2
    await pool.close()


async def test_a_kept_folder_is_not_given_up_while_a_connection_can_be_added(
    servers: Servers,
) -> None:
    pool = make_pool(servers, size=2)
    async with pool.lease() as inbox:
        inbox.view.opened("INBOX", uid_validity=1, index=1, exists=0, read_only=True)
    async with pool.lease(folder="Sent") as sent:
        assert sent is not inbox  # a second connection, INBOX stays selected on the first
        sent.view.opened("Sent", uid_validity=1, index=2, exists=0, read_only=True)
    async with pool.lease(folder="Drafts") as drafts:
        assert drafts is inbox  # the pool is full: the one used least recently
    async with pool.lease() as any_call:
        assert any_call is sent  # no folder wanted: the open one used least recently
    assert len(servers.opened) == 2
    await pool.close()


async def test_a_freed_connection_goes_to_the_waiter_that_wants_its_folder(
    servers: Servers,
) -> None:
    pool = make_pool(servers, size=1)
    order: list[str] = []
    async with pool.lease() as conn:
        conn.view.opened("Archive", uid_validity=1, index=2, exists=0, read_only=True)

        async def call(name: str, folder: str | None) -> None:
            async with pool.lease(folder=folder):
                order.append(name)

        tasks = [
            asyncio.create_task(call("first, any folder", None)),
            asyncio.create_task(call("second, Archive", "Archive")),
        ]
        await until(lambda: len(pool._waiters) == 2)  # both queued behind the held one
    await asyncio.gather(*tasks)
    assert order == ["second, Archive", "first, any folder"]
    await pool.close()


async def test_waiting_ends_with_a_timeout_and_the_pool_goes_on(servers: Servers) -> None:
    pool = make_pool(servers, size=1, wait_timeout=0.05)
    async with pool.lease() as held:
        with pytest.raises(ServerTimeoutError):
            async with pool.lease():
                pass
    assert not pool._waiters
    async with pool.lease() as conn:
        assert conn is held
    await pool.close()


async def test_a_broken_connection_is_replaced_a_refused_command_is_not(
    servers: Servers,
) -> None:
    pool = make_pool(servers, size=1)
    servers.noop_reply = b"NO not now"
    with pytest.raises(CommandFailedError):
        async with pool.lease() as conn:
            await conn.conn.noop()
    async with pool.lease() as again:
        assert again is conn
    with pytest.raises(NetworkError):
        async with pool.lease() as conn:
            raise NetworkError("connection lost")
    assert pool.open_count == 0
    async with pool.lease() as fresh:
        assert fresh is not conn
    assert len(servers.opened) == 2
    await pool.close()


async def test_the_view_hears_of_selections_made_by_anyone(servers: Servers) -> None:
    seen: list[str] = []

    class Opener:
        account = servers.account

        async def open(self, name: str, **options: Any) -> ImapConnection:
            conn = await servers.open(name, **options)
            conn.on_command = lambda name, outcome, seconds: seen.append(name)
            return conn

    pool = CommandPool(Opener(), size=1, idle_close=60.0, wait_timeout=1.0, spawn=spawned)
    async with pool.lease() as command:
        conn, view = command.conn, command.view
        view.opened("INBOX", uid_validity=1, index=2, exists=0, read_only=True)
        await conn.noop()
        assert view.is_selected("INBOX")
        await conn._run("UNSELECT")  # any code that deselects, through the public hook
        assert not view.is_selected("INBOX")
    assert seen == ["NOOP", "UNSELECT"]  # the owner's hook is still called
    await pool.close()


async def test_an_idle_connection_is_closed(servers: Servers) -> None:
    pool = make_pool(servers, size=1, idle_close=0.01)
    async with pool.lease():
        pass
    await until(lambda: pool.open_count == 0)
    async with pool.lease():  # and opened again when needed
        pass
    assert len(servers.opened) == 2
    await pool.close()


async def test_close_fails_the_waiters(servers: Servers) -> None:
    pool = make_pool(servers, size=1)

    async def call() -> None:
        async with pool.lease():
            pass

    async with pool.lease():
        waiter = asyncio.create_task(call())
        await until(lambda: bool(pool._waiters))
        await pool.close()
    with pytest.raises(ServerTimeoutError):
        await waiter


async def test_a_folder_the_sync_found_reset_is_selected_anew(servers: Servers) -> None:
    pool = make_pool(servers, size=2, summaries=SummaryCache(10).scope())
    async with pool.lease() as first, pool.lease() as second:
        first.view.opened("Archive", uid_validity=1, index=2, exists=1, read_only=False)
        second.view.opened("INBOX", uid_validity=5, index=1, exists=1, read_only=False)
    first.summaries.put("Archive", 1, {1: b"old"})
    pool.folder_synced("Archive", 1)  # the same folder: the selection stays
    pool.folder_synced("INBOX", 5)
    assert first.summaries.get("Archive", 1, [1]) == {1: b"old"}
    assert [v.path for v in pool.views()] == ["Archive", "INBOX"]
    pool.folder_synced("Archive", 9)  # deleted and created again
    pool.folder_synced("INBOX", None)  # deleted
    assert [v.path for v in pool.views()] == [None, None]
    assert first.summaries.get("Archive", 1, [1]) == {}
    await pool.close()
