"""Two commands in flight on one connection (`noop_first`, `ConnectionCore._run_two`), against
the scripted server of test_connection.py: the second command is on the wire before the first
is answered; untagged responses in between are the connection's; either answer failing loses
neither; a dropped connection fails both.
"""

from __future__ import annotations

import asyncio

import pytest

from imapapi.errors import CommandFailedError, NetworkError
from imapapi.imap import ConnectionState, Exists, Expunge, FetchUpdate, ImapConnection
from imapapi.imap.core import Queued
from imapapi.imap.encode import Literal
from imapapi.imap.flagfetch import FlagFetch
from tests.unit.imap.test_connection import Harness, Server, _drain, harness  # noqa: F401

Flags = tuple[str, ...] | None


def _flags(flags: Flags, labels: Flags) -> Flags:
    return flags


async def flags_after_noop(conn: ImapConnection, server: Server) -> asyncio.Task[FlagFetch[Flags]]:
    """Start `UID FETCH 5:6 (UID FLAGS)` with a NOOP first; both lines must arrive before the
    server says anything."""
    task = asyncio.create_task(conn.uid_fetch_flags(_flags, uids="5:6", noop_first=True))
    await server.expect(b"A1 NOOP")
    await server.expect(b"A2 UID FETCH 5:6 (UID FLAGS)")
    return task


ANSWER = b"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n* 2 FETCH (UID 6 FLAGS ())\r\nA2 OK Fetch done\r\n"


async def test_both_are_written_before_either_is_answered(harness: Harness) -> None:  # noqa: F811
    conn, server, logged = await harness.pair()
    task = await flags_after_noop(conn, server)
    await server.send(b"* 3 EXISTS\r\n* 1 EXPUNGE\r\nA1 OK NOOP done\r\n" + ANSWER)
    answer = await task
    assert answer.values == {5: ("\\Seen",), 6: ()}
    # What the NOOP made the server report is the connection's news, not part of an answer.
    assert _drain(conn) == [Exists(3, mailbox=None), Expunge(1, mailbox=None)]
    sent = [line for direction, line in logged if direction == "C"]
    assert sent == ["A1 NOOP", "A2 UID FETCH 5:6 (UID FLAGS)"]


async def test_a_fetch_answer_before_the_noop_completes_is_taken(harness: Harness) -> None:  # noqa: F811
    """RFC 3501 §5.5: a server may work on both at once, so FETCH data may come before the
    NOOP's tagged OK, and the tagged responses in either order."""
    conn, server, _ = await harness.pair()
    task = await flags_after_noop(conn, server)
    await server.send(
        b"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n* 2 FETCH (UID 6 FLAGS ())\r\n"
        b"A2 OK Fetch done\r\nA1 OK NOOP done\r\n"
    )
    assert (await task).values == {5: ("\\Seen",), 6: ()}
    assert _drain(conn) == []
    await _noop(conn, server, "A3")  # the tags are still in step


async def test_a_refused_noop_raises_after_both_answers(harness: Harness) -> None:  # noqa: F811
    conn, server, _ = await harness.pair()
    task = await flags_after_noop(conn, server)
    await server.send(b"A1 NO [SERVERBUG] not now\r\n" + ANSWER)
    with pytest.raises(CommandFailedError) as failed:
        await task
    assert (failed.value.command, failed.value.status) == ("NOOP", "NO")
    await _noop(conn, server, "A3")  # the FETCH's answer was read, not taken for A3's


async def test_the_first_refused_keeps_the_seconds_answer(harness: Harness) -> None:  # noqa: F811
    conn, server, _ = await harness.pair()
    answer = FlagFetch(_flags)
    task = asyncio.create_task(
        conn._run_two(
            Queued("UID STORE", [b"7", b"+FLAGS", b"(\\Seen)"]),
            Queued("UID FETCH", [b"5:6", b"(UID FLAGS)"], ("FETCH",), flag_fetch=answer),
        )
    )
    await server.expect(b"A1 UID STORE 7 +FLAGS (\\Seen)")
    await server.expect(b"A2 UID FETCH 5:6 (UID FLAGS)")
    await server.send(b"A1 BAD no such message\r\n" + ANSWER)
    (first, _), (second, command) = await task
    assert (first.status, second.status) == ("BAD", "OK")
    assert command.tag == "A2" and answer.values == {5: ("\\Seen",), 6: ()}


async def test_a_flag_change_before_the_answer_is_not_lost(harness: Harness) -> None:  # noqa: F811
    """The NOOP reports a change of message 5 in the same form as the answer: the first is
    taken as the answer, the real answer, coming second, is news (the caller's latest word)."""
    conn, server, _ = await harness.pair()
    task = await flags_after_noop(conn, server)
    await server.send(b"* 1 FETCH (UID 5 FLAGS ())\r\nA1 OK NOOP done\r\n" + ANSWER)
    assert (await task).values == {5: (), 6: ()}
    (update,) = _drain(conn)
    assert isinstance(update, FetchUpdate) and update.result.uid == 5
    assert update.result.flags == ("\\Seen",)


async def test_a_dropped_connection_fails_both(harness: Harness) -> None:  # noqa: F811
    conn, server, _ = await harness.pair()
    task = await flags_after_noop(conn, server)
    await server.send(b"A1 OK NOOP done\r\n* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n")
    server.writer.close()
    with pytest.raises(NetworkError):
        await task
    assert conn.state is ConnectionState.LOGOUT
    with pytest.raises(NetworkError):
        await conn.noop()


async def test_a_literal_argument_is_not_written_ahead(harness: Harness) -> None:  # noqa: F811
    """A command with a synchronizing literal waits for `+`: the NOOP goes alone before it."""
    conn, server, _ = await harness.pair()
    task = asyncio.create_task(conn._run("UID SEARCH", [b"TEXT", Literal(b"hi")], noop_first=True))
    await server.expect(b"A1 NOOP")
    await server.send(b"A1 OK NOOP done\r\n")
    await server.expect(b"A2 UID SEARCH TEXT {2}")
    await server.send(b"+ go\r\n")
    assert await server.exact(4) == b"hi\r\n"
    await server.send(b"A2 OK done\r\n")
    status, _ = await task
    assert status.status == "OK"


async def _noop(conn: ImapConnection, server: Server, tag: str) -> None:
    task = asyncio.create_task(conn.noop())
    await server.expect(f"{tag} NOOP".encode())
    await server.send(f"{tag} OK done\r\n".encode())
    await task
