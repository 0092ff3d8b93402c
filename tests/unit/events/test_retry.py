from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from imapapi.events.retry import BACKOFF_CAP, Retry, backoff_delay, parse_retry_after


@pytest.mark.parametrize(
    ("attempt", "rng", "expected"),
    [
        (1, 1.0, 2.0),
        (1, 0.5, 1.0),
        (1, 0.0, 0.0),
        (2, 1.0, 4.0),
        (5, 1.0, 32.0),
        (11, 1.0, 2048.0),
        (12, 1.0, BACKOFF_CAP),  # 4096 s is over the 1 h cap
        (12, 0.25, BACKOFF_CAP / 4),  # jitter applies below the cap too
        (10_000, 1.0, BACKOFF_CAP),  # no overflow after a very long outage
    ],
    ids=["first", "half", "zero", "second", "fifth", "eleventh", "capped", "capped-jitter", "huge"],
)
def test_backoff_delay(attempt: int, rng: float, expected: float) -> None:
    assert backoff_delay(attempt, rng=lambda: rng) == pytest.approx(expected)


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0)


def test_backoff_covers_the_retry_window() -> None:
    # With the expected (mean) jitter the schedule still makes dozens of attempts in 24 h:
    # retries go on for the whole window rather than giving up after a few tries.
    elapsed, attempt = 0.0, 0
    while elapsed < 24 * 3600:
        attempt += 1
        elapsed += backoff_delay(attempt, rng=lambda: 0.5)
    assert attempt > 40


NOW = 1714564800.0  # 2024-05-01T12:00:00Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("-5", None),
        ("soon", None),
        (format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True), 90.0),
        (format_datetime(datetime.fromtimestamp(NOW - 90, UTC), usegmt=True), 0.0),
    ],
    ids=["absent", "empty", "seconds", "spaces", "zero", "negative", "garbage", "date", "past"],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_retry_defer_never_negative() -> None:
    assert Retry("x", defer=-3).defer == 0.0
    assert Retry("HTTP 500", defer=2.5).reason == "HTTP 500"
