"""/metrics after real traffic (Dovecot, webhook receiver, HTTP), and who may read it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from imapapi.credentials.tokens import create_token
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api
from tests.integration.sync.helpers import message, register, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by (name, labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(
    scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    found = [v for (n, got), v in scrape.items() if n == name and wanted <= got]
    assert found, f"no sample {name} {labels}"
    return sum(found)


async def scrape(api: Api) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = await api.client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return samples(answer.text)


async def test_metrics_after_real_traffic(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    account = await register(api, dovecot, imap_user, webhook_receiver)
    await asyncio.to_thread(dovecot.deliver, imap_user, message("counted"))
    await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert (
        await api.client.get(f"/v1/account/{account}/mailboxes?counters=true")
    ).status_code == 200

    # The receiver fails for a while: events queue up and failed attempts are counted.
    webhook_receiver.respond_with(500)
    await asyncio.to_thread(dovecot.deliver, imap_user, message("queued"))
    await webhook_receiver.wait_for(lambda r: r.status == 500)
    assert (await api.client.put(f"/v1/account/{account}/reconnect")).status_code == 200
    await wait_state(api, account, "connected")
    # Submissions are counted by the sending code (sending/submission*); the family is ours.
    api.service.metrics.submissions.labels(result="sent").inc()

    s = await scrape(api)
    assert value(s, "imapapi_accounts", state="connected") == 1
    assert value(s, "imapapi_accounts", state="connectError") == 0
    assert value(s, "imapapi_imap_connections_open") >= 1
    assert value(s, "imapapi_imap_commands_total", command="SELECT", status="OK") >= 1
    assert value(s, "imapapi_imap_commands_total", command="UID FETCH") >= 1
    assert value(s, "imapapi_imap_command_duration_seconds_count", command="LIST") >= 1
    assert value(s, "imapapi_imap_reconnects_total") >= 1
    assert value(s, "imapapi_webhook_deliveries_total", result="delivered") >= 1
    assert value(s, "imapapi_webhook_deliveries_total", result="failed") >= 1
    assert value(s, "imapapi_webhook_delivery_duration_seconds_count") >= 2
    assert value(s, "imapapi_outbox_pending_events") >= 1
    assert value(s, "imapapi_outbox_oldest_event_age_seconds") > 0
    assert value(s, "imapapi_submissions_total", result="sent") == 1
    assert value(s, "imapapi_submissions_total", result="failed") == 0
    assert (
        value(
            s,
            "imapapi_http_requests_total",
            method="GET",
            route="/v1/account/{account}/mailboxes",
            status="200",
        )
        == 1
    )
    assert value(s, "imapapi_http_requests_total", route="/v1/account/{account}") >= 1
    raw_path = ("route", f"/v1/account/{account}")
    assert not [k for k in s if k[0] == "imapapi_http_requests_total" and raw_path in k[1]]
    assert value(s, "imapapi_build_info", version=api.app.version) == 1

    overview_hour = api.service.metrics.activity.last_hour()
    assert overview_hour["delivered"] >= 1 and overview_hour["failed"] >= 1


async def test_unmatched_paths_share_one_label(api: Api) -> None:
    for n in range(3):
        assert (await api.client.get(f"/no/such/path/{n}")).status_code == 404
    s = await scrape(api)
    assert value(s, "imapapi_http_requests_total", route="unmatched", status="404") == 3


async def test_who_may_read_metrics(api: Api) -> None:
    anonymous = await api.client.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    _, metrics_token = await create_token(api.service.store, "prometheus", ("metrics",))
    with_scope = await api.client.get(
        "/metrics", headers={"Authorization": f"Bearer {metrics_token}"}
    )
    assert with_scope.status_code == 200 and "imapapi_accounts" in with_scope.text
    assert (await api.client.get("/metrics")).status_code == 200  # an unbound admin token
    # Not a token of another scope, nor an admin token bound to accounts: the figures are the
    # whole service's.
    for scopes, accounts in ((("read", "send", "write"), ()), (("admin",), ("alice",))):
        _, other = await create_token(api.service.store, "agent", scopes, accounts)
        refused = await api.client.get("/metrics", headers={"Authorization": f"Bearer {other}"})
        assert refused.status_code == 403, (scopes, accounts)
    # A metrics token opens nothing else.
    v1 = await api.client.get("/v1/accounts", headers={"Authorization": f"Bearer {metrics_token}"})
    assert v1.status_code == 403
    wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_localhost_may_read_metrics_when_configured(
    tmp_path: Path, store_backend: StoreBackend
) -> None:
    async with running_api(tmp_path / "on", store_backend, metrics_allow_localhost=True) as api:
        # httpx's ASGI transport reports the client as 127.0.0.1.
        answer = await api.client.get("/metrics", headers={"Authorization": ""})
        assert answer.status_code == 200
        assert (
            await api.client.get("/v1/accounts", headers={"Authorization": ""})
        ).status_code == 401


async def test_each_service_counts_on_its_own(tmp_path: Path, store_backend: StoreBackend) -> None:
    async with (
        running_api(tmp_path / "a", store_backend) as first,
        running_api(tmp_path / "b", store_backend) as second,
    ):
        for _ in range(3):
            await first.client.get("/health")
        a, b = await scrape(first), await scrape(second)
        assert value(a, "imapapi_http_requests_total", route="/health") == 3
        assert not [
            k for k in b if k[0] == "imapapi_http_requests_total" and ("route", "/health") in k[1]
        ]
