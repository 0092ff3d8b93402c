"""Recent webhook activity kept in memory: counts of the last hour, last events per account.

Prometheus counters only grow; the overview page wants "in the last hour", and the account page
"its recent events". Both are answered from here without touching the store: per-minute buckets
(at most 60 kept, so memory does not grow with traffic) and a short ring per account (bounded in
count and in accounts, least recently active first out). A recent event keeps a few short facts
of its payload (folder, subject, Message-ID), each capped, never the payload itself.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WINDOW_SECONDS = 3600
RECENT_PER_ACCOUNT = 20
MAX_ACCOUNTS = 10_000
# Enough to tell two rows apart; with every ring full (20 x 10,000) the texts stay in the tens
# of MiB even when senders use 1,000-character subjects.
MAX_TEXT = 100
MAX_ERROR = 200


def short(value: object, limit: int = MAX_TEXT) -> str | None:
    """`value` if it is non-empty text, cut to `limit` characters (an ellipsis says so)."""
    if not isinstance(value, str) or not value:
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What tells one event from another on a page: folder, subject, RFC 5322 Message-ID."""

    path: str | None
    subject: str | None
    message_id: str | None

    @classmethod
    def of(cls, payload: dict[str, Any]) -> EventFacts:
        """The capped facts of a webhook payload (DESIGN.md §4), those it carries."""
        data = payload.get("data")
        data = data if isinstance(data, dict) else {}
        return cls(
            path=short(payload.get("path")),
            subject=short(data.get("subject")),
            message_id=short(data.get("messageId")),
        )


@dataclass(frozen=True, slots=True)
class RecentEvent:
    """One delivery outcome as shown on the account page."""

    at: float  # epoch seconds
    event: str
    event_id: str
    path: str | None
    result: str  # delivered, failed, dead, skipped
    latency: float | None
    error: str | None
    subject: str | None = None
    message_id: str | None = None  # the RFC 5322 Message-ID, not the API's message id


class Activity:
    """Sliding one-hour counts by result, and the latest outcomes of each account."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._minutes: OrderedDict[int, Counter[str]] = OrderedDict()
        self._recent: OrderedDict[str, deque[RecentEvent]] = OrderedDict()
        self.last: RecentEvent | None = None  # latest outcome that made an HTTP request

    def record(self, account: str, item: RecentEvent) -> None:
        minute = int(item.at // 60)
        bucket = self._minutes.get(minute)
        if bucket is None:
            bucket = self._minutes[minute] = Counter()
            self._prune(minute)
        bucket[item.result] += 1
        ring = self._recent.pop(account, None) or deque(maxlen=RECENT_PER_ACCOUNT)
        ring.append(item)
        self._recent[account] = ring  # most recently active last
        while len(self._recent) > MAX_ACCOUNTS:
            self._recent.popitem(last=False)
        if item.result != "skipped":
            self.last = item

    def _prune(self, now_minute: int) -> None:
        oldest = now_minute - WINDOW_SECONDS // 60
        while self._minutes and next(iter(self._minutes)) <= oldest:
            self._minutes.popitem(last=False)

    def last_hour(self) -> dict[str, int]:
        """Outcomes by result over the last 60 minutes (to the minute)."""
        self._prune(int(self._clock() // 60))
        total: Counter[str] = Counter()
        for bucket in self._minutes.values():
            total.update(bucket)
        return dict(total)

    def recent(self, account: str) -> list[RecentEvent]:
        """The account's latest outcomes, newest first."""
        return list(reversed(self._recent.get(account, ())))
