"""Fixtures that start real servers for the test suite (DESIGN.md §6, STYLE.md 18)."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.servers.dovecot import Dovecot, DovecotError, ImapUser
from tests.servers.mailserver import MailServer
from tests.servers.oidc import OidcError, OidcProvider, OidcUser
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
    yield from _serving(SmtpServer())


def _serving(server: SmtpServer) -> Iterator[SmtpServer]:
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"could not start the SMTP server on {server.port}: {exc!r}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def _reset_around(server: SmtpServer) -> Iterator[SmtpServer]:
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """The SMTP server with no messages and no scripted failures left by an earlier test."""
    yield from _reset_around(smtp_server)


# -- OAuth2 with a real OpenID provider (tests/servers/oidc.py, oidc_flow.py) ---------------


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """One oidc-provider for the run: `issuer`, `client` (the application's), `introspector`
    (the mail servers'), `users`; `add_client`, `add_user`, `revoke_grants`. Tests take a
    user of their own with :func:`oidc_user`."""
    provider = OidcProvider()
    try:
        provider.start()
    except OidcError as exc:
        pytest.fail(f"could not start oidc-provider: {exc}", pytrace=False)  # with its log
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def oauth2_dovecot(oidc_provider: OidcProvider) -> Iterator[Dovecot]:
    """A Dovecot whose XOAUTH2/OAUTHBEARER logins are checked at `oidc_provider`'s
    introspection endpoint; each provider user is a mailbox named by its email, which also
    logs in with PLAIN and its password."""
    introspection_url = oidc_provider.introspection_url_for_servers()
    server = _started(Dovecot(oauth2_introspection_url=introspection_url))
    for user in oidc_provider.users:
        server.add_user(user.email, user.password)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def oauth2_smtp_server(oidc_provider: OidcProvider) -> Iterator[SmtpServer]:
    """An SMTP server offering XOAUTH2 and OAUTHBEARER, each token introspected at
    `oidc_provider` (active, and its email is the SASL user); use :func:`oauth2_smtp`."""
    introspection_url = oidc_provider.introspection_url_for_servers()
    server = SmtpServer(oauth=("XOAUTH2", "OAUTHBEARER"), oauth_introspection_url=introspection_url)
    yield from _serving(server)


@pytest.fixture
def oauth2_smtp(oauth2_smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """`oauth2_smtp_server` with no messages or OAuth attempts left by an earlier test."""
    yield from _reset_around(oauth2_smtp_server)


@pytest.fixture
def oidc_user(
    oidc_provider: OidcProvider, oauth2_dovecot: Dovecot, oauth2_smtp_server: SmtpServer
) -> OidcUser:
    """A fresh provider account with a mailbox of its own on `oauth2_dovecot` (login name =
    its email) and a PLAIN login on `oauth2_smtp_server`."""
    user = oidc_provider.add_user()
    oauth2_dovecot.add_user(user.email, user.password)
    oauth2_smtp_server.add_user(user.email, user.password)
    return user


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
    funcargs = getattr(item, "funcargs", {})
    server = funcargs.get("dovecot") or funcargs.get("oauth2_dovecot")
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
