"""How the sync loop takes the connection's unsolicited events (`AccountSyncer._take_events`):
which folders become dirty, what pushed FETCH is kept, when the loop stops."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, get_args

import pytest

from imapapi.accounts.model import AccountConfig
from imapapi.errors import NetworkError
from imapapi.imap import unsolicited as u
from imapapi.imap.types import FetchResult, MailboxInfo, MailboxStatus
from imapapi.servers import ServerConfig
from imapapi.store.sqlite import SqliteStore
from imapapi.syncing.syncer import _ON_EVENT, AccountSyncer

SEEN = FetchResult(seq=1, uid=7, flags=("\\Seen",))


@dataclass
class FakeConnection:
    """What `_take_events` reads of a connection: its event queue and the selected mailbox."""

    selected: str | None = None
    events: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)


def syncer(store: SqliteStore) -> AccountSyncer:
    config = AccountConfig(account="a", imap=ServerConfig(host="localhost", port=143))
    return AccountSyncer(config, store, on_committed=lambda: None, poll_interval=1, idle_restart=1)


def take(s: AccountSyncer, selected: str | None, *events: Any) -> int:
    conn = FakeConnection(selected)
    for event in events:
        conn.events.put_nowait(event)
    taken = s._take_events(conn)  # type: ignore[arg-type]
    assert conn.events.empty()
    return taken


def test_handlers_are_found_by_the_names_of_the_unsolicited_events() -> None:
    names = {t.__name__ for t in get_args(u.UnsolicitedEvent)}
    assert set(_ON_EVENT) <= names
    assert names - set(_ON_EVENT) == {"Recent", "FlagsUpdate", "Alert"}


@pytest.mark.parametrize(
    ("selected", "events", "dirty", "pushed"),
    [
        (None, [u.Exists(3, mailbox="INBOX")], {"INBOX"}, {}),
        ("Sent", [u.Expunge(2, mailbox="INBOX")], {"INBOX"}, {}),
        ("INBOX", [u.Exists(3)], {"INBOX"}, {}),
        (None, [u.Exists(3)], set(), {}),
        ("INBOX", [u.FetchUpdate(SEEN, mailbox="INBOX")], {"INBOX"}, {"INBOX": {7: SEEN}}),
        ("INBOX", [u.FetchUpdate(SEEN)], {"INBOX"}, {}),
        ("INBOX", [u.FetchUpdate(FetchResult(seq=1), mailbox="INBOX")], {"INBOX"}, {}),
        (
            "INBOX",
            [u.FetchUpdate(SEEN, mailbox="INBOX"), u.Vanished((7,), mailbox="INBOX")],
            {"INBOX"},
            {"INBOX": {}},
        ),
        (
            "INBOX",
            [u.FetchUpdate(SEEN, mailbox="INBOX"), u.Vanished((7,))],
            {"INBOX"},
            {"INBOX": {7: SEEN}},
        ),
        ("INBOX", [u.Recent(1), u.FlagsUpdate(("\\Seen",)), u.Alert("hi")], set(), {}),
    ],
    ids=[
        "exists-named",
        "expunge-other-selected",
        "exists-unnamed-selected",
        "exists-unnamed-none-selected",
        "fetch-kept",
        "fetch-during-select-not-kept",
        "fetch-without-uid-not-kept",
        "vanished-voids-pushed",
        "vanished-during-select-keeps-pushed",
        "ignored",
    ],
)
async def test_message_events_make_their_mailbox_dirty(
    sqlite_store: SqliteStore,
    selected: str | None,
    events: list[Any],
    dirty: set[str],
    pushed: dict[str, dict[int, FetchResult]],
) -> None:
    s = syncer(sqlite_store)
    assert take(s, selected, *events) == len(events)
    assert s._dirty == dirty
    assert s._pushed == pushed
    assert (s._reported, s._relist) == (set(), False)


async def test_status_and_list_updates_ask_for_a_compare_and_a_relist(
    sqlite_store: SqliteStore,
) -> None:
    s = syncer(sqlite_store)
    status = MailboxStatus("Archive", messages=2, uid_next=5, uid_validity=1)
    take(s, None, u.MailboxStatusUpdate(status), u.MailboxListUpdate(MailboxInfo("X", "/", ())))
    assert s._reported == {"Archive"}
    assert s._statuses["Archive"] is status
    assert s._relist
    assert s._dirty == set()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (u.Bye("shutting down"), "the server said BYE: shutting down"),
        (u.ConnectionClosed("connection reset"), "connection reset"),
    ],
    ids=["bye", "closed"],
)
async def test_the_end_of_the_connection_stops_the_loop(
    sqlite_store: SqliteStore, event: Any, message: str
) -> None:
    s = syncer(sqlite_store)
    with pytest.raises(NetworkError, match=message):
        take(s, "INBOX", u.Exists(1, mailbox="INBOX"), event)
    assert s._dirty == {"INBOX"}
