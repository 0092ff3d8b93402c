"""A NOOP and a UID FETCH in one write (`noop_first`) on every server of the harness: what the
NOOP makes the server report arrives as events, the FETCH's answer as its result, and the
connection's tags stay in step for the next command."""

from __future__ import annotations

import pytest

from imapapi.imap import Exists, Expunge, ImapConnection, UnsolicitedEvent, Vanished
from tests.servers.mailserver import ImapUser, MailServer

pytestmark = pytest.mark.integration


def message(subject: str) -> bytes:
    return f"From: a@example.test\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()


def _flags(flags: tuple[str, ...] | None, labels: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(sorted(f for f in flags or () if f != "\\Recent"))  # session-specific


def membership(events: list[UnsolicitedEvent]) -> list[UnsolicitedEvent]:
    return [e for e in events if isinstance(e, Exists | Expunge | Vanished)]


async def test_noop_and_fetch_in_one_write(mail_server: MailServer, server_user: ImapUser) -> None:
    for n in range(3):
        mail_server.deliver(server_user, message(f"m{n}"), flags=("\\Seen",) if n else ())
    events: list[UnsolicitedEvent] = []
    host, port = mail_server.host, mail_server.port
    conn = await ImapConnection.connect(host, port, security="none", on_event=events.append)
    other = await ImapConnection.connect(host, port, security="none")
    try:
        for client in (conn, other):
            await client.login(server_user.name, server_user.password)
            await client.select("INBOX")
        uids = await conn.uid_search([b"ALL"])
        assert len(uids) == 3
        answer = await conn.uid_fetch_flags(_flags, uids="1:*", noop_first=True)
        assert sorted(answer.values.values()) == [(), ("\\Seen",), ("\\Seen",)]
        assert membership(events) == []

        # Another client appends one message and expunges the first: the NOOP reports both.
        await other.append("INBOX", message("m3"))
        await other.uid_store([uids[0]], "+", ["\\Deleted"], silent=True)
        await other.expunge()
        await other.noop()
        kept = f"{uids[1]}:{uids[2]}"
        answer = await conn.uid_fetch_flags(_flags, uids=kept, noop_first=True)
        assert answer.values == {uids[1]: ("\\Seen",), uids[2]: ("\\Seen",)}
        reported = membership(events)
        assert any(isinstance(e, Exists) for e in reported), reported
        assert any(isinstance(e, Expunge | Vanished) for e in reported), reported
        assert len(await conn.uid_search([b"ALL"])) == 3  # the next command is answered
    finally:
        await other.logout()
        await conn.logout()
