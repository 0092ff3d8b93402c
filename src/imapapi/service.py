"""Wires the store, account manager, event dispatcher and API together, and runs them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from functools import cached_property

from imapapi.accounts.registry import AccountRegistry
from imapapi.cluster.manager import AccountManager, SessionFactory
from imapapi.cluster.scheduler import Scheduler, default_node_id
from imapapi.config import Settings
from imapapi.credentials.authserver import AuthServerClient
from imapapi.credentials.crypto import SecretBox, load_key
from imapapi.credentials.oauth2 import OAuth2Tokens
from imapapi.credentials.oauth2_apps import OAuth2Apps
from imapapi.credentials.oauth2_client import OAuth2Client
from imapapi.credentials.oauth2_consent import OAuth2Consent
from imapapi.credentials.tokens import TokenCache, create_token
from imapapi.errors import ImapApiError
from imapapi.events.dispatcher import DeliveryOutcome, WebhookDispatcher
from imapapi.metrics import Metrics, RecentEvent
from imapapi.metrics.activity import MAX_ERROR, EventFacts, short
from imapapi.operations.lookup import find_by_message_id
from imapapi.runtime import RuntimeSettings
from imapapi.sending.submission import Submitter
from imapapi.sending.submission_worker import SubmissionWorker
from imapapi.sessions.limits import LoginLimiter
from imapapi.sessions.session import AccountSession, SessionContext
from imapapi.sessions.summaries import SummaryCache
from imapapi.store.base import Store
from imapapi.store.redis import RedisStore
from imapapi.store.sqlite import SqliteStore

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL = 6 * 3600.0


def open_store(settings: Settings) -> Store:
    """The store chosen by configuration (SQLite unless a Redis URL is set)."""
    if settings.redis_url:
        return RedisStore(settings.redis_url, prefix=settings.redis_prefix)
    return SqliteStore(settings.database_path)


@dataclass
class Service:
    """One imapapi process: build with `Service.create(settings)`, then `start()`/`stop()`."""

    settings: Settings
    store: Store
    box: SecretBox
    runtime: RuntimeSettings
    accounts: AccountManager
    started_at: float = field(default_factory=time.time)
    metrics: Metrics = field(default_factory=Metrics)

    dispatcher: WebhookDispatcher | None = None
    submissions: SubmissionWorker | None = None  # sends what /submit queued
    auth_server: AuthServerClient | None = None  # credentials of `useAuthServer` accounts
    oauth2: OAuth2Consent | None = None  # built-in OAuth2: apps, consents, token life
    scheduler: Scheduler | None = None  # several nodes on one Redis: which accounts are ours
    _housekeeping: asyncio.Task[None] | None = field(default=None, repr=False)

    @cached_property
    def tokens(self) -> TokenCache:
        """The API tokens, as the API reads them on every request (cached in memory)."""
        return TokenCache(self.store, self.settings.token_cache_seconds)

    @classmethod
    def create(cls, settings: Settings, *, sessions: bool = True) -> Service:
        """Build a service; `sessions=False` (CLI tools, some tests) connects to no server."""
        store = open_store(settings)
        box = SecretBox(load_key(settings.secret, settings.key_path))
        runtime = RuntimeSettings(store, box)
        metrics = Metrics()
        scheduler: Scheduler | None = None
        dispatcher = WebhookDispatcher(
            store,
            target=runtime.webhook_target,
            timeout=settings.webhook_timeout,
            max_age=settings.webhook_max_age,
            on_outcome=lambda outcome: _observe_delivery(metrics, outcome),
            scope=lambda: scheduler.delivery_scope() if scheduler else (None, True),
        )

        async def service_secret() -> str | None:
            return (await runtime.webhook_target()).secret

        auth_server = AuthServerClient(runtime.auth_server, service_secret)
        oauth2_client = OAuth2Client()
        oauth2_apps = OAuth2Apps(store, box)
        oauth2_tokens = OAuth2Tokens(store, box, oauth2_apps, oauth2_client)
        oauth2 = OAuth2Consent(store, box, oauth2_apps, oauth2_client, oauth2_tokens)
        factory: SessionFactory | None = None
        if sessions:
            context = SessionContext(
                settings=settings,
                store=store,
                limiter=LoginLimiter(settings.max_concurrent_logins, settings.max_logins_per_host),
                on_events=dispatcher.wake,
                auth_server=auth_server,
                oauth2=oauth2_tokens,
                on_imap_command=metrics.observe_imap_command,
                on_reconnect=metrics.observe_reconnect,
                on_connect_attempt=metrics.observe_connect_attempt,
                summaries=SummaryCache(settings.summary_cache),
            )
            factory = AccountSession.factory(context)
        accounts = AccountManager(AccountRegistry(store, box), factory)
        if sessions and isinstance(store, RedisStore):
            # Every process on a Redis store is a node; each syncs the accounts it leases.
            scheduler = Scheduler(
                store,
                accounts,
                node=settings.node_id or default_node_id(),
                lease_ttl=settings.lease_ttl,
                on_gain=dispatcher.wake,
            )
            context.on_state = scheduler.publish
        submissions = None
        if sessions:
            submissions = SubmissionWorker(
                store,
                box,
                accounts,
                smtp_timeout=settings.imap_timeout,
                connect_timeout=settings.connect_timeout,
                on_events=dispatcher.wake,
                on_result=lambda result: metrics.submissions.labels(result=result).inc(),
            )
        return cls(
            settings=settings,
            store=store,
            box=box,
            runtime=runtime,
            accounts=accounts,
            submissions=submissions,
            dispatcher=dispatcher,
            auth_server=auth_server,
            oauth2=oauth2,
            metrics=metrics,
            scheduler=scheduler,
        )

    async def start(self) -> None:
        await self.store.open()
        await self.runtime.check_key()
        if self.dispatcher is not None:
            self.dispatcher.start()
        await self.accounts.start()
        if self.submissions is not None:
            self.submissions.start()
        self._housekeeping = asyncio.create_task(self._keep_house(), name="housekeeping")
        log.info("imapapi started (store %r)", self.store)

    async def _keep_house(self) -> None:
        """Forget what is past its retention, now and then (reply tracking's sent index)."""
        while True:
            retention = self.settings.tracking_retention_days * 86400
            try:
                purged = await self.store.purge_sent(time.time() - retention)
                if purged:
                    log.info("forgot %d sent Message-IDs older than the retention", purged)
            except ImapApiError:
                log.exception("housekeeping failed")
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        if self.submissions is not None:
            await self.submissions.stop()
        await self.accounts.stop()
        if self.dispatcher is not None:
            await self.dispatcher.stop(grace=2.0)
            await self.dispatcher.aclose()
        if self.auth_server is not None:
            await self.auth_server.aclose()
        if self.oauth2 is not None:
            await self.oauth2.aclose()
        await self.store.close()
        log.info("imapapi stopped")

    def submitter(self) -> Submitter:
        """The submit operation, as /submit and the agent's send tools run it (here because it
        joins sending/ and operations/, sibling layers that do not import each other)."""
        worker = self.submissions
        return Submitter(
            self.store,
            self.box,
            self.accounts,
            max_message_size=self.settings.max_message_size,
            find_message=find_by_message_id,
            wake=worker.wake if worker is not None else lambda: None,
            clock=worker.clock if worker is not None else time.time,
        )

    async def first_start_token(self) -> str | None:
        """When the API is protected and no token exists yet, create one to print once."""
        if self.settings.insecure or await self.store.list_tokens():
            return None
        _, token = await create_token(self.store, "created at first start")
        return token


def _observe_delivery(metrics: Metrics, outcome: DeliveryOutcome) -> None:
    event = outcome.event
    facts = EventFacts.of(event.payload)  # short copies: the payload itself is not kept
    metrics.observe_delivery(
        event.account,
        RecentEvent(
            at=time.time(),
            event=str(event.payload.get("event", "")),
            event_id=event.event_id,
            path=facts.path,
            result=outcome.result,
            latency=outcome.latency,
            error=short(outcome.error, MAX_ERROR),
            subject=facts.subject,
            message_id=facts.message_id,
        ),
    )
