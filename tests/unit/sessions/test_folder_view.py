"""FolderView fed with scripted events: the sequence → UID map after arrivals and expunges."""

from __future__ import annotations

import pytest

from imapapi.imap import (
    Alert,
    Bye,
    ConnectionClosed,
    Exists,
    Expunge,
    FetchResult,
    FetchUpdate,
    Recent,
    UnsolicitedEvent,
    Vanished,
)
from imapapi.sessions.folder_view import MAX_EXPUNGED, FolderView


def view_of(uids: list[int], path: str = "INBOX") -> FolderView:
    view = FolderView()
    view.opened(path, uid_validity=7, index=3, exists=len(uids), read_only=True)
    view.set_uids(uids)
    return view


def mapped(view: FolderView) -> list[int] | None:
    return None if view.uids is None else list(view.uids)


@pytest.mark.parametrize(
    ("events", "uids", "exists"),
    [
        ([Expunge(2)], [10, 30, 40], 3),
        ([Expunge(4), Expunge(1)], [20, 30], 2),
        ([Vanished((20, 40))], [10, 30], 2),
        ([Vanished((15, 99))], [10, 20, 30, 40], 4),  # UIDs it never had
        ([Vanished((20,), earlier=True)], [10, 20, 30, 40], 4),  # only answers a command
        ([Exists(4)], [10, 20, 30, 40], 4),  # the count it knew: no change
        ([Exists(6)], [10, 20, 30, 40], 6),  # arrivals: UIDs not known yet
        ([Exists(6), Vanished((50,))], [10, 20, 30, 40], 5),  # an arrival gone again
        ([Exists(5), Expunge(5)], [10, 20, 30, 40], 4),
        ([Exists(3)], None, 3),  # EXISTS shrinking without expunges: lost track
        ([Expunge(9)], None, 3),  # a number it never had
        (
            [Recent(2), FetchUpdate(FetchResult(seq=1, uid=10, flags=("\\Seen",)))],
            [10, 20, 30, 40],
            4,
        ),
    ],
    ids=[
        "expunge",
        "expunges-shift",
        "vanished",
        "vanished-unknown",
        "vanished-earlier",
        "exists-same",
        "exists-grows",
        "arrival-vanished",
        "arrival-expunged",
        "exists-shrinks",
        "expunge-out-of-range",
        "flags-and-recent",
    ],
)
def test_events_keep_the_map(
    events: list[UnsolicitedEvent], uids: list[int] | None, exists: int
) -> None:
    view = view_of([10, 20, 30, 40])
    for event in events:
        view.on_event(event)
    assert (mapped(view), view.exists) == (uids, exists)


def test_membership_changes_are_counted_flag_changes_kept() -> None:
    view = view_of([10, 20])
    before = view.changes
    update = FetchResult(seq=2, uid=20, flags=("\\Flagged",))
    view.on_event(FetchUpdate(update))
    assert view.changes == before and view.updates == {20: update}
    view.on_event(Exists(3))
    view.on_event(Vanished((10,)))
    assert view.changes == before + 2
    assert view.expunged == {10}


@pytest.mark.parametrize(
    "event",
    [ConnectionClosed("gone"), Bye("bye"), Alert("Internal error occurred.", "NO")],
    ids=["closed", "bye", "untagged-no"],
)
def test_what_ends_the_selection(event: UnsolicitedEvent) -> None:
    view = view_of([10])
    view.on_event(event)
    assert view.path is None and view.uids is None and not view.is_selected("INBOX")


@pytest.mark.parametrize(
    ("command", "kept"),
    [
        ("SELECT", False),
        ("EXAMINE", False),
        ("UNSELECT", False),
        ("CLOSE", False),
        ("DELETE", False),
        ("RENAME", False),
        ("UID FETCH", True),
        ("NOOP", True),
        ("APPEND", True),
        ("LIST", True),
    ],
)
def test_commands_that_deselect(command: str, kept: bool) -> None:
    view = view_of([10])
    view.on_command(command)
    assert view.is_selected("INBOX") is kept


def test_alert_ok_keeps_the_selection() -> None:
    view = view_of([10])
    view.on_event(Alert("Mailbox is almost full", "OK", "ALERT"))
    assert view.is_selected("INBOX")


@pytest.mark.parametrize(
    ("exists", "page", "size", "expected"),
    [
        (5, 0, 2, [50, 40]),
        (5, 1, 2, [30, 20]),
        (5, 2, 2, [10]),  # the last page is partial
        (5, 3, 2, []),  # past the end
        (5, 0, 20, [50, 40, 30, 20, 10]),
        (0, 0, 20, []),
    ],
)
def test_pages_newest_first(exists: int, page: int, size: int, expected: list[int]) -> None:
    view = view_of([10, 20, 30, 40, 50][:exists])
    assert view.page(page, size) == expected


def test_arrivals_complete_the_map() -> None:
    view = view_of([10, 20])
    view.on_event(Exists(4))
    assert not view.complete
    view.extend_uids([20, 31, 32])  # `last:*` answers the last known message as well
    assert view.complete and mapped(view) == [10, 20, 31, 32]
    assert view.page(0, 3) == [32, 31, 20]


def test_arrivals_not_all_accounted_for_drop_the_map() -> None:
    view = view_of([10, 20])
    view.on_event(Exists(4))
    view.extend_uids([31])
    assert view.uids is None and not view.complete


def test_a_new_selection_forgets_the_old_one() -> None:
    view = view_of([10, 20])
    view.on_event(Vanished((10,)))
    view.opened("Archive", uid_validity=9, index=4, exists=1, read_only=False)
    assert view.is_selected("Archive") and not view.is_selected("INBOX")
    assert (view.uids, view.expunged, view.exists, view.read_only) == (None, set(), 1, False)


def test_a_folder_that_churns_is_forgotten() -> None:
    view = view_of([])
    view.on_event(Vanished(tuple(range(1, MAX_EXPUNGED + 2))))
    assert view.path is None


def test_without_a_map_the_count_still_follows() -> None:
    view = FolderView()
    view.opened("INBOX", uid_validity=7, index=3, exists=5, read_only=True)
    view.on_event(Vanished((3, 4)))
    view.on_event(Expunge(1))
    view.on_event(Exists(4))
    assert (view.exists, view.uids, view.expunged) == (4, None, {3, 4})
