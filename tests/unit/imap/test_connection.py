"""ImapConnection against a scripted server on an in-memory socket pair (STYLE.md §18).

Tests the protocol tier: tag matching, continuations and literals, unsolicited routing,
IDLE, timeouts, redaction of the protocol log. The real server is in tests/integration/imap.
"""

from __future__ import annotations

import asyncio
import socket
import zlib
from collections.abc import AsyncIterator

import pytest

from imapapi.errors import (
    AuthenticationFailedError,
    CommandFailedError,
    ConflictError,
    InvalidInputError,
    NetworkError,
    ProtocolError,
    ServerTimeoutError,
)
from imapapi.imap import (
    Alert,
    AppendUid,
    Bye,
    ConnectionClosed,
    ConnectionState,
    Exists,
    Expunge,
    FetchResult,
    FetchUpdate,
    FlagsUpdate,
    ImapConnection,
    MailboxInfo,
    MailboxListUpdate,
    MailboxStatus,
    MailboxStatusUpdate,
    Recent,
    UnsolicitedEvent,
    Vanished,
)
from imapapi.imap.core import LOG_UNTAGGED_PER_COMMAND

CAPS = b"IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 IDLE ENABLE CONDSTORE QRESYNC UIDPLUS MOVE"
GREETING = b"* OK [CAPABILITY " + CAPS + b"] ready\r\n"
PASSWORD = "s3cr3t-pässword"


class Server:
    """The far end of the socket pair: read what the client sent, answer with bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def line(self) -> bytes:
        return await asyncio.wait_for(self.reader.readline(), 5)

    async def exact(self, size: int) -> bytes:
        return await asyncio.wait_for(self.reader.readexactly(size), 5)

    async def expect(self, line: bytes) -> None:
        assert await self.line() == line + b"\r\n"

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


class Harness:
    """Creates connection/server pairs and closes every socket at the end of the test."""

    def __init__(self) -> None:
        self.conns: list[ImapConnection] = []
        self.servers: list[Server] = []

    async def pair(
        self, greeting: bytes = GREETING, **kwargs: object
    ) -> tuple[ImapConnection, Server, list[tuple[str, str]]]:
        client_sock, server_sock = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=server_sock)
        server = Server(reader, writer)
        self.servers.append(server)
        await server.send(greeting)
        logged: list[tuple[str, str]] = []
        try:
            conn = await ImapConnection.connect(
                "imap.test",
                security="none",
                sock=client_sock,
                on_log=lambda d, line: logged.append((d, line)),
                **kwargs,  # type: ignore[arg-type]
            )
        except BaseException:
            client_sock.close()
            raise
        self.conns.append(conn)
        return conn, server, logged

    async def close(self) -> None:
        for conn in self.conns:
            await conn.close()
        for server in self.servers:
            server.writer.close()
            try:
                await server.writer.wait_closed()
            except OSError:
                pass


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    await h.close()


@pytest.fixture
async def pair(harness: Harness) -> tuple[ImapConnection, Server, list[tuple[str, str]]]:
    return await harness.pair()


def _drain(conn: ImapConnection) -> list[UnsolicitedEvent]:
    out: list[UnsolicitedEvent] = []
    while not conn.events.empty():
        out.append(conn.events.get_nowait())
    return out


async def _login(conn: ImapConnection, server: Server) -> None:
    task = asyncio.create_task(conn.login("ann", "pw"))
    await server.expect(b"A1 LOGIN ann pw")
    await server.send(b"A1 OK [CAPABILITY " + CAPS + b"] Logged in\r\n")
    await task


async def test_greeting_capabilities_and_state(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, _, _ = pair
    assert conn.has_capability("idle") and "QRESYNC" in conn.capabilities
    assert conn.state is ConnectionState.NOT_AUTHENTICATED
    assert "NOT_AUTHENTICATED" in repr(conn)


async def test_greeting_without_capabilities_asks_for_them() -> None:
    client_sock, server_sock = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=server_sock)
    server = Server(reader, writer)
    await server.send(b"* OK hello\r\n")
    task = asyncio.create_task(ImapConnection.connect("h", security="none", sock=client_sock))
    await server.expect(b"A1 CAPABILITY")
    await server.send(b"* CAPABILITY IMAP4rev1 IDLE\r\nA1 OK done\r\n")
    conn = await task
    assert conn.capabilities == {"IMAP4REV1", "IDLE"}
    await conn.close()
    writer.close()
    await writer.wait_closed()


async def test_preauth_greeting_is_authenticated(harness: Harness) -> None:
    conn, _server, _ = await harness.pair(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
    assert conn.state is ConnectionState.AUTHENTICATED


async def test_bye_greeting_refused(harness: Harness) -> None:
    with pytest.raises(NetworkError):
        await harness.pair(b"* BYE too many connections\r\n")


async def test_login_redacts_password_in_protocol_log(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, logged = pair
    task = asyncio.create_task(conn.login("ann", PASSWORD))
    # 8-bit password: a synchronizing literal (RFC 3501 §4.3) after the quoted user.
    head = await server.line()
    assert head.startswith(b"A1 LOGIN ann {")
    await server.send(b"+ go\r\n")
    size = int(head.rsplit(b"{", 1)[1][:-3])
    assert await server.exact(size + 2) == PASSWORD.encode() + b"\r\n"
    await server.send(b"A1 OK [CAPABILITY " + CAPS + b"] Logged in\r\n")
    await task
    assert conn.state is ConnectionState.AUTHENTICATED
    text = "\n".join(line for _, line in logged)
    assert PASSWORD not in text and "ann" not in text
    assert ("C", "A1 LOGIN ***") in logged


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"A1 NO [AUTHENTICATIONFAILED] Authentication failed.", AuthenticationFailedError),
        (b"A1 NO [UNAVAILABLE] Try later", CommandFailedError),
        (b"A1 BAD syntax", CommandFailedError),
    ],
    ids=["no_authfailed", "no_unavailable_is_not_bad_credentials", "bad"],
)
async def test_login_failure(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
    answer: bytes,
    error: type[Exception],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.login("ann", "pw"))
    await server.expect(b"A1 LOGIN ann pw")
    await server.send(answer + b"\r\n")
    with pytest.raises(error):
        await task
    assert conn.state is ConnectionState.NOT_AUTHENTICATED


async def test_xoauth2_error_challenge_gets_empty_answer(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, logged = pair
    task = asyncio.create_task(conn.authenticate_xoauth2("ann@x.test", "ya29.TOKEN"))
    line = await server.line()
    assert line.startswith(b"A1 AUTHENTICATE XOAUTH2 ")  # SASL-IR: initial response inline
    await server.send(b"+ eyJzdGF0dXMiOiI0MDEifQ==\r\n")  # {"status":"401"}
    assert await server.line() == b"\r\n"
    await server.send(b"A1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
    with pytest.raises(AuthenticationFailedError):
        await task
    text = "\n".join(line for _, line in logged)
    assert "ya29" not in text and "eyJ" not in text


async def test_authenticate_plain_without_sasl_ir_waits_for_challenge(harness: Harness) -> None:
    conn, server, logged = await harness.pair(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n")
    task = asyncio.create_task(conn.authenticate_plain("ann", PASSWORD))
    await server.expect(b"A1 AUTHENTICATE PLAIN")
    await server.send(b"+ \r\n")
    import base64

    assert base64.b64decode(await server.line()) == f"\0ann\0{PASSWORD}".encode()
    await server.send(b"A1 OK [CAPABILITY IMAP4rev1 IDLE] done\r\n")
    await task
    assert conn.state is ConnectionState.AUTHENTICATED
    assert all(PASSWORD not in line for _, line in logged)


UNSOLICITED = [
    ("exists", b"* 4 EXISTS", Exists(4)),
    ("recent", b"* 1 RECENT", Recent(1)),
    ("expunge", b"* 3 EXPUNGE", Expunge(3)),
    ("vanished", b"* VANISHED 5:6", Vanished((5, 6), False)),
    ("vanished_earlier", b"* VANISHED (EARLIER) 9", Vanished((9,), True)),
    (
        "fetch_flags",
        b"* 2 FETCH (UID 8 FLAGS (\\Seen))",
        FetchUpdate(FetchResult(seq=2, uid=8, flags=("\\Seen",))),
    ),
    ("flags", b"* FLAGS (\\Seen $X)", FlagsUpdate(("\\Seen", "$X"))),
    (
        "status_notify",
        b'* STATUS "&ZeVnLIqe-" (MESSAGES 2 UIDNEXT 9)',
        MailboxStatusUpdate(MailboxStatus("日本語", messages=2, uid_next=9)),
    ),
    ("list_notify", b'* LIST () "/" "New"', MailboxListUpdate(MailboxInfo("New", "/", ()))),
    ("alert", b"* OK [ALERT] maintenance", Alert("maintenance", "OK", "ALERT")),
    ("untagged_no", b"* NO disk almost full", Alert("disk almost full", "NO", None)),
    ("bye", b"* BYE shutting down", Bye("shutting down")),
]


@pytest.mark.parametrize(
    ("raw", "event"), [c[1:] for c in UNSOLICITED], ids=[c[0] for c in UNSOLICITED]
)
async def test_unsolicited_during_noop_become_events(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]], raw: bytes, event: UnsolicitedEvent
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.noop())
    await server.expect(b"A1 NOOP")
    await server.send(raw + b"\r\nA1 OK done\r\n")
    await task
    assert _drain(conn) == [event]


async def test_unsolicited_between_commands_and_callback(harness: Harness) -> None:
    seen: list[UnsolicitedEvent] = []
    conn, server, _ = await harness.pair(on_event=seen.append)
    await server.send(b"* 7 EXISTS\r\n* 2 EXPUNGE\r\n")
    task = asyncio.create_task(conn.noop())
    await server.expect(b"A1 NOOP")
    await server.send(b"A1 OK done\r\n")
    await task
    assert seen == [Exists(7), Expunge(2)]
    assert conn.events.empty()
    await conn.close()
    assert isinstance(seen[-1], ConnectionClosed)


async def test_uid_fetch_claims_its_uids_and_routes_the_rest(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.uid_fetch([5, 6], ["UID", "FLAGS"]).collect())
    await server.expect(b"A1 UID FETCH 5:6 (UID FLAGS)")
    await server.send(
        b"* 1 FETCH (UID 5 FLAGS ())\r\n"
        b"* 9 FETCH (UID 99 FLAGS (\\Seen))\r\n"  # someone else's change: not ours
        b"* 3 EXISTS\r\n"
        b"* 2 FETCH (UID 6 FLAGS (\\Flagged))\r\n"
        b"* 2 FETCH (UID 6 FLAGS (\\Flagged \\Seen))\r\n"  # a second report: an update
        b"A1 OK done\r\n"
    )
    results = await task
    assert [(r.uid, r.flags) for r in results] == [(5, ()), (6, ("\\Flagged",))]
    assert _drain(conn) == [
        FetchUpdate(FetchResult(seq=9, uid=99, flags=("\\Seen",))),
        Exists(3),
        FetchUpdate(FetchResult(seq=2, uid=6, flags=("\\Flagged", "\\Seen"))),
    ]


async def test_a_pushed_flag_change_does_not_stand_in_for_the_answer(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    """A server may push a message's flags (NOTIFY, another session's STORE) while the client
    fetches its envelope: that line has the UID but not the items asked for."""
    conn, server, _ = pair
    items = ["UID", "FLAGS", "RFC822.SIZE", "ENVELOPE"]
    task = asyncio.create_task(conn.uid_fetch([5], items).collect())
    await server.expect(b"A1 UID FETCH 5 (UID FLAGS RFC822.SIZE ENVELOPE)")
    await server.send(
        b"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n"  # pushed before the answer
        b'* 1 FETCH (UID 5 FLAGS (\\Seen) RFC822.SIZE 42 ENVELOPE (NIL "Hi" NIL NIL NIL NIL '
        b"NIL NIL NIL NIL))\r\n"
        b"A1 OK done\r\n"
    )
    [result] = await task
    assert (result.uid, result.size) == (5, 42)
    assert result.envelope is not None and result.envelope.subject == "Hi"
    assert _drain(conn) == [FetchUpdate(FetchResult(seq=1, uid=5, flags=("\\Seen",)))]


async def test_uid_fetch_in_chunks(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.uid_fetch([3, 1, 2, 7, 8], ["UID"], chunk_size=2).collect())
    for tag, uid_set, uids in [
        (b"A1", b"1:2", (1, 2)),
        (b"A2", b"3,7", (3, 7)),
        (b"A3", b"8", (8,)),
    ]:
        await server.expect(tag + b" UID FETCH " + uid_set + b" (UID)")
        await server.send(
            b"".join(b"* %d FETCH (UID %d)\r\n" % (u, u) for u in uids) + tag + b" OK\r\n"
        )
    assert [r.uid for r in await task] == [1, 2, 3, 7, 8]


async def test_uid_fetch_vanished_earlier_is_part_of_result(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    conn._enabled = frozenset({"QRESYNC"})
    stream = conn.uid_fetch("1:*", ["FLAGS"], changed_since=10, vanished=True)
    task = asyncio.create_task(stream.collect())
    await server.expect(b"A1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 10 VANISHED)")
    await server.send(
        b"* VANISHED (EARLIER) 2:3\r\n* 1 FETCH (UID 4 FLAGS () MODSEQ (12))\r\nA1 OK\r\n"
    )
    assert [r.modseq for r in await task] == [12]
    assert stream.vanished == [2, 3]
    assert _drain(conn) == []


def _flags_and_labels(
    flags: tuple[str, ...] | None, labels: tuple[str, ...] | None
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    return flags, labels


async def test_uid_fetch_flags_reads_in_bulk_and_routes_the_rest(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.uid_fetch_flags(_flags_and_labels))
    await server.expect(b"A1 UID FETCH 1:* (UID FLAGS)")
    await server.send(b"* 1 FETCH (UID 5 FLAGS ())\r\n* 3 EXISTS\r\n* 2 FETCH (UID 6 FLA")
    await server.send(
        b"GS (\\Flagged))\r\n"
        b"* 2 FETCH (UID 6 FLAGS (\\Flagged \\Seen))\r\n"  # a second report: an update
        b"* 3 fetch (uid 7 flags (\\seen))\r\n"  # not the bulk shape: the per-line parser's
        b"* 1 EXPUNGE\r\n"
        b"A1 OK done\r\n"
        b"* 4 FETCH (UID 8 FLAGS ())\r\n"  # after the tag: news
    )
    answer = await task
    noop = asyncio.create_task(conn.noop())
    await server.expect(b"A2 NOOP")
    await server.send(b"A2 OK\r\n")
    await noop
    assert answer.values == {5: ((), None), 6: (("\\Flagged",), None), 7: (("\\seen",), None)}
    assert _drain(conn) == [
        Exists(3),
        FetchUpdate(FetchResult(seq=2, uid=6, flags=("\\Flagged", "\\Seen"))),
        Expunge(1),
        FetchUpdate(FetchResult(seq=4, uid=8, flags=())),
    ]


async def test_uid_fetch_flags_changedsince_vanished_and_labels(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    conn._enabled = frozenset({"QRESYNC"})
    task = asyncio.create_task(
        conn.uid_fetch_flags(_flags_and_labels, labels=True, changed_since=10, vanished=True)
    )
    await server.expect(b"A1 UID FETCH 1:* (UID FLAGS X-GM-LABELS) (CHANGEDSINCE 10 VANISHED)")
    await server.send(
        b"* VANISHED (EARLIER) 2:3\r\n"
        b"* 1 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (12))\r\n"
        b'* 2 FETCH (X-GM-LABELS ("\\\\Inbox" foo) UID 5 FLAGS () MODSEQ (13))\r\n'
        b"A1 OK\r\n"
    )
    answer = await task
    assert answer.values == {4: (("\\Seen",), None), 5: ((), ("\\Inbox", "foo"))}
    assert answer.modseqs == {4: 12, 5: 13}
    assert answer.vanished == [2, 3]
    assert _drain(conn) == []


async def test_uid_fetch_flags_logs_what_the_per_line_path_logs(harness: Harness) -> None:
    lines = b"".join(
        b"* %d FETCH (UID %d FLAGS (\\Seen))\r\n" % (n, n) + (b"* 9 EXISTS\r\n" if n == 3 else b"")
        for n in range(1, 61)
    )
    logs = []
    for fetch in (
        lambda conn: conn.uid_fetch("1:*", ["UID", "FLAGS"]).collect(),
        lambda conn: conn.uid_fetch_flags(_flags_and_labels),
    ):
        conn, server, logged = await harness.pair()
        task = asyncio.create_task(fetch(conn))
        await server.expect(b"A1 UID FETCH 1:* (UID FLAGS)")
        await server.send(lines + b"A1 OK done\r\n")
        await task
        logs.append([line for direction, line in logged[1:] if direction == "S"])  # no greeting
    per_line, bulk = logs
    assert bulk == per_line
    assert bulk[:4] == [
        "* 1 FETCH (UID 1 FLAGS (\\Seen))",
        "* 2 FETCH (UID 2 FLAGS (\\Seen))",
        "* 3 FETCH (UID 3 FLAGS (\\Seen))",
        "* 9 EXISTS",
    ]
    assert bulk[-2:] == [
        f"* … {61 - LOG_UNTAGGED_PER_COMMAND} more untagged responses not logged",
        "A1 OK done",
    ]


async def test_append_synchronizing_literal_and_appenduid(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, logged = pair
    message = b"Subject: hi\r\n\r\n* BYE not really\r\n"
    task = asyncio.create_task(conn.append("INBOX", message, flags=["\\Seen"]))
    await server.expect(b'A1 APPEND "INBOX" (\\Seen) {%d}' % len(message))
    await server.send(b"+ Ready\r\n")
    assert await server.exact(len(message) + 2) == message + b"\r\n"
    await server.send(b"A1 OK [APPENDUID 38505 3955] done\r\n")
    assert await task == AppendUid(38505, (3955,))
    assert ("C", f"{{{len(message)} bytes}}") in logged
    assert all("not really" not in line for _, line in logged)


async def test_append_literal_plus_does_not_wait(harness: Harness) -> None:
    conn, server, _ = await harness.pair(b"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
    task = asyncio.create_task(conn.append("INBOX", b"x\r\n"))
    await server.expect(b'A1 APPEND "INBOX" {3+}')
    assert await server.exact(5) == b"x\r\n\r\n"
    await server.send(b"A1 OK done\r\n")
    assert await task is None


async def test_literal_refused_instead_of_continuation(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.append("INBOX", b"x"))
    await server.line()
    await server.send(b"A1 NO [TOOBIG] too big\r\n")
    with pytest.raises(CommandFailedError) as info:
        await task
    assert info.value.response_code == "TOOBIG"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.select("INBOX\r\nA9 DELETE INBOX"),
        lambda c: c.create("a\nb"),
        lambda c: c.rename("ok", "bad\x00"),
        lambda c: c.status("x\r"),
        lambda c: c.login("ann\r\nA2 LOGOUT", "pw"),
        lambda c: c.uid_store([1], "+", ["\\Seen\r\n"]),
        lambda c: c.uid_search([b"SUBJECT x\r\nA2 LOGOUT"]),
    ],
    ids=["select", "create", "rename", "status", "login", "store_flag", "search_criteria"],
)
async def test_cr_lf_nul_refused_before_anything_is_written(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]], call: object
) -> None:
    conn, server, logged = pair
    before = list(logged)
    with pytest.raises(InvalidInputError):
        await call(conn)  # type: ignore[operator]
    assert logged == before
    task = asyncio.create_task(conn.noop())
    await server.expect(b"A1 NOOP")  # the first thing the server ever reads
    await server.send(b"A1 OK\r\n")
    await task


async def test_no_with_response_code(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.create("Exists"))
    await server.expect(b'A1 CREATE "Exists"')
    await server.send(b"A1 NO [ALREADYEXISTS] Mailbox already exists\r\n")
    with pytest.raises(CommandFailedError) as info:
        await task
    assert (info.value.status, info.value.response_code) == ("NO", "ALREADYEXISTS")


async def test_store_unchanged_since_conflict(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.uid_store([1, 2], "+", ["\\Seen"], unchanged_since=5))
    await server.expect(b"A1 UID STORE 1:2 (UNCHANGEDSINCE 5) +FLAGS (\\Seen)")
    await server.send(
        b"* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (6))\r\nA1 OK [MODIFIED 2] partial\r\n"
    )
    with pytest.raises(ConflictError) as info:
        await task
    assert info.value.details == {"modified": [2]}


async def test_select_collects_mailbox_data(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    await _login(conn, server)
    task = asyncio.create_task(conn.select("Ünïcödé", condstore=True))
    await server.expect(b'A2 SELECT "&ANw-n&AO8-c&APY-d&AOk-" (CONDSTORE)')
    await server.send(
        b"* FLAGS (\\Seen)\r\n* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] x\r\n"
        b"* OK [UIDNEXT 4] x\r\n* OK [HIGHESTMODSEQ 99] x\r\nA2 OK [READ-WRITE] done\r\n"
    )
    selected = await task
    assert (selected.path, selected.exists, selected.uid_validity, selected.highest_modseq) == (
        "Ünïcödé",
        3,
        7,
        99,
    )
    assert conn.state is ConnectionState.SELECTED and conn.selected == "Ünïcödé"
    assert _drain(conn) == []  # EXISTS/RECENT/FLAGS were the answer, not news


async def test_idle_routes_events_and_refuses_commands(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.start_idle())
    await server.expect(b"A1 IDLE")
    await server.send(b"+ idling\r\n")
    await task
    assert conn.state is ConnectionState.IDLING
    with pytest.raises(ProtocolError):
        await conn.noop()
    await server.send(b"* 5 EXISTS\r\n* 1 EXPUNGE\r\n")
    assert await asyncio.wait_for(conn.events.get(), 5) == Exists(5)
    assert await asyncio.wait_for(conn.events.get(), 5) == Expunge(1)
    stop = asyncio.create_task(conn.stop_idle())
    await server.expect(b"DONE")
    await server.send(b"A1 OK Idle completed\r\n")
    await stop
    assert conn.state is ConnectionState.NOT_AUTHENTICATED
    task2 = asyncio.create_task(conn.noop())
    await server.expect(b"A2 NOOP")
    await server.send(b"A2 OK\r\n")
    await task2


async def test_idle_context_manager(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair

    async def serve() -> None:
        await server.expect(b"A1 IDLE")
        await server.send(b"+ idling\r\n* 2 EXISTS\r\n")
        await server.expect(b"DONE")
        await server.send(b"A1 OK\r\n")

    serving = asyncio.create_task(serve())
    async with conn.idle():
        assert await asyncio.wait_for(conn.events.get(), 5) == Exists(2)
    await serving
    assert conn.state is not ConnectionState.IDLING


async def test_timeout_breaks_the_connection(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, _server, _ = pair
    conn.command_timeout = 0.05
    with pytest.raises(ServerTimeoutError):
        await conn.noop()
    assert conn.state is ConnectionState.LOGOUT
    with pytest.raises(NetworkError):
        await conn.noop()
    events = _drain(conn)
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, ServerTimeoutError)


async def test_server_closing_fails_the_command(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.noop())
    await server.expect(b"A1 NOOP")
    await server.send(b"* BYE going away\r\n")
    server.writer.close()
    await server.writer.wait_closed()
    with pytest.raises(NetworkError):
        await task
    assert _drain(conn)[:1] == [Bye("going away")]
    assert conn.state is ConnectionState.LOGOUT


async def test_unknown_tag_is_a_protocol_error(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.noop())
    await server.expect(b"A1 NOOP")
    await server.send(b"Z9 OK what\r\n")
    with pytest.raises(ProtocolError):
        await task


async def test_uid_move_copyuid_from_untagged_ok(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.uid_move([4, 5], "Archive"))
    await server.expect(b'A1 UID MOVE 4:5 "Archive"')
    await server.send(
        b"* OK [COPYUID 9 4:5 20:21] moved\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nA1 OK done\r\n"
    )
    copied = await task
    assert copied is not None and copied.dest_uids == (20, 21)
    assert _drain(conn) == [Expunge(1), Expunge(1)]


async def test_esearch_and_search(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    task = asyncio.create_task(conn.uid_search([b"UNSEEN"]))
    await server.expect(b"A1 UID SEARCH UNSEEN")
    await server.send(b"* SEARCH 3 9\r\nA1 OK\r\n")
    assert await task == [3, 9]


async def test_compress_deflate_both_directions(harness: Harness) -> None:
    conn, server, _ = await harness.pair(b"* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n")
    task = asyncio.create_task(conn.compress())
    await server.expect(b"A1 COMPRESS DEFLATE")
    await server.send(b"A1 OK DEFLATE active\r\n")
    assert await task is True
    inflate = zlib.decompressobj(-15)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    noop = asyncio.create_task(conn.noop())
    got = b""
    while not got.endswith(b"\r\n"):
        got += inflate.decompress(await asyncio.wait_for(server.reader.read(100), 5))
    assert got == b"A2 NOOP\r\n"
    await server.send(
        deflate.compress(b"* 4 EXISTS\r\nA2 OK\r\n") + deflate.flush(zlib.Z_SYNC_FLUSH)
    )
    await noop
    assert _drain(conn) == [Exists(4)]


async def test_data_after_compress_ok_is_refused(harness: Harness) -> None:
    conn, server, _ = await harness.pair(b"* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n")
    task = asyncio.create_task(conn.compress())
    await server.expect(b"A1 COMPRESS DEFLATE")
    await server.send(b"A1 OK DEFLATE active\r\n* 1 EXISTS\r\n")  # injected in the clear
    with pytest.raises((ProtocolError, NetworkError)):
        await task
        await conn.noop()
    server.writer.close()


@pytest.mark.parametrize(
    ("caps", "method", "sent"),
    [
        (b"IMAP4rev1", "list_mailboxes", b'A1 LIST "" "*"'),
        (
            b"IMAP4rev1 LIST-EXTENDED SPECIAL-USE",
            "list_mailboxes",
            b'A1 LIST "" "*" RETURN (SUBSCRIBED SPECIAL-USE)',
        ),
        (b"IMAP4rev1", "list_subscribed", b'A1 LSUB "" "*"'),
        (b"IMAP4rev1 LIST-EXTENDED", "list_subscribed", b'A1 LIST (SUBSCRIBED) "" "*"'),
    ],
    ids=["plain_list", "list_extended_special_use", "lsub_fallback", "list_subscribed_extended"],
)
async def test_list_variants(harness: Harness, caps: bytes, method: str, sent: bytes) -> None:
    conn, server, _ = await harness.pair(b"* OK [CAPABILITY " + caps + b"] hi\r\n")
    task = asyncio.create_task(getattr(conn, method)())
    await server.expect(sent)
    kind = b"LSUB" if b"LSUB" in sent else b"LIST"
    await server.send(b"* " + kind + b' (\\Sent) "/" "Sent"\r\nA1 OK\r\n')
    assert await task == [MailboxInfo("Sent", "/", ("\\Sent",))]
    assert _drain(conn) == []


def test_bad_ca_file_is_invalid_input() -> None:
    from imapapi.imap.transport import make_ssl_context

    with pytest.raises(InvalidInputError):
        make_ssl_context(ca_file="/nonexistent/ca.pem")


async def test_protocol_log_keeps_the_first_responses_of_a_big_fetch_and_counts_the_rest(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, logged = pair
    task = asyncio.create_task(conn.uid_fetch("1:*", ["UID", "FLAGS"]).collect())
    await server.expect(b"A1 UID FETCH 1:* (UID FLAGS)")
    lines = b"".join(b"* %d FETCH (UID %d FLAGS ())\r\n" % (n, n) for n in range(1, 101))
    await server.send(lines + b"A1 OK done\r\n")
    assert len(await task) == 100  # every response is still a result...
    received = [line for direction, line in logged if direction == "S"]
    fetch_lines = [line for line in received if " FETCH " in line]
    assert len(fetch_lines) == LOG_UNTAGGED_PER_COMMAND  # ...but only the first are logged
    assert (
        received[-2] == f"* … {100 - LOG_UNTAGGED_PER_COMMAND} more untagged responses not logged"
    )
    assert received[-1] == "A1 OK done"


async def test_cancelled_idle_stays_cancelled_when_the_server_hangs_up_on_done(
    pair: tuple[ImapConnection, Server, list[tuple[str, str]]],
) -> None:
    conn, server, _ = pair
    idling = asyncio.Event()

    async def watch() -> None:
        async with conn.idle():
            idling.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(watch())
    await server.expect(b"A1 IDLE")
    await server.send(b"+ idling\r\n")
    await asyncio.wait_for(idling.wait(), 5)
    task.cancel()
    await server.expect(b"DONE")
    server.writer.close()  # no tagged OK: DONE fails with a network error
    # The cancellation, not the network error of DONE, is what the canceller sees.
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
