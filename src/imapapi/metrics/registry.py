"""The Prometheus metric families of one service, in a registry of its own.

A `CollectorRegistry` per `Metrics` object rather than prometheus-client's global one: several
services (tests, or apps in one process) must not clash over names or share counts.

Counters and histograms are fed as things happen, through small hooks handed to the layers that
see them (the IMAP connection, the account session, the webhook dispatcher, the HTTP
middleware); none of those layers imports this module. Gauges of current state (accounts by
state, open connections, the outbox) are set by `refresh()` just before each scrape, because
reading them needs the store (async) and prometheus-client collects synchronously.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from imapapi import __version__
from imapapi.metrics.activity import Activity, RecentEvent

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

DELIVERY_RESULTS = ("delivered", "failed", "dead", "skipped")
SUBMISSION_RESULTS = ("sent", "failed")
CONNECT_RESULTS = ("connected", "connectError", "authenticationError")
# IMAP round trips on loopback take ~0.1 ms; a big FETCH over a slow link takes seconds.
_IMAP_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_HTTP_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Every metric family of one service; `render()` is the body of `GET /metrics`.

    For other parts of the service: `metrics.submissions.labels(result="sent").inc()` (or
    `"failed"`) after each SMTP submission.
    """

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.activity = Activity()
        self._children: dict[tuple[Any, ...], Any] = {}
        self.accounts = Gauge(
            "imapapi_accounts",
            "Accounts of this process by connection state.",
            ["state"],
            registry=registry,
        )
        self.imap_connections = Gauge(
            "imapapi_imap_connections_open",
            "IMAP connections open now (primary and command connections).",
            registry=registry,
        )
        self.imap_commands = Counter(
            "imapapi_imap_commands",
            "IMAP commands completed, by command and outcome (OK, NO, BAD, error).",
            ["command", "status"],
            registry=registry,
        )
        self.imap_command_seconds = Histogram(
            "imapapi_imap_command_duration_seconds",
            "Time from sending an IMAP command to its tagged response.",
            ["command"],
            buckets=_IMAP_BUCKETS,
            registry=registry,
        )
        self.reconnects = Counter(
            "imapapi_imap_reconnects",
            "Primary IMAP connections opened again after a failure, a lost connection or a "
            "reconnect request.",
            registry=registry,
        )
        self.connect_attempts = Counter(
            "imapapi_imap_connection_attempts",
            "Attempts to open an account's primary IMAP connection, by result: connected, "
            "connectError, authenticationError (every attempt, while account events are sent "
            "only when the state changes).",
            ["result"],
            registry=registry,
        )
        self.webhooks = Counter(
            "imapapi_webhook_deliveries",
            "Webhook delivery attempts by result: delivered, failed (to be retried), dead "
            "(retries exhausted), skipped (no URL, or filtered out).",
            ["result"],
            registry=registry,
        )
        self.webhook_seconds = Histogram(
            "imapapi_webhook_delivery_duration_seconds",
            "Duration of webhook HTTP requests, successful or not.",
            buckets=_HTTP_BUCKETS,
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "imapapi_outbox_pending_events", "Events waiting for delivery.", registry=registry
        )
        self.outbox_dead = Gauge(
            "imapapi_outbox_dead_events", "Dead-letter events kept for replay.", registry=registry
        )
        self.outbox_oldest_age = Gauge(
            "imapapi_outbox_oldest_event_age_seconds",
            "Age of the oldest pending event (0 when none).",
            registry=registry,
        )
        self.submissions = Counter(
            "imapapi_submissions",
            "Messages submitted over SMTP, by result (sent, failed).",
            ["result"],
            registry=registry,
        )
        self.http_requests = Counter(
            "imapapi_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_seconds = Histogram(
            "imapapi_http_request_duration_seconds",
            "HTTP request duration by method and route template.",
            ["method", "route"],
            buckets=_HTTP_BUCKETS,
            registry=registry,
        )
        self.info = Gauge(
            "imapapi_build_info",
            "Always 1; the version is a label.",
            ["version"],
            registry=registry,
        )
        self.start_time = Gauge(
            "imapapi_start_time_seconds", "When the service started (epoch).", registry=registry
        )
        self.info.labels(version=__version__).set(1)
        self.start_time.set(time.time())
        # Families with labels show no samples until a label is used: create the known ones
        # so a scrape shows zeros rather than nothing.
        for result in DELIVERY_RESULTS:
            self.webhooks.labels(result=result)
        for result in SUBMISSION_RESULTS:
            self.submissions.labels(result=result)
        for result in CONNECT_RESULTS:
            self.connect_attempts.labels(result=result)

    def __repr__(self) -> str:
        return "<Metrics>"

    def _child(self, family: Any, *values: str) -> Any:
        """`family.labels(*values)`, looked up once per label set: prometheus_client checks
        and locks on every `labels` call, and the hooks below run several times per request
        and per webhook (issue 17). The label sets are the families' own, no more."""
        key = (id(family), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family.labels(*values)
        return child

    # --- hooks (called by the layers that see the events) --------------------------------------
    def observe_imap_command(self, command: str, status: str, seconds: float) -> None:
        self._child(self.imap_commands, command, status).inc()
        self._child(self.imap_command_seconds, command).observe(seconds)

    def observe_reconnect(self) -> None:
        self.reconnects.inc()

    def observe_connect_attempt(self, result: str) -> None:
        self.connect_attempts.labels(result=result).inc()

    def observe_delivery(self, account: str, item: RecentEvent) -> None:
        self._child(self.webhooks, item.result).inc()
        if item.latency is not None:
            self.webhook_seconds.observe(item.latency)
        self.activity.record(account, item)

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        self._child(self.http_requests, method, route, str(status)).inc()
        self._child(self.http_seconds, method, route).observe(seconds)

    # --- state read before a scrape --------------------------------------------------------------
    def refresh(
        self,
        *,
        states: Iterable[str],
        by_state: Mapping[str, int],
        connections: int,
        outbox: Mapping[str, float],
    ) -> None:
        """Set the gauges of current state; `states` lists every state so absent ones read 0."""
        for state in states:
            self.accounts.labels(state=state).set(by_state.get(state, 0))
        self.imap_connections.set(connections)
        self.outbox_pending.set(outbox.get("pending", 0))
        self.outbox_dead.set(outbox.get("dead", 0))
        self.outbox_oldest_age.set(outbox.get("oldestAge", 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
