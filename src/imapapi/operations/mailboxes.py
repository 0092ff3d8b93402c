"""Folder operations for the API, run on a leased command connection of the account.

IMAP refusals become specific errors here (RFC 5530 response codes): ALREADYEXISTS → conflict,
NONEXISTENT → not found; the API layer maps those to HTTP without knowing IMAP.

Paths are the server's own (its delimiter, its namespace prefix), except for one convenience:
a new folder given without the personal namespace prefix is created under it (RFC 2342), so
"Projekte" becomes "INBOX.Projekte" on a server whose personal namespace is "INBOX." (Courier,
Cyrus without altnamespace), and stays "Projekte" where the prefix is empty (Dovecot). The
answer names the real path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from imapapi.errors import CommandFailedError, ConflictError, InvalidInputError, NotFoundError
from imapapi.imap import ImapConnection, Namespaces
from imapapi.sessions.command_pool import CommandLeases
from imapapi.sync.mailboxes import assign_special_use


@dataclass(frozen=True, slots=True)
class MailboxEntry:
    path: str
    name: str
    delimiter: str | None
    parent_path: str | None
    special_use: str | None
    subscribed: bool
    listed: bool
    messages: int | None = None
    uid_next: int | None = None
    uid_validity: int | None = None
    unseen: int | None = None


@contextlib.contextmanager
def refusals(path: str) -> Iterator[None]:
    try:
        yield
    except CommandFailedError as exc:
        code = (exc.response_code or "").upper()
        if code == "ALREADYEXISTS":
            raise ConflictError(f"folder {path!r} already exists") from exc
        if code in ("NONEXISTENT", "TRYCREATE"):
            raise NotFoundError(f"folder {path!r} does not exist") from exc
        raise


async def list_mailboxes(leases: CommandLeases, *, counters: bool) -> list[MailboxEntry]:
    async with leases.command() as command:
        conn = command.conn
        listed = await conn.list_mailboxes()
        # Without LIST-EXTENDED there is no `RETURN (SUBSCRIBED)` (RFC 5258 §4): LSUB says it.
        lsub = None if conn.has_capability("LIST-EXTENDED") else await conn.subscribed_paths()
        uses = assign_special_use(listed)
        entries = []
        for info in sorted(listed, key=lambda m: (m.path.upper() != "INBOX", m.path)):
            flags = {f.lower() for f in info.flags}
            name = info.path.rsplit(info.delimiter, 1)[-1] if info.delimiter else info.path
            parent = (
                info.path.rsplit(info.delimiter, 1)[0]
                if info.delimiter and info.delimiter in info.path
                else None
            )
            entry = MailboxEntry(
                path=info.path,
                name=name,
                delimiter=info.delimiter,
                parent_path=parent,
                special_use=uses.get(info.path),
                subscribed=(
                    ("\\subscribed" in flags if lsub is None else info.path in lsub)
                    or info.path.upper() == "INBOX"
                ),
                listed=True,
            )
            if counters and info.selectable:
                status = await conn.status(info.path)
                entry = MailboxEntry(
                    **{
                        **_fields(entry),
                        "messages": status.messages,
                        "uid_next": status.uid_next,
                        "uid_validity": status.uid_validity,
                        "unseen": status.unseen,
                    }
                )
            entries.append(entry)
        return entries


def _fields(entry: MailboxEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__slots__}


async def _listed(conn: ImapConnection, path: str) -> bool:
    """Whether LIST shows `path`: what a refusal without a response code meant. Not every
    server says ALREADYEXISTS or NONEXISTENT (RFC 5530): Cyrus answers "NO Mailbox already
    exists", Courier "NO Cannot create this folder"."""
    return any(info.path == path for info in await conn.list_mailboxes(pattern=path))


def _in_namespace(path: str, prefix: str) -> bool:
    # "INBOX" is case-insensitive (RFC 3501 §5.1), so is the "INBOX" of an "INBOX." prefix.
    if prefix[:5].upper() == "INBOX" and path[:5].upper() == "INBOX":
        return path[5 : len(prefix)] == prefix[5:]
    return path.startswith(prefix)


def personal_path(path: str, namespaces: Namespaces) -> str:
    """Where a new folder `path` goes: under the personal namespace prefix (RFC 2342 §3), unless
    it is INBOX or already in a namespace (the personal one, other users', shared).

    `path` uses the server's delimiter: "Projekte.2024" is a child of "Projekte" on Courier
    (delimiter "."), "Projekte/2024" on Dovecot. Nothing is translated.
    """
    if not namespaces.personal or path.upper() == "INBOX":
        return path
    prefix = namespaces.personal[0].prefix
    if not prefix or any(_in_namespace(path, ns.prefix) for ns in namespaces.all if ns.prefix):
        return path
    return prefix + path


async def create_mailbox(leases: CommandLeases, path: str) -> str:
    """Create and subscribe `path` (see `personal_path`); returns the path created."""
    async with leases.command() as command:
        conn = command.conn
        path = personal_path(path, await conn.namespace())
        try:
            with refusals(path):
                await conn.create(path)
        except CommandFailedError as exc:
            if not exc.response_code and await _listed(conn, path):
                raise ConflictError(f"folder {path!r} already exists") from exc
            raise
        with contextlib.suppress(CommandFailedError):
            await conn.subscribe(path)
        return path


async def rename_mailbox(leases: CommandLeases, path: str, new_path: str) -> str:
    """Rename `path` to `new_path` (placed as in `personal_path`); returns the new path."""
    if path.upper() == "INBOX":
        raise InvalidInputError("path", "INBOX cannot be renamed here")
    async with leases.command() as command:
        conn = command.conn
        new_path = personal_path(new_path, await conn.namespace())
        try:
            with refusals(path):
                await conn.rename(path, new_path)
        except CommandFailedError as exc:
            if not exc.response_code and not await _listed(conn, path):
                raise NotFoundError(f"folder {path!r} does not exist") from exc
            if not exc.response_code and await _listed(conn, new_path):
                raise ConflictError(f"folder {new_path!r} already exists") from exc
            raise
        with contextlib.suppress(CommandFailedError):
            await conn.subscribe(new_path)
        return new_path


async def delete_mailbox(leases: CommandLeases, path: str) -> None:
    if path.upper() == "INBOX":
        raise InvalidInputError("path", "INBOX cannot be deleted")
    async with leases.command() as command:
        conn = command.conn
        with contextlib.suppress(CommandFailedError):
            await conn.unsubscribe(path)
        try:
            with refusals(path):
                await conn.delete(path)
        except CommandFailedError as exc:
            if not exc.response_code and not await _listed(conn, path):
                raise NotFoundError(f"folder {path!r} does not exist") from exc
            raise
