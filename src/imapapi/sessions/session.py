"""AccountSession: the live side of one account (DESIGN.md §5).

A primary connection syncs and then waits for changes; it is reopened with exponential backoff
and jitter whenever it fails (longer after authentication failures, so a wrong password does not
hammer the server). API calls lease separate command connections (a small pool, see
`command_pool.py`), opened on demand and closed after they have been idle for a while, so a
long download never delays change detection. Every connection of the account is opened by one
`Connector` (connect.py), which the session builds and hands to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from imapapi.accounts.model import AccountConfig, AccountState
from imapapi.accounts.status import AccountStatus, SessionLike
from imapapi.config import Settings
from imapapi.credentials.authserver import AuthServerClient, CredentialSource, Proto
from imapapi.credentials.oauth2 import OAuth2Tokens
from imapapi.errors import (
    AuthenticationFailedError,
    AuthServerError,
    ConsentRequiredError,
    ImapApiError,
    LeaseLostError,
    MailServerError,
    NotConnectedError,
)
from imapapi.events.model import EventName, make_event
from imapapi.imap import ImapConnection
from imapapi.imap.core import CommandHook
from imapapi.sessions.command_pool import CommandConnection, CommandPool
from imapapi.sessions.connect import Connector
from imapapi.sessions.folder_view import FolderView
from imapapi.sessions.limits import LoginLimiter
from imapapi.sessions.protocol_log import ProtocolLog
from imapapi.sessions.summaries import SummaryCache
from imapapi.store.base import NewEvent, Store
from imapapi.syncing.syncer import AccountSyncer

log = logging.getLogger(__name__)

# Jitter from a generator of our own: the global `random` state belongs to the host
# program (and to hypothesis in the test suite), not to background retries.
_JITTER = random.Random()

# The longest pause after an auth-server outage: it is usually short, and retrying costs the
# mail server nothing. The other pauses are settings (`reconnect_delay`, `auth_retry_delay`).
AUTH_SERVER_BACKOFF_CAP = 120.0

# The account events, by the state they report.
_STATE_EVENTS = {
    AccountState.CONNECTED: EventName.ACCOUNT_CONNECTED,
    AccountState.AUTHENTICATION_ERROR: EventName.AUTHENTICATION_ERROR,
    AccountState.CONNECT_ERROR: EventName.CONNECT_ERROR,
}
_ERROR_STATES = (AccountState.AUTHENTICATION_ERROR, AccountState.CONNECT_ERROR)


def backoff_delay(attempt: int, first: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, first * 2^attempt)."""
    ceiling: float = min(cap, first * 2.0 ** min(attempt, 30))
    return ceiling * (0.5 + rng() / 2)


@dataclass
class SessionContext:
    """What every session of a process shares."""

    settings: Settings
    store: Store
    limiter: LoginLimiter
    on_events: Callable[[], None]  # wakes the webhook dispatcher after events were committed
    rng: Callable[[], float] = _JITTER.random
    auth_server: AuthServerClient | None = None  # credentials of `useAuthServer` accounts
    oauth2: OAuth2Tokens | None = None  # access tokens of built-in OAuth2 accounts
    # Metric hooks (the service passes its Metrics' methods; sessions/ does not import them).
    on_imap_command: CommandHook | None = None  # every IMAP command after login
    on_reconnect: Callable[[], None] | None = None  # primary connection opened again
    # Every attempt to open the primary connection, by outcome (an AccountState value).
    on_connect_attempt: Callable[[str], None] | None = None
    # Every state change of a running session (the scheduler publishes it for other nodes).
    on_state: Callable[[str, AccountState, str | None], None] | None = None
    # Message summaries kept for listings, one LRU for every session (`summaries.py`).
    summaries: SummaryCache = field(default_factory=SummaryCache)


class AccountSession(SessionLike):
    """Connections and sync loop of one account; see the module docstring."""

    def __init__(self, config: AccountConfig, ctx: SessionContext) -> None:
        self.config = config
        self.ctx = ctx
        self.log = ProtocolLog(ctx.settings.protocol_log_bytes)
        self._state = AccountState.INIT
        self._last_error: str | None = None
        self._error_code: str | None = None  # `code` of the error behind the current state
        # (state, code) of the last account event emitted: a retry that fails the same way
        # again emits nothing, so an outage is one webhook, not one per attempt.
        self._reported: tuple[AccountState, str | None] | None = None
        self._failed_attempts = 0  # failed connection attempts since the last success
        self._next_attempt: float | None = None  # epoch seconds of the next scheduled attempt
        self._task: asyncio.Task[None] | None = None
        self._primary: ImapConnection | None = None
        self._wakeup = asyncio.Event()
        self._spawned: set[asyncio.Task[None]] = set()
        self.connector = Connector(
            account=config.account,
            server=config.imap,
            limiter=ctx.limiter,
            protocol_log=self.log,
            connect_timeout=ctx.settings.connect_timeout,
            command_timeout=ctx.settings.imap_timeout,
            credentials=self.credential_source("imap"),
            on_command=ctx.on_imap_command,
        )
        self.commands = CommandPool(
            self.connector,
            size=ctx.settings.command_connections,
            idle_close=ctx.settings.command_idle_close,
            wait_timeout=ctx.settings.api_gateway_timeout,
            spawn=self._spawn,
            summaries=ctx.summaries.scope(),
        )
        self._connected_once = asyncio.Event()
        # Several nodes: the state published by the node that syncs this account, for a
        # session here that only serves API calls (not started).
        self.remote: AccountStatus | None = None
        self.syncer = AccountSyncer(
            config,
            ctx.store,
            on_committed=ctx.on_events,
            poll_interval=ctx.settings.status_poll_interval,
            idle_restart=ctx.settings.idle_restart,
            relist_interval=ctx.settings.relist_interval,
            reply_text_max=ctx.settings.reply_text_max,
            # A folder reset or deleted: kept selections of the old one are not read again.
            on_folder=self.commands.folder_synced,
        )

    @classmethod
    def factory(cls, ctx: SessionContext) -> Callable[[AccountConfig], AccountSession]:
        return lambda config: cls(config, ctx)

    def __repr__(self) -> str:
        return f"<AccountSession {self.config.account} {self._state.value}>"

    # --- state ------------------------------------------------------------------------------------
    @property
    def status(self) -> AccountStatus:
        if self._task is None and self.remote is not None:
            return self.remote
        return AccountStatus(
            self._state,
            self._last_error,
            attempts=self._failed_attempts,
            next_attempt=self._next_attempt,
        )

    @property
    def store(self) -> Store:
        """The store of this service: the API's operations on this account read mailbox
        indexes from it (no separate request dependency for it)."""
        return self.ctx.store

    @property
    def account(self) -> str:
        return self.config.account

    @property
    def open_connections(self) -> int:
        """IMAP connections of this account open now (primary, command), for metrics."""
        return (self._primary is not None) + self.commands.open_count

    def _set_state(
        self, state: AccountState, error: str | None = None, code: str | None = None
    ) -> None:
        """The one place the state changes. An account event is emitted when the state or the
        error's `code` differs from the last event's, not on every attempt (issue 6)."""
        previous, previous_code = self._state, self._error_code
        self._state = state
        if error is not None or state is AccountState.CONNECTED:
            self._last_error = error
            self._error_code = code
        if (state, self._error_code) == (previous, previous_code):
            return
        if self.ctx.on_state is not None:
            self.ctx.on_state(self.account, state, self._last_error)
        log.info(
            "%s: %s -> %s%s",
            self.account,
            previous.value,
            state.value,
            f" ({error})" if error else "",
            extra={"account": self.account},
        )
        event = _STATE_EVENTS.get(state)
        if event is None or (state, self._error_code) == self._reported:
            return
        self._reported = (state, self._error_code)
        data = {"state": state.value}
        if error:
            data["error"] = error
        if self._error_code:
            data["code"] = self._error_code
        self._spawn(self._emit(make_event(account=self.account, event=event, data=data)))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)
        task.add_done_callback(_log_failure)

    async def _emit(self, event: NewEvent) -> None:
        await self.ctx.store.add_events([event])
        self.ctx.on_events()

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self, fence: int | None = None) -> None:
        """Start syncing; `fence` is this node's lease token when several nodes share a store."""
        if self._task is None:
            self.syncer.fence = fence
            self._task = asyncio.create_task(self._run(), name=f"account:{self.account}")

    async def stop(self) -> None:
        await self.stop_sync()
        await self.commands.close()

    def background(self) -> set[asyncio.Task[None]]:
        """Steps still running on their own (an account event being written, an idle
        connection being closed): the manager lets them finish before the store closes."""
        return {task for task in self._spawned if not task.done()}

    async def stop_sync(self) -> None:
        """Stop the primary connection and its sync loop; API calls keep their connections
        (another node takes the account over, this one still answers for it)."""
        task, self._task = self._task, None
        if task is not None:
            # Cancel until it is done: a cancellation that lands just as an awaited operation
            # finishes can be lost on the way (asyncio.wait_for before 3.12, gh-86296), and the
            # loop would then sleep through a reconnect backoff instead of ending.
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._state is not AccountState.INIT:
            self._state = AccountState.DISCONNECTED

    async def reconnect(self) -> None:
        """Drop the primary connection and connect again now (no backoff wait)."""
        self._wakeup.set()
        if self._primary is not None:
            await self._primary.close()

    async def _sleep(self, seconds: float) -> None:
        self._wakeup.clear()
        with contextlib.suppress(TimeoutError):
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()

    def credential_source(self, proto: Proto) -> CredentialSource | None:
        """Where `proto` logins of this account get credentials (None: stored password)."""
        if self.config.oauth2 is not None and self.ctx.oauth2 is not None:
            return self.ctx.oauth2.source(self.account)
        server = self.config.imap if proto == "imap" else self.config.smtp
        if server is None or not server.use_auth_server or self.ctx.auth_server is None:
            return None
        return self.ctx.auth_server.source(self.account, proto)

    async def _run(self) -> None:
        settings = self.ctx.settings
        network = (settings.reconnect_delay, settings.reconnect_delay_max)
        refused = (settings.auth_retry_delay, settings.auth_retry_delay_max)
        auth_server = (settings.reconnect_delay, min(AUTH_SERVER_BACKOFF_CAP, network[1]))
        first = True
        while True:
            if not first and self.ctx.on_reconnect is not None:
                self.ctx.on_reconnect()
            first = False
            # A retry after a failure keeps the failure's state: the account is still down,
            # and `connecting` in between would make the state (and listings by state) flicker
            # with every attempt. `nextAttempt` is None while the attempt runs.
            if self._state not in _ERROR_STATES:
                self._set_state(AccountState.CONNECTING)
            try:
                conn = await self.connector.open("primary")
            except ConsentRequiredError as exc:
                await self._wait_for_consent(exc)
                continue
            except AuthServerError as exc:
                await self._retry_later(AccountState.AUTHENTICATION_ERROR, exc, auth_server)
                continue
            except AuthenticationFailedError as exc:
                await self._retry_later(AccountState.AUTHENTICATION_ERROR, exc, refused)
                continue
            except ImapApiError as exc:
                await self._retry_later(AccountState.CONNECT_ERROR, exc, network)
                continue
            self._failed_attempts = 0
            self._primary = conn
            self._set_state(AccountState.CONNECTED)
            self._attempted(AccountState.CONNECTED)
            self._connected_once.set()
            try:
                await self.syncer.run(conn)
            except LeaseLostError as exc:
                # Another node synced this account since: stop here; the scheduler notices
                # the lost lease on its next round and tidies up.
                log.warning("%s: %s", self.account, exc.message, extra={"account": self.account})
                self._set_state(AccountState.DISCONNECTED, exc.message)
                return
            except (MailServerError, ImapApiError) as exc:
                self._set_state(
                    AccountState.CONNECT_ERROR, f"connection lost: {exc.message}", exc.code
                )
            finally:
                self._primary = None
                await conn.close()
            await self._pause(backoff_delay(0, *network, self.ctx.rng))

    async def _retry_later(
        self, state: AccountState, exc: ImapApiError, backoff: tuple[float, float]
    ) -> None:
        """Record a failed attempt (state, API fields, metric) and wait for the next one."""
        delay = backoff_delay(self._failed_attempts, *backoff, self.ctx.rng)
        self._failed_attempts += 1
        self._set_state(state, exc.message, exc.code)
        self._attempted(state)
        log.info(
            "%s: connection attempt %d failed (%s: %s); next in %.1f s",
            self.account,
            self._failed_attempts,
            exc.code,
            exc.message,
            delay,
            extra={"account": self.account},
        )
        await self._pause(delay)

    async def _wait_for_consent(self, exc: ConsentRequiredError) -> None:
        """The OAuth2 grant is dead: no retry would help, so none is scheduled. The account
        waits until a new consent updates it (a new session) or a reconnect is asked for."""
        self._failed_attempts += 1
        self._set_state(AccountState.AUTHENTICATION_ERROR, exc.message, exc.code)
        self._attempted(AccountState.AUTHENTICATION_ERROR)
        log.info(
            "%s: %s; waiting for a new consent", self.account, exc.message,
            extra={"account": self.account},
        )  # fmt: skip
        self._wakeup.clear()
        await self._wakeup.wait()

    async def _pause(self, delay: float) -> None:
        """The backoff before the next attempt, shown as `nextAttempt` while it lasts."""
        self._next_attempt = time.time() + delay
        try:
            await self._sleep(delay)
        finally:
            self._next_attempt = None

    def _attempted(self, outcome: AccountState) -> None:
        if self.ctx.on_connect_attempt is not None:
            self.ctx.on_connect_attempt(outcome.value)

    # --- the command connections for API calls ------------------------------------------------
    @contextlib.asynccontextmanager
    async def command(self, folder: str | None = None) -> AsyncIterator[CommandConnection]:
        """A command connection leased for one API call, preferably one that has `folder`
        selected already; 503 quickly when the account is not up (but while it reconnects
        after a lost connection, see `_reconnecting`)."""
        status = self.status  # this node's connection, or the owning node's view
        if status.state is not AccountState.CONNECTED and not self._reconnecting:
            reason = status.last_error or f"the account is {status.state.value}"
            raise NotConnectedError(f"the IMAP connection is not available: {reason}")
        async with self.commands.lease(folder=folder) as command:
            yield command

    @property
    def _reconnecting(self) -> bool:
        """This node's primary connection was lost a moment ago and no attempt to open it
        again has failed yet: the server was reachable, and API calls run on connections of
        their own, so they are still tried. (Dovecot ends a session whose selected folder
        another client deleted and created again, and it may be the primary's alone.)"""
        return (
            self._task is not None
            and self._state is AccountState.CONNECT_ERROR
            and self._failed_attempts == 0
        )

    def command_views(self) -> list[FolderView]:
        """What the open command connections have selected (`CommandPool.views`)."""
        return self.commands.views()

    async def wait_connected(self, timeout: float) -> bool:
        """For tests and start-up: True once the first connection succeeded."""
        try:
            await asyncio.wait_for(self._connected_once.wait(), timeout)
        except TimeoutError:
            return False
        return True


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed", exc_info=task.exception())
