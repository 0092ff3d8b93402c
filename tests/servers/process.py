"""The life of a real IMAP server the suite runs as child processes: Dovecot, Cyrus, Courier.

Each harness says how to spawn its processes and what its failure looks like; the rest is the
same for all three and lives here: process groups, waiting for the greeting, stopping,
the temp dir, and the plain-port account settings.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

from tests.servers.mailserver import ImapUser
from tests.servers.ports import LOOPBACK, free_port

EMAIL_DOMAIN = "example.test"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
# The account_settings `tls` values: plain port (STARTTLS offered there or not, the client
# decides), or the implicit-TLS port.
TLS_MODES = ("none", "starttls", "implicit")


def spawn_group(args: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``args`` in a new session: it leads a process group that :func:`stop_groups`
    kills as a whole, even children whose parent died."""
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True, **popen)


def stop_groups(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every group whose leader runs, wait, then SIGKILL whatever is left.

    Signalling the whole group, not just the leader, lets every process shut down at once
    (clients get ``* BYE``); a master signalled alone may wait a while for its children.
    """
    _signal_groups([p for p in processes if p.poll() is None], signal.SIGTERM)
    _signal_groups(processes, signal.SIGKILL)


def _signal_groups(processes: Sequence[subprocess.Popen[bytes]], sig: signal.Signals) -> None:
    for process in processes:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
    for process in processes:
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass


def read_greeting(host: str, port: int) -> None:
    """Raise OSError unless ``host:port`` answers with an ``* OK`` greeting (RFC 3501 §7.1.1)."""
    with socket.create_connection((host, port), timeout=2) as sock:
        greeting = sock.recv(1024)
    if not greeting.startswith(b"* OK"):
        raise ConnectionError(f"unexpected greeting {greeting!r}")


class ServerProcesses:
    """What Dovecot, Cyrus and Courier do alike; a harness (a :class:`MailServer`) adds
    ``kind``, ``separator``, ``prefix``, users and delivery, and implements :meth:`_spawn`.

    Everything the server writes is under ``root``, a temp dir of its own unless one is given
    (then it is left in place by :meth:`close`); ``port`` is a free loopback port.
    """

    kind: ClassVar[str]
    prefix: ClassVar[str] = ""
    separator: ClassVar[str] = "/"
    # Raised by start() when the server does not greet; each harness has its own, which the
    # fixtures catch (tests/conftest.py).
    error: ClassVar[type[Exception]] = RuntimeError
    # How a client may reach it: what account_settings accepts.
    tls_modes: ClassVar[tuple[str, ...]] = TLS_MODES

    _names = itertools.count(1)

    def __init__(self, directory: Path | None, *, host: str = LOOPBACK) -> None:
        self._own_dir = directory is None
        self.root = (
            Path(tempfile.mkdtemp(prefix=f"imapapi-{self.kind}-"))
            if directory is None
            else directory
        )
        self.host = host
        self.port = free_port(host)
        self.tls_port: int | None = None
        self.log_path = self.root / f"{self.kind}.log"
        self._processes: list[subprocess.Popen[bytes]] = []
        # A session fixture's teardown does not run when pytest is interrupted hard enough,
        # and a stray server keeps its ports and temp dir.
        atexit.register(self.close)

    # -- for the harness -------------------------------------------------------------------

    def _spawn(self) -> list[subprocess.Popen[bytes]]:
        """Start the server's process groups (with :func:`spawn_group`)."""
        raise NotImplementedError

    def _check_ready(self) -> None:
        """Raise OSError until the server takes connections."""
        read_greeting(self.host, self.port)

    def _start_failure(self) -> str:
        """What start() shows, after the log tail, when the server did not greet."""
        return ""

    def _new_user_name(self) -> str:
        # Unique across runs sharing a server, so tests never share a mailbox.
        return f"user{next(self._names)}-{uuid.uuid4().hex[:8]}"

    def _run_tool(self, what: str, args: Sequence[str], *, timeout: float = 30, **run: Any) -> str:
        """Run a setup command (``what`` names it) and return its stdout; raise ``error`` with
        its stderr when it fails."""
        result = subprocess.run(args, capture_output=True, timeout=timeout, check=False, **run)
        if result.returncode != 0:
            raise self.error(
                f"{what} exited {result.returncode}: "
                f"{result.stderr.decode(errors='replace').strip()}"
            )
        return result.stdout.decode(errors="replace")

    def _user(self, name: str, password: str) -> ImapUser:
        return ImapUser(name=name, password=password, email=f"{name}@{EMAIL_DOMAIN}")

    # -- MailServer ------------------------------------------------------------------------

    def path(self, *names: str) -> str:
        if not names or (len(names) == 1 and names[0].upper() == "INBOX"):
            return "INBOX"
        return self.prefix + self.separator.join(names)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of ``log_path``, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    @property
    def pids(self) -> list[int]:
        """The process ids of the server's group leaders (the bench reads their CPU)."""
        return [p.pid for p in self._processes]

    @property
    def running(self) -> bool:
        return bool(self._processes) and all(p.poll() is None for p in self._processes)

    def start(self) -> None:
        """Start, and return once the plain port sends its ``* OK`` greeting."""
        if self.running:
            return
        self.stop()  # what is left of a server that died
        self._processes = self._spawn()
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline and self.running:
            try:
                self._check_ready()
                return
            except OSError as exc:
                last_error = exc
                time.sleep(0.02)
        status = [p.poll() for p in self._processes]
        self.stop()
        raise self.error(
            f"{self.kind} did not start on {self.host}:{self.port} ({last_error!r}, exit "
            f"status {status})\n{self._start_failure()}log ({self.log_path}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop every process of the server. Users and mail stay for :meth:`start`."""
        processes, self._processes = self._processes, []
        stop_groups(processes)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and delete the temp dir (when this instance created it)."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def account_settings(self, user: ImapUser, *, tls: str = "none") -> dict[str, object]:
        """The REST API's ``imap`` field for ``user``.

        ``tls``: ``"none"`` or ``"starttls"`` → plain port, ``secure: False`` (the client
        decides on STARTTLS); ``"implicit"`` → ``tls_port``, ``secure: True``. Either TLS way
        needs the client to trust the server's CA.
        """
        if tls not in self.tls_modes:
            raise ValueError(f"{self.kind} takes tls={' or '.join(self.tls_modes)}, not {tls!r}")
        implicit = tls == "implicit"
        return {
            "host": self.host,
            "port": self.tls_port if implicit else self.port,
            "secure": implicit,
            "auth": {"user": user.name, "pass": user.password},
        }
