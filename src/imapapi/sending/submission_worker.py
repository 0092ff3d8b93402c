"""The submission worker: sends queued messages, retries, reports, files the Sent copy.

Per submission: claim it (a lease, so a worker that dies mid-send does not strand it: another
pass takes it over when the lease runs out), send it in one SMTP transaction, then

* 250 → state SENT, `messageSent` with the server's reply, the Message-ID in the sent index —
  one transaction — and afterwards, over the account's IMAP command connection: the exact sent
  bytes APPENDed to the Sent folder flagged \\Seen (not on Gmail, which files sent mail
  itself), and \\Answered or $Forwarded set on the original. When IMAP is down or fails
  there, these steps are tried again in the background (`SENT_COPY_RETRIES`), holding the sent
  bytes in memory only (the queue has dropped them; a restart gives up on them, logged); a
  later attempt first looks for the Message-ID in Sent, so a copy is never filed twice;
* 5yz → FAILED at once with `messageFailed` (RFC 5321 §4.2.1: permanent); so is a server
  that lacks what the settings need (no AUTH while credentials are configured);
* 4yz, network errors, timeouts, refused logins → retried with exponential backoff and jitter,
  `messageFailed` after `max_attempts`.

Delivery is at-least-once: a crash after the server accepted the message but before SENT was
committed sends it again when the lease runs out. SENT is committed before the IMAP steps so a
failing IMAP server never causes a second send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from imapapi.cluster.manager import AccountManager
from imapapi.credentials.crypto import SecretBox
from imapapi.errors import (
    CapabilityError,
    CorruptRecordError,
    ImapApiError,
    MailServerError,
    SendError,
)
from imapapi.events.model import EventName, derive_event_id, make_event
from imapapi.imap import encode
from imapapi.imap.connection import ImapConnection
from imapapi.sending.submission import ACTION_FLAGS, unseal
from imapapi.sessions.command_pool import CommandConnection
from imapapi.sessions.session import AccountSession
from imapapi.smtp.delivery import Delivered, deliver
from imapapi.store.base import SentRecord, Store, Submission, SubmissionState
from imapapi.sync.mailboxes import assign_special_use

log = logging.getLogger(__name__)

# Jitter from a generator of our own: the global `random` state belongs to the host
# program (and to hypothesis in the test suite), not to background retries.
_JITTER = random.Random()

RETRY_BASE = 30.0  # seconds after the first failure
RETRY_CAP = 3600.0
MAX_ATTEMPTS = 10  # ~4 h of retrying with the schedule above
LEASE = 600.0  # a claimed submission is taken over after this long without an outcome
RETENTION = 7 * 24 * 3600.0  # final submissions stay listable (and their keys known) this long
PURGE_EVERY = 3600.0
SENT_COPY_RETRIES = (30.0, 120.0, 600.0, 1800.0)  # pauses between Sent-copy attempts: ~42 min
SENT_COPY_MEMORY = 64 * 1024 * 1024  # sent bytes held for pending Sent copies at most


def retry_delay(attempt: int, rng: Callable[[], float]) -> float:
    """Seconds before attempt `attempt + 1`: between half and all of base·2^(attempt-1), capped.
    The jitter spreads retries of many messages to one recovering server."""
    ceiling: float = min(RETRY_CAP, RETRY_BASE * 2.0 ** min(max(attempt, 1) - 1, 30))
    return ceiling * (0.5 + rng() / 2)


class SubmissionWorker:
    """Drains the submission queue. `run_once()` is the drain mode (STYLE.md 15); the service
    uses `start()` / `stop()`, and the submit path calls `wake()` after queueing."""

    def __init__(
        self,
        store: Store,
        box: SecretBox,
        accounts: AccountManager,
        *,
        smtp_timeout: float = 60.0,
        connect_timeout: float = 10.0,
        on_events: Callable[[], None] = lambda: None,
        on_result: Callable[[str], None] = lambda result: None,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = _JITTER.random,
        concurrency: int = 8,
        batch: int = 32,
        poll_interval: float = 5.0,
        max_attempts: int = MAX_ATTEMPTS,
        lease: float = LEASE,
    ) -> None:
        """`clock` (epoch seconds) schedules sends and retries; tests drive it by hand.
        Webhook events are dated by the wall clock, as the dispatcher measures their age."""
        self._store = store
        self._box = box
        self._accounts = accounts
        self._on_result = on_result  # "sent" / "failed", for the submissions metric
        self._smtp_timeout = smtp_timeout
        self._connect_timeout = connect_timeout
        self._on_events = on_events
        self._clock = clock
        self._rng = rng
        self._limit = asyncio.Semaphore(concurrency)
        self._batch = batch
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._lease = lease
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_purge = 0.0
        self.sent_copy_retries: tuple[float, ...] = SENT_COPY_RETRIES
        self._copies: set[asyncio.Task[None]] = set()
        self._copy_bytes = 0
        self.sent = 0
        self.failed = 0
        self.retried = 0

    def __repr__(self) -> str:
        state = "running" if self._task else "idle"
        return f"<SubmissionWorker {state} sent={self.sent} failed={self.failed}>"

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def clock(self) -> Callable[[], float]:
        """The queue's clock: submissions are timed with it too, so tests move one clock."""
        return self._clock

    # --- drain mode and loop --------------------------------------------------------------------
    async def run_once(self) -> int:
        """Attempt every submission due now; returns how many attempts were made."""
        now = self._clock()
        attempted = 0
        while True:
            claimed = await self._store.claim_submissions(now, self._lease, self._batch)
            if not claimed:
                break
            attempted += len(claimed)
            await asyncio.gather(*(self._guarded(s) for s in claimed))
        if now - self._last_purge >= PURGE_EVERY:
            self._last_purge = now
            purged = await self._store.purge_submissions(now - RETENTION)
            if purged:
                log.info(
                    "forgot %d final submissions older than %d days", purged, RETENTION // 86400
                )
        return attempted

    async def run(self) -> None:
        while True:
            self._wakeup.clear()  # before reading: a wake() during the pass is not lost
            try:
                await self.run_once()
            except Exception:
                log.exception("submission worker: pass failed; trying again later")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval):
                    await self._wakeup.wait()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="submission-worker")

    async def stop(self) -> None:
        """Stop the loop. A send cut off here stays claimed and is retried after its lease;
        Sent copies still waiting for IMAP are given up (logged)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        copies = list(self._copies)
        for copy in copies:
            copy.cancel()
        await asyncio.gather(*copies, return_exceptions=True)

    # --- one submission ---------------------------------------------------------------------------
    async def _guarded(self, submission: Submission) -> None:
        async with self._limit:
            try:
                await self._process(submission)
            except Exception:
                # Bookkeeping failed (store error); the lease brings the submission back.
                log.exception("%s: submission %s", submission.account, submission.queue_id)

    async def _process(self, submission: Submission) -> None:
        s = submission
        attempts = s.attempts + 1
        config = await self._accounts.registry.find(s.account)
        if config is None or config.smtp is None:
            reason = "the account was deleted" if config is None else "the account has no SMTP"
            await self._fail(s, attempts, reason, None, None, permanent=True)
            return
        try:
            if s.raw is None:
                raise CorruptRecordError("the queued message is missing")
            raw = unseal(self._box, s.raw, s.account, s.queue_id)
        except CorruptRecordError as exc:
            await self._fail(s, attempts, exc.message, None, None, permanent=True)
            return
        session = self._accounts.session(s.account)
        credentials = (
            session.credential_source("smtp") if isinstance(session, AccountSession) else None
        )
        started = time.monotonic()
        try:
            delivered = await deliver(
                config.smtp,
                s.envelope_from,
                s.envelope_to,
                raw,
                timeout=self._smtp_timeout,
                credentials=credentials,
            )
        except SendError as exc:
            response = _smtp_reply(exc)
            if exc.permanent:
                await self._fail(s, attempts, exc.message, response, exc.smtp_code, permanent=True)
            else:
                await self._retry(s, attempts, exc.message, exc.smtp_code)
            return
        except CapabilityError as exc:
            # The server lacks what the settings need (AUTH for the configured credentials):
            # waiting does not change that, the settings must.
            await self._fail(s, attempts, exc.message, None, None, permanent=True)
            return
        except MailServerError as exc:  # network, timeout, refused login: may pass later
            await self._retry(s, attempts, exc.message, None)
            return
        log.info(
            "%s: sent %s in %.0f ms (%s)",
            s.account,
            s.queue_id,
            (time.monotonic() - started) * 1000,
            delivered.response,
        )
        await self._sent(s, attempts, delivered)
        await self._after_send(s, raw)

    async def _sent(self, s: Submission, attempts: int, delivered: Delivered) -> None:
        now = time.time()
        data: dict[str, Any] = {
            **_common(s),
            "response": delivered.response,
            "smtpCode": delivered.code,
        }
        if delivered.rejected:
            data["rejected"] = [{"address": a, "response": r} for a, r in delivered.rejected]
        event = make_event(
            account=s.account,
            event=EventName.MESSAGE_SENT,
            data=data,
            event_id=derive_event_id(EventName.MESSAGE_SENT.value, s.queue_id),
            now=now,
        )
        await self._store.finish_submission(
            s.queue_id,
            SubmissionState.SENT,
            attempts=attempts,
            response=delivered.response,
            smtp_code=delivered.code,
            now=self._clock(),
            events=[event],
            sent=SentRecord(s.account, s.message_id, s.queue_id, now),
        )
        self.sent += 1
        self._on_result("sent")
        self._on_events()

    async def _retry(self, s: Submission, attempts: int, error: str, code: int | None) -> None:
        if attempts >= self._max_attempts:
            await self._fail(
                s,
                attempts,
                f"gave up after {attempts} attempts: {error}",
                error,
                code,
                permanent=False,
            )
            return
        delay = retry_delay(attempts, self._rng)
        log.warning(
            "%s: %s attempt %d failed (%s); next in %.0f s",
            s.account,
            s.queue_id,
            attempts,
            error,
            delay,
        )
        await self._store.submission_retry(
            s.queue_id, attempts, self._clock() + delay, error, code, self._clock()
        )
        self.retried += 1

    async def _fail(
        self,
        s: Submission,
        attempts: int,
        error: str,
        response: str | None,
        code: int | None,
        *,
        permanent: bool,
    ) -> None:
        log.warning("%s: %s failed: %s", s.account, s.queue_id, error)
        data: dict[str, Any] = {
            **_common(s),
            "error": error,
            "response": response,
            "smtpCode": code,
            "permanent": permanent,
            "attempts": attempts,
        }
        event = make_event(
            account=s.account,
            event=EventName.MESSAGE_FAILED,
            data=data,
            event_id=derive_event_id(EventName.MESSAGE_FAILED.value, s.queue_id),
        )
        await self._store.finish_submission(
            s.queue_id,
            SubmissionState.FAILED,
            attempts=attempts,
            response=response or error,
            smtp_code=code,
            now=self._clock(),
            events=[event],
        )
        self.failed += 1
        self._on_result("failed")
        self._on_events()

    # --- after sending: Sent copy and the original's flag ---------------------------------------
    async def _after_send(self, s: Submission, raw: bytes) -> None:
        if await self.file_sent_copy(s, raw, retrying=False):
            return
        if self._copy_bytes + len(raw) > SENT_COPY_MEMORY:
            log.warning(
                "%s: %s sent; too many Sent copies wait for IMAP: this one is not filed",
                s.account,
                s.queue_id,
            )
            return
        self._copy_bytes += len(raw)
        copy = asyncio.create_task(self._file_later(s, raw), name=f"sent-copy-{s.queue_id}")
        self._copies.add(copy)
        copy.add_done_callback(self._copies.discard)

    async def _file_later(self, s: Submission, raw: bytes) -> None:
        try:
            for pause in self.sent_copy_retries:
                await asyncio.sleep(pause)
                if await self.file_sent_copy(s, raw, retrying=True):
                    log.info("%s: %s: Sent copy filed on a later attempt", s.account, s.queue_id)
                    return
            log.warning(
                "%s: %s sent; gave up filing its Sent copy after %d more attempts",
                s.account,
                s.queue_id,
                len(self.sent_copy_retries),
            )
        except asyncio.CancelledError:
            log.warning(
                "%s: %s sent; its Sent copy was not filed (stopping)", s.account, s.queue_id
            )
            raise
        finally:
            self._copy_bytes -= len(raw)

    async def file_sent_copy(self, s: Submission, raw: bytes, *, retrying: bool) -> bool:
        """File the Sent copy and flag the original; False when IMAP failed and it is worth
        another try. `retrying`: an earlier attempt may have filed the copy unseen (the
        connection dropped before APPEND's answer), so Sent is searched for it first."""
        session = self._accounts.session(s.account)
        if not isinstance(session, AccountSession):
            return True  # the account is gone: there is nothing to file into
        if not await session.wait_connected(self._connect_timeout):
            log.warning(
                "%s: %s sent, but IMAP is not connected: no Sent copy yet", s.account, s.queue_id
            )
            return False
        try:
            async with session.command() as command:
                await _file_and_flag(command, s, raw, retrying=retrying)
        except ImapApiError as exc:
            log.warning(
                "%s: %s sent, but the Sent copy or flag failed: %s", s.account, s.queue_id, exc
            )
            return False
        return True


async def _file_and_flag(
    command: CommandConnection, s: Submission, raw: bytes, *, retrying: bool
) -> None:
    """APPEND the Sent copy unless it is filed already, then flag the original."""
    conn = command.conn
    # Gmail (X-GM-EXT-1) files every message sent through its SMTP in Sent Mail itself; an
    # APPEND would make a second copy (DESIGN.md §5).
    if not conn.has_capability("X-GM-EXT-1"):
        uses = assign_special_use(await conn.list_mailboxes())
        sent_path = next((p for p, use in uses.items() if use == "\\Sent"), None)
        if sent_path is None:
            log.info("%s: no Sent folder found; no copy kept", s.account)
        elif not (retrying and await _filed(conn, sent_path, s.message_id)):
            await conn.append(sent_path, raw, flags=["\\Seen"])
    ref = s.reference
    if ref is not None and ref.get("action") in ACTION_FLAGS:
        selected = await conn.select(str(ref["path"]))
        try:
            # The original may have moved on: flag it only under the same UIDVALIDITY
            # (RFC 3501 §2.3.1.1), else the uid names another message.
            if selected.uid_validity == ref.get("uidValidity"):
                await conn.uid_store(
                    [int(ref["uid"])], "+", [ACTION_FLAGS[ref["action"]]], silent=True
                )
        finally:
            await conn.unselect()


async def _filed(conn: ImapConnection, path: str, message_id: str) -> bool:
    """Whether `path` holds a message with this Message-ID (UID SEARCH HEADER, RFC 3501 §6.4.4)."""
    await conn.examine(path)
    try:
        found = await conn.uid_search(
            [b"HEADER", b"Message-ID", encode.string(message_id, "messageId", utf8=conn.utf8)]
        )
    finally:
        await conn.unselect()
    return bool(found)


def _common(s: Submission) -> dict[str, Any]:
    return {
        "messageId": s.message_id,
        "queueId": s.queue_id,
        "envelope": {"from": s.envelope_from, "to": list(s.envelope_to)},
    }


def _smtp_reply(exc: SendError) -> str:
    """The server's reply line ("550 5.1.1 ...") out of a SendError's message."""
    return exc.message.removeprefix("SMTP server answered ").strip()
