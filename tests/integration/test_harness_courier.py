"""The Courier-IMAP 5.0 harness (tests/servers/courier.py): what only Courier does, over the
real protocol. What every server does is checked in test_harness.py.

Stdlib imaplib on purpose: independent of the IMAP client under test, so a bug there cannot
hide a broken harness.
"""

from __future__ import annotations

import pytest

from tests.integration.test_harness import connect
from tests.servers.courier import Courier
from tests.servers.mailserver import ImapUser, MailServer

pytestmark = pytest.mark.integration


@pytest.fixture
def server(courier: MailServer) -> Courier:
    assert isinstance(courier, Courier)
    return courier


@pytest.fixture
def user(server: Courier) -> ImapUser:
    return server.add_user()


def test_user_logs_in_and_sees_the_stock_capabilities(server: Courier, user: ImapUser) -> None:
    client = connect(server, user)
    try:
        status, [caps] = client.capability()
        assert status == "OK"
        assert isinstance(caps, bytes)
        offered = set(caps.decode().split())
        assert {"IMAP4rev1", "IDLE", "NAMESPACE", "UIDPLUS", "CHILDREN"} <= offered
        # What makes Courier a different client target from Dovecot (DESIGN.md §6).
        lacking = {"LIST-EXTENDED", "SPECIAL-USE", "CONDSTORE", "QRESYNC", "MOVE", "NOTIFY"}
        assert not offered & lacking
        status, [namespace] = client.namespace()
        assert namespace == b'(("INBOX." ".")) NIL (("#shared." ".")("shared." "."))'
    finally:
        client.logout()
    # (A wrong password is not tried here: Courier answers it only after 5 s.)


def test_tls_is_refused_in_account_settings(server: Courier, user: ImapUser) -> None:
    assert server.account_settings(user)["secure"] is False
    with pytest.raises(ValueError):
        server.account_settings(user, tls="starttls")
