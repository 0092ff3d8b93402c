"""The Courier-IMAP 5.0 harness (tests/servers/courier.py), checked over the real protocol.

Stdlib imaplib and raw sockets on purpose: independent of the IMAP client under test, so a bug
there cannot hide a broken harness.
"""

from __future__ import annotations

import imaplib
import re
import socket
import uuid
from collections.abc import Iterator, Sequence
from email.message import EmailMessage

import pytest
from imapclient import imap_utf7 as codec

from tests.servers.courier import DEFAULT_FOLDERS, Courier, imap_utf7
from tests.servers.mailserver import ImapUser, MailServer

pytestmark = pytest.mark.integration

IMAP_TIMEOUT = 10.0
LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) "(?P<sep>[^"]*)" "?(?P<name>.+?)"?$')


def make_message(subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.test>"
    msg["To"] = "Receiver <receiver@example.test>"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Hello from the Courier harness.\n")
    return msg.as_bytes()


@pytest.fixture
def server(courier: MailServer) -> Courier:
    assert isinstance(courier, Courier)
    return courier


@pytest.fixture
def user(server: Courier) -> ImapUser:
    return server.add_user()


def connect(server: Courier, user: ImapUser) -> imaplib.IMAP4:
    client = imaplib.IMAP4(server.host, server.port, timeout=IMAP_TIMEOUT)
    client.login(user.name, user.password)
    return client


@pytest.fixture
def imap(server: Courier, user: ImapUser) -> Iterator[imaplib.IMAP4]:
    client = connect(server, user)
    try:
        yield client
    finally:
        client.logout()


def folders(lines: Sequence[object]) -> dict[str, set[str]]:
    """Decoded name → attributes of LIST/LSUB lines (names in modified UTF-7, RFC 3501)."""
    out: dict[str, set[str]] = {}
    for line in lines:
        assert isinstance(line, bytes), line
        match = LIST_LINE.match(line)
        assert match, line
        assert match["sep"] == b"."
        name = match["name"].decode("ascii")
        out[str(codec.decode(name.encode("ascii")))] = set(match["flags"].decode().split())
    return out


def fetch_flags(imap: imaplib.IMAP4, folder: str) -> dict[str, set[str]]:
    """Subject → flags of every message in ``folder``."""
    status, _ = imap.select('"' + imap_utf7(folder) + '"', readonly=True)
    assert status == "OK", folder
    status, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert status == "OK"
    out: dict[str, set[str]] = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        head, header = item
        flags = re.search(rb"FLAGS \(([^)]*)\)", head)
        assert flags, head
        subject = header.decode().split(":", 1)[1].strip()
        out[subject] = set(flags[1].decode().split()) - {"\\Recent"}
    return out


def test_starts_and_greets(server: Courier) -> None:
    assert server.running
    assert (server.kind, server.separator, server.prefix) == ("courier", ".", "INBOX.")
    assert server.path() == "INBOX" and server.path("INBOX") == "INBOX"
    assert server.path("Archive", "2024") == "INBOX.Archive.2024"
    with socket.create_connection((server.host, server.port), timeout=IMAP_TIMEOUT) as sock:
        greeting = sock.recv(4096)
    assert greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 ")
    assert b"Courier-IMAP ready" in greeting


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


def test_list_shows_the_default_folders_subscribed(imap: imaplib.IMAP4, server: Courier) -> None:
    status, lines = imap.list()
    assert status == "OK"
    listed = folders(lines)
    wanted = {"INBOX", *(server.path(folder) for folder in DEFAULT_FOLDERS)}
    assert set(listed) == wanted
    status, lines = imap.lsub()
    assert status == "OK"
    subscribed = {name for name, flags in folders(lines).items() if "\\Noselect" not in flags}
    assert subscribed == wanted - {"INBOX"}


def test_deliver_to_inbox_and_a_new_nested_non_ascii_folder(
    server: Courier, user: ImapUser
) -> None:
    nested = server.path("Kunden", "Ärzte 東京")
    server.deliver(user, make_message("plain"))
    server.deliver(user, make_message("seen"), flags=["\\Seen", "\\Flagged"])
    server.deliver(user, make_message("nested"), nested, flags=["\\Answered"])
    server.deliver(user, make_message("keyword"), nested, flags=["$Forwarded", "\\Seen"])
    imap = connect(server, user)
    try:
        assert fetch_flags(imap, "INBOX") == {"plain": set(), "seen": {"\\Seen", "\\Flagged"}}
        assert fetch_flags(imap, nested) == {
            "nested": {"\\Answered"},
            "keyword": {"$Forwarded", "\\Seen"},
        }
        status, lines = imap.lsub()
        assert status == "OK"
        assert "\\Noselect" not in folders(lines)[nested]
    finally:
        imap.logout()


def test_add_user_while_running_and_restart_keeps_mail(server: Courier) -> None:
    user = server.add_user()  # the session server is running: userdb.dat is rebuilt live
    server.deliver(user, make_message("before restart"), server.path("Archive"))
    server.restart()
    assert server.running
    imap = connect(server, user)
    try:
        assert fetch_flags(imap, server.path("Archive")) == {"before restart": set()}
    finally:
        imap.logout()
