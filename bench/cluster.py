"""`./scripts/cluster-demo [--nodes 3] [--accounts 300] [--lease-ttl 10]`: scale-out and failover
(issue 8), measured on this machine.

Starts a private Redis and Dovecot, N `imapapi serve` processes on them, registers the accounts
through the first node and reports how they spread; then keeps mail arriving, kills the busiest
node with SIGKILL and reports how long its accounts took to be connected elsewhere, how many
messageNew webhooks were lost (must be 0) or sent twice (same eventId only), and the most IMAP
connections Dovecot ever saw for one account in two samples in a row (must be 1).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from tests.servers.cluster import Cluster, ConnectionWatch, MailStream
from tests.servers.dovecot import Dovecot
from tests.servers.redis import RedisServer
from tests.servers.webhooks import WebhookReceiver

from bench.common import raise_file_limit


def _wait(what: str, done: Callable[[], bool], timeout: float) -> float:
    """Poll `done()` until true; seconds taken (raises after `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if done():
            return time.monotonic() - start
        time.sleep(0.05)
    raise SystemExit(f"cluster demo: {what} did not happen within {timeout:.0f} s")


def run(nodes: int, accounts: int, lease_ttl: float) -> int:
    raise_file_limit()
    root = Path(tempfile.mkdtemp(prefix="imapapi-cluster-"))
    redis_server = RedisServer()
    dovecot = Dovecot()
    receiver = WebhookReceiver()
    cluster: Cluster | None = None
    try:
        redis_server.start()
        dovecot.start()
        receiver.start()
        cluster = Cluster(root, redis_server, size=nodes, lease_ttl=lease_ttl)
        started = time.monotonic()
        for index in range(nodes):
            cluster.start(index)
        print(f"{nodes} nodes up in {time.monotonic() - started:.1f} s "
              f"(Redis {redis_server.url}, lease {lease_ttl:g} s)")  # fmt: skip

        names = [f"demo-{n:04d}" for n in range(accounts)]
        users = {name: dovecot.add_user() for name in names}
        started = time.monotonic()
        with cluster.client(0) as client:
            settings = {"webhooks": receiver.url, "webhookEvents": ["messageNew"]}
            client.post("/v1/settings", json=settings).raise_for_status()
            for name, user in users.items():
                imap = dovecot.account_settings(user)
                imap["starttls"] = "never"
                body = {"account": name, "name": name, "imap": imap}
                client.post("/v1/account", json=body).raise_for_status()
        registered = time.monotonic() - started
        synced = _wait(
            "the first sync of every account",
            lambda: all(cluster.synced(n) for n in names),
            60 + accounts / 5,
        )
        spread = cluster.spread()
        print(f"registered {accounts} accounts through node-1 in {registered:.1f} s; "
              f"all synced {synced:.1f} s later")  # fmt: skip
        print("\naccounts per node")
        for node in sorted(spread):
            share = spread[node] / accounts
            print(f"  {node:<10} {spread[node]:>6}  {share:6.1%}  {'#' * round(share * 40)}")

        watch = ConnectionWatch(dovecot, {u.name for u in users.values()})
        watch.start()
        stream = MailStream(dovecot, users)
        stream.start()
        time.sleep(2.0)
        victim, owned = spread.most_common(1)[0]
        victim_accounts = [a for a, node in cluster.owners().items() if node == victim]
        killed = time.monotonic()
        cluster.nodes[int(victim.split("-")[1]) - 1].kill()
        leased = cluster.wait_owned(victim_accounts, exclude=victim, timeout=lease_ttl + 60)
        survivor = next(i for i in range(nodes) if cluster.name(i) != victim)
        with cluster.client(survivor) as client:

            def all_connected() -> bool:
                return all(
                    client.get(f"/v1/account/{a}").json().get("state") == "connected"
                    for a in victim_accounts
                )

            _wait("the take-over", all_connected, lease_ttl + 60)
        connected = time.monotonic() - killed
        time.sleep(2.0)
        stream.stop()

        sent = stream.sent
        _wait("the last webhooks", lambda: _announced(receiver) >= set(sent), 60)
        event_ids: dict[str, set[str]] = defaultdict(set)
        deliveries = 0
        for received in receiver.events("messageNew"):
            event_ids[received.json["data"]["subject"]].add(received.json["eventId"])
            deliveries += 1
        watch.stop()
        lost = len(set(sent) - set(event_ids))
        duplicated = deliveries - len(event_ids)
        other_ids = sum(len(ids) - 1 for ids in event_ids.values())
        print(f"\nkilled {victim} (SIGKILL) holding {owned} accounts, mail arriving meanwhile")
        rows = [
            ("its accounts leased by other nodes", f"{leased:.1f} s", f"≤ {lease_ttl:g} s + round"),
            ("its accounts connected elsewhere", f"{connected:.1f} s", f"≤ {lease_ttl + 10:g} s"),
            ("messages delivered during the run", f"{len(sent)}", ""),
            ("messageNew webhooks lost", f"{lost}", "0"),
            ("webhooks sent twice (same eventId)", f"{duplicated}", "any"),
            ("  … of them with another eventId", f"{other_ids}", "0"),
            ("accounts seen with 2 IMAP sessions", f"{len(watch.doubled)}", "0"),
        ]
        print(f"  {'measure':<38} {'figure':>10}   target")
        for measure, figure, target in rows:
            print(f"  {measure:<38} {figure:>10}   {target}")
        ok = lost == 0 and other_ids == 0 and not watch.doubled and connected <= lease_ttl + 10
        print("\nresult:", "OK" if ok else "TARGET MISSED")
        return 0 if ok else 1
    finally:
        if cluster is not None:
            cluster.close()
        receiver.stop()
        dovecot.close()
        redis_server.close()
        if not os.environ.get("IMAPAPI_BENCH_KEEP"):
            shutil.rmtree(root, ignore_errors=True)


def _announced(receiver: WebhookReceiver) -> set[str]:
    return {r.json["data"]["subject"] for r in receiver.events("messageNew")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/cluster-demo", description=__doc__)
    parser.add_argument("--nodes", type=int, default=3, help="imapapi processes (3)")
    parser.add_argument("--accounts", type=int, default=300, help="accounts (300)")
    parser.add_argument("--lease-ttl", type=float, default=10.0, help="lease seconds (10)")
    args = parser.parse_args(argv)
    if args.nodes < 2 or args.accounts < args.nodes or not 3 <= args.lease_ttl <= 600:
        parser.error("need ≥ 2 nodes, ≥ 1 account per node and a lease of 3-600 s")
    return run(args.nodes, args.accounts, args.lease_ttl)


if __name__ == "__main__":
    sys.exit(main())
