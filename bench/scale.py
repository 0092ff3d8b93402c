"""The scale part (issue 17): N accounts connected by one process, at several N in one run.

For each N (1,000, 5,000 and 10,000 by default): the raw baseline (a child opening N bare
connections, LOGIN + SELECT INBOX + IDLE, 64 at a time), then imapapi in a fresh child per
store (SQLite, and Redis, where registration goes through the node scheduler's lease claims)
registering N accounts through the API until every session is connected and synced. Each
figure is divided by N, so a cost that grows faster than the accounts shows as a per-account
figure that grows with N.

The Dovecot is one of its own, sized for the largest N (`tests/servers/dovecot.py`, `_limits`);
bench/README.md says what it sets and why.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.servers.dovecot import Dovecot
from tests.servers.redis import REDIS_SERVER, RedisServer

from bench.common import PASSWORD, Table, memory_dir, raise_file_limit
from bench.spawn import Child

DEFAULT_SIZES = (1000, 5000, 10000)
REAP_PAUSE = 3.0  # seconds for Dovecot to reap one run's processes before the next run
# Targets of issue 17 (second bullet).
CONNECT_TARGET = 60.0  # s for 10,000 accounts
FLAT_CPU = 0.20  # CPU per account within ±20 % from the smallest N to the largest
RSS_TARGET = 50.0  # KiB per account


def user_name(n: int) -> str:
    return f"scale{n:05d}"


async def bench_scale(
    sizes: Sequence[int], work: Path, profile: Path | None = None
) -> tuple[Table, dict[str, Any]]:

    biggest = max(sizes)
    raise_file_limit()  # inherited by Dovecot and the children
    mail_dir = memory_dir("scale")
    dovecot = Dovecot(mail_dir, connections=biggest)
    redis = _redis_server()
    runs: dict[int, dict[str, dict[str, Any]]] = {}
    try:
        dovecot.start()
        if redis is not None:
            redis.start()
        started = time.monotonic()
        users = [user_name(n) for n in range(biggest)]
        for user in users:
            dovecot.add_user(user, PASSWORD)
        print(f"# scale: {biggest:,} users created in {time.monotonic() - started:.1f} s",
              flush=True)  # fmt: skip
        for n in sizes:
            base = {"host": dovecot.host, "port": dovecot.port, "users": users[:n]}
            runs[n] = {}
            raw = await Child.start("raw-connect", {**base, "concurrency": 64})
            runs[n]["raw"] = await raw.next("raw-connect")
            await raw.finish()
            print(f"# scale: {n:,} raw in {runs[n]['raw']['seconds']:.1f} s", flush=True)
            stores: list[tuple[str, dict[str, Any]]] = [("sqlite", {})]
            if redis is not None:
                stores.append(("redis", {"redis_url": redis.url, "redis_prefix": f"scale{n}"}))
            for store, extra in stores:
                await asyncio.sleep(REAP_PAUSE)
                cfg: dict[str, Any] = {
                    **base,
                    **extra,
                    "data_dir": str(work / f"scale-{store}-{n}"),
                }
                if profile is not None:
                    cfg["profile"] = str(profile.with_suffix(f".scale-{store}-{n}.txt"))
                child = await Child.start("service", cfg)
                runs[n][store] = await child.next("connect", timeout=1800)
                print(f"# scale: {n:,} {store} connected in {runs[n][store]['connected']:.1f} s",
                      flush=True)  # fmt: skip
                await child.next("stopped", timeout=600)
                await child.finish(timeout=600)
                shutil.rmtree(work / f"scale-{store}-{n}", ignore_errors=True)
            await asyncio.sleep(REAP_PAUSE)
    finally:
        if redis is not None:
            redis.close()
        dovecot.close()
        if mail_dir is not None:
            shutil.rmtree(mail_dir, ignore_errors=True)
    return scale_table(sizes, runs), scale_results(sizes, runs)


def _redis_server() -> RedisServer | None:
    """A private Redis for the Redis-store runs, when redis-server is installed."""
    return RedisServer() if Path(REDIS_SERVER).exists() else None


def _per(run: dict[str, Any], key: str) -> float:
    return float(run[key]) / int(run["n"])


def _rss(run: dict[str, Any]) -> float:
    return (float(run["rss_after"]) - float(run["rss_before"])) / int(run["n"])


def scale_table(sizes: Sequence[int], runs: dict[int, dict[str, dict[str, Any]]]) -> Table:
    sides = [("raw", "raw")] + [
        (s, f"imapapi {label}")
        for s, label in (("sqlite", "SQLite"), ("redis", "Redis"))
        if all(s in runs[n] for n in sizes)
    ]
    table = Table(
        "scale: accounts connected in one process",
        headers=("measure", *(f"{n:,}" for n in sizes)),
    )

    def row(label: str, values: list[str]) -> None:
        table.rows.append((label, *values))

    for side, label in sides:
        seconds = "seconds" if side == "raw" else "connected"
        row(f"{label}: all connected", [f"{runs[n][side][seconds]:.1f} s" for n in sizes])
        if side != "raw":
            row(
                "  … ratio to raw",
                [f"{runs[n][side]['connected'] / runs[n]['raw']['seconds']:.2f}x" for n in sizes],
            )
            row("  … all synced", [f"{runs[n][side]['synced']:.1f} s" for n in sizes])
        row(
            "  CPU per account, the process",
            [f"{1000 * _per(runs[n][side], 'cpu'):.2f} ms" for n in sizes],
        )
        row(
            "    … of it in the kernel",
            [f"{1000 * _per(runs[n][side], 'system_cpu'):.2f} ms" for n in sizes],
        )
        row(
            "  CPU per account, whole machine",
            [f"{1000 * _per(runs[n][side], 'machine_cpu'):.1f} ms" for n in sizes],
        )
        row("  RSS growth per account", [f"{_rss(runs[n][side]):.1f} KiB" for n in sizes])
    table.notes.append(
        "raw: a bare asyncio client, LOGIN + SELECT INBOX + IDLE, 64 at a time; imapapi: "
        "POST /v1/account 8 at a time, default login limits, NOTIFY + first sync of 6 folders"
    )
    table.notes.append(
        "whole machine: /proc/stat busy time over the run (Dovecot's share, and anything else "
        "the machine did meanwhile) divided by N"
    )
    return table


def scale_results(
    sizes: Sequence[int], runs: dict[int, dict[str, dict[str, Any]]]
) -> dict[str, Any]:
    """Figures for the summary: the largest N's connect time and, per store, how far CPU per
    account moved from the smallest N to the largest, and the largest RSS per account."""
    small, large = min(sizes), max(sizes)
    results: dict[str, Any] = {"scale_n": large}
    for store in ("sqlite", "redis"):
        if not all(store in runs[n] for n in sizes):
            continue
        first = _per(runs[small][store], "cpu")
        results[f"scale_{store}_connected"] = runs[large][store]["connected"]
        results[f"scale_{store}_cpu_growth"] = _per(runs[large][store], "cpu") / first - 1
        results[f"scale_{store}_rss"] = max(_rss(runs[n][store]) for n in sizes)
    return results


def scale_summary(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows of the summary table: issue 17's targets against the largest run, per store."""
    rows = []

    def check(label: str, value: float, bound: float, shown: str) -> None:
        rows.append((label, shown.format(value), shown.format(bound), _met(value <= bound)))

    for store in ("sqlite", "redis"):
        if f"scale_{store}_connected" not in r:
            continue
        n = r["scale_n"]
        check(f"{n:,} accounts connected, {store} (≤ 60 s at 10,000)",
              r[f"scale_{store}_connected"], CONNECT_TARGET, "{:.1f} s")  # fmt: skip
        check(f"CPU per account, |change| smallest → {n:,}, {store}",
              100 * abs(r[f"scale_{store}_cpu_growth"]), 100 * FLAT_CPU, "{:.0f} %")  # fmt: skip
        check(f"RSS per account ≤ 50 KiB, {store}",
              r[f"scale_{store}_rss"], RSS_TARGET, "{:.1f} KiB")  # fmt: skip
    return rows


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"
