"""Recent webhook activity kept in memory: counts of the last hour, last events per account.

Prometheus counters only grow; the overview page wants "in the last hour", and the account page
"its recent events". Both are answered from here without touching the store: per-minute buckets
(at most 60 kept, so memory does not grow with traffic) and a short ring per account (bounded in
count and in accounts, least recently active first out).
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 3600
RECENT_PER_ACCOUNT = 20
MAX_ACCOUNTS = 10_000


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
