"""The Gmail-like test server itself, through our ImapConnection: XOAUTH2 (with the JSON error
challenge on a refused token), the Gmail folder tree, X-GM-* FETCH items and label pushes."""

from __future__ import annotations

import asyncio
from typing import TypeVar

import pytest

from imapapi.errors import AuthenticationFailedError
from imapapi.imap import ImapConnection
from imapapi.imap.unsolicited import Exists, FetchUpdate
from tests.servers.hoodiecrow import ALL_MAIL, TOKEN, USER, Hoodiecrow

pytestmark = pytest.mark.integration

MESSAGE = (
    b"From: Ann <ann@example.test>\r\nSubject: Labels\r\n"
    b"Message-ID: <l1@example.test>\r\n\r\nHi\r\n"
)
T = TypeVar("T")


async def connect(server: Hoodiecrow, lines: list[str] | None = None) -> ImapConnection:
    on_log = (lambda d, line: lines.append(f"{d} {line}")) if lines is not None else None
    return await ImapConnection.connect(
        server.host, server.port, security="none", timeout=5, on_log=on_log
    )


async def test_capabilities_xoauth2_and_gmail_folders(hoodiecrow: Hoodiecrow) -> None:
    lines: list[str] = []
    conn = await connect(hoodiecrow, lines)
    try:
        assert {"AUTH=XOAUTH2", "SASL-IR", "X-GM-EXT-1", "IDLE", "SPECIAL-USE"} <= set(
            conn.capabilities
        )
        with pytest.raises(AuthenticationFailedError, match="SASL authentication failed"):
            await conn.authenticate_xoauth2(USER, "revoked-token")
        # Google's XOAUTH2 doc: the error challenge is answered, then NO; the connection is
        # still usable for another try.
        await conn.authenticate_xoauth2(USER, TOKEN)
        folders = {m.path: set(m.flags) for m in await conn.list_mailboxes()}
        assert "\\All" in folders[ALL_MAIL]
        assert "\\Junk" in folders["[Gmail]/Spam"]
        assert "\\Trash" in folders["[Gmail]/Trash"]
        assert "\\Sent" in folders["[Gmail]/Sent Mail"]
        assert "INBOX" in folders
    finally:
        await conn.logout()
    text = "\n".join(lines)
    assert "C A2 AUTHENTICATE ***" in text  # SASL-IR: the token would be on this line
    assert "S + ***" in text  # the JSON error challenge
    assert TOKEN not in text and "revoked-token" not in text
    assert "X-GM-EXT-1" in text  # the advertised capability line


async def test_gmail_fetch_items_and_label_store(hoodiecrow: Hoodiecrow) -> None:
    added = hoodiecrow.append(MESSAGE, labels=["\\Inbox", "\\Important", "Work Stuff"])
    second = hoodiecrow.append(MESSAGE, labels=["\\Sent"], thread=added["msgid"])
    conn = await connect(hoodiecrow)
    try:
        await conn.authenticate_xoauth2(USER, TOKEN)
        await conn.select(ALL_MAIL)
        items = ["UID", "FLAGS", "X-GM-LABELS", "X-GM-MSGID", "X-GM-THRID"]
        found = {r.uid: r for r in await conn.uid_fetch("1:*", items).collect()}
        first = found[added["uid"]]
        assert first.gmail_labels == ("\\Inbox", "\\Important", "Work Stuff")
        assert first.gmail_msgid == int(added["msgid"])
        assert first.gmail_thrid == int(added["msgid"])
        reply = found[second["uid"]]
        assert reply.gmail_msgid == int(second["msgid"]) != first.gmail_msgid
        assert reply.gmail_thrid == first.gmail_msgid  # the same thread
        await conn.uid_store([added["uid"]], "+", ["Later"], item="X-GM-LABELS")
        await conn.uid_store([added["uid"]], "-", ["\\Important"], item="X-GM-LABELS")
    finally:
        await conn.logout()
    (stored,) = [m for m in hoodiecrow.messages() if m["uid"] == added["uid"]]
    assert stored["labels"] == ["\\Inbox", "Work Stuff", "Later"]


async def test_append_over_imap_labels_like_gmail(hoodiecrow: Hoodiecrow) -> None:
    conn = await connect(hoodiecrow)
    try:
        await conn.authenticate_xoauth2(USER, TOKEN)
        await conn.append(ALL_MAIL, MESSAGE)
        await conn.append("INBOX", MESSAGE)
    finally:
        await conn.logout()
    # \All is never a Gmail label; INBOX mail is labelled \Inbox.
    assert [m["labels"] for m in hoodiecrow.messages(ALL_MAIL)] == [[]]
    assert [m["labels"] for m in hoodiecrow.messages("INBOX")] == [["\\Inbox"]]


async def test_idle_on_all_mail_sees_new_mail_and_label_pushes(hoodiecrow: Hoodiecrow) -> None:
    events: asyncio.Queue[object] = asyncio.Queue()
    conn = await ImapConnection.connect(
        hoodiecrow.host, hoodiecrow.port, security="none", timeout=5, on_event=events.put_nowait
    )
    try:
        await conn.authenticate_xoauth2(USER, TOKEN)
        await conn.select(ALL_MAIL)
        async with conn.idle():
            added = hoodiecrow.append(MESSAGE, labels=["\\Inbox"])
            exists = await asyncio.wait_for(_next(events, Exists), 10)
            assert exists.count == 1
            hoodiecrow.set_labels(added["uid"], ["\\Inbox", "Urgent"], notify=True)
            update = await asyncio.wait_for(_next(events, FetchUpdate), 10)
        assert update.result.uid == added["uid"]
        assert update.result.gmail_labels == ("\\Inbox", "Urgent")
    finally:
        await conn.logout()


async def _next(events: asyncio.Queue[object], kind: type[T]) -> T:
    while True:
        event = await events.get()
        if isinstance(event, kind):
            return event
