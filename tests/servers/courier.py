"""A real Courier-IMAP 5.0 server, started by the test suite from a config in a temp dir."""

from __future__ import annotations

import base64
import grp
import hashlib
import imaplib
import itertools
import os
import pwd
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from tests.servers.mailserver import SPECIAL_USE_FOLDERS, ImapUser
from tests.servers.ports import LOOPBACK
from tests.servers.process import ServerProcesses, spawn_group

REPO = Path(__file__).resolve().parents[2]
# Unpacked (never installed) by tests/servers/install-courier.sh: courier-imap conflicts with
# the installed dovecot-imapd (DESIGN.md §6).
COURIER_DIR = Path(os.environ.get("COURIER_DIR", REPO / ".cache" / "test-servers" / "courier"))
INSTALLER = REPO / "tests" / "servers" / "install-courier.sh"
# Courier's imaplogin switches to the uid/gid of the userdb entry; as root we hand it
# nobody/nogroup, like Dovecot (DESIGN.md §6). Run unprivileged, the current user.
RUN_USER = "nobody"
RUN_GROUP = "nogroup"

# Created and subscribed for every user. Courier has no SPECIAL-USE (RFC 6154): clients find
# these by name only.
DEFAULT_FOLDERS: tuple[str, ...] = tuple(folder for folder, _flag in SPECIAL_USE_FOLDERS)

# The settings of Debian's /etc/courier/imapd (courier-imap 5.0.13) that matter to a client,
# unchanged, so the suite sees stock Courier behaviour. In particular IMAP_ENHANCEDIDLE=0:
# IDLE then reports only what changed before it started (see the class docstring).
_STOCK_IMAPD = {
    "IMAP_CAPABILITY": (
        "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT "
        "QUOTA IDLE"
    ),
    "IMAP_KEYWORDS": "1",
    "IMAP_ACL": "1",
    "IMAP_PROXY": "0",
    "IMAP_PROXY_FOREIGN": "0",
    "IMAP_IDLE_TIMEOUT": "60",
    "IMAP_MAILBOX_SANITY_CHECK": "1",
    "IMAP_DISABLETHREADSORT": "0",
    "IMAP_CHECK_ALL_FOLDERS": "0",
    "IMAP_OBSOLETE_CLIENT": "0",
    "IMAP_UMASK": "022",
    "IMAP_USELOCKS": "1",
    "IMAP_ENHANCEDIDLE": "0",
    "IMAP_TRASHFOLDERNAME": "Trash",
    "IMAP_EMPTYTRASH": "Trash:7",
    "IMAP_MOVE_EXPUNGE_TO_TRASH": "0",
    "HEADERFROM": "X-IMAP-Sender",
    # Plain LOGIN on the plain port without TLS (Debian's imapd-ssl would require STARTTLS
    # only if IMAP_TLS_REQUIRED=1; its default is 0 as well).
    "IMAP_STARTTLS": "NO",
    "IMAP_TLS_REQUIRED": "0",
}

# Maildir "info" letters for the system flags (maildir(5), maildir++): kept sorted in names.
_MAILDIR_FLAGS = {
    "\\draft": "D",
    "\\flagged": "F",
    "\\answered": "R",
    "\\seen": "S",
    "\\deleted": "T",
}


class CourierError(RuntimeError):
    """Courier failed to start or to take a user; the message has the log tail."""


def imap_utf7(name: str) -> str:
    """``name`` in the modified UTF-7 of IMAP folder names (RFC 3501 §5.1.3).

    Written here, not imported from imapapi, so a bug in the client's encoder cannot hide in
    what the harness stores.
    """
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def _userdb_password(password: str) -> str:
    # authlib's authcheckpassword knows {SHA256} (base64 of the digest); no plain-text scheme.
    digest = hashlib.sha256(password.encode()).digest()
    return "{SHA256}" + base64.b64encode(digest).decode()


class Courier(ServerProcesses):
    """A private Courier-IMAP 5.0.13 (Debian 12) for the test suite: real IMAP, no mocks.

    Processes (two process groups, each killed as a whole by :meth:`stop`), all with the temp
    dir as working directory: ``authdaemond`` with the ``authuserdb`` module and its own
    ``authdaemonrc``, ``userdb.dat`` and socket ``authdaemon.sock`` (install-courier.sh patched
    those compiled-in paths to relative ones), and ``couriertcpd`` on a free loopback port,
    which runs ``imaplogin`` per connection, which runs ``imapd Maildir`` as nobody/nogroup
    after a plain LOGIN. No TLS: ``port`` is plain IMAP without STARTTLS.

    Mail is maildir++ under ``mail/<user>/Maildir``: folder ``INBOX.Archive.2024`` is the
    directory ``.Archive.2024``; subscriptions are the lines of ``courierimapsubscribed``.
    Courier 5 keeps both in UTF-8 (``.Kunden.Ärzte 東京``), and speaks modified UTF-7 on the
    wire unless the client sends ``ENABLE UTF8=ACCEPT`` (RFC 6855). Users are ``userdb``
    entries; :meth:`add_user` rebuilds ``userdb.dat``, which authuserdb reopens when it
    changes, so it works while Courier runs.

    Behaviour a client must cope with (stock Debian settings, kept on purpose):

    * personal namespace ``INBOX.`` with separator ``.`` (``NAMESPACE (("INBOX." "."))
      NIL (("#shared." ".")("shared." "."))``): top-level folders must be created under
      ``INBOX.``; ``CREATE Projekte`` answers ``NO Invalid mailbox name``. No RFC 5530
      response codes: CREATE of an existing folder is a bare ``NO Cannot create this folder``.
    * no SPECIAL-USE, LIST-EXTENDED, CONDSTORE, QRESYNC, MOVE, NOTIFY, ESEARCH, UNSELECT.
    * IDLE with ``IMAP_ENHANCEDIDLE=0`` (stock; no FAM/Gamin realtime updates): Courier
      reports what changed when IDLE *starts* (``+ entering idle mode`` followed by ``* 3
      EXISTS``) and when it ends (before ``OK IDLE completed``), but nothing while it lasts:
      mail delivered during IDLE was not announced within 150 s in our measurement
      (``IMAP_IDLE_TIMEOUT=60`` notwithstanding). A client must end and restart IDLE (or
      poll) to see new mail.
    * UIDVALIDITY is stored in a folder's ``courierimapuiddb``, which only a read-write SELECT
      writes. Until then every EXAMINE and STATUS of the folder answers a new UIDVALIDITY
      (the current time), so a client that only EXAMINEs sees the folder "reset" each time.
      add_user and deliver do not create that file, as the MTA and ``maildirmake`` do not.
    * CREATE of a mailbox whose parent does not exist makes the parent a ``\\Noselect
      \\HasChildren`` placeholder; LSUB lists such parents (and ``INBOX`` when a child is
      subscribed) with ``\\Noselect`` although they are not subscribed (RFC 3501 §6.3.9).
    * ``ENABLE UTF8=ACCEPT`` (RFC 6855) is offered: folder names are then raw UTF-8.
    * Speed, measured on loopback: LOGIN ~5 ms, LIST/SELECT/STATUS/FETCH 1-3 ms, APPEND ~40 ms
      (it fsyncs). Start ~30 ms, stop ~10 ms. A failed LOGIN is answered after 5 s.

    Greeting: ``* OK [CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT
    THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION ENABLE UTF8=ACCEPT] Courier-IMAP ready.
    ...`` (no AUTH= mechanisms: plain LOGIN only, no STARTTLS). CAPABILITY after LOGIN on the
    plain port::

        IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA
        IDLE ACL ACL2=UNION ENABLE UTF8=ACCEPT
    """

    kind = "courier"
    separator = "."
    prefix = "INBOX."
    error = CourierError
    tls_modes = ("none",)

    def __init__(self, directory: Path | None = None, *, host: str = LOOPBACK) -> None:
        super().__init__(directory, host=host)
        self.mail_dir = self.root / "mail"
        self._users: dict[str, tuple[str, Path]] = {}
        self._users_lock = threading.Lock()
        self._deliver_counter = itertools.count(1)
        if os.geteuid() == 0:
            self._uid = pwd.getpwnam(RUN_USER).pw_uid
            self._gid = grp.getgrnam(RUN_GROUP).gr_gid
        else:
            self._uid, self._gid = os.getuid(), os.getgid()
        self._write_files()

    # -- files -----------------------------------------------------------------------------

    @staticmethod
    def ensure_installed() -> None:
        """Run install-courier.sh when the unpacked Courier is missing (a no-op otherwise)."""
        if (COURIER_DIR / ".installed").exists():
            return
        result = subprocess.run(
            ["bash", str(INSTALLER)], capture_output=True, timeout=600, check=False
        )
        if result.returncode != 0:
            raise CourierError(
                f"{INSTALLER} failed ({result.returncode}):\n"
                f"{result.stderr.decode(errors='replace')[-2000:]}"
            )

    def _env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            # The patched libcourierauth (relative authdaemon socket) comes first.
            "LD_LIBRARY_PATH": str(COURIER_DIR / "usr" / "lib"),
            **_STOCK_IMAPD,
        }

    def _write_files(self) -> None:
        self.mail_dir.mkdir(exist_ok=True)
        self.log_path.touch()
        # authdaemond reads this (a shell-style file) from its working directory.
        (self.root / "authdaemonrc").write_text(
            "# Generated by tests/servers/courier.py.\n"
            'authmodulelist="authuserdb"\n'
            'authmodulelistorig="authuserdb"\n'
            "daemons=3\n"
            "DEBUG_LOGIN=0\n"
            'DEFAULTOPTIONS=""\n'
            'LOGGEROPTS=""\n'
        )
        # The module directory, relative to the working directory too.
        authlib = self.root / "authlib"
        if not authlib.exists():
            authlib.symlink_to(COURIER_DIR / "usr" / "lib" / "courier-authlib")
        env_lines = [f'{key}="{value}"' for key, value in self._env().items()]
        (self.root / "imapd.env").write_text(
            "# The environment couriertcpd/imaplogin/imapd run with (for reference).\n"
            + "\n".join(env_lines)
            + "\n"
        )
        self._write_userdb()
        os.chown(self.mail_dir, self._uid, self._gid)
        # mkdtemp makes the dir 0700 root: imapd runs as nobody and must reach mail/.
        os.chmod(self.root, 0o755)

    def _write_userdb(self) -> None:
        """Write ``userdb`` and build ``userdb.dat``/``userdbshadow.dat`` as makeuserdb does.

        makeuserdb itself has /usr/lib/courier paths built in; makedatprog is what it runs.
        """
        public = []
        shadow = []
        for name, (password, home) in sorted(self._users.items()):
            public.append(
                f"{name}\tuid={self._uid}|gid={self._gid}|home={home}|mail={home}/Maildir|_=\n"
            )
            shadow.append(f"{name}\tsystempw={_userdb_password(password)}\n")
        makedat = COURIER_DIR / "usr" / "lib" / "courier" / "courier-authlib" / "makedatprog"
        for lines, tmp, dat in (
            (public, "userdb.tmp", "userdb.dat"),
            (shadow, "userdbshadow.tmp", "userdbshadow.dat"),
        ):
            self._run_tool(
                f"makedatprog {dat}",
                [str(makedat), "-", tmp, dat],
                input=("".join(lines) + ".\n").encode(),
                cwd=self.root,
                env=self._env(),
            )
        (self.root / "userdbshadow.dat").chmod(0o600)

    # -- lifecycle -------------------------------------------------------------------------

    def _spawn(self) -> list[subprocess.Popen[bytes]]:
        self.ensure_installed()
        (self.root / "authdaemon.sock").unlink(missing_ok=True)
        env = self._env()
        with self.log_path.open("ab") as log:
            # Both stay in the foreground and log to stderr, each leading a process group
            # (imaplogin/imapd are couriertcpd's children). One group for both is not
            # possible: setpgid() cannot join a group of another session.
            authdaemond = spawn_group(
                [str(COURIER_DIR / "usr/lib/courier/courier-authlib/authdaemond")],
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=log,
            )
            tcpd = spawn_group(
                [
                    str(COURIER_DIR / "usr/sbin/couriertcpd"),
                    f"-address={self.host}",
                    "-maxprocs=1000",
                    "-maxperip=1000",
                    "-nodnslookup",
                    "-noidentlookup",
                    str(self.port),
                    str(COURIER_DIR / "usr/lib/courier/courier/imaplogin"),
                    str(COURIER_DIR / "usr/bin/imapd"),
                    "Maildir",
                ],
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=log,
            )
        # Stopped in this order: no new logins first, then authentication.
        return [tcpd, authdaemond]

    def _check_ready(self) -> None:
        # couriertcpd greets before authdaemond listens: a LOGIN then would fail.
        socket_path = self.root / "authdaemon.sock"
        if not socket_path.exists():
            raise FileNotFoundError(socket_path)
        super()._check_ready()

    # -- users and mail --------------------------------------------------------------------

    def add_user(self, name: str | None = None, password: str = "secret-pass") -> ImapUser:
        """Add a login with INBOX and the default folders, subscribed."""
        if name is None:
            name = self._new_user_name()
        for value in (name, password):
            # userdb is a tab- and line-separated text file; "|" separates its fields.
            if not value or any(ch in value for ch in "\t\n\r\0|"):
                raise ValueError(f"unusable in a userdb: {value!r}")
        with self._users_lock:
            if name in self._users:
                raise ValueError(f"user {name!r} exists already")
            home = self.mail_dir / name
            self._make_maildir(home)
            self._users[name] = (password, home)
            self._write_userdb()
        return self._user(name, password)

    def _make_maildir(self, home: Path) -> None:
        home.mkdir(mode=0o700)
        os.chown(home, self._uid, self._gid)
        maildir = home / "Maildir"
        self._make_folder_dir(maildir)
        for folder in DEFAULT_FOLDERS:
            self._make_folder_dir(maildir / ("." + folder))
        self._write_owned(
            maildir / "courierimapsubscribed",
            "".join(f"{self.path(folder)}\n" for folder in DEFAULT_FOLDERS).encode(),
        )

    def _make_folder_dir(self, path: Path) -> None:
        for sub in (path, path / "cur", path / "new", path / "tmp"):
            sub.mkdir(mode=0o700, exist_ok=True)
            os.chown(sub, self._uid, self._gid)
        if path.name.startswith("."):
            # maildir++ marks a folder (not the INBOX) with an empty "maildirfolder" file.
            marker = path / "maildirfolder"
            if not marker.exists():
                self._write_owned(marker, b"")

    def _write_owned(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        os.chown(tmp, self._uid, self._gid)
        os.replace(tmp, path)

    def _maildir(self, name: str) -> Path:
        with self._users_lock:
            if name not in self._users:
                raise ValueError(f"no user {name!r} on this Courier")
            return self._users[name][1] / "Maildir"

    def _folder_dir(self, maildir: Path, folder: str) -> Path:
        """The maildir++ directory of a full server path (``INBOX.Kunden.Ärzte``)."""
        if folder.upper() == "INBOX":
            return maildir
        if not folder.startswith(self.prefix) or folder == self.prefix:
            raise ValueError(f"Courier folders live under {self.prefix!r}: {folder!r}")
        levels = folder[len(self.prefix) :].split(self.separator)
        if any(not level or "/" in level for level in levels):
            raise ValueError(f"unusable folder name {folder!r}")
        # Courier 5 keeps folder names in UTF-8 on disk (4.x used modified UTF-7).
        return maildir / ("." + ".".join(levels))

    def deliver(
        self,
        user: ImapUser | str,
        message: bytes,
        folder: str = "INBOX",
        flags: Sequence[str] = (),
    ) -> None:
        """Store ``message`` in ``folder`` (a full path, created and subscribed if missing).

        Written straight into the maildir as an MTA would (``tmp/`` then ``new/``, or ``cur/``
        with the flags in the info suffix), never through the client under test. Keywords
        (flags without a backslash) are Courier's own ``courierimapkeywords`` files; those go
        through IMAP APPEND with the standard library's imaplib instead.
        """
        name = user.name if isinstance(user, ImapUser) else user
        maildir = self._maildir(name)
        target = self._folder_dir(maildir, folder)
        if not target.is_dir():
            self._make_folder_dir(target)
            self._subscribe(maildir, folder)
        keywords = [flag for flag in flags if not flag.startswith("\\")]
        if keywords:
            self._append(name, message, folder, flags)
            return
        letters = "".join(sorted({_MAILDIR_FLAGS[flag.lower()] for flag in flags}))
        size = len(message.replace(b"\r\n", b"\n"))
        now = time.time()
        # Courier numbers the new files of one scan in name order: zero-padded, the names sort
        # in delivery order, so UIDs follow it as with an MTA delivering one message at a time.
        unique = (
            f"{int(now)}.M{int(now % 1 * 1e6):06d}P{os.getpid()}"
            f"Q{next(self._deliver_counter):08d}.{socket.gethostname()},S={size}"
        )
        tmp = target / "tmp" / unique
        tmp.write_bytes(message.replace(b"\r\n", b"\n"))
        os.chown(tmp, self._uid, self._gid)
        if flags:
            os.rename(tmp, target / "cur" / f"{unique}:2,{letters}")
        else:
            os.rename(tmp, target / "new" / unique)

    def _subscribe(self, maildir: Path, folder: str) -> None:
        if folder.upper() == "INBOX":
            return
        path = maildir / "courierimapsubscribed"
        with self._users_lock:
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            if folder not in lines:
                text = "".join(f"{line}\n" for line in [*lines, folder])
                self._write_owned(path, text.encode())

    def _append(self, name: str, message: bytes, folder: str, flags: Sequence[str]) -> None:
        password = self._users[name][0]
        # Printable ASCII (the "." separator, "INBOX") is left as it is by the encoding.
        encoded = imap_utf7(folder)
        with imaplib.IMAP4(self.host, self.port, timeout=30) as imap:
            imap.login(name, password)
            status, data = imap.append(
                '"' + encoded + '"', "(" + " ".join(flags) + ")", None, message
            )
            if status != "OK":
                raise CourierError(f"APPEND to {folder!r} failed: {data!r}")
            imap.logout()
