"""ImapConnection against the real Dovecot of tests/servers/dovecot.py (DESIGN.md §6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import pytest

from imapapi.errors import (
    AuthenticationFailedError,
    CommandFailedError,
    InvalidInputError,
    NetworkError,
)
from imapapi.imap import (
    ConnectionState,
    Exists,
    Expunge,
    FetchUpdate,
    ImapConnection,
    MailboxStatusUpdate,
    QresyncParams,
    UnsolicitedEvent,
    Vanished,
)
from tests.servers.dovecot import Dovecot, ImapUser

pytestmark = pytest.mark.integration

EVENT_TIMEOUT = 15.0  # generous: Dovecot polls every 1 s when inotify runs out (DESIGN.md §6)

Connect = Callable[..., Awaitable[ImapConnection]]


def make_message(
    subject: str = "Hello", *, attachment_name: str | None = None, body: str = "Hi there"
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Jörg Müller <joerg@example.test>"
    msg["To"] = "Ann <ann@example.test>, bob@example.test"
    msg["Subject"] = subject
    msg["Message-ID"] = "<m1@example.test>"
    msg.set_content(body)
    if attachment_name:
        msg.add_attachment(
            b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename=attachment_name
        )
    return msg.as_bytes()


@pytest.fixture
async def connect(dovecot: Dovecot, imap_user: ImapUser) -> AsyncIterator[Connect]:
    """Open logged-in (by default) connections for `imap_user`; all are logged out at the end."""
    opened: list[ImapConnection] = []

    async def _connect(
        *, login: bool = True, security: str = "none", **kwargs: Any
    ) -> ImapConnection:
        port = dovecot.tls_port if security == "tls" else dovecot.port
        kwargs.setdefault("ca_file", str(dovecot.ca_file))
        conn = await ImapConnection.connect(
            dovecot.host,
            port,
            security=security,
            timeout=10,
            command_timeout=20,
            **kwargs,  # type: ignore[arg-type]
        )
        opened.append(conn)
        if login:
            await conn.login(imap_user.name, imap_user.password)
        return conn

    yield _connect
    for conn in opened:
        await conn.logout()


async def next_event(conn: ImapConnection, kind: type[Any], timeout: float = EVENT_TIMEOUT) -> Any:
    """The next event of `kind`; other events on the way are kept in `conn.seen`."""
    async with asyncio.timeout(timeout):
        while True:
            event: UnsolicitedEvent = await conn.events.get()
            if isinstance(event, kind):
                return event


async def deliver(dovecot: Dovecot, user: ImapUser, message: bytes, folder: str = "INBOX") -> None:
    # doveadm is a subprocess: run it off the loop so the connection under test keeps reading.
    await asyncio.to_thread(dovecot.deliver, user, message, folder)


# --- connecting and logging in --------------------------------------------------------------------


@pytest.mark.parametrize(
    "security", ["none", "starttls", "tls"], ids=["plain", "starttls", "implicit_tls"]
)
async def test_login(connect: Connect, security: str) -> None:
    conn = await connect(security=security)
    assert conn.state is ConnectionState.AUTHENTICATED
    assert conn._transport is not None and conn._transport.tls == (security != "none")
    assert {"NOTIFY", "CONDSTORE", "QRESYNC", "IDLE", "COMPRESS=DEFLATE"} <= conn.capabilities


@pytest.mark.parametrize("security", ["starttls", "tls"], ids=["starttls", "implicit_tls"])
async def test_certificate_verification_fails_without_ca_file(
    dovecot: Dovecot, security: str
) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    with pytest.raises(NetworkError, match="certificate"):
        await ImapConnection.connect(dovecot.host, port, security=security, timeout=10)  # type: ignore[arg-type]


async def test_tls_verify_opt_out_accepts_unknown_ca(connect: Connect) -> None:
    conn = await connect(security="tls", ca_file=None, tls_verify=False)
    assert conn.state is ConnectionState.AUTHENTICATED


async def test_wrong_password_and_protocol_log_has_no_password(
    connect: Connect, imap_user: ImapUser
) -> None:
    lines: list[tuple[str, str]] = []
    conn = await connect(login=False, on_log=lambda d, line: lines.append((d, line)))
    with pytest.raises(AuthenticationFailedError):
        await conn.login(imap_user.name, "wrong-" + imap_user.password)
    assert conn.state is ConnectionState.NOT_AUTHENTICATED
    await conn.login(imap_user.name, imap_user.password)
    assert conn.state is ConnectionState.AUTHENTICATED
    text = "\n".join(line for _, line in lines)
    assert imap_user.password not in text
    assert any(d == "C" and line.endswith("LOGIN ***") for d, line in lines)
    assert any(d == "S" and "AUTHENTICATIONFAILED" in line for d, line in lines)


async def test_authenticate_plain(connect: Connect, imap_user: ImapUser) -> None:
    lines: list[str] = []
    conn = await connect(login=False, on_log=lambda d, line: lines.append(line))
    await conn.authenticate_plain(imap_user.name, imap_user.password)
    assert conn.state is ConnectionState.AUTHENTICATED
    assert not any(imap_user.password in line for line in lines)
    with pytest.raises(AuthenticationFailedError):
        conn2 = await connect(login=False)
        await conn2.authenticate_plain(imap_user.name, "nope")


async def test_enable_qresync_and_id(connect: Connect) -> None:
    conn = await connect()
    enabled = await conn.enable("QRESYNC", "CONDSTORE")
    assert "QRESYNC" in enabled
    server_id = await conn.id({"name": "imapapi", "version": "test"})
    assert server_id is not None and server_id.get("name") == "Dovecot"


async def test_compress_then_fetch(connect: Connect, dovecot: Dovecot, imap_user: ImapUser) -> None:
    await deliver(dovecot, imap_user, make_message("compressed", body="x" * 20000))
    conn = await connect()
    assert await conn.compress() is True
    assert conn._transport is not None and conn._transport.compressed
    await conn.select("INBOX")
    (result,) = await conn.uid_fetch("1:*", ["UID", "ENVELOPE", "BODY.PEEK[]"]).collect()
    assert result.envelope is not None and result.envelope.subject == "compressed"
    assert b"x" * 70 in result.sections["BODY[]"]


# --- mailboxes ------------------------------------------------------------------------------------


async def test_list_special_use_and_subscribed(connect: Connect) -> None:
    conn = await connect()
    boxes = {box.path: box for box in await conn.list_mailboxes()}
    assert {"INBOX", "Sent", "Drafts", "Junk", "Trash", "Archive"} <= set(boxes)
    assert "\\Sent" in boxes["Sent"].flags and "\\Trash" in boxes["Trash"].flags
    assert "\\Subscribed" in boxes["Sent"].flags
    subscribed = {box.path for box in await conn.list_subscribed()}
    assert "Sent" in subscribed


async def test_create_rename_delete_non_ascii_nested(
    connect: Connect, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    conn = await connect()
    name = "Archive/Ünïcödé/日本語 & Co"
    await conn.create(name)
    await conn.subscribe(name)
    listed = {box.path for box in await conn.list_mailboxes()}
    assert name in listed and "Archive/Ünïcödé" in listed
    # The server stored it as modified UTF-7 (RFC 3501 §5.1.3), as doveadm sees it:
    on_server = (
        await asyncio.to_thread(dovecot.doveadm, "mailbox", "list", "-u", imap_user.name)
    ).splitlines()
    assert name in on_server  # doveadm prints UTF-8
    status = await conn.status(name)
    assert status.path == name and status.messages == 0
    renamed = "Archive/Ünïcödé/Tōkyō"
    await conn.rename(name, renamed)
    listed = {box.path for box in await conn.list_mailboxes()}
    assert renamed in listed and name not in listed
    await conn.delete(renamed)
    assert renamed not in {box.path for box in await conn.list_mailboxes()}
    with pytest.raises(CommandFailedError) as info:
        await conn.delete(renamed)
    assert info.value.status == "NO"


async def test_cr_lf_in_mailbox_name_is_refused_and_nothing_sent(connect: Connect) -> None:
    lines: list[tuple[str, str]] = []
    conn = await connect(on_log=lambda d, line: lines.append((d, line)))
    before = len(lines)
    for bad in ("Evil\r\nA99 DELETE INBOX", "Evil\nx", "Evil\x00"):
        with pytest.raises(InvalidInputError):
            await conn.create(bad)
    assert len(lines) == before  # not a byte was written
    assert "INBOX" in {box.path for box in await conn.list_mailboxes()}
    assert not any(box.path.startswith("Evil") for box in await conn.list_mailboxes())


# --- messages -------------------------------------------------------------------------------------


async def test_select_condstore(connect: Connect, dovecot: Dovecot, imap_user: ImapUser) -> None:
    await deliver(dovecot, imap_user, make_message())
    conn = await connect()
    selected = await conn.select("INBOX", condstore=True)
    assert selected.exists == 1 and selected.uid_next == 2
    assert selected.uid_validity and selected.highest_modseq
    assert "\\Seen" in selected.permanent_flags
    assert conn.state is ConnectionState.SELECTED
    (result,) = await conn.uid_fetch([1], ["UID", "FLAGS", "MODSEQ"]).collect()
    assert result.modseq is not None and result.modseq <= selected.highest_modseq


async def test_fetch_envelope_and_bodystructure(
    connect: Connect, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    await deliver(
        dovecot,
        imap_user,
        make_message("Grüße aus 東京 * ) (", attachment_name="Rechnung März €.pdf"),
    )
    conn = await connect()
    await conn.select("INBOX")
    items = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE"]
    (result,) = await conn.uid_fetch([1], items).collect()
    env = result.envelope
    assert env is not None
    assert env.subject == "Grüße aus 東京 * ) ("
    assert [(a.name, a.address) for a in env.from_] == [("Jörg Müller", "joerg@example.test")]
    assert [a.address for a in env.to] == ["ann@example.test", "bob@example.test"]
    assert env.message_id == "<m1@example.test>"
    assert result.size and result.internal_date
    assert set(result.flags or ()) <= {"\\Recent"}  # new mail: no flags but \Recent
    bs = result.body_structure
    assert bs is not None and bs.content_type == "multipart/mixed"
    text, attachment = bs.children
    assert (text.part, text.content_type) == ("1", "text/plain")
    assert (attachment.part, attachment.content_type, attachment.disposition) == (
        "2",
        "application/pdf",
        "attachment",
    )
    assert attachment.disposition_param("filename") == "Rechnung März €.pdf"
    section = await conn.uid_fetch([1], ["BODY.PEEK[2.MIME]", "BODY.PEEK[1]"]).collect()
    assert b"Hi there" in section[0].sections["BODY[1]"]


async def test_chunked_fetch_over_several_chunks(
    connect: Connect, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    for i in range(7):
        await deliver(dovecot, imap_user, make_message(f"message {i}"))
    lines: list[str] = []
    conn = await connect(on_log=lambda d, line: lines.append(line) if d == "C" else None)
    await conn.select("INBOX")
    results = await conn.uid_fetch(list(range(1, 8)), ["UID", "ENVELOPE"], chunk_size=3).collect()
    assert [r.uid for r in results] == list(range(1, 8))
    assert [r.envelope.subject for r in results if r.envelope] == [f"message {i}" for i in range(7)]
    assert [line.split(" ", 4)[3] for line in lines if " UID FETCH " in line] == ["1:3", "4:6", "7"]


async def test_append_returns_appenduid_and_search(connect: Connect) -> None:
    conn = await connect()
    appended = await conn.append("Sent", make_message("appended"), flags=["\\Seen", "$Custom"])
    assert appended is not None and appended.uids == (1,)
    await conn.select("Sent")
    assert await conn.uid_search([b"SEEN"]) == [1]
    assert await conn.uid_search([b"UNSEEN"]) == []
    found = await conn.uid_esearch([b"ALL"], returns=("MIN", "COUNT"))
    assert (found.min, found.count) == (1, 1)
    (result,) = await conn.uid_fetch([1], ["FLAGS"]).collect()
    assert set(result.flags or ()) - {"\\Recent"} == {"\\Seen", "$Custom"}


async def test_move_copy_store(connect: Connect, dovecot: Dovecot, imap_user: ImapUser) -> None:
    for i in range(3):
        await deliver(dovecot, imap_user, make_message(f"m{i}"))
    conn = await connect()
    await conn.select("INBOX")
    stored = await conn.uid_store([1, 2], "+", ["\\Flagged"])
    assert {r.uid for r in stored} == {1, 2} and all("\\Flagged" in (r.flags or ()) for r in stored)
    copied = await conn.uid_copy([3], "Archive")
    assert copied is not None and copied.source_uids == (3,)
    moved = await conn.uid_move([1, 2], "Trash")
    assert moved is not None and moved.source_uids == (1, 2) and len(moved.dest_uids) == 2
    # Two EXPUNGEs for sequence numbers 1 and 2, in whichever order the server chose.
    assert sorted([(await next_event(conn, Expunge)).seq for _ in range(2)]) in ([1, 1], [1, 2])
    assert (await conn.status("Trash")).messages == 2


# --- changes pushed by the server -----------------------------------------------------------------


async def test_idle_receives_exists_after_delivery(
    connect: Connect, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    conn = await connect()
    await conn.select("INBOX")
    async with conn.idle():
        assert conn.state is ConnectionState.IDLING
        await deliver(dovecot, imap_user, make_message("pushed"))
        assert await next_event(conn, Exists) == Exists(1)
    assert conn.state is ConnectionState.SELECTED
    (result,) = await conn.uid_fetch("1:*", ["ENVELOPE"]).collect()
    assert result.envelope is not None and result.envelope.subject == "pushed"


async def test_flag_change_and_expunge_from_second_connection(
    connect: Connect, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    for i in range(2):
        await deliver(dovecot, imap_user, make_message(f"m{i}"))
    watcher = await connect()
    await watcher.select("INBOX")
    other = await connect()
    await other.select("INBOX")
    async with watcher.idle():
        await other.uid_store([2], "+", ["\\Seen"], silent=True)
        update = await next_event(watcher, FetchUpdate)
        assert update.result.seq == 2 and "\\Seen" in (update.result.flags or ())
        await other.uid_store([1], "+", ["\\Deleted"], silent=True)
        await other.expunge([1])
        assert await next_event(watcher, Expunge) == Expunge(1)


async def test_vanished_with_qresync(
    connect: Connect, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    for i in range(3):
        await deliver(dovecot, imap_user, make_message(f"m{i}"))
    watcher = await connect()
    await watcher.enable("QRESYNC")
    first = await watcher.select("INBOX")
    other = await connect()
    await other.select("INBOX")
    async with watcher.idle():
        await other.uid_store([2], "+", ["\\Deleted"], silent=True)
        await other.expunge([2])
        assert await next_event(watcher, Vanished) == Vanished((2,), False)
    await watcher.unselect()
    # Reconnect-style resync: what vanished since the first SELECT (RFC 7162 §3.2.5).
    assert first.uid_validity is not None and first.highest_modseq is not None
    again = await watcher.select(
        "INBOX", qresync=QresyncParams(first.uid_validity, first.highest_modseq, (1, 2, 3))
    )
    assert again.vanished == (2,)
    assert again.exists == 2


async def test_notify_reports_delivery_into_another_folder(
    connect: Connect, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    conn = await connect()
    await conn.select("INBOX")
    await conn.notify_set(status=False)
    async with conn.idle():
        await deliver(dovecot, imap_user, make_message("elsewhere"), folder="Archive")
        update = await next_event(conn, MailboxStatusUpdate)
    assert update.status.path == "Archive"
    assert update.status.messages == 1 or update.status.uid_next == 2
    await conn.notify_none()


async def test_server_restart_closes_with_event(connect: Connect, dovecot: Dovecot) -> None:
    from imapapi.imap import ConnectionClosed

    conn = await connect()
    await asyncio.to_thread(dovecot.restart)
    closed = await next_event(conn, ConnectionClosed)
    assert isinstance(closed.error, NetworkError)
    assert conn.state is ConnectionState.LOGOUT
    with pytest.raises(NetworkError):
        await conn.noop()


# --- the bulk index fetch (imap/flagfetch.py) -----------------------------------------------------

FLAG_SETS = [
    (),
    ("\\Seen",),
    ("\\Seen", "\\Answered"),
    ("\\Flagged", "$Forwarded"),
    ("NonJunk", "$Label1", "\\Draft"),
    ("\\Deleted",),
]


def keep_flags(
    flags: tuple[str, ...] | None, labels: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    return flags


async def fill_flagged(conn: ImapConnection, count: int) -> None:
    for n in range(count):
        await conn.append("INBOX", make_message(f"m{n}"), flags=FLAG_SETS[n % len(FLAG_SETS)])


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "compressed"])
async def test_uid_fetch_flags_equals_the_per_line_fetch(connect: Connect, compress: bool) -> None:
    other = await connect()
    await fill_flagged(other, 150)
    conn = await connect()
    if compress:
        assert await conn.compress() is True
    await conn.enable("CONDSTORE")
    await conn.select("INBOX", condstore=True)  # the first session on the new mail: \Recent
    await other.select("INBOX")
    await other.uid_store([3, 4, 5, 77], "+", ["\\Deleted"], silent=True)
    await other.expunge([3, 4, 5, 77])  # gaps in the uids
    await conn.noop()
    drain_events(conn)
    answer = await conn.uid_fetch_flags(keep_flags)
    per_line = await conn.uid_fetch("1:*", ["UID", "FLAGS"]).collect()
    assert answer.values == {r.uid: r.flags for r in per_line}
    assert len(answer.values) == 146 and 77 not in answer.values
    assert any("\\Recent" in (flags or ()) for flags in answer.values.values())
    changed = await conn.uid_fetch_flags(keep_flags, changed_since=1)
    with_modseq = await conn.uid_fetch("1:*", ["UID", "FLAGS"], changed_since=1).collect()
    assert changed.modseqs == {r.uid: r.modseq for r in with_modseq}
    assert changed.values == {r.uid: r.flags for r in with_modseq}
    assert conn.events.empty()


async def test_uid_fetch_flags_routes_pending_changes_as_the_per_line_fetch_does(
    connect: Connect,
) -> None:
    """Changes another session made before the fetch arrive inside its answer (flag updates
    for uids already reported, expunges): both paths must answer and report them alike."""
    changer = await connect()
    await fill_flagged(changer, 40)
    await changer.select("INBOX")
    bulk, per_line = await connect(), await connect()
    for conn in (bulk, per_line):
        await conn.enable("QRESYNC")
        await conn.select("INBOX", condstore=True)
    await changer.uid_store([2, 9, 30], "+", ["$Changed"], silent=True)
    await changer.uid_store([5, 6], "+", ["\\Deleted"], silent=True)
    await changer.expunge([5, 6])
    await deliver_like_append(changer)
    answer = await bulk.uid_fetch_flags(keep_flags)
    results = await per_line.uid_fetch("1:*", ["UID", "FLAGS"]).collect()
    assert answer.values == {r.uid: r.flags for r in results}
    assert "$Changed" in (answer.values[9] or ())
    events = [drain_events(conn) for conn in (bulk, per_line)]
    assert events[0] == events[1]
    assert any(isinstance(e, Vanished | Expunge | Exists) for e in events[0])


async def test_uid_fetch_flags_vanished_with_qresync(connect: Connect) -> None:
    conn = await connect()
    await fill_flagged(conn, 6)
    await conn.enable("QRESYNC")
    first = await conn.select("INBOX")
    assert first.highest_modseq is not None
    await conn.uid_store([2, 4], "+", ["\\Deleted"], silent=True)
    await conn.expunge([2, 4])
    await conn.uid_store([5], "+", ["\\Seen"], silent=True)
    drain_events(conn)
    answer = await conn.uid_fetch_flags(
        keep_flags, changed_since=first.highest_modseq, vanished=True
    )
    assert sorted(answer.vanished) == [2, 4]
    assert 5 in answer.values and "\\Seen" in (answer.values[5] or ())
    assert set(answer.modseqs) == set(answer.values)


async def deliver_like_append(conn: ImapConnection) -> None:
    await conn.append("INBOX", make_message("late"), flags=["\\Seen"])


def drain_events(conn: ImapConnection) -> list[UnsolicitedEvent]:
    out: list[UnsolicitedEvent] = []
    while not conn.events.empty():
        out.append(conn.events.get_nowait())
    return out
