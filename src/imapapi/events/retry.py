"""Retry as control flow (STYLE.md 14): a delivery raises `Retry(defer=…)`, the dispatcher
counts the attempt and re-queues the event `defer` seconds later.

The schedule is exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS
Architecture Blog, 2015): attempt n waits a uniform random time in [0, min(cap, base·2^(n-1))].
Jitter spreads the retries of many accounts hitting one recovering receiver, so they do not come
back in synchronized waves.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from email.utils import parsedate_to_datetime

# Jitter from a generator of our own: the global `random` state belongs to the host
# program (and to hypothesis in the test suite), not to background retries.
_JITTER = random.Random()

BACKOFF_BASE = 2.0
BACKOFF_CAP = 3600.0


# Named for what it asks for (like arq's Retry), not with an "Error" suffix: it is control flow.
class Retry(Exception):
    """Raised by a delivery attempt that failed but may succeed later.

    `reason` is stored as the event's last error (it must hold no secret and no body);
    `defer` is how many seconds to wait before the next attempt.
    """

    def __init__(self, reason: str, *, defer: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.defer = max(0.0, defer)


def backoff_delay(
    attempt: int,
    *,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
    rng: Callable[[], float] = _JITTER.random,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 = the first failure)."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    # The exponent is bounded so a very long outage cannot overflow the float.
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 64))
    return ceiling * rng()


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds asked for by a `Retry-After` header (RFC 9110 §10.2.3), or None if unusable.

    Both forms are accepted: delta-seconds and an HTTP-date (relative to `now`, epoch seconds).
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; a naive result means no zone was given
        return None
    return max(0.0, moment.timestamp() - now)
