"""Pure builders of the sync engine's events (payload shapes of the seed README "Example").

Ids of message and mailbox events are derived from what identifies the change (account, path,
UIDVALIDITY, uid, kind), so writing the same change twice is a no-op in the outbox. A flag
change is identified by the folder's MODSEQ when the server has CONDSTORE; without it a random
id is used (the change and its event are committed together, so a crash cannot repeat it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imapapi.events.model import EventName, derive_event_id, format_date, make_event
from imapapi.mail.ids import encode_message_id
from imapapi.store.base import NewEvent, SentRecord
from imapapi.sync.diff import FlagChange, split_labels


@dataclass(frozen=True, slots=True)
class FolderRef:
    """The identity of a folder at one UIDVALIDITY, as events name it."""

    account: str
    path: str
    special_use: str | None
    index: int
    uid_validity: int


def _event(
    folder: FolderRef, name: EventName, data: dict[str, Any], *id_parts: str | int
) -> NewEvent:
    event_id = (
        derive_event_id(folder.account, folder.path, folder.uid_validity, name.value, *id_parts)
        if id_parts
        else None
    )
    return make_event(
        account=folder.account,
        event=name,
        data=data,
        path=folder.path,
        special_use=folder.special_use,
        event_id=event_id,
    )


def message_new(folder: FolderRef, summary: dict[str, Any]) -> NewEvent:
    return _event(folder, EventName.MESSAGE_NEW, summary, int(summary["uid"]))


def message_deleted(folder: FolderRef, uid: int) -> NewEvent:
    data = {"id": encode_message_id(folder.index, uid), "uid": uid}
    return _event(folder, EventName.MESSAGE_DELETED, data, uid)


def message_updated(folder: FolderRef, change: FlagChange, modseq: int | None) -> NewEvent:
    """`changes.flags` and, on Gmail, `changes.labels`: each `{added, deleted, value}`."""
    changes: dict[str, Any] = {}
    added, deleted, value = (
        split_labels(part) for part in (change.added, change.deleted, change.value)
    )
    for key, index in (("flags", 0), ("labels", 1)):
        if not (added[index] or deleted[index]):
            continue
        entry: dict[str, Any] = {"value": value[index]}
        if added[index]:
            entry["added"] = added[index]
        if deleted[index]:
            entry["deleted"] = deleted[index]
        changes[key] = entry
    data = {
        "id": encode_message_id(folder.index, change.uid),
        "uid": change.uid,
        "changes": changes,
    }
    if modseq is None:
        return _event(folder, EventName.MESSAGE_UPDATED, data)
    return _event(folder, EventName.MESSAGE_UPDATED, data, change.uid, modseq)


def mailbox_new(folder: FolderRef, name: str) -> NewEvent:
    data = {"path": folder.path, "name": name, "specialUse": folder.special_use}
    return _event(folder, EventName.MAILBOX_NEW, data, folder.path)


def mailbox_deleted(folder: FolderRef) -> NewEvent:
    data = {"path": folder.path, "specialUse": folder.special_use}
    return _event(folder, EventName.MAILBOX_DELETED, data, folder.path)


def mailbox_reset(folder: FolderRef, previous_uid_validity: int) -> NewEvent:
    data = {
        "path": folder.path,
        "uidValidity": folder.uid_validity,
        "prevUidValidity": previous_uid_validity,
    }
    return _event(folder, EventName.MAILBOX_RESET, data, previous_uid_validity)


# Reply tracking (issue 9): the verdict on a new inbox message that references a tracked one.
TRACKING_EVENTS = {
    "human": EventName.MESSAGE_REPLY,
    "autoReply": EventName.MESSAGE_AUTO_REPLY,
    "bounce": EventName.MESSAGE_BOUNCE,
}


def tracked_reply(
    folder: FolderRef, summary: dict[str, Any], replied: SentRecord
) -> NewEvent | None:
    """messageReply / messageAutoReply / messageBounce for `summary` (a messageNew summary with
    its classification), or None for list and other machine mail."""
    classification = summary.get("classification") or {}
    name = TRACKING_EVENTS.get(classification.get("type", ""))
    if name is None:
        return None
    # The messageNew summary (classification included) plus what it answers.
    data = {
        **summary,
        "repliedTo": {
            "messageId": replied.message_id,
            "queueId": replied.queue_id or None,
            "sentAt": format_date(replied.sent_at),
        },
    }
    # One event per message: keyed by the message, not the folder it was seen in.
    identity = summary.get("emailId") or summary.get("messageId") or summary["id"]
    return _event(folder, name, data, str(identity))


def tracking_candidates(summary: dict[str, Any]) -> list[str]:
    """Message-IDs a new message may answer, most specific first: the bounced original, then
    In-Reply-To, then References newest first (RFC 5322 §3.6.4)."""
    classification = summary.get("classification") or {}
    bounce = classification.get("bounce") or {}
    found = [bounce.get("originalMessageId"), summary.get("inReplyTo")]
    found += list(reversed(summary.get("references") or []))
    return [c for c in dict.fromkeys(found) if isinstance(c, str) and c]
