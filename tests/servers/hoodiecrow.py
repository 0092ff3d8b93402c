"""A Gmail-like IMAP server for tests: hoodiecrow-imap (npm) run by hoodiecrow_launcher.js.

Hoodiecrow keeps one mailbox tree in memory that every login shares, whatever the user name,
so tests isolate themselves with one server each (it starts in ~0.2 s). What it offers and
lacks is listed at the top of the launcher. Messages are added and labels changed through the
launcher's control channel (stdin/stdout JSON lines), or over IMAP like any client would.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from tests.servers.ports import LOOPBACK, free_port

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
LAUNCHER = HERE / "hoodiecrow_launcher.js"
PACKAGE = NODE_DIR / "node_modules" / "hoodiecrow-imap" / "package.json"

ALL_MAIL = "[Gmail]/All Mail"
SPAM = "[Gmail]/Spam"
TRASH = "[Gmail]/Trash"
USER = "testuser@example.com"
PASSWORD = "test-password"
TOKEN = "ya29.test-access-token"


class HoodiecrowError(RuntimeError):
    """The server could not be installed or started, or refused a control command."""


def ensure_installed() -> None:
    """Install hoodiecrow-imap from the committed lockfile when node_modules lacks it.

    scripts/test does the same before the run; this keeps a bare `pytest` working too.
    """
    if PACKAGE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise HoodiecrowError("npm is not installed; it is needed for tests/servers/node")
    result = subprocess.run(
        [npm, "ci", "--omit=optional", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not PACKAGE.exists():
        raise HoodiecrowError(f"npm ci in {NODE_DIR} failed:\n{result.stderr[-2000:]}")


class Hoodiecrow:
    """One hoodiecrow IMAP server on a free loopback port (`start()` / `stop()`, or `with`).

    `users` maps user name to `{"password": …, "accessToken": …}`; by default one user, `USER`,
    who can log in with `PASSWORD` or with XOAUTH2 and `TOKEN`.
    """

    def __init__(
        self,
        *,
        users: dict[str, dict[str, str]] | None = None,
        plugins: list[str] | None = None,
        host: str = LOOPBACK,
    ) -> None:
        self.host = host
        self.port = 0
        self.users = users or {USER: {"password": PASSWORD, "accessToken": TOKEN}}
        self.plugins = plugins
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._stderr: IO[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        if self._process is not None:
            return
        ensure_installed()
        node = shutil.which("node")
        if node is None:
            raise HoodiecrowError("node is not installed")
        self.port = free_port(self.host)
        config: dict[str, Any] = {"host": self.host, "port": self.port, "users": self.users}
        if self.plugins is not None:
            config["plugins"] = self.plugins
        # A file, not a pipe: nobody drains a pipe, and a full one would block the server.
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [node, str(LAUNCHER), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            ready = self._read(timeout)
        except HoodiecrowError:
            self.stop()
            raise
        if not ready.get("ready"):
            self.stop()
            raise HoodiecrowError(f"unexpected first line from the launcher: {ready}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        try:
            process.stdin.close()  # the launcher exits when its control channel closes
        except OSError:
            pass
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Hoodiecrow:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- control channel -------------------------------------------------------------------

    def _read(self, timeout: float) -> dict[str, Any]:
        process = self._process
        assert process is not None and process.stdout is not None
        fd = process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HoodiecrowError(f"no answer from hoodiecrow within {timeout} s")
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise HoodiecrowError(f"hoodiecrow exited: {self.log()}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        return answer

    def log(self) -> str:
        """What the server wrote to stderr so far (its errors; it logs nothing else)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def control(self, op: str, **args: Any) -> dict[str, Any]:
        """Send one control command and return its answer (HoodiecrowError when refused)."""
        process = self._process
        if process is None or process.stdin is None:
            raise HoodiecrowError("hoodiecrow is not running")
        process.stdin.write(json.dumps({"op": op, **args}).encode() + b"\n")
        process.stdin.flush()
        answer = self._read(10.0)
        if not answer.get("ok"):
            raise HoodiecrowError(f"{op}: {answer.get('error')}")
        return answer

    def append(
        self,
        raw: bytes | str,
        *,
        labels: list[str] | tuple[str, ...] = ("\\Inbox",),
        flags: list[str] | tuple[str, ...] = (),
        path: str = ALL_MAIL,
        thread: str | None = None,
    ) -> dict[str, Any]:
        """Deliver a message with Gmail labels; returns `{uid, flags, labels, msgid, thrid}`.

        `thread` is the X-GM-THRID to give it (an earlier message's `msgid` puts it in that
        thread); by default it starts a thread of its own. Connections that have `path`
        selected (e.g. IDLE on All Mail) get `* n EXISTS`.
        """
        text = raw.decode() if isinstance(raw, bytes) else raw
        args: dict[str, Any] = {"path": path, "raw": text, "labels": list(labels)}
        args["flags"] = list(flags)
        if thread is not None:
            args["thread"] = thread
        return self.control("append", **args)

    def set_labels(
        self, uid: int, labels: list[str], *, path: str = ALL_MAIL, notify: bool = False
    ) -> dict[str, Any]:
        """Replace a message's labels as another Gmail client would.

        Hoodiecrow tells no other connection about a label STOREd over IMAP; with `notify`,
        connections that have `path` selected get `* n FETCH (UID … X-GM-LABELS (…) FLAGS (…))`.
        """
        return self.control("labels", path=path, uid=uid, labels=labels, notify=notify)

    def messages(self, path: str = ALL_MAIL) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.control("messages", path=path)["messages"]
        return found

    def set_user(
        self, name: str, *, password: str | None = None, access_token: str | None = None
    ) -> None:
        """Add or change a user; a new access token revokes the previous one."""
        self.control("user", name=name, password=password, accessToken=access_token)
        self.users[name] = {
            key: value
            for key, value in (("password", password), ("accessToken", access_token))
            if value is not None
        }

    # -- settings for the API --------------------------------------------------------------

    def account_settings(
        self, user: str = USER, *, use_auth_server: bool = False, password: str | None = None
    ) -> dict[str, Any]:
        """The REST API's `imap` field: a password account, or `useAuthServer: true`."""
        settings: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "secure": False,
            "starttls": "never",  # the launcher loads no STARTTLS plugin
        }
        if use_auth_server:
            settings["useAuthServer"] = True
        else:
            secret = password or self.users.get(user, {}).get("password") or PASSWORD
            settings["auth"] = {"user": user, "pass": secret}
        return settings
