"""Issue 8: three `imapapi serve` processes on one Redis share the accounts, a node that joins
takes its share, a node killed with SIGKILL has its accounts taken over within the lease time,
no webhook is lost meanwhile, and no account is ever synced by two nodes at once (checked from
Dovecot's side and in the lease log)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from imapapi.cluster.scheduler import preferred_node
from tests.e2e.helpers import dovecot_account, register, wait_state
from tests.servers.cluster import Cluster, ConnectionWatch, MailStream
from tests.servers.dovecot import Dovecot
from tests.servers.redis import RedisServer
from tests.servers.service import ServiceError
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

LEASE_TTL = 4.0
# Fixed account and node names: the rendezvous assignment is then fixed too, and checked exactly.
ACCOUNTS = [f"acct-{n:02d}" for n in range(36)]


@pytest.fixture
def cluster(tmp_path: Path, redis_server: RedisServer) -> Iterator[Cluster]:
    made = Cluster(tmp_path, redis_server, size=3, lease_ttl=LEASE_TTL)
    try:
        yield made
    finally:
        made.close()


def test_three_nodes_share_take_over_and_lose_nothing(
    cluster: Cluster, dovecot: Dovecot, webhook_receiver: WebhookReceiver
) -> None:
    two = [cluster.name(0), cluster.name(1)]
    three = [*two, cluster.name(2)]
    cluster.start(0)
    cluster.start(1)
    users = {account: dovecot.add_user() for account in ACCOUNTS}
    watch = ConnectionWatch(dovecot, {user.name for user in users.values()})
    watch.start()

    with cluster.client(0) as first:
        settings = {"webhooks": webhook_receiver.url, "webhookEvents": ["messageNew"]}
        assert first.post("/v1/settings", json=settings).status_code == 200
        for account, user in users.items():
            register(first, dovecot_account(dovecot, user, account))
    # Registered through node 1, seen connected from node 2: any node answers for any account.
    with cluster.client(1) as second:
        for account in ACCOUNTS:
            wait_state(second, account, "connected")
    cluster.wait_synced(ACCOUNTS)
    assert cluster.owners() == {a: preferred_node(a, two) for a in ACCOUNTS}

    # A third node joins: it takes the accounts rendezvous hashing gives it, nothing else moves.
    cluster.start(2)
    expected = {a: preferred_node(a, three) for a in ACCOUNTS}
    deadline = time.monotonic() + 3 * LEASE_TTL
    while cluster.owners() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cluster.owners() == expected
    spread = cluster.spread()
    assert set(spread) == set(three), spread
    assert max(spread.values()) <= len(ACCOUNTS) / 2, spread
    with cluster.client(2) as third:
        for account in ACCOUNTS:
            wait_state(third, account, "connected")

    # Mail keeps arriving while the busiest node is killed.
    stream = MailStream(dovecot, users)
    stream.start()
    time.sleep(1.0)
    victim_index = three.index(spread.most_common(1)[0][0])
    victim = three[victim_index]
    victim_accounts = sorted(a for a, node in expected.items() if node == victim)
    killed_at_ms = int(time.time() * 1000)
    killed = time.monotonic()
    cluster.nodes[victim_index].kill()

    survivor = next(i for i in range(3) if i != victim_index)
    cluster.wait_owned(victim_accounts, exclude=victim, timeout=LEASE_TTL + 10)
    with cluster.client(survivor) as client:
        for account in victim_accounts:
            wait_state(client, account, "connected", timeout=LEASE_TTL + 10)
    failover = time.monotonic() - killed
    assert failover <= LEASE_TTL + 10
    survivors = [n for n in three if n != victim]
    assert cluster.owners() == {a: preferred_node(a, survivors) for a in ACCOUNTS}
    time.sleep(1.0)
    stream.stop()

    # Every message reached the receiver, each under one eventId (a re-send keeps its id).
    sent = stream.sent
    assert len(sent) > 20, "the stream delivered too little to test anything"

    def all_arrived() -> bool:
        got = {r.json["data"]["subject"] for r in webhook_receiver.events("messageNew")}
        return set(sent) <= got

    deadline = time.monotonic() + 30
    while not all_arrived() and time.monotonic() < deadline:
        time.sleep(0.1)
    ids: dict[str, set[str]] = defaultdict(set)
    for received in webhook_receiver.events("messageNew"):
        ids[received.json["data"]["subject"]].add(received.json["eventId"])
        assert received.json["account"] == sent.get(received.json["data"]["subject"])
    lost = sorted(set(sent) - set(ids))
    assert lost == [], f"{len(lost)} of {len(sent)} messages never announced: {lost[:5]}"
    assert all(len(event_ids) == 1 for event_ids in ids.values())

    watch.stop()
    assert watch.samples > 20
    assert watch.doubled == set(), f"two connections at once for {sorted(watch.doubled)}"
    _audit_lease_log(cluster, victim, killed_at_ms)

    # Any node serves the message API of an account another node syncs (after the watch: that
    # opens a command connection, a second IMAP session the watch would rightly count).
    account = victim_accounts[0]
    owner = cluster.owners()[account]
    other = next(i for i, n in enumerate(three) if n not in (owner, victim))
    with cluster.client(other) as client:
        listing = client.get(f"/v1/account/{account}/messages", params={"path": "INBOX"})
        assert listing.status_code == 200, listing.text
        subjects = {m["subject"] for m in listing.json()["messages"]}
        assert {s for s, a in sent.items() if a == account} <= subjects

    # A node stopped with SIGTERM (a rolling restart) gives its leases up rather than letting
    # them expire, and the last node takes them over.
    leaving_index = next(i for i, n in enumerate(three) if n in survivors and i != other)
    leaving = three[leaving_index]
    leaving_accounts = sorted(a for a, n in cluster.owners().items() if n == leaving)
    assert cluster.nodes[leaving_index].stop() == 0
    cluster.wait_owned(leaving_accounts, exclude=leaving, timeout=LEASE_TTL + 10)
    released = {e["account"] for e in cluster.lease_log() if e["action"] == "release"
                and e["node"] == leaving}  # fmt: skip
    assert set(leaving_accounts) <= released
    assert set(cluster.owners().values()) == {three[other]}
    with cluster.client(other) as client:
        for account in leaving_accounts:
            wait_state(client, account, "connected", timeout=LEASE_TTL + 10)
    _audit_lease_log(cluster, victim, killed_at_ms)


def _audit_lease_log(cluster: Cluster, victim: str, killed_at_ms: int) -> None:
    """Per account: fencing tokens only grow, and a lease changes hands only after its holder
    released it, or after the holder was killed (its lease expired)."""
    by_account: dict[str, list[dict[str, object]]] = defaultdict(list)
    for entry in cluster.lease_log():
        by_account[str(entry["account"])].append(entry)
    assert set(by_account) == set(ACCOUNTS)
    for account, entries in by_account.items():
        holder: str | None = None
        fence = 0
        for entry in entries:
            if entry["action"] == "release":
                assert entry["node"] == holder, (account, entries)
                holder = None
                continue
            assert int(str(entry["fence"])) > fence, (account, entries)
            fence = int(str(entry["fence"]))
            if holder is not None:
                assert holder == victim and int(str(entry["at"])) >= killed_at_ms, (
                    account,
                    entries,
                )
            holder = str(entry["node"])


def test_a_node_with_another_secret_refuses_to_start(cluster: Cluster) -> None:
    cluster.start(0)
    stranger = cluster.nodes[1]
    stranger.env["IMAPAPI_SECRET"] = "not-the-cluster-secret-at-all"
    with pytest.raises(ServiceError) as failed:
        stranger.start()
    assert stranger.returncode == 2
    assert "another secret" in str(failed.value) and "IMAPAPI_SECRET" in str(failed.value)
    assert "not-the-cluster-secret" not in stranger.stderr


def test_a_message_queued_on_a_node_that_dies_is_sent_once_by_another(
    cluster: Cluster, dovecot: Dovecot, smtp: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    cluster.start(0)
    cluster.start(1)
    senders = ACCOUNTS[:4]
    with cluster.client(0) as first:
        settings = {"webhooks": webhook_receiver.url, "webhookEvents": ["messageSent"]}
        assert first.post("/v1/settings", json=settings).status_code == 200
        for account in senders:
            user = dovecot.add_user()
            smtp.add_user(user.name, "smtp-secret")
            body = dovecot_account(dovecot, user, account)
            body["email"] = f"{user.name}@example.com"
            body["smtp"] = smtp.settings(user.name, "smtp-secret")
            register(first, body)
        for account in senders:
            wait_state(first, account, "connected")
        # Queued on node 1 for a few seconds from now; node 1 dies before they are due.
        send_at = datetime.now(UTC) + timedelta(seconds=6)
        queued = {}
        for account in senders:
            response = first.post(
                f"/v1/account/{account}/submit",
                json={
                    "to": [{"address": "lead@example.com"}],
                    "subject": f"queued by {account}",
                    "text": "x\n",
                    "sendAt": send_at.isoformat(),
                },
            )
            assert response.status_code == 200, response.text
            queued[response.json()["queueId"]] = account
    cluster.nodes[0].kill()
    # Not about timing: only that node 1 died before sending anything (else this tests nothing).
    assert smtp.messages == [], "node 1 sent before it was killed"

    sent = smtp.wait_for_messages(len(senders), timeout=30)
    time.sleep(2)  # a second sending would show now
    assert sorted(m.message()["Subject"] for m in smtp.messages) == sorted(
        f"queued by {account}" for account in senders
    )
    webhook_receiver.wait(lambda r: r.event == "messageSent", count=len(senders), timeout=30)
    assert {r.json["data"]["queueId"] for r in webhook_receiver.events("messageSent")} == set(
        queued
    )
    assert len(sent) == len(senders)
    with cluster.client(1) as second:
        for queue_id in queued:
            assert second.get(f"/v1/outbox/{queue_id}").json()["state"] == "sent"
