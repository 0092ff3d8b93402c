"""The test harness itself, checked the way a user of those servers would check it.

Stdlib clients (imaplib, smtplib) and httpx on purpose: they are independent of the code
under test, so a bug in our own clients cannot hide a broken harness.
"""

from __future__ import annotations

import asyncio
import imaplib
import json
import re
import smtplib
import socket
import ssl
import uuid
from collections.abc import Iterator, Mapping
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.servers.dovecot import SPECIAL_USE_FOLDERS, Dovecot, ImapUser
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver, signature, verify_signature

pytestmark = pytest.mark.integration

# "Archive/Ünïcödé" in modified UTF-7 (RFC 3501 §5.1.3), as Dovecot lists it.
UNICODE_FOLDER = "Archive/Ünïcödé"
UNICODE_FOLDER_MUTF7 = "Archive/&ANw-n&AO8-c&APY-d&AOk-"
LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) "(?P<sep>[^"]*)" "?(?P<name>[^"]+)"?$')
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


def connect(dovecot: Dovecot, user: ImapUser) -> imaplib.IMAP4:
    client = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=IMAP_TIMEOUT)
    client.login(user.name, user.password)
    return client


@pytest.fixture
def imap(dovecot: Dovecot, imap_user: ImapUser) -> Iterator[imaplib.IMAP4]:
    client = connect(dovecot, imap_user)
    try:
        yield client
    finally:
        client.logout()


def parse_list(response: tuple[str, list[Any]]) -> dict[str, set[str]]:
    """A LIST/LSUB response as {mailbox name: flags}."""
    typ, data = response
    assert typ == "OK", data
    folders: dict[str, set[str]] = {}
    for line in data:
        assert isinstance(line, bytes), line
        match = LIST_LINE.match(line)
        assert match, line
        folders[match["name"].decode()] = set(match["flags"].decode().split())
    return folders


def capabilities(client: imaplib.IMAP4) -> set[str]:
    typ, data = client.capability()
    assert typ == "OK", data
    assert isinstance(data[0], bytes)
    return set(data[0].decode().upper().split())


def fetch_only_message(client: imaplib.IMAP4, mailbox: str) -> tuple[bytes, bytes]:
    """SELECT ``mailbox`` and return (FETCH FLAGS part, full message) of its one message."""
    typ, data = client.select(f'"{mailbox}"')
    assert (typ, data) == ("OK", [b"1"]), (typ, data)
    typ, fetched = client.fetch("1", "(FLAGS BODY.PEEK[])")
    assert typ == "OK", fetched
    meta, body = fetched[0]  # type: ignore[misc]
    assert isinstance(meta, bytes) and isinstance(body, bytes), fetched
    return meta, body


# -- Dovecot ---------------------------------------------------------------------------------


def test_new_user_has_subscribed_special_use_folders(imap: imaplib.IMAP4) -> None:
    folders = parse_list(imap.list())
    subscribed = parse_list(imap.lsub())
    assert "INBOX" in folders
    for folder, flag in SPECIAL_USE_FOLDERS:
        assert flag in folders[folder], (folder, folders[folder])
        assert "\\Noselect" not in folders[folder]
        assert folder in subscribed


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


def test_delivered_message_can_be_fetched_with_its_flags(
    dovecot: Dovecot, imap_user: ImapUser, imap: imaplib.IMAP4
) -> None:
    message = make_message("Delivered to INBOX")

    dovecot.deliver(imap_user, message, flags=["\\Seen", "$Forwarded"])

    meta, body = fetch_only_message(imap, "INBOX")
    assert body == message.replace(b"\n", b"\r\n")
    assert b"\\Seen" in meta
    assert b"$Forwarded" in meta


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
    meta, body = fetch_only_message(imap, UNICODE_FOLDER_MUTF7)
    assert b"Into a nested Unicode folder" in body
    assert b"\\Seen" not in meta


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


def test_restart_keeps_users_mail_and_ports() -> None:
    # A private server: restarting the session one would disturb other tests' connections.
    with Dovecot() as server:
        user = server.add_user()
        message = make_message("Survives a restart")
        server.deliver(user, message, folder="Sent")
        ports = (server.port, server.tls_port)

        server.restart()

        assert (server.port, server.tls_port) == ports
        client = connect(server, user)
        try:
            _meta, body = fetch_only_message(client, "Sent")
        finally:
            client.logout()
        assert b"Survives a restart" in body


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
