"""Failed web sign-ins counted per client address, so the admin password cannot be guessed at
speed (OWASP ASVS 2.2.1: anti-automation on authentication).

After `max_failures` failed sign-ins from one address within `window` seconds, that address is
refused every sign-in (the right password included, so a guess cannot be confirmed) until
`lockout` seconds after its last failure. A successful sign-in forgets the address's failures.

In memory and per process: a restart forgives, and each node of a cluster counts its own.
Behind a reverse proxy the address is the one uvicorn reports, which honours the proxy's
X-Forwarded-For only from the addresses in `FORWARDED_ALLOW_IPS` (127.0.0.1 by default).
Bounded: at most `max_clients` addresses are tracked, the least recently failing dropped first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILURES = 10
WINDOW = 15 * 60.0
LOCKOUT = 15 * 60.0
MAX_CLIENTS = 10_000


class SignInThrottle:
    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW,
        lockout: float = LOCKOUT,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_clients = max_clients
        self._clock = clock
        # address → times of its recent failures, oldest first; the dict in failure order.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None when it may now."""
        times = self._recent(client)
        if times is None or len(times) < self.max_failures:
            return None
        remaining = times[-1] + self.lockout - self._clock()
        if remaining <= 0:
            del self._failures[client]
            return None
        return max(1, math.ceil(remaining))

    def failed(self, client: str) -> None:
        times = self._recent(client)
        if times is None:
            times = deque(maxlen=self.max_failures)
            self._failures[client] = times
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
        times.append(self._clock())
        self._failures.move_to_end(client)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float] | None:
        """`client`'s failures, less those older than the window (unless it is locked out)."""
        times = self._failures.get(client)
        if times is None:
            return None
        now = self._clock()
        if len(times) < self.max_failures:
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self._failures[client]
                return None
        return times
