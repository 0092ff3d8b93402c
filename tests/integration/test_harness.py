"""The test harness itself, checked the way a user of those servers would check it.

Stdlib clients (imaplib, smtplib) and httpx on purpose: they are independent of the code
under test, so a bug in our own clients cannot hide a broken harness.
"""

from __future__ import annotations

import asyncio
import email
import imaplib
import json
import re
import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Iterator, Mapping
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from imapclient import imap_utf7

from tests.servers.courier import Courier
from tests.servers.cyrus import Cyrus
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.mailserver import SPECIAL_USE_FOLDERS, MailServer
from tests.servers.process import ServerProcesses
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver, signature, verify_signature

pytestmark = pytest.mark.integration

# "Archive/Ünïcödé" in modified UTF-7 (RFC 3501 §5.1.3), as Dovecot lists it.
UNICODE_FOLDER = "Archive/Ünïcödé"
UNICODE_FOLDER_MUTF7 = "Archive/&ANw-n&AO8-c&APY-d&AOk-"
LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) "(?P<sep>[^"]*)" (?P<name>.+)$')
IMAP_TIMEOUT = 10.0


def make_message(subject: str, body: str = "Hello from the harness.\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.test>"
    msg["To"] = "Receiver <receiver@example.test>"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content(body)
    return msg.as_bytes()


def tls_context(dovecot: Dovecot) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(dovecot.ca_file))


def connect(server: MailServer, user: ImapUser) -> imaplib.IMAP4:
    client = imaplib.IMAP4(server.host, server.port, timeout=IMAP_TIMEOUT)
    client.login(user.name, user.password)
    return client


@pytest.fixture
def imap(dovecot: Dovecot, imap_user: ImapUser) -> Iterator[imaplib.IMAP4]:
    client = connect(dovecot, imap_user)
    try:
        yield client
    finally:
        client.logout()


def wire_name(folder: str) -> str:
    """A folder name as servers without UTF8=ACCEPT send it: modified UTF-7 (RFC 3501 §5.1.3)."""
    return imap_utf7.encode(folder).decode("ascii")


def parse_list(response: tuple[str, list[Any]]) -> dict[str, set[str]]:
    """A LIST/LSUB response as {mailbox name as sent, unquoted: flags}."""
    typ, data = response
    assert typ == "OK", data
    folders: dict[str, set[str]] = {}
    for line in data:
        assert isinstance(line, bytes), line
        match = LIST_LINE.match(line)
        assert match, line
        name = match["name"]
        if name.startswith(b'"'):
            name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
        folders[name.decode()] = set(match["flags"].decode().split())
    return folders


def capabilities(client: imaplib.IMAP4) -> set[str]:
    typ, data = client.capability()
    assert typ == "OK", data
    assert isinstance(data[0], bytes)
    return set(data[0].decode().upper().split())


def fetch_messages(client: imaplib.IMAP4, mailbox: str) -> dict[str, tuple[set[str], bytes]]:
    """Subject → (flags but ``\\Recent``, full message) of every message in ``mailbox`` (its
    name as sent), EXAMINEd so that nothing changes."""
    typ, data = client.select(f'"{mailbox}"', readonly=True)
    assert typ == "OK", (mailbox, data)
    typ, fetched = client.fetch("1:*", "(FLAGS BODY.PEEK[])")
    assert typ == "OK", fetched
    messages: dict[str, tuple[set[str], bytes]] = {}
    for item in fetched:
        if not isinstance(item, tuple):
            continue  # the ")" that closes each FETCH
        meta, body = item
        flags = re.search(rb"FLAGS \(([^)]*)\)", meta)
        assert flags, meta
        subject = str(email.message_from_bytes(body)["Subject"])
        messages[subject] = (set(flags[1].decode().split()) - {"\\Recent"}, body)
    return messages


# -- every IMAP server (test ids dovecot, cyrus, courier) -----------------------------------

# What sets the servers apart to a client: separator, personal namespace prefix, and words of
# the greeting (servers with STARTTLS and SASL say so there).
SERVER_FACTS: dict[str, tuple[str, str, tuple[bytes, ...]]] = {
    "dovecot": ("/", "", (b"Dovecot (Debian) ready", b"STARTTLS", b"AUTH=PLAIN")),
    "cyrus": ("/", "", (b"Cyrus IMAP 3.6", b"STARTTLS", b"AUTH=PLAIN")),
    "courier": (".", "INBOX.", (b"Courier-IMAP ready",)),
}
OWN_SERVERS: dict[str, type[ServerProcesses]] = {
    "dovecot": Dovecot,
    "cyrus": Cyrus,
    "courier": Courier,
}
NESTED_FOLDER = ("Kunden", "Ärzte 東京")


def test_implements_the_mail_server_protocol(mail_server: MailServer) -> None:
    separator, prefix, _greeting = SERVER_FACTS[mail_server.kind]
    assert isinstance(mail_server, MailServer)
    assert (mail_server.separator, mail_server.prefix) == (separator, prefix)
    assert mail_server.path() == mail_server.path("INBOX") == "INBOX"
    assert mail_server.path("Archive", "2024") == f"{prefix}Archive{separator}2024"
    assert mail_server.running


def test_starts_and_greets(mail_server: MailServer) -> None:
    *_, words = SERVER_FACTS[mail_server.kind]
    address = (mail_server.host, mail_server.port)
    with socket.create_connection(address, timeout=IMAP_TIMEOUT) as sock:
        greeting = sock.recv(4096)
    assert greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 ")
    assert all(word in greeting for word in words), greeting


def test_new_user_logs_in_and_has_the_default_folders_subscribed(
    mail_server: MailServer, server_user: ImapUser
) -> None:
    client = connect(mail_server, server_user)
    try:
        offered = capabilities(client)
        listed = parse_list(client.list())
        subscribed = parse_list(client.lsub())
    finally:
        client.logout()

    assert {"IMAP4REV1", "IDLE"} <= offered
    folders = {mail_server.path(folder): flag for folder, flag in SPECIAL_USE_FOLDERS}
    assert set(listed) == {"INBOX", *folders}
    for path, flag in folders.items():
        assert "\\Noselect" not in listed[path]
        assert "\\Noselect" not in subscribed[path]
        # Courier has no SPECIAL-USE (RFC 6154): its clients go by the names.
        if "SPECIAL-USE" in offered:
            assert flag in listed[path], (path, listed[path])


def test_add_user_works_while_running_and_names_are_unique(mail_server: MailServer) -> None:
    first, second = mail_server.add_user(), mail_server.add_user()
    assert first.name != second.name
    connect(mail_server, second).logout()
    with pytest.raises(ValueError):
        mail_server.add_user(first.name)


def test_deliver_into_inbox_and_a_new_nested_non_ascii_folder(
    mail_server: MailServer, server_user: ImapUser
) -> None:
    nested = mail_server.path(*NESTED_FOLDER)
    plain = make_message("plain")
    mail_server.deliver(server_user, plain)
    mail_server.deliver(server_user, make_message("flagged"), flags=["\\Seen", "\\Flagged"])
    mail_server.deliver(server_user, make_message("nested"), nested, ["\\Answered"])
    mail_server.deliver(server_user, make_message("keyword"), nested, ["$Forwarded", "\\Seen"])

    client = connect(mail_server, server_user)
    try:
        inbox = fetch_messages(client, "INBOX")
        in_nested = fetch_messages(client, wire_name(nested))
        subscribed = parse_list(client.lsub())
    finally:
        client.logout()

    assert inbox["plain"] == (set(), plain.replace(b"\n", b"\r\n"))
    assert inbox["flagged"][0] == {"\\Seen", "\\Flagged"}
    assert {subject: flags for subject, (flags, _body) in in_nested.items()} == {
        "nested": {"\\Answered"},
        "keyword": {"$Forwarded", "\\Seen"},
    }
    # A folder deliver() creates is subscribed, as a mail client would have it.
    assert "\\Noselect" not in subscribed[wire_name(nested)]


@pytest.mark.parametrize("kind", OWN_SERVERS)
def test_restart_keeps_users_mail_and_ports(kind: str) -> None:
    # A private server: restarting the session one would disturb other tests' connections.
    with OWN_SERVERS[kind]() as server:
        user = server.add_user()
        folder = server.path("Archive", "2024")
        server.deliver(user, make_message("kept"), folder, ["\\Seen"])
        ports = (server.port, server.tls_port)

        started = time.monotonic()
        server.restart()

        assert time.monotonic() - started < 5
        assert server.running
        assert (server.port, server.tls_port) == ports
        client = connect(server, user)
        try:
            assert fetch_messages(client, folder)["kept"][0] == {"\\Seen"}
        finally:
            client.logout()
        server.stop()
        assert not server.running
        with pytest.raises(OSError):
            socket.create_connection((server.host, server.port), timeout=1).close()
    assert not server.root.exists()


# -- Dovecot ---------------------------------------------------------------------------------


def test_capabilities_include_what_the_client_relies_on(
    dovecot: Dovecot, imap: imaplib.IMAP4
) -> None:
    assert {
        "IMAP4REV1",
        "IDLE",
        "NOTIFY",
        "CONDSTORE",
        "QRESYNC",
        "COMPRESS=DEFLATE",
        "MOVE",
        "SPECIAL-USE",
        "LITERAL+",
        "UIDPLUS",
    } <= capabilities(imap)

    fresh = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=IMAP_TIMEOUT)
    try:
        assert {"STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN"} <= capabilities(fresh)
    finally:
        fresh.shutdown()


def test_delivery_into_a_new_non_ascii_nested_folder(
    dovecot: Dovecot, imap_user: ImapUser, imap: imaplib.IMAP4
) -> None:
    message = make_message("Into a nested Unicode folder")

    dovecot.deliver(imap_user.name, message, folder=UNICODE_FOLDER)

    folders = parse_list(imap.list())
    assert UNICODE_FOLDER_MUTF7 in folders
    # The parent stays a real, selectable folder with its special use.
    assert "\\Noselect" not in folders["Archive"]
    assert "\\Archive" in folders["Archive"]
    [(flags, body)] = fetch_messages(imap, UNICODE_FOLDER_MUTF7).values()
    assert b"Into a nested Unicode folder" in body
    assert "\\Seen" not in flags


def test_starttls_verifies_against_the_test_ca(dovecot: Dovecot, imap_user: ImapUser) -> None:
    client = imaplib.IMAP4("localhost", dovecot.port, timeout=IMAP_TIMEOUT)
    try:
        client.starttls(ssl_context=tls_context(dovecot))
        assert client.login(imap_user.name, imap_user.password)[0] == "OK"
    finally:
        client.logout()


def test_starttls_is_refused_without_the_test_ca(dovecot: Dovecot) -> None:
    # Proves the client really verifies: the same handshake fails against the system CAs.
    with socket.create_connection((dovecot.host, dovecot.port), timeout=IMAP_TIMEOUT) as sock:
        stream = sock.makefile("rwb")
        assert stream.readline().startswith(b"* OK")
        stream.write(b"a1 STARTTLS\r\n")
        stream.flush()
        assert stream.readline().startswith(b"a1 OK")
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(sock, server_hostname="localhost")
        stream.close()


def test_implicit_tls_verifies_against_the_test_ca(dovecot: Dovecot, imap_user: ImapUser) -> None:
    settings = dovecot.account_settings(imap_user, tls="implicit")
    assert settings["secure"] is True

    client = imaplib.IMAP4_SSL(
        dovecot.host, dovecot.tls_port, ssl_context=tls_context(dovecot), timeout=IMAP_TIMEOUT
    )
    try:
        assert client.login(imap_user.name, imap_user.password)[0] == "OK"
        assert "STARTTLS" not in capabilities(client)
    finally:
        client.logout()


def test_idle_reports_a_delivery_as_exists(
    dovecot: Dovecot, imap_user: ImapUser, imap: imaplib.IMAP4
) -> None:
    # imaplib (before 3.14) has no IDLE: speak RFC 2177 directly on its connection.
    assert imap.select("INBOX") == ("OK", [b"0"])
    tag = imap._new_tag()
    imap.send(tag + b" IDLE\r\n")
    assert imap.readline().startswith(b"+ ")

    dovecot.deliver(imap_user, make_message("Pushed"))

    # The socket timeout bounds the wait; Dovecot pushes within about a second.
    line = imap.readline()
    while line.startswith(b"* OK"):  # "Still here" keepalives
        line = imap.readline()
    assert line == b"* 1 EXISTS\r\n"
    imap.send(b"DONE\r\n")
    while not line.startswith(tag):
        line = imap.readline()
    assert line.startswith(tag + b" OK")


# -- SMTP ------------------------------------------------------------------------------------

SMTP_USER = "submitter@example.test"
SMTP_PASSWORD = "smtp-secret"


@pytest.fixture
def smtp_client(smtp: SmtpServer) -> Iterator[smtplib.SMTP]:
    smtp.add_user(SMTP_USER, SMTP_PASSWORD)
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=IMAP_TIMEOUT)
    client.login(SMTP_USER, SMTP_PASSWORD)
    try:
        yield client
    finally:
        client.quit()


def outgoing(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = SMTP_USER
    msg["To"] = "Ana Ünïcödé <ana@example.test>"
    msg["Subject"] = subject
    msg.set_content("Body line\n")
    return msg


def test_smtp_records_an_authenticated_submission(
    smtp: SmtpServer, smtp_client: smtplib.SMTP
) -> None:
    smtp_client.send_message(outgoing("Submitted"), to_addrs=["ana@example.test", "b@x.test"])

    [received] = smtp.wait_for_messages(1, timeout=IMAP_TIMEOUT)
    assert received.mail_from == SMTP_USER
    assert received.rcpt_tos == ("ana@example.test", "b@x.test")
    assert received.auth_user == SMTP_USER
    parsed = received.message()
    assert parsed["Subject"] == "Submitted"
    assert parsed["To"] == "Ana Ünïcödé <ana@example.test>"
    assert parsed.get_content().splitlines() == ["Body line"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_smtp_refuses_a_wrong_password(smtp: SmtpServer, mechanism: str) -> None:
    smtp.add_user(SMTP_USER, SMTP_PASSWORD)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=IMAP_TIMEOUT) as client:
        client.ehlo()
        assert mechanism in client.esmtp_features["auth"].split()
        client.user, client.password = SMTP_USER, "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
        assert refused.value.smtp_code == 535
        # Without a successful AUTH the server does not take mail either.
        with pytest.raises(smtplib.SMTPSenderRefused) as sender:
            client.sendmail(SMTP_USER, ["ana@example.test"], b"Subject: x\r\n\r\nx\r\n")
        assert sender.value.smtp_code == 530
    assert smtp.messages == []


def test_smtp_fail_next_fails_one_transaction_then_accepts(
    smtp: SmtpServer, smtp_client: smtplib.SMTP
) -> None:
    smtp.fail_next("451 4.3.0 Try again later")

    with pytest.raises(smtplib.SMTPDataError) as failed:
        smtp_client.send_message(outgoing("First try"))
    assert (failed.value.smtp_code, failed.value.smtp_error) == (451, b"4.3.0 Try again later")
    smtp_client.send_message(outgoing("Second try"))

    [received] = smtp.wait_for_messages(1, timeout=IMAP_TIMEOUT)
    assert received.message()["Subject"] == "Second try"


def test_smtp_fail_next_at_rcpt(smtp: SmtpServer, smtp_client: smtplib.SMTP) -> None:
    smtp.fail_next("550 5.1.1 No such user", stage="rcpt")

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp_client.send_message(outgoing("Nobody home"))

    assert refused.value.recipients == {"ana@example.test": (550, b"5.1.1 No such user")}
    assert smtp.messages == []


async def test_smtp_wait_for_from_async_code(smtp: SmtpServer) -> None:
    smtp.add_user(SMTP_USER, SMTP_PASSWORD)

    def submit() -> None:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=IMAP_TIMEOUT) as client:
            client.login(SMTP_USER, SMTP_PASSWORD)
            client.send_message(outgoing("From a thread"))

    sending = asyncio.create_task(asyncio.to_thread(submit))
    [received] = await smtp.wait_for(1, timeout=IMAP_TIMEOUT)
    await sending
    assert received.message()["Subject"] == "From a thread"


# -- webhooks --------------------------------------------------------------------------------

WEBHOOK_SECRET = "webhook-secret"


async def post_event(url: str, payload: Mapping[str, object]) -> httpx.Response:
    body = json.dumps(payload).encode()
    async with httpx.AsyncClient(timeout=IMAP_TIMEOUT) as client:
        return await client.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Imapapi-Signature": signature(body, WEBHOOK_SECRET),
            },
        )


async def test_webhook_receiver_records_a_signed_post(
    webhook_receiver: WebhookReceiver,
) -> None:
    payload = {"account": "acc-1", "event": "messageNew", "path": "INBOX", "data": {"uid": 7}}

    response = await post_event(webhook_receiver.url, payload)

    assert response.status_code == 200
    [received] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert received.path == "/webhook"
    assert received.json == payload
    assert received.header("content-type") == "application/json"
    assert verify_signature(received, WEBHOOK_SECRET)
    assert not verify_signature(received, "another-secret")
    assert webhook_receiver.events("messageNew", account="acc-1") == [received]
    assert webhook_receiver.events("messageNew", account="acc-2") == []
    assert webhook_receiver.events("messageDeleted") == []


async def test_webhook_receiver_answers_a_scripted_500_once(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond_with(500, times=1)

    first = await post_event(webhook_receiver.url, {"account": "a", "event": "one"})
    second = await post_event(webhook_receiver.url, {"account": "a", "event": "two"})

    assert (first.status_code, second.status_code) == (500, 200)
    received = await webhook_receiver.wait_for(count=2)
    assert [(r.event, r.status) for r in received] == [("one", 500), ("two", 200)]


async def test_webhook_receiver_standing_answer_until_changed(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond_with(503)
    statuses = [(await post_event(webhook_receiver.url, {"n": n})).status_code for n in range(2)]
    webhook_receiver.respond_with(200)
    statuses.append((await post_event(webhook_receiver.url, {"n": 2})).status_code)

    assert statuses == [503, 503, 200]
