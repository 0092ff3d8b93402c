"""Metric families of metrics/registry.py: own registries, hooks, gauges set before a scrape."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from imapapi.metrics import Metrics, RecentEvent


def names(metrics: Metrics) -> set[str]:
    return {family.name for family in text_string_to_metric_families(metrics.render().decode())}


def test_two_services_do_not_share_a_registry() -> None:
    first, second = Metrics(), Metrics()  # a global registry would refuse the second
    first.observe_reconnect()
    assert first.registry.get_sample_value("imapapi_imap_reconnects_total") == 1
    assert second.registry.get_sample_value("imapapi_imap_reconnects_total") == 0


def test_every_family_is_exposed_before_any_traffic() -> None:
    assert {
        "imapapi_accounts",
        "imapapi_imap_connections_open",
        "imapapi_imap_commands",
        "imapapi_imap_command_duration_seconds",
        "imapapi_imap_reconnects",
        "imapapi_webhook_deliveries",
        "imapapi_webhook_delivery_duration_seconds",
        "imapapi_outbox_pending_events",
        "imapapi_outbox_dead_events",
        "imapapi_outbox_oldest_event_age_seconds",
        "imapapi_submissions",
        "imapapi_http_requests",
        "imapapi_http_request_duration_seconds",
        "imapapi_build_info",
        "imapapi_start_time_seconds",
    } <= names(Metrics())
    zero = Metrics().registry.get_sample_value
    assert zero("imapapi_submissions_total", {"result": "failed"}) == 0
    assert zero("imapapi_webhook_deliveries_total", {"result": "dead"}) == 0


def test_hooks_count() -> None:
    metrics = Metrics()
    metrics.observe_imap_command("UID FETCH", "OK", 0.002)
    metrics.observe_imap_command("UID FETCH", "NO", 0.5)
    metrics.observe_delivery(
        "a", RecentEvent(0.0, "messageNew", "e1", None, "delivered", 0.2, None)
    )
    metrics.observe_delivery("a", RecentEvent(0.0, "messageNew", "e2", None, "skipped", None, None))
    metrics.observe_http("GET", "/v1/accounts", 200, 0.01)
    get = metrics.registry.get_sample_value
    assert get("imapapi_imap_commands_total", {"command": "UID FETCH", "status": "OK"}) == 1
    assert get("imapapi_imap_command_duration_seconds_count", {"command": "UID FETCH"}) == 2
    assert (
        get("imapapi_imap_command_duration_seconds_bucket", {"command": "UID FETCH", "le": "0.005"})
        == 1
    )
    assert get("imapapi_webhook_deliveries_total", {"result": "delivered"}) == 1
    assert get("imapapi_webhook_deliveries_total", {"result": "skipped"}) == 1
    assert get("imapapi_webhook_delivery_duration_seconds_count") == 1  # skipped: no request
    labels = {"method": "GET", "route": "/v1/accounts", "status": "200"}
    assert get("imapapi_http_requests_total", labels) == 1
    assert [e.event_id for e in metrics.activity.recent("a")] == ["e2", "e1"]


def test_refresh_sets_every_state() -> None:
    metrics = Metrics()
    metrics.refresh(
        states=["connected", "connectError"],
        by_state={"connected": 3},
        connections=4,
        outbox={"pending": 2, "dead": 1, "oldestAge": 7.5},
    )
    get = metrics.registry.get_sample_value
    assert get("imapapi_accounts", {"state": "connected"}) == 3
    assert get("imapapi_accounts", {"state": "connectError"}) == 0
    assert get("imapapi_imap_connections_open") == 4
    assert get("imapapi_outbox_pending_events") == 2
    assert get("imapapi_outbox_dead_events") == 1
    assert get("imapapi_outbox_oldest_event_age_seconds") == 7.5
