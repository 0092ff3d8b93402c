"""The Cyrus IMAP 3.6 harness (tests/servers/cyrus.py), checked over the real protocol.

Stdlib imaplib and raw sockets on purpose: independent of the IMAP client under test, so a bug
there cannot hide a broken harness.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from imapclient import imap_utf7

from tests.servers.cyrus import SPECIAL_USE_FOLDERS, Cyrus
from tests.servers.mailserver import ImapUser, MailServer

pytestmark = pytest.mark.integration

IMAP_TIMEOUT = 10.0
NESTED_FOLDER = "Kunden/Ärzte 東京"
LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) "(?P<sep>[^"]*)" (?P<name>.+)$')


def make_message(subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.test>"
    msg["To"] = "Receiver <receiver@example.test>"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Hello from the Cyrus harness.\n")
    return msg.as_bytes()


@pytest.fixture
def server(cyrus: MailServer) -> Cyrus:
    assert isinstance(cyrus, Cyrus)
    return cyrus


@pytest.fixture
def user(server: Cyrus) -> ImapUser:
    return server.add_user()


def connect(server: Cyrus, user: ImapUser) -> imaplib.IMAP4:
    client = imaplib.IMAP4(server.host, server.port, timeout=IMAP_TIMEOUT)
    client.login(user.name, user.password)
    return client


@pytest.fixture
def imap(server: Cyrus, user: ImapUser) -> Iterator[imaplib.IMAP4]:
    client = connect(server, user)
    try:
        yield client
    finally:
        client.logout()


def list_folders(imap: imaplib.IMAP4) -> dict[str, set[str]]:
    """name (decoded from modified UTF-7) → attributes, from LIST RETURN (SPECIAL-USE …)."""
    status, _ = imap._simple_command(
        "LIST", '""', '"*"', "RETURN (SPECIAL-USE SUBSCRIBED CHILDREN)"
    )
    assert status == "OK"
    folders: dict[str, set[str]] = {}
    for line in imap.untagged_responses.pop("LIST", []):
        assert isinstance(line, bytes), line
        match = LIST_LINE.match(line)
        assert match, line
        assert match["sep"] == b"/"
        raw = match["name"]
        if raw.startswith(b'"'):
            raw = raw[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
        folders[imap_utf7.decode(raw)] = set(match["flags"].decode().split())
    return folders


def uid_flags(imap: imaplib.IMAP4) -> dict[int, set[str]]:
    status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
    assert status == "OK", data
    result: dict[int, set[str]] = {}
    for item in data:
        assert isinstance(item, bytes), item
        match = re.search(rb"UID (\d+)", item)
        flags = re.search(rb"FLAGS \(([^)]*)\)", item)
        assert match and flags, item
        result[int(match[1])] = set(flags[1].decode().split())
    return result


def test_implements_the_mail_server_protocol(server: Cyrus) -> None:
    assert isinstance(server, MailServer)
    assert (server.kind, server.separator, server.prefix) == ("cyrus", "/", "")
    assert server.path() == server.path("INBOX") == "INBOX"
    assert server.path("Archive", "2024") == "Archive/2024"
    assert server.running


def test_starts_and_greets(server: Cyrus) -> None:
    with socket.create_connection((server.host, server.port), timeout=IMAP_TIMEOUT) as sock:
        greeting = sock.recv(4096)
    assert greeting.startswith(b"* OK [CAPABILITY IMAP4rev1")
    assert b"Cyrus IMAP 3.6" in greeting
    assert b"STARTTLS" in greeting and b"AUTH=PLAIN" in greeting


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


def test_list_shows_special_use_folders_subscribed(imap: imaplib.IMAP4) -> None:
    folders = list_folders(imap)
    assert "INBOX" in folders
    for name, flag in SPECIAL_USE_FOLDERS:
        assert flag in folders[name], (name, folders[name])
        assert "\\Subscribed" in folders[name], (name, folders[name])


def test_add_user_works_while_running_and_names_are_unique(server: Cyrus) -> None:
    first, second = server.add_user(), server.add_user()
    assert first.name != second.name
    connect(server, second).logout()
    with pytest.raises(ValueError):
        server.add_user(first.name)


def test_deliver_into_inbox_and_a_new_nested_non_ascii_folder(
    server: Cyrus, user: ImapUser, imap: imaplib.IMAP4
) -> None:
    server.deliver(user, make_message("plain"))
    server.deliver(user, make_message("flagged"), flags=["\\Seen", "\\Flagged"])
    server.deliver(user, make_message("nested"), NESTED_FOLDER, ["\\Answered", "$Label1"])
    server.deliver(user, make_message("nested again"), NESTED_FOLDER)

    folders = list_folders(imap)
    assert "\\Subscribed" in folders[NESTED_FOLDER]
    assert "Kunden" in folders  # Cyrus lists the parent, with \HasChildren

    status, data = imap.select("INBOX")
    assert (status, data) == ("OK", [b"2"])
    inbox = uid_flags(imap)
    assert [inbox[uid] - {"\\Recent"} for uid in sorted(inbox)] == [
        set(),
        {"\\Seen", "\\Flagged"},
    ]
    status, data = imap.select('"' + imap_utf7.encode(NESTED_FOLDER).decode() + '"')
    assert (status, data) == ("OK", [b"2"])
    nested = uid_flags(imap)
    assert [nested[uid] - {"\\Recent"} for uid in sorted(nested)] == [
        {"\\Answered", "$Label1"},
        set(),
    ]


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


def test_restart_keeps_users_and_mail() -> None:
    with Cyrus() as server:  # its own, so the session's Cyrus keeps running
        user = server.add_user()
        server.deliver(user, make_message("kept"), "Archive/2024", ["\\Seen"])
        started = time.monotonic()
        server.restart()
        assert time.monotonic() - started < 5
        assert server.running
        client = connect(server, user)
        try:
            status, data = client.select('"Archive/2024"')
            assert (status, data) == ("OK", [b"1"])
            assert "\\Seen" in uid_flags(client)[1]
        finally:
            client.logout()
        server.stop()
        assert not server.running
        with pytest.raises(OSError):
            socket.create_connection((server.host, server.port), timeout=1).close()
    assert not server.root.exists()
