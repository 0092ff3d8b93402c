"""WebhookDispatcher against each real store (SQLite, Redis) and a real HTTP receiver.

Retries are made due by advancing the test clock and driven with the drain modes
(`run_once`, `run(until_empty=True)`), so nothing here sleeps or measures time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from imapapi import __version__
from imapapi.events import WebhookDispatcher, make_event, verify
from imapapi.events.http import WebhookClient
from imapapi.store.base import NewEvent, QueuedEvent, Store
from tests.integration.events.conftest import Clock
from tests.servers.ports import free_port
from tests.servers.webhooks import Received, WebhookReceiver, verify_signature

pytestmark = pytest.mark.integration

SECRET = "s3cret-ßervice-key"
HOUR = 3600.0  # the backoff cap: with rng 1.0, advancing this far makes any retry due
MakeDispatcher = Callable[..., WebhookDispatcher]


def events_for(account: str, count: int, now: float, name: str = "messageNew") -> list[NewEvent]:
    return [
        make_event(
            account=account,
            event=name,
            data={"uid": i + 1},
            path="INBOX",
            event_id=f"{account}-{i}",
            now=now,
        )
        for i in range(count)
    ]


def ids(received: list[Received]) -> list[str | None]:
    return [r.header("X-Imapapi-Event-Id") for r in received]


def delivered_ids(received: list[Received]) -> list[str | None]:
    return ids([r for r in received if 200 <= r.status < 300])


def collapse(values: list[Any]) -> list[Any]:
    """Drop consecutive repeats: a retried event shows up several times in a row."""
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


async def pending(store: Store) -> float:
    return (await store.outbox_stats(0.0))["pending"]


async def test_delivers_payload_headers_and_signature(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url, "serviceSecret": SECRET})
    record = make_event(
        account="example",
        event="messageUpdated",
        path="[Gmail]/Alle Nachrichten",
        special_use="\\All",
        data={"id": "AAAAAQAAAeE", "uid": 350861, "changes": {"flags": {"added": ["\\Seen"]}}},
        now=clock(),
    )
    await store.add_events([record])
    dispatcher = make_dispatcher()

    assert await dispatcher.run_once() == 1

    [got] = webhook_receiver.received
    assert got.json == record.payload
    assert (
        got.body == json.dumps(record.payload, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert got.header("Content-Type") == "application/json"
    assert got.header("X-Imapapi-Event-Id") == record.event_id
    assert got.header("X-Imapapi-Event") == "messageUpdated"
    assert got.header("User-Agent") == f"imapapi/{__version__}"
    assert verify_signature(got, SECRET)
    assert verify(got.body, SECRET, got.header("X-Imapapi-Signature"))
    assert not verify_signature(got, "another-secret")
    assert await pending(store) == 0
    assert dispatcher.stats.delivered == 1
    assert dispatcher.stats.last_latency is not None


async def test_unsigned_without_a_service_secret(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    await store.add_events(events_for("a", 1, clock()))

    assert await make_dispatcher().run_once() == 1

    [got] = webhook_receiver.received
    assert got.header("X-Imapapi-Signature") is None
    assert got.header("X-Imapapi-Event-Id") == "a-0"


async def test_in_order_per_account_through_failures(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    await store.add_events(events_for("a", 5, clock()))
    webhook_receiver.respond_with(500, times=3)
    dispatcher = make_dispatcher()

    for _ in range(3):
        assert await dispatcher.run_once() == 1  # only the head is tried; the rest wait
        assert await dispatcher.run_once() == 0  # not due again until the backoff has passed
        clock.advance(HOUR)
    await dispatcher.run(until_empty=True)

    assert [(r.header("X-Imapapi-Event-Id"), r.status) for r in webhook_receiver.received] == [
        ("a-0", 500),
        ("a-0", 500),
        ("a-0", 500),
        ("a-0", 200),
        ("a-1", 200),
        ("a-2", 200),
        ("a-3", 200),
        ("a-4", 200),
    ]
    assert await pending(store) == 0
    assert dispatcher.stats.failed_attempts == 3
    assert dispatcher.stats.delivered == 5
    assert dispatcher.stats.last_error == "HTTP 500"


async def test_many_accounts_in_order_none_lost(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    accounts = [f"acct{n}" for n in range(6)]
    for account in accounts:
        await store.add_events(events_for(account, 4, clock()))
    await store.update_settings({"webhooks": webhook_receiver.url})
    # Failures land on whichever accounts' requests come first: concurrency decides.
    webhook_receiver.respond_with(503, times=7)
    dispatcher = make_dispatcher(concurrency=4)

    for _ in range(10):
        await dispatcher.run(until_empty=True)
        if await pending(store) == 0:
            break
        clock.advance(HOUR)

    assert await pending(store) == 0
    assert sum(r.status == 503 for r in webhook_receiver.received) == 7
    for account in accounts:
        got = webhook_receiver.events(account=account)
        expected = [f"{account}-{i}" for i in range(4)]
        assert delivered_ids(got) == expected  # each once, in order
        assert collapse(ids(got)) == expected  # failed tries only ever repeat the head


async def test_failing_account_does_not_block_another(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.add_events(events_for("a", 3, clock()) + events_for("b", 3, clock()))
    await store.update_settings({"webhooks": webhook_receiver.url})
    webhook_receiver.respond_with(500, times=1)
    dispatcher = make_dispatcher()

    # One pass: both heads are tried at once; whichever got the 500 is deferred, the other
    # account goes on and delivers everything in the same pass.
    assert await dispatcher.run_once() == 4
    [failed] = [r for r in webhook_receiver.received if r.status == 500]
    bad = failed.account
    good = "b" if bad == "a" else "a"
    assert delivered_ids(webhook_receiver.events(account=good)) == [f"{good}-{i}" for i in range(3)]
    assert ids(webhook_receiver.events(account=bad)) == [f"{bad}-0"]
    [head] = await store.due_events(clock() + HOUR, 10)
    assert (head.event_id, head.attempts, head.last_error) == (f"{bad}-0", 1, "HTTP 500")

    clock.advance(HOUR)
    assert await dispatcher.run_once() == 3

    got = webhook_receiver.events(account=bad)
    assert ids(got) == [f"{bad}-0", f"{bad}-0", f"{bad}-1", f"{bad}-2"]
    assert await pending(store) == 0


async def test_webhook_events_filter(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings(
        {"webhooks": webhook_receiver.url, "webhookEvents": ["messageNew", "messageDeleted"]}
    )
    await store.add_events(
        [
            make_event(account="a", event="messageNew", data={}, event_id="new", now=clock()),
            make_event(account="a", event="messageUpdated", data={}, event_id="upd", now=clock()),
            make_event(account="a", event="messageDeleted", data={}, event_id="del", now=clock()),
        ]
    )
    dispatcher = make_dispatcher()

    assert await dispatcher.run_once() == 3

    assert ids(webhook_receiver.received) == ["new", "del"]
    assert dispatcher.stats.skipped == 1
    assert dispatcher.stats.delivered == 2
    assert await pending(store) == 0  # filtered out means settled, not kept


async def test_without_a_url_events_are_settled_unsent(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.add_events(events_for("a", 2, clock()))
    dispatcher = make_dispatcher()

    assert await dispatcher.run_once() == 2
    assert dispatcher.stats.skipped == 2
    assert await pending(store) == 0

    # Configured later: only events from then on go out; the settings are read every round.
    await store.update_settings({"webhooks": webhook_receiver.url})
    await store.add_events([make_event(account="a", event="mailboxNew", data={}, now=clock())])
    assert await dispatcher.run_once() == 1
    assert [r.event for r in webhook_receiver.received] == ["mailboxNew"]


async def test_event_past_max_age_becomes_dead_and_replays(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    [record] = events_for("a", 1, clock())
    await store.add_events([record])
    webhook_receiver.respond_with(500)
    dispatcher = make_dispatcher(max_age=24 * HOUR)

    assert await dispatcher.run_once() == 1  # young: retried later
    assert (await store.list_dead_events(0, 10)).total == 0
    clock.advance(24 * HOUR)
    assert await dispatcher.run_once() == 1  # a day old and still failing: dead

    dead = await store.list_dead_events(0, 10)
    assert dead.total == 1
    [letter] = dead.items
    assert (letter.event_id, letter.attempts, letter.last_error) == (record.event_id, 2, "HTTP 500")
    assert letter.payload == record.payload
    assert await pending(store) == 0
    assert await dispatcher.run_once() == 0  # dead letters are not retried on their own
    assert dispatcher.stats.dead == 1

    webhook_receiver.respond_with(200)
    assert await store.replay_dead_events(None, clock()) == 1
    assert await dispatcher.run_once() == 1

    assert [(r.header("X-Imapapi-Event-Id"), r.status) for r in webhook_receiver.received] == [
        (record.event_id, 500),
        (record.event_id, 500),
        (record.event_id, 200),
    ]
    assert webhook_receiver.received[-1].json == record.payload
    assert (await store.list_dead_events(0, 10)).total == 0


async def test_stopped_mid_request_is_redelivered_after_restart(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    [record] = events_for("a", 1, clock())
    await store.add_events([record])
    webhook_receiver.respond_with(200, times=1, delay=30.0)  # the receiver hangs on it
    first = make_dispatcher(poll_interval=60.0)
    first.start()
    first.wake()
    await webhook_receiver.wait_for()
    assert first.in_flight == 1

    await first.stop(grace=0)  # shutdown while the request is in flight

    # Neither delivered nor failed: untouched, and due again at once.
    [event] = await store.due_events(clock(), 10)
    assert (event.event_id, event.attempts, event.dead) == (record.event_id, 0, False)
    assert first.stats.delivered == first.stats.failed_attempts == 0

    restarted = make_dispatcher()
    assert await restarted.run_once() == 1
    assert ids(webhook_receiver.received) == [record.event_id, record.event_id]
    assert webhook_receiver.received[0].body == webhook_receiver.received[1].body
    assert await pending(store) == 0


async def test_a_failure_mid_run_holds_back_the_events_behind_it(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    await store.add_events(events_for("a", 6, clock()))
    webhook_receiver.respond_with(200, times=2)
    webhook_receiver.respond_with(500, times=1)
    dispatcher = make_dispatcher(batch=2)  # runs of two: the pass reads the outbox again

    assert await dispatcher.run_once() == 3
    assert await pending(store) == 4  # the two delivered are removed; a-2 and after wait
    clock.advance(HOUR)
    await dispatcher.run(until_empty=True)

    assert [(r.header("X-Imapapi-Event-Id"), r.status) for r in webhook_receiver.received] == [
        ("a-0", 200),
        ("a-1", 200),
        ("a-2", 500),
        *((f"a-{i}", 200) for i in range(2, 6)),
    ]
    assert await pending(store) == 0
    assert dispatcher.stats.delivered == 6


async def test_stopped_mid_run_keeps_what_was_delivered_before(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    await store.add_events(events_for("a", 3, clock()))
    webhook_receiver.respond_with(200, times=2)
    webhook_receiver.respond_with(200, times=1, delay=30.0)  # the third hangs
    outcomes: list[str] = []
    dispatcher = make_dispatcher(
        poll_interval=60.0, on_outcome=lambda o: outcomes.append(o.event.event_id)
    )
    dispatcher.start()
    dispatcher.wake()
    await webhook_receiver.wait_for(count=3)

    await dispatcher.stop(grace=0)  # the run is cut in its third request

    # The two delivered are written as such; only the one cut off is posted again.
    [left] = await store.due_events(clock(), 10, per_account=10)
    assert (left.event_id, left.attempts) == ("a-2", 0)
    assert outcomes == ["a-0", "a-1"]
    assert dispatcher.stats.delivered == 2


class ObservedStore:
    """The real store, signalling each time the dispatcher found nothing due (it is idle then:
    between that empty read and its wait for a wake-up the loop does not yield)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.idle = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def due_events(self, now: float, limit: int, **scope: Any) -> list[QueuedEvent]:
        events = await self._store.due_events(now, limit, **scope)
        if not events:
            self.idle.set()
        return events


async def test_wake_delivers_from_the_background_loop(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    observed = ObservedStore(store)
    # A minute-long idle poll: within wait_for's 10 s only wake() can start these deliveries.
    dispatcher = make_dispatcher(store=observed, poll_interval=60.0)
    dispatcher.start()

    for account, count in (("a", 2), ("b", 1)):
        async with asyncio.timeout(10):
            await observed.idle.wait()  # the loop sleeps: only wake() gets it going again
        observed.idle.clear()
        await store.add_events(events_for(account, count, clock()))
        dispatcher.wake()
        await webhook_receiver.wait_for(lambda r, account=account: r.account == account, count)
    await dispatcher.stop()

    assert ids(webhook_receiver.received) == ["a-0", "a-1", "b-0"]
    assert await pending(store) == 0


async def test_timeout_is_a_failed_attempt(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    await store.add_events(events_for("a", 1, clock()))
    webhook_receiver.respond_with(200, times=1, delay=30.0)
    dispatcher = make_dispatcher(timeout=0.2)

    assert await dispatcher.run_once() == 1

    # Retried after the backoff (rng 1.0: 2 s for a first failure), not before.
    assert await store.due_events(clock() + 1.9, 10) == []
    [event] = await store.due_events(clock() + 2.0, 10)
    assert (event.attempts, event.last_error) == (1, "no reply within 0.2 s")
    assert dispatcher.stats.delivered == 0


async def test_connection_error_keeps_the_url_out_of_the_stored_error(
    store: Store, clock: Clock, make_dispatcher: MakeDispatcher
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook?token=SECRET-TOKEN"
    await store.update_settings({"webhooks": url})
    await store.add_events(events_for("a", 1, clock()))
    dispatcher = make_dispatcher()

    assert await dispatcher.run_once() == 1

    [event] = await store.due_events(clock() + HOUR, 10)
    assert event.attempts == 1
    assert event.last_error is not None
    assert event.last_error.startswith("ConnectionRefusedError")
    assert "SECRET-TOKEN" not in event.last_error


async def test_shared_client_is_used_and_left_open(
    store: Store,
    clock: Clock,
    webhook_receiver: WebhookReceiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    await store.update_settings({"webhooks": webhook_receiver.url})
    await store.add_events(events_for("a", 2, clock()))
    client = WebhookClient()
    try:
        dispatcher = make_dispatcher(client=client)
        assert await dispatcher.run_once() == 2
        await dispatcher.stop()
        # Still usable after the dispatcher stopped: it was not the dispatcher's to close.
        reply = await client.post(webhook_receiver.url, b"{}", [], timeout=10)
    finally:
        await client.close()
    assert reply.status == 200
    assert len(webhook_receiver.received) == 3


@pytest.mark.parametrize(
    "kwargs",
    [{"max_age": 23 * HOUR}, {"concurrency": 0}, {"timeout": 0}, {"poll_interval": 0}],
    ids=["max-age-under-a-day", "no-concurrency", "no-timeout", "no-poll"],
)
def test_rejects_bad_arguments(store: Store, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WebhookDispatcher(store, **kwargs)
