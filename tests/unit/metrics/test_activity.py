"""The last-hour window and per-account rings of metrics/activity.py."""

from __future__ import annotations

import pytest

from imapapi.metrics import activity
from imapapi.metrics.activity import Activity, EventFacts, RecentEvent, short


def item(at: float, result: str = "delivered", event: str = "messageNew") -> RecentEvent:
    return RecentEvent(at, event, f"id-{at}", "INBOX", result, 0.01, None)


def test_counts_only_the_last_hour() -> None:
    now = [10_000.0]
    tracker = Activity(clock=lambda: now[0])
    tracker.record("a", item(10_000.0))
    tracker.record("a", item(10_030.0, "failed"))
    now[0] = 10_000.0 + 1800
    tracker.record("b", item(now[0]))
    assert tracker.last_hour() == {"delivered": 2, "failed": 1}
    now[0] = 10_000.0 + 3600 + 120  # the first minute has left the window
    assert tracker.last_hour() == {"delivered": 1}
    now[0] += 3600
    assert tracker.last_hour() == {}


def test_recent_is_newest_first_and_bounded() -> None:
    tracker = Activity(clock=lambda: 0.0)
    for n in range(activity.RECENT_PER_ACCOUNT + 5):
        tracker.record("a", item(float(n)))
    recent = tracker.recent("a")
    assert len(recent) == activity.RECENT_PER_ACCOUNT
    assert recent[0].at == activity.RECENT_PER_ACCOUNT + 4 and recent[-1].at == 5
    assert tracker.recent("nobody") == []


def test_least_recently_active_accounts_are_forgotten(monkeypatch: object) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(activity, "MAX_ACCOUNTS", 2)
        tracker = Activity(clock=lambda: 0.0)
        tracker.record("a", item(1.0))
        tracker.record("b", item(2.0))
        tracker.record("a", item(3.0))  # a is now the most recent
        tracker.record("c", item(4.0))
        assert tracker.recent("b") == [] and tracker.recent("a") and tracker.recent("c")


def test_last_ignores_skipped_events() -> None:
    tracker = Activity(clock=lambda: 0.0)
    tracker.record("a", item(1.0, "failed"))
    tracker.record("a", item(2.0, "skipped"))
    assert tracker.last is not None and tracker.last.result == "failed"


def test_event_facts_are_short_copies_of_what_the_payload_carries() -> None:
    payload = {
        "path": "Archive",
        "event": "messageReply",
        "data": {"subject": "s" * 5000, "messageId": "<abc@example.test>", "text": "x" * 9000},
    }
    facts = EventFacts.of(payload)
    assert facts.path == "Archive" and facts.message_id == "<abc@example.test>"
    assert facts.subject is not None and len(facts.subject) == activity.MAX_TEXT
    assert facts.subject.endswith("…")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="empty"),
        pytest.param({"path": None, "data": None}, id="nulls"),
        pytest.param({"path": 3, "data": {"subject": ["x"], "messageId": ""}}, id="not-text"),
        pytest.param({"path": "INBOX", "data": "not an object"}, id="data-not-object"),
    ],
)
def test_event_facts_of_payloads_without_them(payload: dict[str, object]) -> None:
    facts = EventFacts.of(payload)
    assert facts.subject is None and facts.message_id is None
    assert facts.path == (payload.get("path") if payload.get("path") == "INBOX" else None)


def test_short_keeps_short_text_and_drops_what_is_not_text() -> None:
    assert short("hello", 5) == "hello"
    assert short("hello!", 5) == "hell…"
    assert short("", 5) is None and short(None) is None and short(42) is None
