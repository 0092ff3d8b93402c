"""A Gmail-like IMAP server for tests: hoodiecrow-imap (npm) run by hoodiecrow_launcher.js.

Hoodiecrow keeps one mailbox tree in memory that every login shares, whatever the user name,
so tests isolate themselves with one server each (it starts in ~0.2 s). What it offers and
lacks is listed at the top of the launcher. Messages are added and labels changed through the
launcher's control channel (stdin/stdout JSON lines), or over IMAP like any client would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.servers.launcher import NodeLauncher
from tests.servers.ports import LOOPBACK, free_port

HERE = Path(__file__).resolve().parent

ALL_MAIL = "[Gmail]/All Mail"
SPAM = "[Gmail]/Spam"
TRASH = "[Gmail]/Trash"
USER = "testuser@example.com"
PASSWORD = "test-password"
TOKEN = "ya29.test-access-token"


class HoodiecrowError(RuntimeError):
    """The server could not be installed or started, or refused a control command."""


class Hoodiecrow(NodeLauncher):
    """One hoodiecrow IMAP server on a free loopback port (`start()` / `stop()`, or `with`).

    `users` maps user name to `{"password": …, "accessToken": …}`; by default one user, `USER`,
    who can log in with `PASSWORD` or with XOAUTH2 and `TOKEN`.
    """

    script = HERE / "hoodiecrow_launcher.js"
    package = "hoodiecrow-imap"
    error = HoodiecrowError

    def __init__(
        self,
        *,
        users: dict[str, dict[str, str]] | None = None,
        plugins: list[str] | None = None,
        host: str = LOOPBACK,
    ) -> None:
        super().__init__()
        self.host = host
        self.port = 0
        self.users = users or {USER: {"password": PASSWORD, "accessToken": TOKEN}}
        self.plugins = plugins

    def _config(self) -> dict[str, Any]:
        self.port = free_port(self.host)
        config: dict[str, Any] = {"host": self.host, "port": self.port, "users": self.users}
        if self.plugins is not None:
            config["plugins"] = self.plugins
        return config

    # -- control channel -------------------------------------------------------------------

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
