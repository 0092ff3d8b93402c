"""Replay of a webhook stream into a model of every folder, and its comparison with the truth.

Pure: webhook bodies (the JSON dicts the receiver recorded) and server snapshots in, counts and
differences out, so the rules below have fast unit tests (tests/unit/soak/test_model.py).

The model of one account is ``path → uid → flags``. It starts from a snapshot of the server
taken after the account's first sync (which is quiet by contract: README "What is reported"),
and every later change must arrive as an event:

- ``messageNew`` adds ``data.uid`` with ``data.flags``; ``messageDeleted`` removes it;
- ``messageUpdated`` applies ``changes.flags.added`` / ``deleted`` (the delta a receiver
  applies) and checks the result against ``changes.flags.value``;
- ``mailboxNew`` / ``mailboxDeleted`` add / remove a folder; ``mailboxReset`` empties one (its
  old uids are void; what is in it at the new UIDVALIDITY is announced again).

Events are applied in the order received. The same ``eventId`` twice is a redelivery (delivery
is at-least-once) and is skipped. The same *change* under another ``eventId`` is a duplicate:
a messageNew of a message id (path + UIDVALIDITY-bound index + uid) already announced, a
messageDeleted of one already deleted, a mailboxNew of a folder the model has, or a
messageUpdated repeating the previous change of that message when it changes nothing.
Events that make no sense against the model (an update or delete of a uid never announced,
an update whose ``value`` disagrees with the delta applied) are *unexpected*: each means an
earlier event was lost or wrong, even when the end state happens to agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Flags = frozenset[str]
# path → uid → flags: one account's folders, as the model or the server sees them.
Folders = dict[str, dict[int, Flags]]

MESSAGE_EVENTS = ("messageNew", "messageDeleted", "messageUpdated")
MAILBOX_EVENTS = ("mailboxNew", "mailboxDeleted", "mailboxReset")
KINDS = ("missing", "phantom", "stale", "duplicate", "unexpected")

# System flags are case-insensitive (RFC 3501 §2.3.2); keywords are compared as written.
_SYSTEM = {f.lower(): f for f in ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")}
_SYSTEM["\\recent"] = "\\Recent"


def norm_flags(flags: Iterable[str], *, drop_recent: bool = False) -> Flags:
    """Canonical spelling of system flags; ``\\Recent`` dropped when asked (the truth side:
    it is session state, RFC 3501 §2.3.2, not something a webhook should carry)."""
    out = {_SYSTEM.get(f.lower(), f) for f in flags}
    if drop_recent:
        out.discard("\\Recent")
    return frozenset(out)


@dataclass(frozen=True)
class Difference:
    """One way the webhook stream and the server disagree."""

    kind: str  # one of KINDS
    account: str
    path: str
    uid: int | None  # None: the folder itself
    detail: str
    event_id: str | None = None  # for duplicate / unexpected: the offending event

    def __str__(self) -> str:
        where = f"{self.account} {self.path!r}" + (
            f" uid {self.uid}" if self.uid is not None else " (folder)"
        )
        eid = f" [event {self.event_id}]" if self.event_id else ""
        return f"{self.kind:<10} {where}: {self.detail}{eid}"


@dataclass
class Replay:
    """The model of one account after its events, and what the replay itself noticed."""

    account: str
    folders: Folders
    events: int = 0  # distinct message and mailbox events applied
    redelivered: int = 0  # the same eventId again (allowed: at-least-once)
    differences: list[Difference] = field(default_factory=list)


def _fmt(flags: Iterable[str]) -> str:
    return "(" + " ".join(sorted(flags)) + ")"


def replay(account: str, initial: Folders, events: Sequence[Mapping[str, Any]]) -> Replay:
    """Apply ``events`` (webhook bodies of ``account`` in the order received) to ``initial``."""
    model = Replay(account, {path: dict(msgs) for path, msgs in initial.items()})
    folders = model.folders
    seen_ids: set[str] = set()
    announced: set[tuple[str, str]] = set()  # (path, message id) of every messageNew
    deleted: set[tuple[str, str]] = set()

    def note(kind: str, path: str, uid: int | None, detail: str, event_id: str) -> None:
        model.differences.append(Difference(kind, account, path, uid, detail, event_id))

    for body in events:
        name = body.get("event")
        if name not in MESSAGE_EVENTS and name not in MAILBOX_EVENTS:
            continue  # accountConnected and the like say nothing about folders
        event_id = str(body.get("eventId"))
        if event_id in seen_ids:
            model.redelivered += 1
            continue
        seen_ids.add(event_id)
        model.events += 1
        data: Mapping[str, Any] = body.get("data") or {}
        if name in MAILBOX_EVENTS:
            path = str(data.get("path") or body.get("path"))
            if name == "mailboxNew":
                if path in folders:
                    note("duplicate", path, None, "mailboxNew of a known folder", event_id)
                else:
                    folders[path] = {}
            elif name == "mailboxDeleted":
                if folders.pop(path, None) is None:
                    note("unexpected", path, None, "mailboxDeleted of an unknown folder", event_id)
            else:  # mailboxReset
                folders[path] = {}
            continue

        path = str(body.get("path"))
        uid = int(data["uid"])
        key = (path, str(data.get("id")))
        folder = folders.get(path)
        if folder is None:
            note("unexpected", path, uid, f"{name} in a folder never announced", event_id)
            folder = folders[path] = {}
        if name == "messageNew":
            flags = norm_flags(data.get("flags") or ())
            if key in announced or uid in folder:
                note("duplicate", path, uid, f"messageNew again, flags {_fmt(flags)}", event_id)
            announced.add(key)
            folder[uid] = flags
        elif name == "messageDeleted":
            if uid in folder:
                del folder[uid]
                deleted.add(key)
            elif key in deleted:
                note("duplicate", path, uid, "messageDeleted again", event_id)
            else:
                note("unexpected", path, uid, "messageDeleted of a uid never announced", event_id)
        else:
            change = (data.get("changes") or {}).get("flags")
            if change is None:
                continue  # a label change (Gmail): not part of the flag model
            added = norm_flags(change.get("added") or ())
            removed = norm_flags(change.get("deleted") or ())
            if uid not in folder:
                why = "after its messageDeleted" if key in deleted else "of a uid never announced"
                note("unexpected", path, uid, f"messageUpdated {why}", event_id)
                continue
            current = folder[uid]
            updated = (current | added) - removed
            if updated == current:
                # What it reports is already in the model: an earlier event (a messageNew
                # with these flags, or the same update) reported this change already.
                note(
                    "duplicate",
                    path,
                    uid,
                    f"messageUpdated +{_fmt(added)} -{_fmt(removed)} changes nothing "
                    f"in {_fmt(current)}",
                    event_id,
                )
            if "value" in change and norm_flags(change["value"]) != updated:
                note(
                    "unexpected",
                    path,
                    uid,
                    f"messageUpdated value {_fmt(norm_flags(change['value']))} but "
                    f"{_fmt(current)} +{_fmt(added)} -{_fmt(removed)} = {_fmt(updated)}",
                    event_id,
                )
            folder[uid] = updated
    return model


def compare(account: str, model: Folders, truth: Folders) -> list[Difference]:
    """Missing (on the server, not in the model), phantom (the reverse) and stale (flags
    differ), for folders and for messages; a folder absent on one side counts as empty there,
    so its messages are reported one by one too."""
    out: list[Difference] = []
    for path in sorted(set(model) | set(truth)):
        if path not in model:
            out.append(Difference("missing", account, path, None, "folder never announced"))
        elif path not in truth:
            out.append(Difference("phantom", account, path, None, "folder not on the server"))
        ours, theirs = model.get(path, {}), truth.get(path, {})
        for uid in sorted(set(ours) | set(theirs)):
            if uid not in ours:
                out.append(
                    Difference("missing", account, path, uid, f"server has {_fmt(theirs[uid])}")
                )
            elif uid not in theirs:
                out.append(
                    Difference("phantom", account, path, uid, f"model has {_fmt(ours[uid])}")
                )
            elif ours[uid] != theirs[uid]:
                out.append(
                    Difference(
                        "stale",
                        account,
                        path,
                        uid,
                        f"model {_fmt(ours[uid])}, server {_fmt(theirs[uid])}",
                    )
                )
    return out


@dataclass
class Verdict:
    """The outcome over all accounts."""

    events: int
    redelivered: int
    differences: list[Difference]

    def count(self, kind: str) -> int:
        return sum(1 for d in self.differences if d.kind == kind)

    @property
    def counts(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in KINDS}

    @property
    def ok(self) -> bool:
        return not self.differences


def check(
    initial: Mapping[str, Folders],
    events: Mapping[str, Sequence[Mapping[str, Any]]],
    truth: Mapping[str, Folders],
) -> Verdict:
    """Replay each account's events on its initial snapshot and compare with its truth."""
    total, redelivered, differences = 0, 0, []
    for account in sorted(truth):
        model = replay(account, initial.get(account, {}), events.get(account, ()))
        total += model.events
        redelivered += model.redelivered
        differences += model.differences
        differences += compare(account, model.folders, truth[account])
    return Verdict(total, redelivered, differences)


def related(
    events: Sequence[Mapping[str, Any]], path: str, uid: int | None
) -> list[Mapping[str, Any]]:
    """The events of one account that concern ``path`` (and ``uid``, when given)."""
    out = []
    for body in events:
        data = body.get("data") or {}
        if body.get("event") in MAILBOX_EVENTS:
            if uid is None and (data.get("path") or body.get("path")) == path:
                out.append(body)
        elif body.get("event") in MESSAGE_EVENTS and body.get("path") == path:
            if uid is None or data.get("uid") == uid:
                out.append(body)
    return out


def describe(body: Mapping[str, Any]) -> str:
    """One line for an event: name, short id, uid and its flags or flag change."""
    data = body.get("data") or {}
    name = body.get("event")
    text = f"{name} {str(body.get('eventId'))[:12]} {body.get('path')!r}"
    if "uid" in data:
        text += f" uid {data['uid']}"
    if name == "messageNew":
        text += f" flags {_fmt(data.get('flags') or ())}"
    elif name == "messageUpdated":
        change = (data.get("changes") or {}).get("flags") or {}
        text += (
            f" +{_fmt(change.get('added') or ())} -{_fmt(change.get('deleted') or ())}"
            f" = {_fmt(change.get('value') or ())}"
        )
    return text
