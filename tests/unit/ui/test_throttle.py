"""The sign-in throttle's counting, on a clock the test turns."""

from __future__ import annotations

from imapapi.ui.throttle import SignInThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, **limits: float) -> SignInThrottle:
    return SignInThrottle(max_failures=3, window=60, lockout=300, clock=clock, **limits)  # type: ignore[arg-type]


def test_locked_after_the_allowed_failures_until_the_lockout_ends() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(2):
        limiter.failed("198.51.100.7")
        assert limiter.retry_after("198.51.100.7") is None
    limiter.failed("198.51.100.7")
    assert limiter.retry_after("198.51.100.7") == 300
    assert limiter.retry_after("198.51.100.8") is None  # another address is not affected
    clock.now += 299.5
    assert limiter.retry_after("198.51.100.7") == 1
    clock.now += 0.5
    assert limiter.retry_after("198.51.100.7") is None
    limiter.failed("198.51.100.7")  # counting starts again from nothing
    assert limiter.retry_after("198.51.100.7") is None


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    limiter = throttle(clock)
    limiter.failed("a")
    limiter.failed("a")
    clock.now += 61
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.retry_after("a") is None
    limiter.failed("a")
    assert limiter.retry_after("a") == 300


def test_a_success_forgets_the_failures() -> None:
    clock = Clock()
    limiter = throttle(clock)
    limiter.failed("a")
    limiter.failed("a")
    limiter.succeeded("a")
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.retry_after("a") is None


def test_tracked_addresses_are_bounded_dropping_the_least_recent() -> None:
    clock = Clock()
    limiter = throttle(clock, max_clients=2)
    for _ in range(3):
        limiter.failed("old")
    limiter.failed("b")
    limiter.failed("c")  # "old" is dropped: the bound holds, however many addresses try
    assert limiter.retry_after("old") is None
    for _ in range(2):
        limiter.failed("c")
    assert limiter.retry_after("c") == 300
