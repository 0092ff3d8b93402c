"""Message changes for the API (issue 5): flags, move, delete, upload.

Each change first checks the message exists (servers answer OK to a STORE, MOVE or COPY of a
UID that is gone, RFC 3501 §6.4.8), so a stale id answers 404 instead of a silent no-op.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from typing import Any

from imapapi.errors import CapabilityError, UnprocessableError
from imapapi.imap import encode
from imapapi.mail.ids import decode_message_id, encode_message_id
from imapapi.mail.summary import visible_flags
from imapapi.operations.messages import fetch_one, folder_refusals, located
from imapapi.sessions.command_pool import CommandConnection, CommandLeases
from imapapi.store.base import Store
from imapapi.sync.mailboxes import assign_special_use

GMAIL = "X-GM-EXT-1"
_BARE_LF = re.compile(rb"(?<!\r)\n")


def _check_flags(flags: Sequence[str], field: str) -> list[str]:
    for value in flags:
        encode.flag(value, field)  # refuses CR/LF and anything that is not a flag atom
    return list(flags)


async def update_flags(
    leases: CommandLeases,
    store: Store,
    message_id: str,
    *,
    add: Sequence[str] = (),
    delete: Sequence[str] = (),
    set_: Sequence[str] | None = None,
    labels_add: Sequence[str] = (),
    labels_delete: Sequence[str] = (),
    labels_set: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Apply `set` (replace), then `add`, then `delete`; returns the resulting flags (and
    labels on Gmail, whose X-GM-LABELS are changed the same way). Label stores are not
    .SILENT: Gmail documents only the plain X-GM-LABELS item for STORE."""
    index, uid = decode_message_id(message_id)
    add = _check_flags(add, "flags.add")
    delete = _check_flags(delete, "flags.delete")
    replace = None if set_ is None else _check_flags(set_, "flags.set")
    label_changes = bool(labels_add or labels_delete or labels_set is not None)
    async with located(leases, store, index, readonly=False) as (command, _):
        conn = command.conn
        if label_changes and not conn.has_capability(GMAIL):
            raise UnprocessableError("labels", "labels exist only on Gmail accounts")
        await fetch_one(command, uid, ["UID"])
        if replace is not None:
            await conn.uid_store([uid], "", replace, silent=True)
        if add:
            await conn.uid_store([uid], "+", add, silent=True)
        if delete:
            await conn.uid_store([uid], "-", delete, silent=True)
        if labels_set is not None:
            await conn.uid_store([uid], "", labels_set, item="X-GM-LABELS")
        if labels_add:
            await conn.uid_store([uid], "+", labels_add, item="X-GM-LABELS")
        if labels_delete:
            await conn.uid_store([uid], "-", labels_delete, item="X-GM-LABELS")
        items = ["UID", "FLAGS", *(["X-GM-LABELS"] if conn.has_capability(GMAIL) else [])]
        result = await fetch_one(command, uid, items)
    out: dict[str, Any] = {"id": message_id, "flags": visible_flags(result.flags or ())}
    if result.gmail_labels is not None:
        out["labels"] = list(result.gmail_labels)
    return out


async def move_message(
    leases: CommandLeases, store: Store, message_id: str, path: str
) -> dict[str, Any]:
    """UID MOVE (RFC 6851), or COPY + EXPUNGE where MOVE is missing; returns the new id when
    the server reports where the message went (COPYUID, RFC 4315 §3)."""
    index, uid = decode_message_id(message_id)
    encode.mailbox(path, field="path")  # 400 for a bad name before any round trip
    async with located(leases, store, index, readonly=False) as (command, _):
        await fetch_one(command, uid, ["UID"])
        return await _move(command, store, uid, path)


async def _move(command: CommandConnection, store: Store, uid: int, path: str) -> dict[str, Any]:
    with folder_refusals(path):
        copied = await command.conn.uid_move([uid], path)
    out: dict[str, Any] = {"path": path}
    if copied is not None and uid in copied.source_uids:
        new_uid = copied.dest_uids[copied.source_uids.index(uid)]
        new_index = await store.mailbox_index(command.account, path, copied.uid_validity)
        out.update(id=encode_message_id(new_index, new_uid), uid=new_uid)
    return out


async def delete_message(
    leases: CommandLeases, store: Store, message_id: str, *, force: bool = False
) -> dict[str, Any]:
    """Move to the Trash folder (RFC 6154 `\\Trash`); expunge with `force`, when the message
    already is in Trash, or when the account has no Trash folder."""
    index, uid = decode_message_id(message_id)
    async with located(leases, store, index, readonly=False) as (command, folder):
        conn = command.conn
        await fetch_one(command, uid, ["UID"])
        trash = None
        if not force:
            uses = assign_special_use(await conn.list_mailboxes())
            trash = next((p for p, use in uses.items() if use == "\\Trash"), None)
        if trash is not None and trash != folder.path:
            moved = await _move(command, store, uid, trash)
            return {"deleted": False, "moved": {"destination": trash, **_moved_id(moved)}}
        if not conn.has_capability("UIDPLUS"):
            # Plain EXPUNGE would also remove every other message marked \Deleted.
            raise CapabilityError("the server lacks UIDPLUS: cannot expunge one message safely")
        await conn.uid_store([uid], "+", ["\\Deleted"], silent=True)
        await conn.expunge([uid])
    return {"deleted": True}


def _moved_id(moved: dict[str, Any]) -> dict[str, Any]:
    return {"message": moved["id"], "uid": moved["uid"]} if "id" in moved else {}


async def upload_message(
    leases: CommandLeases,
    store: Store,
    path: str,
    raw: bytes,
    *,
    flags: Sequence[str] = (),
    internal_date: _dt.datetime | None = None,
) -> dict[str, Any]:
    """APPEND (RFC 3501 §6.3.11) `raw` to `path`; the id comes from APPENDUID (RFC 4315)."""
    flag_list = _check_flags(flags, "flags")
    encode.mailbox(path, field="path")
    if b"\x00" in raw:  # RFC 3501 §4.3: a literal (without BINARY) cannot carry NUL
        raise UnprocessableError("raw", "the message must not contain NUL octets")
    # Lines end in CRLF on the wire (RFC 5322 §2.3); a file saved on Unix has bare LFs, which
    # Dovecot fixes silently and Cyrus refuses ("NO Message contains bare newlines").
    raw = _BARE_LF.sub(b"\r\n", raw)
    async with leases.command() as command:
        with folder_refusals(path):
            appended = await command.conn.append(
                path, raw, flags=flag_list, internal_date=internal_date
            )
        out: dict[str, Any] = {"path": path}
        if appended is not None and appended.uids:
            new_index = await store.mailbox_index(command.account, path, appended.uid_validity)
            uid = appended.uids[-1]
            out.update(id=encode_message_id(new_index, uid), uid=uid)
    return out
