"""Fixtures that start real servers for the test suite (DESIGN.md §6, STYLE.md 18)."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.servers.dovecot import Dovecot, DovecotError, ImapUser
from tests.servers.mailserver import MailServer
from tests.servers.redis import RedisServer, RedisServerError
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

# Where the Dovecot log stood when a test started, so a failure shows only its own lines.
_LOG_OFFSET = pytest.StashKey[int]()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One real Dovecot for the whole run; tests isolate themselves with :func:`imap_user`."""
    server = Dovecot()
    try:
        server.start()
    except DovecotError as exc:  # the message carries the log tail
        server.close()
        pytest.fail(f"could not start Dovecot: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def imap_user(dovecot: Dovecot) -> ImapUser:
    """A fresh user with its own mailboxes, so no two tests ever see each other's mail."""
    return dovecot.add_user()


# The IMAP servers a test taking `mail_server` runs on, each its own test id.
SERVER_KINDS = ["dovecot", "cyrus", "courier"]


def _started(server: MailServer) -> MailServer:
    try:
        server.start()
    except Exception as exc:  # each harness's error carries its log tail
        server.close()
        pytest.fail(f"could not start {server.kind}: {exc}", pytrace=False)
    return server


@pytest.fixture(scope="session")
def cyrus() -> Iterator[MailServer]:
    """One real Cyrus IMAP 3.6 for the whole run (tests/servers/cyrus.py)."""
    from tests.servers.cyrus import Cyrus

    server = _started(Cyrus())
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def courier() -> Iterator[MailServer]:
    """One real Courier-IMAP 5.0 for the whole run (tests/servers/courier.py)."""
    from tests.servers.courier import Courier

    server = _started(Courier())
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=SERVER_KINDS)
def mail_server(request: pytest.FixtureRequest) -> MailServer:
    """Each IMAP server of the harness in turn (test ids `dovecot`, `cyrus`, `courier`)."""
    server: MailServer = request.getfixturevalue(request.param)
    return server


@pytest.fixture
def server_user(mail_server: MailServer) -> ImapUser:
    """A fresh user on `mail_server`."""
    return mail_server.add_user()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """One recording SMTP server for the run; use :func:`smtp` in tests for a clean slate."""
    server = SmtpServer()
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"could not start the SMTP server on {server.port}: {exc!r}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """The SMTP server with no messages and no scripted failures left by an earlier test."""
    smtp_server.reset()
    yield smtp_server
    smtp_server.reset()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the run; tests isolate themselves by key prefix."""
    server = RedisServer()
    try:
        server.start()
    except RedisServerError as exc:
        server.close()
        pytest.fail(f"could not start redis-server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A fresh webhook endpoint per test (its own port), answering 200 until told otherwise."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the Dovecot log lines written during a failed test to its report."""
    report = yield
    server = getattr(item, "funcargs", {}).get("dovecot")
    if not isinstance(server, Dovecot):
        return report
    if call.when == "setup":
        item.stash[_LOG_OFFSET] = _log_size(server)
    elif report.failed:
        offset = item.stash.get(_LOG_OFFSET, 0)
        try:
            with server.log_path.open("rb") as log:
                log.seek(offset)
                lines = log.read().decode(errors="replace").splitlines()[-200:]
        except OSError:  # a teardown failure after the session's Dovecot was removed
            return report
        report.sections.append(("dovecot log", "\n".join(lines)))
    return report


def _log_size(server: Dovecot) -> int:
    try:
        return server.log_path.stat().st_size
    except OSError:
        return 0
