"""A plain IMAP client for the soak: stdlib imaplib, blocking, one per thread.

It is deliberately *not* imapapi's client: the changes the soak makes and the truth it reads
must not depend on the code under test. Folder names are Unicode here and modified UTF-7 on
the wire (RFC 3501 §5.1.3), through imapclient's codec.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterable

from imapclient import imap_utf7

# Blocking calls end: a hung server fails the soak instead of hanging it.
TIMEOUT = 60.0
_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>NIL|"(?:[^"\\]|\\.)*") ?(?P<name>.*)$')
_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_APPENDUID = re.compile(rb"APPENDUID \d+ (\d+)")


class SoakImapError(RuntimeError):
    """A command the soak needed was refused."""


def quote(name: str) -> str:
    """A mailbox name as an IMAP quoted string, in modified UTF-7."""
    wire = imap_utf7.encode(name).decode("ascii")
    return '"' + wire.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> bytes:
    if raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2:
        return re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return raw


def uid_set(uids: Iterable[int]) -> str:
    return ",".join(str(u) for u in sorted(uids))


class PlainClient:
    """One logged-in connection; remembers the selected folder and the capabilities."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        self.imap = imaplib.IMAP4(host, port, timeout=TIMEOUT)
        self._ok(self.imap.login(user, password), "LOGIN")
        # Asked again: the list before login is often shorter (Dovecot's lacks MOVE), and
        # imaplib keeps only that one.
        data = self._ok(self.imap.capability(), "CAPABILITY")
        words = data[-1] if data and isinstance(data[-1], bytes) else b""
        self.capabilities = {c.upper() for c in words.decode().split()}
        self.selected: str | None = None
        self.readonly = False
        self.permanent_flags: bytes = b""

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    def close(self) -> None:
        try:
            self.imap.logout()
        except (imaplib.IMAP4.error, OSError):  # timeouts are OSErrors
            pass  # closing anyway

    @staticmethod
    def _ok(answer: tuple[str, list[object]], what: str) -> list[object]:
        typ, data = answer
        if typ != "OK":
            raise SoakImapError(f"{what}: {typ} {data!r}")
        return data

    # --- folders ------------------------------------------------------------------------------
    def list_selectable(self) -> list[str]:
        """Every folder that can be selected, names decoded (LIST "" "*", RFC 3501 §6.3.8)."""
        data = self._ok(self.imap.list('""', "*"), "LIST")
        names = []
        for item in data:
            if item is None:
                continue
            if isinstance(item, tuple):  # the name came as a literal
                head, name = item[0], item[1]
                match = _LIST.match(head)
            else:
                assert isinstance(item, bytes)
                match = _LIST.match(item)
                name = _unquote(match.group("name")) if match else b""
            if match is None:
                raise SoakImapError(f"unparsed LIST line {item!r}")
            flags = match.group("flags").lower().split()
            if b"\\noselect" in flags or b"\\nonexistent" in flags:
                continue
            names.append(imap_utf7.decode(name))
        return names

    def select(self, path: str, *, readonly: bool = False) -> bool:
        """SELECT (or EXAMINE) ``path`` unless it already is; False when it is empty."""
        if self.selected == path and self.readonly == readonly:
            return True  # the caller asks for uids anyway
        typ, data = self.imap.select(quote(path), readonly=readonly)
        if typ != "OK":
            raise SoakImapError(f"SELECT {path!r}: {typ} {data!r}")
        self.selected, self.readonly = path, readonly
        permanent = self.imap.untagged_responses.get("PERMANENTFLAGS", [b""])
        self.permanent_flags = permanent[-1] if isinstance(permanent[-1], bytes) else b""
        return data[0] not in (b"0", None)

    def create(self, path: str) -> None:
        self._ok(self.imap.create(quote(path)), f"CREATE {path!r}")
        # Subscribed as a user's client would; servers list it either way.
        self.imap.subscribe(quote(path))

    # --- messages -----------------------------------------------------------------------------
    def append(self, path: str, flags: Iterable[str], message: bytes) -> int | None:
        """APPEND; the new uid when the server says (UIDPLUS, RFC 4315), else None."""
        flag_list = "(" + " ".join(flags) + ")"
        data = self._ok(self.imap.append(quote(path), flag_list, None, message), "APPEND")
        found = _APPENDUID.search(data[0]) if data and isinstance(data[0], bytes) else None
        return int(found.group(1)) if found else None

    def uids(self) -> list[int]:
        """Every uid of the selected folder, ascending."""
        data = self._ok(self.imap.uid("SEARCH", "ALL"), "UID SEARCH")
        raw = data[0] if data and isinstance(data[0], bytes) else b""
        return sorted(int(u) for u in raw.split())

    def flags(self) -> dict[int, list[str]]:
        """uid → flags of every message in the selected folder (UID FETCH 1:* (FLAGS))."""
        data = self._ok(self.imap.uid("FETCH", "1:*", "(FLAGS)"), "UID FETCH")
        out: dict[int, list[str]] = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, flags = _UID.search(line), _FLAGS.search(line)
            if uid is None or flags is None:
                continue  # e.g. an unsolicited FETCH of another item
            out[int(uid.group(1))] = flags.group(1).decode().split()
        return out

    def store(self, uids: Iterable[int], sign: str, flags: Iterable[str]) -> None:
        items = f"{sign}FLAGS.SILENT"
        flag_list = "(" + " ".join(flags) + ")"
        self._ok(self.imap.uid("STORE", uid_set(uids), items, flag_list), "UID STORE")

    def expunge(self, uids: Iterable[int]) -> str:
        """Remove ``uids``: UID EXPUNGE with UIDPLUS, else \\Deleted + EXPUNGE (which would
        also take other \\Deleted messages: the soak never leaves any). Returns the way."""
        uids = list(uids)
        self.store(uids, "+", ["\\Deleted"])
        if self.has("UIDPLUS"):
            self._ok(self.imap.uid("EXPUNGE", uid_set(uids)), "UID EXPUNGE")
            return "UID EXPUNGE"
        self._ok(self.imap.expunge(), "EXPUNGE")
        return "EXPUNGE"

    def move(self, uids: Iterable[int], target: str) -> tuple[str, list[int]]:
        """MOVE (RFC 6851) when offered, else COPY + \\Deleted + EXPUNGE. Returns the way and
        the uids in ``target`` when the server says (COPYUID, RFC 4315 §3)."""
        uids = list(uids)
        self.imap.untagged_responses.pop("COPYUID", None)
        if self.has("MOVE"):
            data = self._ok(self.imap.uid("MOVE", uid_set(uids), quote(target)), "UID MOVE")
            how = "UID MOVE"
        else:
            data = self._ok(self.imap.uid("COPY", uid_set(uids), quote(target)), "UID COPY")
            how = "UID COPY + " + self.expunge(uids)
        # MOVE sends COPYUID in an untagged OK, COPY in the tagged one.
        codes = [*self.imap.untagged_responses.pop("COPYUID", []), *data]
        for code in codes:
            found = (
                re.search(rb"(?:COPYUID )?\d+ [\d:,]+ ([\d:,]+)", code)
                if isinstance(code, bytes)
                else None
            )
            if found:
                return how, _expand(found.group(1))
        return how, []


def _expand(ranges: bytes) -> list[int]:
    out: list[int] = []
    for part in ranges.decode().split(","):
        low, _, high = part.partition(":")
        out += range(int(low), int(high or low) + 1)
    return out
