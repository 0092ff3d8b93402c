"""Event payloads built by the sync engine: shapes of the seed README, deterministic ids."""

from __future__ import annotations

from imapapi.sync import events as ev
from imapapi.sync.diff import LABEL_PREFIX, FlagChange, diff_full, normalize_flags

FOLDER = ev.FolderRef("acct", "[Gmail]/All Mail", "\\All", 1, 7)


def test_flag_change_payload_matches_the_seed_example() -> None:
    change = FlagChange(350861, ("\\Seen",), (), ("\\Seen",))
    event = ev.message_updated(FOLDER, change, modseq=None)
    assert event.payload["event"] == "messageUpdated"
    assert event.payload["data"] == {
        "id": "AAAAAQAFWo0",
        "uid": 350861,
        "changes": {"flags": {"added": ["\\Seen"], "value": ["\\Seen"]}},
    }


def test_label_changes_are_reported_apart_from_flags() -> None:
    old = {5: normalize_flags(["\\Seen"], ["\\Inbox"])}
    new = {5: normalize_flags(["\\Seen"], ["\\Important", "Work"])}
    [change] = diff_full(old, new).changed
    data = ev.message_updated(FOLDER, change, modseq=42).payload["data"]
    assert data["changes"] == {
        "labels": {
            "added": ["Work", "\\Important"],
            "deleted": ["\\Inbox"],
            "value": ["Work", "\\Important"],
        }
    }
    assert all(not v.startswith(LABEL_PREFIX) for v in data["changes"]["labels"]["value"])


def test_same_change_same_id_and_new_modseq_new_id() -> None:
    change = FlagChange(9, ("\\Flagged",), (), ("\\Flagged",))
    first = ev.message_updated(FOLDER, change, modseq=10)
    assert ev.message_updated(FOLDER, change, modseq=10).event_id == first.event_id
    assert ev.message_updated(FOLDER, change, modseq=11).event_id != first.event_id
    assert ev.message_deleted(FOLDER, 9).event_id == ev.message_deleted(FOLDER, 9).event_id
    other_validity = ev.FolderRef("acct", FOLDER.path, "\\All", 2, 8)
    assert ev.message_deleted(other_validity, 9).event_id != ev.message_deleted(FOLDER, 9).event_id
