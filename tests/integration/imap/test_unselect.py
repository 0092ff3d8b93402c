"""Leaving a mailbox never expunges, on a server without UNSELECT (RFC 3691) too."""

from __future__ import annotations

import pytest

from imapapi.imap import ImapConnection
from tests.servers.mailserver import ImapUser, MailServer

pytestmark = pytest.mark.integration

MESSAGE = b"From: a@example.test\r\nSubject: marked\r\n\r\nstill here\r\n"


async def test_unselect_after_a_read_write_select_keeps_deleted_messages(
    courier: MailServer,
) -> None:
    # Courier has no UNSELECT: CLOSE after a read-write SELECT would expunge (RFC 3501 §6.4.2).
    user: ImapUser = courier.add_user()
    courier.deliver(user, MESSAGE, flags=["\\Deleted"])
    conn = await ImapConnection.connect(courier.host, courier.port, security="none")
    try:
        await conn.login(user.name, user.password)
        assert not conn.has_capability("UNSELECT")
        selected = await conn.select("INBOX")
        assert selected.exists == 1 and not selected.read_only
        await conn.unselect()
        assert conn.selected is None
        again = await conn.examine("INBOX")
        assert again.exists == 1
    finally:
        await conn.logout()
