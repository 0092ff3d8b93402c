"""The soak's replay and comparison (tests/soak/model.py): each rule, one small stream."""

from __future__ import annotations

from typing import Any

import pytest

from tests.soak.model import Folders, check, compare, norm_flags, related, replay

ACCOUNT = "a"


def ev(event: str, event_id: str, where: str = "INBOX", **data: Any) -> dict[str, Any]:
    return {"account": ACCOUNT, "path": where, "event": event, "eventId": event_id, "data": data}


def new(eid: str, uid: int, flags: tuple[str, ...] = (), path: str = "INBOX") -> dict[str, Any]:
    return ev("messageNew", eid, path, id=f"id{path}{uid}", uid=uid, flags=list(flags))


def gone(eid: str, uid: int, path: str = "INBOX") -> dict[str, Any]:
    return ev("messageDeleted", eid, path, id=f"id{path}{uid}", uid=uid)


def upd(
    eid: str, uid: int, added: tuple[str, ...], deleted: tuple[str, ...], value: tuple[str, ...]
) -> dict[str, Any]:
    flags: dict[str, Any] = {"value": list(value)}
    if added:
        flags["added"] = list(added)
    if deleted:
        flags["deleted"] = list(deleted)
    return ev("messageUpdated", eid, id=f"idINBOX{uid}", uid=uid, changes={"flags": flags})


def box(event: str, eid: str, path: str) -> dict[str, Any]:
    return ev(event, eid, path, path=path, name=path, specialUse=None)


def F(*flags: str) -> frozenset[str]:
    return frozenset(flags)


EMPTY: Folders = {"INBOX": {}, "Archive": {}}


def kinds(initial: Folders, events: list[dict[str, Any]], truth: Folders) -> list[str]:
    verdict = check({ACCOUNT: initial}, {ACCOUNT: events}, {ACCOUNT: truth})
    return [d.kind for d in verdict.differences]


@pytest.mark.parametrize(
    ("events", "truth", "expected"),
    [
        pytest.param([], EMPTY, [], id="nothing-happened"),
        pytest.param(
            [new("1", 1, ("\\Seen",))],
            {**EMPTY, "INBOX": {1: F("\\Seen")}},
            [],
            id="new-with-flags",
        ),
        pytest.param([new("1", 1)], EMPTY, ["phantom"], id="new-but-not-on-server"),
        pytest.param([], {**EMPTY, "INBOX": {1: F()}}, ["missing"], id="lost-new"),
        pytest.param(
            [new("1", 1), upd("2", 1, ("\\Seen", "$K"), (), ("\\Seen", "$K"))],
            {**EMPTY, "INBOX": {1: F("\\Seen", "$K")}},
            [],
            id="update-added",
        ),
        pytest.param(
            [new("1", 1, ("\\Seen",)), upd("2", 1, (), ("\\Seen",), ())],
            {**EMPTY, "INBOX": {1: F()}},
            [],
            id="update-deleted",
        ),
        pytest.param(
            [new("1", 1)], {**EMPTY, "INBOX": {1: F("\\Flagged")}}, ["stale"], id="lost-update"
        ),
        pytest.param([new("1", 1), gone("2", 1)], EMPTY, [], id="new-then-deleted"),
        pytest.param([new("1", 1)], {**EMPTY, "INBOX": {}}, ["phantom"], id="lost-delete"),
        pytest.param(
            [new("1", 1), new("1", 1)], {**EMPTY, "INBOX": {1: F()}}, [], id="redelivery-is-fine"
        ),
        pytest.param(
            [new("1", 1), new("2", 1)], {**EMPTY, "INBOX": {1: F()}}, ["duplicate"], id="new-twice"
        ),
        pytest.param(
            [new("1", 1), gone("2", 1), new("3", 1)],
            EMPTY,
            ["duplicate", "phantom"],
            id="new-after-its-delete",
        ),
        pytest.param(
            [new("1", 1), gone("2", 1), gone("3", 1)], EMPTY, ["duplicate"], id="delete-twice"
        ),
        pytest.param([gone("1", 7)], EMPTY, ["unexpected"], id="delete-never-announced"),
        pytest.param(
            [upd("1", 7, ("\\Seen",), (), ("\\Seen",))],
            EMPTY,
            ["unexpected"],
            id="update-never-announced",
        ),
        pytest.param(
            [new("1", 1, ("\\Deleted",)), upd("2", 1, ("\\Deleted",), (), ("\\Deleted",))],
            {**EMPTY, "INBOX": {1: F("\\Deleted")}},
            ["duplicate"],
            id="update-already-in-new",
        ),
        pytest.param(
            [new("1", 1), upd("2", 1, ("\\Seen",), (), ("\\Seen", "\\Flagged"))],
            {**EMPTY, "INBOX": {1: F("\\Seen")}},
            ["unexpected"],
            id="value-disagrees-with-delta",
        ),
        pytest.param(
            [new("1", 1, ("\\Recent",))],
            {**EMPTY, "INBOX": {1: F()}},
            ["stale"],
            id="recent-in-a-webhook",
        ),
        pytest.param(
            [box("mailboxNew", "1", "X"), new("2", 1, path="X")],
            {**EMPTY, "X": {1: F()}},
            [],
            id="new-folder",
        ),
        pytest.param([], {**EMPTY, "X": {}}, ["missing"], id="lost-mailbox-new"),
        pytest.param(
            [box("mailboxNew", "1", "X"), box("mailboxNew", "2", "X")],
            {**EMPTY, "X": {}},
            ["duplicate"],
            id="mailbox-new-twice",
        ),
        pytest.param(
            [new("1", 1, path="X")],
            {**EMPTY, "X": {1: F()}},
            ["unexpected"],  # the model takes the folder in, so nothing else shows
            id="message-before-its-folder",
        ),
        pytest.param(
            [box("mailboxDeleted", "1", "Archive")], {"INBOX": {}}, [], id="folder-deleted"
        ),
        pytest.param(
            [new("1", 1, path="Archive"), box("mailboxReset", "2", "Archive")],
            EMPTY,
            [],
            id="reset-voids-old-uids",
        ),
        pytest.param(
            [new("1", 1, ("\\SEEN",))],
            {**EMPTY, "INBOX": {1: F("\\Seen")}},
            [],
            id="system-flags-any-case",
        ),
        pytest.param([ev("accountConnected", "1", data=None)], EMPTY, [], id="other-events"),
    ],
)
def test_replay_and_compare(
    events: list[dict[str, Any]], truth: Folders, expected: list[str]
) -> None:
    assert kinds(EMPTY, events, truth) == expected


def test_initial_snapshot_is_the_baseline() -> None:
    initial: Folders = {"INBOX": {1: F("\\Seen")}}
    assert kinds(initial, [], {"INBOX": {1: F("\\Seen")}}) == []
    assert kinds(initial, [gone("1", 1)], {"INBOX": {}}) == []


def test_counts_redeliveries_and_events() -> None:
    model = replay(ACCOUNT, EMPTY, [new("1", 1), new("1", 1), upd("2", 1, ("\\Seen",), (), ())])
    assert (model.events, model.redelivered) == (2, 1)
    assert [d.kind for d in model.differences] == ["unexpected"]  # value () disagrees


def test_truth_drops_recent_only() -> None:
    assert norm_flags(["\\Recent", "\\deleted", "$K"], drop_recent=True) == F("\\Deleted", "$K")
    assert norm_flags(["\\Recent"]) == F("\\Recent")


def test_differences_name_account_path_uid() -> None:
    [diff] = compare(ACCOUNT, {"INBOX": {3: F()}}, {"INBOX": {3: F("\\Seen")}})
    assert (diff.kind, diff.account, diff.path, diff.uid) == ("stale", "a", "INBOX", 3)
    assert "uid 3" in str(diff)


def test_related_events() -> None:
    stream = [new("1", 1), new("2", 2), gone("3", 1), box("mailboxNew", "4", "X")]
    assert [e["eventId"] for e in related(stream, "INBOX", 1)] == ["1", "3"]
    assert [e["eventId"] for e in related(stream, "X", None)] == ["4"]
