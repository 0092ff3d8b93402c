"""The `on_command` hook of the IMAP connection (fed to metrics by the account session)."""

from __future__ import annotations

import asyncio

import pytest

from imapapi.errors import CommandFailedError, ServerTimeoutError
from imapapi.imap import ImapConnection
from tests.unit.imap.test_connection import Harness, Server, harness  # noqa: F401 (fixture)


async def answered(
    conn: ImapConnection, server: Server, line: bytes, reply: bytes
) -> asyncio.Task[object]:
    task: asyncio.Task[object] = asyncio.create_task(conn.noop())
    await server.expect(line)
    await server.send(reply)
    return task


async def test_each_command_reports_its_name_outcome_and_duration(harness: Harness) -> None:  # noqa: F811
    seen: list[tuple[str, str, float]] = []
    conn, server, _ = await harness.pair(on_command=lambda *args: seen.append(args))
    await (await answered(conn, server, b"A1 NOOP", b"A1 OK done\r\n"))
    with pytest.raises(CommandFailedError):
        await (await answered(conn, server, b"A2 NOOP", b"A2 NO [ALERT] not now\r\n"))
    assert [(name, outcome) for name, outcome, _ in seen] == [("NOOP", "OK"), ("NOOP", "NO")]
    assert all(seconds >= 0 for _, _, seconds in seen)


async def test_a_command_without_answer_reports_error(harness: Harness) -> None:  # noqa: F811
    seen: list[tuple[str, str, float]] = []
    conn, _server, _ = await harness.pair(command_timeout=0.2)
    conn.on_command = lambda *args: seen.append(args)  # attached after connect, as sessions do
    with pytest.raises(ServerTimeoutError):
        await conn.noop()
    assert [(name, outcome) for name, outcome, _ in seen] == [("NOOP", "error")]


async def test_a_failing_hook_does_not_break_the_connection(harness: Harness) -> None:  # noqa: F811
    def broken(name: str, outcome: str, seconds: float) -> None:
        raise RuntimeError("hook bug")

    conn, server, _ = await harness.pair(on_command=broken)
    await (await answered(conn, server, b"A1 NOOP", b"A1 OK done\r\n"))
    await (await answered(conn, server, b"A2 NOOP", b"A2 OK done\r\n"))
