"""What the suite needs of any real IMAP server it starts: Dovecot, Cyrus, Courier.

The sync, message and soak tests are written against this protocol and parametrised over the
servers (`tests/servers/harness.py`), so one test is run on every server's real behaviour:
their push timing, their namespaces and separators, and the extensions they lack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ImapUser:
    """A mailbox on a test server: log in with ``name`` and ``password``."""

    name: str
    password: str
    email: str


# (folder, special-use flag) every new user has, subscribed (RFC 6154). Courier has no
# SPECIAL-USE: there they are found by name only.
SPECIAL_USE_FOLDERS: tuple[tuple[str, str], ...] = (
    ("Drafts", "\\Drafts"),
    ("Sent", "\\Sent"),
    ("Junk", "\\Junk"),
    ("Trash", "\\Trash"),
    ("Archive", "\\Archive"),
)


@runtime_checkable
class MailServer(Protocol):
    """A real IMAP server run by the suite from a generated config on free loopback ports.

    ``kind`` names it in test ids ("dovecot", "cyrus", "courier"). ``port`` is plain IMAP
    (STARTTLS may or may not be offered there).
    """

    kind: str
    host: str
    port: int
    root: Path

    @property
    def separator(self) -> str:
        """The hierarchy separator of the personal namespace ("/" or ".")."""

    @property
    def prefix(self) -> str:
        """The personal namespace prefix: "" (Dovecot, Cyrus) or "INBOX." (Courier)."""

    def path(self, *names: str) -> str:
        """The server's path of a folder given by its levels: ``path("Archive", "2024")`` is
        ``Archive/2024`` on Dovecot and Cyrus, ``INBOX.Archive.2024`` on Courier. ``path()``
        alone is ``INBOX``; ``path("INBOX")`` too."""

    @property
    def running(self) -> bool: ...

    def start(self) -> None:
        """Start, and return once the plain port sends its ``* OK`` greeting."""

    def stop(self) -> None:
        """Stop every process of the server. Users and mail stay for :meth:`start`."""

    def restart(self) -> None: ...

    def close(self) -> None:
        """Stop and delete everything the server wrote."""

    def log_tail(self, lines: int = 40) -> str: ...

    def add_user(self, name: str | None = None, password: str = "secret-pass") -> ImapUser:
        """A new login with INBOX and the folders Drafts, Sent, Junk, Trash, Archive (at
        ``path(name)``, subscribed). ``name=None`` picks a unique one."""

    def deliver(
        self,
        user: ImapUser | str,
        message: bytes,
        folder: str = "INBOX",
        flags: Sequence[str] = (),
    ) -> None:
        """Store ``message`` in ``folder`` (a full server path, created if missing) as another
        mail client or the mail system would, never through the client under test."""

    def account_settings(self, user: ImapUser, *, tls: str = "none") -> dict[str, object]:
        """The REST API's ``imap`` field for ``user`` (host, port, secure, auth)."""
