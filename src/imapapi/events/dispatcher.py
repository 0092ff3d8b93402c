"""Durable webhook delivery: read the outbox, post each event, record the outcome.

Guarantees (DESIGN.md §4): at-least-once, in order per account, concurrent across accounts,
retried with backoff for `max_age` (≥ 24 h), then kept as a dead letter — never dropped silently.

How: the store hands out, for each account whose head (oldest pending event) is due, the head
and up to `batch` events behind it, in one read; a lane per account posts them one after another
while up to `concurrency` lanes (accounts) run at once, and accounts with a lane are left out of
the next reads. A lane stops at the first event that fails: the failure re-schedules only that
account's head (`event_retry`), so it never holds up other accounts, and the events behind it
wait. Delivered events are removed in group commits (`acks.py`), one write for many events, each
lane's written before the lane ends and its account is read again. A dead letter leaves the head
of its queue (the store skips dead events), so the account's later events go out; a replayed
one is re-queued at its old place, ahead of anything still pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from imapapi import __version__
from imapapi.events.acks import AckBuffer, settle
from imapapi.events.http import HttpError, WebhookClient
from imapapi.events.model import encode_payload
from imapapi.events.retry import BACKOFF_CAP, Retry, backoff_delay, parse_retry_after
from imapapi.events.signing import SIGNATURE_HEADER, sign
from imapapi.events.target import WebhookTarget
from imapapi.store.base import OutboxStore, QueuedEvent, SettingsStore

log = logging.getLogger(__name__)

# Jitter from a generator of our own: the global `random` state belongs to the host
# program (and to hypothesis in the test suite), not to background retries.
_JITTER = random.Random()

MIN_MAX_AGE = 24 * 3600.0  # issue 4: "exponential backoff and jitter for at least 24 h"
_USER_AGENT = f"imapapi/{__version__}"


@dataclass(slots=True)
class DispatcherStats:
    """Counters since the dispatcher was created, for metrics and the UI."""

    delivered: int = 0
    failed_attempts: int = 0
    dead: int = 0
    skipped: int = 0
    last_error: str | None = None
    last_latency: float | None = None  # seconds of the last HTTP request, success or not


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What happened to one event in one attempt, for the `on_outcome` hook (metrics, UI)."""

    event: QueuedEvent
    result: str  # "delivered", "failed" (will be retried), "dead", "skipped"
    latency: float | None = None  # seconds of the HTTP request; None when none was made
    error: str | None = None


class DeliveryStore(OutboxStore, SettingsStore, Protocol):
    """What delivery reads and writes: the outbox, and the webhook settings."""


class WebhookDispatcher:
    """Posts outbox events to the configured webhook URL.

    Settings are read from `store.get_settings()` on every round, so changes apply at once:
    `webhooks` (URL), `webhookEvents` (names, `"*"` or absent = all), `serviceSecret` (when set,
    every request is signed). Decision: an event that is not wanted — no URL configured, or its
    name filtered out by `webhookEvents` — is marked delivered without a request and counted in
    `stats.skipped`; the outbox is not a store of events nobody asked for.

    A request gets `timeout` seconds. A 2xx reply means delivered. Anything else (other status,
    timeout, connection error; redirects are not followed) is a failed attempt: the event is
    retried after `backoff_delay(attempt)` (or the reply's `Retry-After`, if later), until it is
    older than `max_age`, when it becomes a dead letter (listable, replayable).

    Drive it with `run_once()` / `run(until_empty=True)` (tests, CLI) or `start()` / `stop()`
    (the service). Writers call `wake()` after committing events so delivery starts at once.
    """

    def __init__(
        self,
        store: DeliveryStore,
        client: WebhookClient | None = None,
        *,
        timeout: float = 10.0,
        max_age: float = 48 * 3600.0,
        concurrency: int = 32,
        batch: int = 64,
        poll_interval: float = 2.0,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = _JITTER.random,
        target: Callable[[], Awaitable[WebhookTarget]] | None = None,
        on_outcome: Callable[[DeliveryOutcome], None] | None = None,
        scope: Callable[[], tuple[str | None, bool]] | None = None,
    ) -> None:
        """`client`: a shared `WebhookClient` (not closed here); None = an own one, whose
        keep-alive connections `stop()` closes.

        `concurrency`: accounts served at once (one request in flight each); `batch`: events of
        one account read and posted in one go. `poll_interval`: the longest idle sleep, which
        bounds how late an event is picked up when nobody calls `wake()` (another process wrote
        it, or a retry scheduled before a restart). `clock` (epoch seconds) and `rng` are
        injectable for tests. `target` reads the webhook target (the service passes one that
        decrypts the stored secret); by default it is read from `store.get_settings()` as-is.
        `on_outcome` is told the result of every attempt once it is recorded in the store.
        `scope` (several nodes on one store) names this node and whether it also takes the
        events of deleted accounts: only the events of accounts this node syncs are delivered
        here, which keeps them in order.
        """
        if max_age < MIN_MAX_AGE:
            raise ValueError(f"max_age must be at least {MIN_MAX_AGE:g} s")
        if concurrency < 1 or batch < 1 or timeout <= 0 or poll_interval <= 0:
            raise ValueError("concurrency, batch, timeout and poll_interval must be positive")
        self._store = store
        self._target = target
        self._on_outcome = on_outcome
        self._scope = scope
        self._client = client or WebhookClient(max_idle=concurrency)
        self._own_client = client is None
        self._timeout = timeout
        self._max_age = max_age
        self._concurrency = concurrency
        self._batch = batch
        self._poll_interval = poll_interval
        self._clock = clock
        self._rng = rng
        self.stats = DispatcherStats()
        self._acks: AckBuffer[DeliveryOutcome] = AckBuffer(store.events_delivered, self._recorded)
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._hold: dict[str, float] = {}  # account -> monotonic time its bookkeeping failed
        self._retry_at: list[float] = []  # heap of next_attempt values we scheduled
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._grace: float | None = None

    def __repr__(self) -> str:
        state = "running" if self._task else "idle"
        return f"<WebhookDispatcher {state} in_flight={len(self._inflight)}>"

    @property
    def running(self) -> bool:
        """The background task started by `start()` is alive (for /health/ready)."""
        return self._task is not None and not self._task.done()

    @property
    def in_flight(self) -> int:
        """Accounts being delivered right now (one request in flight each)."""
        return len(self._inflight)

    def wake(self) -> None:
        """Tell the dispatcher new events were committed; cheap, callable from any coroutine."""
        self._wakeup.set()

    # --- drain modes (STYLE.md 15) ---------------------------------------------------------------
    async def run_once(self) -> int:
        """One pass: deliver every event due at the start of the pass; return how many attempts.

        An account whose head is delivered has its next event delivered in the same pass (if
        it was due then); each event is attempted at most once per pass, so a failing target
        cannot keep the pass going.
        """
        self._enter()
        try:
            now = self._clock()
            attempted: set[int] = set()
            while True:
                await self._fill(now, attempted)
                if not self._inflight:
                    return len(attempted)
                await asyncio.wait(self._inflight.values(), return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Only left over when the pass failed (store error) or was cancelled.
            await self._finish_inflight(0.0)
            self._busy = False

    async def run(self, *, until_empty: bool = False) -> None:
        """Deliver until `stop()`, or with `until_empty` until no event is due any more.

        Events waiting for a later retry do not count as due: `until_empty` does not wait for
        them.
        """
        if until_empty:
            while await self.run_once():
                pass
            return
        self._enter()
        try:
            while not self._stopping:
                # Cleared before reading the outbox: a wake() during the read is not lost.
                self._wakeup.clear()
                delay = self._poll_interval
                try:
                    await self._fill(self._clock(), None)
                    delay = self._idle_delay()
                except Exception:
                    # The store is unavailable; keep the loop alive and try again later.
                    log.exception("webhook dispatcher: cannot read the outbox")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wakeup.wait()
        finally:
            await self._finish_inflight(self._grace if self._stopping else 0.0)
            self._busy = False

    def start(self) -> None:
        """Run in a background task until `stop()`."""
        if self._task is not None:
            raise RuntimeError("dispatcher already started")
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="webhook-dispatcher")

    async def stop(self, grace: float | None = None) -> None:
        """Stop the background task and close an own client's connections.

        In-flight deliveries get `grace` seconds (default: the request timeout) to finish; the
        rest are cancelled and their events stay pending, to be delivered again after a restart
        (at-least-once). The outcome of a finished request is always recorded: bookkeeping is
        never interrupted half-way.
        """
        self._stopping = True
        self._grace = self._timeout if grace is None else grace
        self._wakeup.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections if the dispatcher made the client."""
        if self._own_client:
            await self._client.close()

    # --- scheduling -------------------------------------------------------------------------------
    def _enter(self) -> None:
        if self._busy:
            raise RuntimeError("dispatcher is already running")
        self._busy = True

    async def _fill(self, now: float, attempted: set[int] | None) -> None:
        """Start a lane for each account with a due head and none running."""
        free = self._concurrency - len(self._inflight)
        # stop() ends the background loop only; a drain pass is bounded and finishes its work.
        if free <= 0 or (self._stopping and attempted is None):
            return
        if self._target is not None:
            target = await self._target()
        else:
            target = WebhookTarget.from_settings(await self._store.get_settings())
        owner, orphans = self._scope() if self._scope is not None else (None, True)
        busy = set(self._inflight) | self._held()
        events = await self._store.due_events(
            now, free, owner=owner, orphans=orphans, per_account=self._batch, exclude=sorted(busy)
        )
        runs: dict[str, list[QueuedEvent]] = {}
        for event in events:
            if event.account in busy:
                continue
            if attempted and event.seq in attempted:
                busy.add(event.account)  # tried in this pass: nothing of its account goes after
                continue
            runs.setdefault(event.account, []).append(event)
        for account, run in list(runs.items())[:free]:
            task = asyncio.create_task(
                self._lane(run, target, attempted), name=f"webhook {account}"
            )
            self._inflight[account] = task
            task.add_done_callback(functools.partial(self._finished, account))

    def _held(self) -> set[str]:
        """Accounts whose bookkeeping failed less than a poll interval ago."""
        now = time.monotonic()
        for account, failed_at in list(self._hold.items()):
            if now - failed_at >= self._poll_interval:
                del self._hold[account]
        return set(self._hold)

    def _finished(self, account: str, task: asyncio.Task[None]) -> None:
        self._inflight.pop(account, None)
        self._wakeup.set()  # the account's next event may be due now
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Recording the outcome failed (store error): the event is still pending; hold the
            # account for a poll interval rather than re-posting it in a tight loop.
            self._hold[account] = time.monotonic()
            log.error("webhook account=%s: cannot record delivery outcome: %r", account, exc)

    def _idle_delay(self) -> float:
        now = self._clock()
        while self._retry_at and self._retry_at[0] <= now:
            heapq.heappop(self._retry_at)  # due ones were just picked up (or are in flight)
        if not self._retry_at:
            return self._poll_interval
        return max(0.0, min(self._poll_interval, self._retry_at[0] - now))

    async def _finish_inflight(self, grace: float | None) -> None:
        tasks = list(self._inflight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            await self._acks.flush()  # what cancelled lanes delivered before they stopped
        except Exception:
            log.exception("webhook dispatcher: cannot record delivered events")

    # --- one account, one event --------------------------------------------------------------
    async def _lane(
        self, run: list[QueuedEvent], target: WebhookTarget, attempted: set[int] | None
    ) -> None:
        """Post one account's events in order, up to the first that is not settled."""
        for event in run:
            if self._stopping and attempted is None:
                break  # shutting down: the rest stays pending
            if attempted is not None:
                attempted.add(event.seq)
            if not await self._process(event, target):
                break
        # Written before the account can be read again, or its delivered events would be too.
        await self._acks.flush()

    async def _process(self, event: QueuedEvent, target: WebhookTarget) -> bool:
        """One attempt; True when the event is settled (posted, or not wanted) so that its
        account's next event may follow."""
        name = str(event.payload.get("event", ""))
        if not target.wants(name):
            self._acks.add(event.seq, DeliveryOutcome(event, "skipped"))
            log.debug(
                "webhook skipped account=%s event_id=%s event=%s (%s)",
                event.account,
                event.event_id,
                name,
                "no webhook URL" if target.url is None else "filtered by webhookEvents",
            )
            return True
        started = time.perf_counter()
        try:
            await self._deliver(event, target)
        except Retry as retry:
            dead = await self._failed(event, retry)
            latency = time.perf_counter() - started
            self._report(
                DeliveryOutcome(event, "dead" if dead else "failed", latency, retry.reason)
            )
            return False
        except Exception as exc:
            # A bug on our side, not the receiver's: keep the event and back off like any
            # failure, so it ends as a visible dead letter rather than a hot loop.
            log.exception("webhook account=%s event_id=%s: internal error", *_ids(event))
            defer = backoff_delay(event.attempts + 1, rng=self._rng)
            reason = f"internal error: {type(exc).__name__}"
            dead = await self._failed(event, Retry(reason, defer=defer))
            self._report(DeliveryOutcome(event, "dead" if dead else "failed", None, reason))
            return False
        latency = time.perf_counter() - started
        self._acks.add(event.seq, DeliveryOutcome(event, "delivered", latency))
        return True

    def _recorded(self, outcomes: list[DeliveryOutcome]) -> None:
        """Delivered and skipped events, once their removal from the outbox is written."""
        for outcome in outcomes:
            if outcome.result == "delivered":
                self.stats.delivered += 1
            else:
                self.stats.skipped += 1
            self._report(outcome)

    def _report(self, outcome: DeliveryOutcome) -> None:
        if self._on_outcome is None:
            return
        try:
            self._on_outcome(outcome)
        except Exception:  # metrics must never turn a delivery into a failure
            log.exception("webhook outcome hook failed")

    async def _deliver(self, event: QueuedEvent, target: WebhookTarget) -> None:
        """POST one event; return on 2xx, raise `Retry` on anything else."""
        assert target.url is not None
        body = event.body if event.body is not None else encode_payload(event.payload)
        headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", _USER_AGENT),
            ("X-Imapapi-Event-Id", event.event_id),
            ("X-Imapapi-Event", str(event.payload.get("event", ""))),
        ]
        if target.secret is not None:
            headers.append((SIGNATURE_HEADER, sign(body, target.secret)))
        attempt = event.attempts + 1
        started = time.perf_counter()
        status: int | None = None
        try:
            # Redirects are not followed: a redirected POST may turn into a GET, not delivered.
            reply = await self._client.post(target.url, body, headers, self._timeout)
            status = reply.status
        except TimeoutError as exc:
            raise Retry(
                f"no reply within {self._timeout:g} s", defer=self._defer(attempt, None)
            ) from exc
        except (HttpError, ValueError) as exc:
            reason = str(exc) if isinstance(exc, HttpError) else f"{type(exc).__name__}: {exc}"
            reason = reason.replace(target.url, "<webhook url>")
            raise Retry(reason, defer=self._defer(attempt, None)) from exc
        finally:
            duration = time.perf_counter() - started
            self.stats.last_latency = duration
            if log.isEnabledFor(logging.DEBUG):  # not the record's arguments for every POST
                log.debug(
                    "webhook post account=%s event_id=%s attempt=%d status=%s duration_ms=%.1f",
                    event.account,
                    event.event_id,
                    attempt,
                    status,
                    duration * 1000,
                    extra={"account": event.account, "duration": round(duration, 4)},
                )
        if not 200 <= status < 300:
            wait = parse_retry_after(reply.retry_after, self._clock())
            raise Retry(f"HTTP {status}", defer=self._defer(attempt, wait))

    def _defer(self, attempt: int, retry_after: float | None) -> float:
        delay = backoff_delay(attempt, rng=self._rng)
        if retry_after is not None:
            # Honour the receiver's Retry-After, but never wait longer than the backoff cap.
            delay = max(delay, min(retry_after, BACKOFF_CAP))
        return delay

    async def _failed(self, event: QueuedEvent, retry: Retry) -> bool:
        """Record a failed attempt; True when the event became a dead letter."""
        attempts = event.attempts + 1
        now = self._clock()
        self.stats.failed_attempts += 1
        self.stats.last_error = retry.reason
        if now - event.created >= self._max_age:
            await settle(self._store.event_dead(event.seq, attempts, retry.reason))
            self.stats.dead += 1
            log.error(
                "webhook dead account=%s event_id=%s attempts=%d error=%s",
                *_ids(event),
                attempts,
                retry.reason,
            )
            return True
        next_attempt = now + retry.defer
        await settle(self._store.event_retry(event.seq, attempts, next_attempt, retry.reason))
        heapq.heappush(self._retry_at, next_attempt)
        log.warning(
            "webhook failed account=%s event_id=%s attempt=%d error=%s retry_in=%.1fs",
            *_ids(event),
            attempts,
            retry.reason,
            retry.defer,
        )
        return False


def _ids(event: QueuedEvent) -> tuple[str, str]:
    return event.account, event.event_id
