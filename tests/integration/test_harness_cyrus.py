"""The Cyrus IMAP 3.6 harness (tests/servers/cyrus.py): what only Cyrus does, over the real
protocol. What every server does is checked in test_harness.py.

Stdlib imaplib and raw sockets on purpose: independent of the IMAP client under test, so a bug
there cannot hide a broken harness.
"""

from __future__ import annotations

import imaplib
import socket
import ssl
import time

import pytest

from tests.integration.test_harness import IMAP_TIMEOUT, connect, make_message
from tests.servers.cyrus import Cyrus
from tests.servers.mailserver import ImapUser, MailServer

pytestmark = pytest.mark.integration


@pytest.fixture
def server(cyrus: MailServer) -> Cyrus:
    assert isinstance(cyrus, Cyrus)
    return cyrus


@pytest.fixture
def user(server: Cyrus) -> ImapUser:
    return server.add_user()


def test_user_logs_in_with_login_and_plain(server: Cyrus, user: ImapUser) -> None:
    client = connect(server, user)
    try:
        caps = set(client.capabilities)
        # What the sync engine relies on (DESIGN.md §6); Cyrus 3.6 has no NOTIFY.
        assert {"IDLE", "CONDSTORE", "QRESYNC", "MOVE", "SPECIAL-USE", "LIST-STATUS"} <= caps
        assert "NOTIFY" not in caps
    finally:
        client.logout()
    client = imaplib.IMAP4(server.host, server.port, timeout=IMAP_TIMEOUT)
    try:
        credentials = f"\0{user.name}\0{user.password}".encode()
        status, _ = client.authenticate("PLAIN", lambda _challenge: credentials)
        assert status == "OK"
    finally:
        client.logout()
    client = imaplib.IMAP4(server.host, server.port, timeout=IMAP_TIMEOUT)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            client.login(user.name, "wrong-password")
    finally:
        client.shutdown()


def test_starttls_and_implicit_tls(server: Cyrus, user: ImapUser) -> None:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    client = imaplib.IMAP4(server.host, server.port, timeout=IMAP_TIMEOUT)
    client.starttls(context)
    client.login(user.name, user.password)
    client.logout()
    assert server.account_settings(user, tls="implicit")["port"] == server.tls_port
    tls_client = imaplib.IMAP4_SSL(
        server.host, server.tls_port, ssl_context=context, timeout=IMAP_TIMEOUT
    )
    tls_client.login(user.name, user.password)
    tls_client.logout()


def test_idle_gets_exists_after_deliver(server: Cyrus, user: ImapUser) -> None:
    with socket.create_connection((server.host, server.port), timeout=IMAP_TIMEOUT) as sock:
        reader = sock.makefile("rb")

        def command(line: str) -> list[bytes]:
            sock.sendall(line.encode() + b"\r\n")
            tag = line.split()[0].encode()
            lines = []
            while True:
                response = reader.readline()
                assert response, "connection closed"
                lines.append(response)
                if response.startswith((tag + b" ", b"+")):
                    return lines

        reader.readline()  # greeting
        assert command(f"a LOGIN {user.name} {user.password}")[-1].startswith(b"a OK")
        assert command("b SELECT INBOX")[-1].startswith(b"b OK")
        assert command("c IDLE")[-1].startswith(b"+")
        started = time.monotonic()
        server.deliver(user, make_message("pushed"))
        sock.settimeout(5)
        seen = reader.readline()
        elapsed = time.monotonic() - started
        assert seen == b"* 1 EXISTS\r\n"
        assert elapsed < 2.0, f"IDLE push took {elapsed:.2f} s"
        sock.sendall(b"DONE\r\n")
        while not (line := reader.readline()).startswith(b"c "):
            assert line.startswith(b"* "), line
        assert line.startswith(b"c OK")
