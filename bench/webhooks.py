"""Webhook throughput end to end (issue 17): APPENDs over many accounts → 2xx at a receiver.

Per store (SQLite, then Redis): a service child registers the accounts (fresh users, empty
INBOXes) and waits for every first sync; the driver opens one bare IMAP connection per
account, then APPENDs the messages (message n to account n mod N, `APPEND_BATCH` per APPEND,
every account's connection at once) while the receiver (`bench/hookchild.py`, its own
process) counts the `messageNew` webhooks. Beside them, the ceiling: a bare aiohttp client
POSTing as many bodies of the same shape to the same receiver, as many in flight as the
dispatcher; and delivery alone: the dispatcher draining the same events from a filled outbox.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.servers.dovecot import Dovecot
from tests.servers.redis import RedisServer

from bench.common import PASSWORD, PySpy, Table, machine_busy, message, process_cpu, tree_cpu
from bench.hookchild import subject
from bench.rawimap import RawClient
from bench.spawn import Child
from imapapi.syncing.syncer import NOTIFY_ALL, NOTIFY_SELECTED

if TYPE_CHECKING:
    from bench.run import Options

MAX_ACCOUNTS = 200
CONCURRENCY = 32  # the dispatcher's default: requests in flight at once
TARGET = 3000.0  # events/s end to end, issue 17
# Messages per APPEND (MULTIAPPEND, RFC 3502): one APPEND per message is Dovecot-bound at a
# few hundred a second on this machine, far below the rate measured here.
APPEND_BATCH = int(os.environ.get("IMAPAPI_BENCH_APPEND_BATCH", "10"))


async def _say(child: Child, line: str) -> None:
    assert child.proc.stdin is not None
    child.proc.stdin.write(line.encode() + b"\n")
    await child.proc.stdin.drain()


async def _append_all(clients: list[RawClient], events: int, label: str, batch: int) -> None:
    async def one(n: int, client: RawClient) -> None:
        mine = [message(subject(label, n, seq)) for seq in range(n, events, len(clients))]
        for first in range(0, len(mine), batch):
            await client.append("INBOX", [(data, ()) for data in mine[first : first + batch]])

    await asyncio.gather(*(one(n, c) for n, c in enumerate(clients)))


async def imapapi_run(
    dovecot: Dovecot,
    receiver: Child,
    url: str,
    *,
    label: str,
    accounts: int,
    events: int,
    work: Path,
    redis_url: str | None = None,
) -> dict[str, Any]:
    """One store's run: the times and counts the receiver reported, and the APPEND time."""
    users = [f"hook{label}{n:05d}" for n in range(accounts)]
    for user in users:
        dovecot.add_user(user, PASSWORD)
    cfg: dict[str, Any] = {
        "host": dovecot.host,
        "port": dovecot.port,
        "users": users,
        "data_dir": str(work / f"webhooks-{label}"),
        "webhook_url": url,
        "redis_url": redis_url,
    }
    # Before imapapi's connections: Dovecot's processes of one uid share 128 inotify instances
    # (`fs.inotify.max_user_instances`), and one without any polls every second.
    watcher = await _watch(dovecot, users[0])
    service = await Child.start("service", cfg)
    await service.next("connect")
    await service.next("ready")
    clients = [await RawClient.open(dovecot.host, dovecot.port, u, PASSWORD) for u in users]
    await _say(receiver, f"expect {events} {label}")
    await receiver.next("expecting")
    # A command makes Dovecot send what it still holds back (the STATUS it reports for every
    # mailbox once after NOTIFY SET); read here, so the watcher's next STATUS is the run's.
    await watcher.command(b"NOOP")
    pushed = asyncio.create_task(_first_push(watcher))
    async with PySpy(service.proc.pid, label):
        cpu, busy = process_cpu(service.proc.pid), machine_busy()
        split = _others(dovecot, receiver)
        started = time.monotonic()
        await _append_all(clients, events, label, APPEND_BATCH)
        appended = time.monotonic()
        try:
            got = await receiver.next("received", timeout=120.0 + events / 50)
        except TimeoutError:
            await _say(receiver, "report")
            got = await receiver.next("received")
            raise RuntimeError(f"webhooks {label}: not every event arrived: {got}") from None
        cpu, busy = process_cpu(service.proc.pid) - cpu, machine_busy() - busy
        split = {k: v - split[k] for k, v in _others(dovecot, receiver).items()}
    push_at = await asyncio.wait_for(pushed, 10.0)
    for client in [*clients, watcher]:
        await client.close()
    report = await service.stop()
    ours = min((at for at in report["pushes"] if at >= started), default=float("nan"))
    return {
        **got, "started": started, "appended": appended, "cpu": cpu, "busy": busy,
        **split, "push_at": push_at, "our_push_at": ours,
    }  # fmt: skip


def _others(dovecot: Dovecot, receiver: Child) -> dict[str, float]:
    """CPU seconds so far of the run's other parts: Dovecot's processes, the receiver, and
    this process (the driver: the APPEND client), for the split of the machine's CPU per
    event."""
    return {
        "dovecot": sum(tree_cpu(pid) for pid in dovecot.pids),
        "receiver": process_cpu(receiver.proc.pid),
        "driver": process_cpu(os.getpid()),
    }


async def _watch(dovecot: Dovecot, user: str) -> RawClient:
    """A bare connection of the first account with NOTIFY set as imapapi's primary sets it
    (RFC 5465; `syncing/syncer.py`), nothing selected: the raw side of the server's push
    delay."""
    watcher = await RawClient.open(dovecot.host, dovecot.port, user, PASSWORD)
    await watcher.command(b"NOTIFY SET %s %s" % (NOTIFY_SELECTED.encode(), NOTIFY_ALL.encode()))
    return watcher


async def _first_push(watcher: RawClient) -> float:
    """When the watcher heard of the first change (monotonic clock, as the receiver's)."""
    while True:
        line = await watcher.reader.readline()
        if not line:
            raise RuntimeError("webhooks: the NOTIFY watcher's connection closed")
        if line.startswith(b"* STATUS"):
            return time.monotonic()


async def posting_run(
    receiver: Child, url: str, sample: str, *, mode: str, accounts: int, events: int, **extra: Any
) -> Any:
    """The bare client (`bare`) or the dispatcher alone on a filled outbox (`drain`)."""
    label = mode + (extra.get("store") or "")
    await _say(receiver, f"expect {events} {label}")
    await receiver.next("expecting")
    cfg = {
        "url": url,
        "sample": sample,
        "accounts": accounts,
        "events": events,
        "concurrency": CONCURRENCY,
        "label": label,
        **extra,
    }
    bare = await Child.start(mode, cfg, module="bench.hookchild")
    started = (await bare.next("started"))["at"]
    cpu, busy, heard = process_cpu(bare.proc.pid), machine_busy(), process_cpu(receiver.proc.pid)
    got = await receiver.next("received")
    cpu, busy = process_cpu(bare.proc.pid) - cpu, machine_busy() - busy
    heard = process_cpu(receiver.proc.pid) - heard
    await bare.finish()
    return {**got, "started": started, "cpu": cpu, "busy": busy, "receiver": heard}


async def bench_webhooks(
    dovecot: Dovecot, opts: Options, work: Path
) -> tuple[Table, dict[str, Any]]:
    accounts = min(opts.accounts, MAX_ACCOUNTS)
    events = opts.events
    receiver = await Child.start("receiver", {"host": dovecot.host}, module="bench.hookchild")
    port = (await receiver.next("listening"))["port"]
    url = f"http://{dovecot.host}:{port}/webhook"
    runs: dict[str, dict[str, Any]] = {}
    try:
        runs["sqlite"] = await imapapi_run(
            dovecot, receiver, url, label="s", accounts=accounts, events=events, work=work
        )
        sample = runs["sqlite"]["sample"]
        posting = {"accounts": accounts, "events": events}
        runs["bare"] = await posting_run(receiver, url, sample, mode="bare", **posting)
        runs["drain-sqlite"] = await posting_run(
            receiver, url, sample, mode="drain", store="s", data_dir=str(work), **posting
        )
        redis = RedisServer(host=dovecot.host)
        redis.start()
        try:
            runs["drain-redis"] = await posting_run(
                receiver, url, sample, mode="drain", store="r", redis_url=redis.url, **posting
            )
            runs["redis"] = await imapapi_run(
                dovecot, receiver, url, label="r", accounts=accounts, events=events, work=work,
                redis_url=redis.url,
            )  # fmt: skip
        finally:
            redis.close()
    finally:
        await _say(receiver, "stop")
        await receiver.finish()
    return _table(runs, accounts, events)


def _rate(events: int, start: float, end: float) -> float:
    return events / max(end - start, 1e-9)


def _table(
    runs: dict[str, dict[str, Any]], accounts: int, events: int
) -> tuple[Table, dict[str, Any]]:
    bare = runs["bare"]
    ceiling = _rate(events, bare["started"], bare["last_at"])
    table = Table(
        f"webhooks: {events:,} APPENDs over {accounts:,} accounts → messageNew answered 2xx",
        headers=("measure", "bare client", "imapapi", "ratio"),
    )
    results: dict[str, Any] = {"webhook_ceiling": ceiling}
    for store, name in (("sqlite", "SQLite"), ("redis", "Redis")):
        run = runs[store]
        end_to_end = _rate(events, run["started"], run["last_at"])
        window = _rate(events, run["first_at"], run["last_at"])
        table.add(f"{name}: end to end (first APPEND → last 2xx)", ceiling, end_to_end, "events/s")
        table.add(f"  {name}: first → last 2xx", ceiling, window, "events/s")
        table.add(
            f"  {name}: the server's first push (bare NOTIFY client: first APPEND → STATUS)",
            None,
            (run["push_at"] - run["started"]) * 1e3,
            "ms",
        )
        table.add(
            f"  {name}: imapapi's first push (first APPEND → a STATUS read by a sync)",
            None,
            (run["our_push_at"] - run["started"]) * 1e3,
            "ms",
        )
        table.add(
            f"  {name}: end to end from imapapi's first push → last 2xx",
            ceiling,
            _rate(events, run["our_push_at"], run["last_at"]),
            "events/s",
        )
        table.add(
            f"  {name}: CPU per event (service process; bare: client process)",
            bare["cpu"] / events * 1e6,
            run["cpu"] / events * 1e6,
            "us",
        )
        table.add(
            f"  {name}: CPU per event, whole machine (Dovecot, receiver, APPENDs included)",
            bare["busy"] / events * 1e6,
            run["busy"] / events * 1e6,
            "us",
        )
        for key, part in (
            ("dovecot", "Dovecot's processes (APPENDs, NOTIFY, imapapi's commands)"),
            ("receiver", "the receiver"),
            ("driver", "the APPEND client"),
        ):
            table.add(
                f"    {name}: … of it {part}",
                bare[key] / events * 1e6 if key == "receiver" else None,
                run[key] / events * 1e6,
                "us",
            )
        drain = runs[f"drain-{store}"]
        table.add(
            f"  {name}: delivery alone (outbox filled first)",
            ceiling,
            _rate(events, drain["started"], drain["last_at"]),
            "events/s",
        )
        table.add(
            f"  {name}: delivery alone, CPU per event",
            bare["cpu"] / events * 1e6,
            drain["cpu"] / events * 1e6,
            "us",
        )
        table.add(
            f"  {name}: the APPENDs alone (raw)",
            None,
            _rate(events, run["started"], run["appended"]),
            "msg/s",
        )
        results[f"webhooks_{store}"] = end_to_end
        results[f"webhooks_pushed_{store}"] = _rate(events, run["our_push_at"], run["last_at"])
        table.notes.append(
            f"{name}: {run['distinct']:,} of {events:,} messageNew, {run['redelivered']} "
            f"redelivered, {run['overtaking']} out of order; last 2xx "
            f"{run['last_at'] - run['appended']:.2f} s after the last APPEND"
        )
    table.notes.append(
        f"bare client: aiohttp, keep-alive, {CONCURRENCY} in flight, each account's bodies in "
        f"order; bodies shaped as imapapi's ({len(runs['sqlite']['sample']):,} B); first POST → "
        "last 2xx"
    )
    table.notes.append(
        f"APPENDs: {APPEND_BATCH} messages per APPEND, all accounts' connections at once "
        "(opened before the clock starts); the receiver is its own process (aiohttp)"
    )
    return table, results


def webhook_targets(results: dict[str, Any]) -> list[tuple[str, ...]]:
    """The summary rows of issue 17's webhook target, one per store measured."""
    rows = []
    for store in ("sqlite", "redis"):
        for key, what in (("webhooks", "end to end"), ("webhooks_pushed", "from the first push")):
            value = results.get(f"{key}_{store}")
            if value is not None:
                rows.append(
                    (
                        f"webhooks {what}, {store} ≥ {TARGET:,.0f} events/s",
                        f"{value:,.0f} events/s",
                        f"{TARGET:,.0f} events/s",
                        "met" if value >= TARGET else "MISSED",
                    )
                )
    return rows
