"""Folder operations for the API, run on an account's command connection.

IMAP refusals become specific errors here (RFC 5530 response codes): ALREADYEXISTS → conflict,
NONEXISTENT → not found; the API layer maps those to HTTP without knowing IMAP.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from imapapi.accounts.session import AccountSession
from imapapi.errors import CommandFailedError, ConflictError, InvalidInputError, NotFoundError
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


async def list_mailboxes(session: AccountSession, *, counters: bool) -> list[MailboxEntry]:
    async with session.command() as conn:
        listed = await conn.list_mailboxes()
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
                subscribed="\\subscribed" in flags or info.path.upper() == "INBOX",
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


async def create_mailbox(session: AccountSession, path: str) -> None:
    async with session.command() as conn:
        with refusals(path):
            await conn.create(path)
        with contextlib.suppress(CommandFailedError):
            await conn.subscribe(path)


async def rename_mailbox(session: AccountSession, path: str, new_path: str) -> None:
    if path.upper() == "INBOX":
        raise InvalidInputError("path", "INBOX cannot be renamed here")
    async with session.command() as conn:
        with refusals(path):
            await conn.rename(path, new_path)
        with contextlib.suppress(CommandFailedError):
            await conn.subscribe(new_path)


async def delete_mailbox(session: AccountSession, path: str) -> None:
    if path.upper() == "INBOX":
        raise InvalidInputError("path", "INBOX cannot be deleted")
    async with session.command() as conn:
        with contextlib.suppress(CommandFailedError):
            await conn.unsubscribe(path)
        with refusals(path):
            await conn.delete(path)
