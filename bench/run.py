"""The benchmark driver: a Dovecot with many users, the measured children, the tables.

Order: fill the big folder → index (raw fetch, then imapapi's first sync) and store → raw
connect baseline (child) → imapapi connect (child, left running) → latency against that
running service → store per idle account from its database.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imapclient import response_parser
from tests.servers.dovecot import Dovecot
from tests.servers.webhooks import WebhookReceiver

from bench.common import (
    PASSWORD,
    Table,
    median,
    memory_dir,
    message,
    percentile,
    raise_file_limit,
)
from bench.listing import bench_list
from bench.rawimap import RawClient
from bench.scale import bench_scale, scale_summary
from bench.spawn import Child
from bench.webhooks import bench_webhooks, webhook_targets
from imapapi.imap import parse
from imapapi.imap.flagfetch import FlagFetch
from imapapi.imap.reader import ResponseReader
from imapapi.syncing.syncer import stored_flags

ROOT = Path(__file__).resolve().parent.parent
OTHER_FOLDER = "Archive"
FILL_BATCH = 1000
INOTIFY = Path("/proc/sys/fs/inotify/max_user_instances")


@dataclass
class Options:
    accounts: int
    messages: int
    samples: int
    repeat: int
    quick: bool
    only: set[str]
    profile: Path | None = None
    events: int = 10000  # webhooks: messages appended, each one messageNew
    scale: tuple[int, ...] = (1000,)  # accounts per run of the scale part


# --- setup ------------------------------------------------------------------------------------


def user_name(n: int) -> str:
    return f"bench{n:05d}"


async def fill(dovecot: Dovecot, user: str, count: int) -> float:
    """`count` messages in INBOX over one connection: MULTIAPPEND batches with LITERAL+."""
    started = time.monotonic()
    client = await RawClient.open(dovecot.host, dovecot.port, user, PASSWORD)
    rng = random.Random(42)
    flag_sets = [(), ("\\Seen",), ("\\Seen",), ("\\Seen", "\\Answered"), ("\\Flagged",)]
    for first in range(0, count, FILL_BATCH):
        batch = [
            (
                # A sender of its own per message, as in a real inbox: no parse cache can
                # flatter the listing figures by seeing the same address list every time.
                message(
                    f"filler {n}",
                    message_id=f"<fill-{n}@bench.test>",
                    sender=f"Sender {n} <sender{n}@bench.test>",
                ),
                rng.choice(flag_sets),
            )
            for n in range(first, min(count, first + FILL_BATCH))
        ]
        await client.append("INBOX", batch)
    await client.command(b"LOGOUT")
    await client.close()
    return time.monotonic() - started


def rows_bytes(db: sqlite3.Connection, table: str, account: str) -> int:
    """Payload of an account's rows: text/blob lengths, 8 per number (what SQLite stores,
    give or take its per-record headers)."""
    total = 0
    for row in db.execute(f"SELECT * FROM {table} WHERE account = ?", (account,)):
        for value in row:
            if isinstance(value, bytes | str):
                total += len(value.encode() if isinstance(value, str) else value)
            elif value is not None:
                total += 8
    return total


# --- index and store --------------------------------------------------------------------------


async def bench_index(
    dovecot: Dovecot, opts: Options, work: Path
) -> tuple[Table, Table, dict[str, Any]]:
    user = "bigbox"
    raw = await RawClient.open(dovecot.host, dovecot.port, user, PASSWORD)
    # CONDSTORE as imapapi enables it, so both read the same bytes.
    await raw.command(b"ENABLE CONDSTORE")
    await raw.command(b"EXAMINE INBOX (CONDSTORE)")
    command = b"UID FETCH 1:* (UID FLAGS)"
    await raw.fetch_bytes(command)  # warm Dovecot's caches: every run below sees the same
    raw_s, client_s, ours_s, bulk_s = [], [], [], []
    size = 0
    for _ in range(max(3, opts.repeat)):
        t = time.monotonic()
        size, _data = await raw.fetch_bytes(command)
        raw_s.append(time.monotonic() - t)

        t = time.monotonic()
        _, data = await raw.fetch_bytes(command)
        # imapclient as IMAPClient.fetch drives it: imaplib-style "seq (items)" records.
        lines = [ln[2:].replace(b" FETCH ", b" ", 1) for ln in data.split(b"\r\n")[:-2]]
        response_parser.parse_fetch_response(lines, uid_is_key=True)
        client_s.append(time.monotonic() - t)

        t = time.monotonic()
        _, data = await raw.fetch_bytes(command)
        responses = ResponseReader().feed(data)
        for response in responses[:-1]:
            parse.parse_fetch(response)
        ours_s.append(time.monotonic() - t)

        t = time.monotonic()
        _, data = await raw.fetch_bytes(command)
        answer = FlagFetch(stored_flags)
        reader = ResponseReader()
        reader.bulk = answer.scan
        responses = reader.feed(data)
        while reader.more:  # as the connection's read loop does
            responses += reader.feed(b"")
        bulk_s.append(time.monotonic() - t)
        if len(answer.values) != opts.messages or len(responses) != 1:
            raise RuntimeError("the bulk path did not read every line")
    await raw.close()

    cfg: dict[str, Any] = {
        "host": dovecot.host,
        "port": dovecot.port,
        "data_dir": str(work / "index-data"),
        "index_user": user,
        "repeat": opts.repeat,
    }
    if opts.profile:
        cfg["profile"] = str(opts.profile.with_suffix(".index.txt"))
    child = await Child.start("service", cfg)
    report = await child.next("index")
    stopped = await child.next("stopped")
    await child.finish()

    raw_fetch = median(raw_s)
    paired_raw = median(report["raw_fetch"])
    table = Table(f"index: first sync of a {opts.messages:,}-message INBOX")
    table.add("UID FETCH 1:* (UID FLAGS), bytes only", raw_fetch, None, "s")
    table.add("  … + imapclient parse_fetch_response", raw_fetch, median(client_s), "s")
    table.add("  … + imapapi reader + parse.parse_fetch", raw_fetch, median(ours_s), "s")
    table.add("  … + imapapi reader + FlagFetch (bulk)", raw_fetch, median(bulk_s), "s")
    table.add("the same fetch, in the service before each sync", paired_raw, None, "s")
    table.add(
        "  index step: UID FETCH → INBOX state built", paired_raw, median(report["index_step"]), "s"
    )
    table.add(
        "  registration → first sync done (all folders)", paired_raw, median(report["seconds"]), "s"
    )
    table.notes.append(
        f"{size / 1024:,.0f} KiB of FETCH data; medians of {len(raw_s)} raw runs and "
        f"{len(report['seconds'])} registrations, each paired with the raw fetch just before it"
    )
    table.notes.append(
        "per registration, raw / index step / registration: "
        + ", ".join(
            f"{r:.3f}/{i:.3f}/{s:.3f}"
            for r, i, s in zip(
                report["raw_fetch"], report["index_step"], report["seconds"], strict=True
            )
        )
        + " s"
    )

    db = sqlite3.connect(stopped["database"])
    blob, messages = db.execute(
        "SELECT length(blob), messages FROM folders WHERE account = ? AND path = 'INBOX'",
        (report["accounts"][-1],),
    ).fetchone()
    row = db.execute(
        "SELECT length(account) + length(path) + 8 * 5 + length(coalesce(special_use, '')) "
        "+ length(blob) FROM folders WHERE account = ? AND path = 'INBOX'",
        (report["accounts"][-1],),
    ).fetchone()[0]
    db.close()
    store = Table(
        "store: the folders row of that INBOX",
        headers=("measure", "peer", "imapapi", "target"),
    )
    per_message = blob / max(messages, 1)
    store.rows.append(("flag-map blob", "-", f"{blob:,} B", ""))
    store.rows.append(("whole row (approx.)", "-", f"{row:,} B", ""))
    store.rows.append(("per message (row)", "~150 B", f"{row / max(messages, 1):.2f} B", "≤ 10 B"))
    store.rows.append(
        (
            "per 10,000 messages (row)",
            "-",
            f"{row * 10000 / max(messages, 1) / 1024:.1f} KiB",
            "≤ 100 KiB",
        )
    )
    results = {
        "raw_fetch": raw_fetch,
        "paired_raw_fetch": paired_raw,
        "index_step": median(report["index_step"]),
        "index": median(report["seconds"]),
        "store_per_message": row / max(messages, 1),
        "store_per_10k": row * 10000 / max(messages, 1),
        "blob_per_message": per_message,
    }
    return table, store, results


# --- connect and latency ----------------------------------------------------------------------


async def bench_connect(
    dovecot: Dovecot, opts: Options, work: Path, receiver: WebhookReceiver
) -> tuple[Table, Table | None, Table, dict[str, Any]]:
    users = [user_name(n) for n in range(opts.accounts)]
    base = {"host": dovecot.host, "port": dovecot.port, "users": users}
    # 64 logins in flight, as the service's default limit; it is also the raw client's best
    # (all at once thrashes Dovecot's process creation on a small machine).
    raw_child = await Child.start("raw-connect", {**base, "concurrency": 64})
    raw = await raw_child.next("raw-connect")
    await raw_child.finish()
    await asyncio.sleep(2.0)  # Dovecot reaps the raw connections' processes

    cfg: dict[str, Any] = {
        **base,
        "data_dir": str(work / "connect-data"),
        "webhook_url": receiver.url if "latency" in opts.only else None,
    }
    if opts.profile:
        cfg["profile"] = str(opts.profile.with_suffix(".connect.txt"))
    child = await Child.start("service", cfg)
    ours = await child.next("connect")
    latency_table = None
    latency: dict[str, Any] = {}
    if "latency" in opts.only:
        await child.next("ready")
        latency_table, latency = await bench_latency(dovecot, opts, receiver, users[0])
    stopped = await child.stop()

    n = opts.accounts
    raw_per = (raw["rss_after"] - raw["rss_before"]) / n
    our_per = (ours["rss_after"] - ours["rss_before"]) / n
    table = Table(f"connect: {n:,} accounts on one Dovecot")
    table.add("registered through the API (all POSTs answered)", None, ours["registered"], "s")
    table.add("all connected", raw["seconds"], ours["connected"], "s")
    table.add("all finished their first sync", raw["seconds"], ours["synced"], "s")
    table.add("RSS growth per account", raw_per, our_per, "KiB")
    table.add("CPU of the measured process", raw["cpu"], ours["cpu"], "s")
    table.add(
        "CPU of the whole machine (Dovecot too)", raw["machine_cpu"], ours["machine_cpu"], "s"
    )
    table.notes.append(
        "raw: LOGIN + SELECT INBOX + IDLE, 64 at a time; imapapi: POST /v1/account "
        "8 at a time, default login limits (64 overall, 16 per host), first sync of 6 folders"
    )
    table.notes.append(
        f"RSS: raw {raw['rss_before'] / 1024:.0f} → {raw['rss_after'] / 1024:.0f} MiB, "
        f"imapapi {ours['rss_before'] / 1024:.0f} → {ours['rss_after'] / 1024:.0f} MiB"
    )

    db = sqlite3.connect(stopped["database"])
    per_account = [
        sum(rows_bytes(db, t, u) for t in ("accounts", "folders", "mailbox_index"))
        for u in users[1:]  # users[0] received the latency messages
    ] or [0]
    db.close()
    file_size = sum(
        p.stat().st_size
        for p in Path(stopped["database"]).parent.glob(Path(stopped["database"]).name + "*")
    )
    store = Table("store: an idle account", headers=("measure", "", "imapapi", "note"))
    store.rows.append(
        (
            "rows per account (accounts, folders, mailbox index)",
            "",
            f"{median(per_account):,.0f} B",
            "6 empty folders",
        )
    )
    store.rows.append(
        (
            "database files / accounts",
            "",
            f"{file_size / n:,.0f} B",
            "incl. outbox, indexes, free pages",
        )
    )
    results = {
        "raw_connect": raw["seconds"],
        "connected": ours["connected"],
        "synced": ours["synced"],
        "raw_rss": raw_per,
        "rss": our_per,
        "store_account": median(per_account),
        **latency,
    }
    return table, latency_table, store, results


async def bench_latency(
    dovecot: Dovecot, opts: Options, receiver: WebhookReceiver, user: str
) -> tuple[Table, dict[str, Any]]:
    """APPEND → EXISTS on a bare IDLEing client, and → messageNew webhook, from one APPEND."""
    host, port = dovecot.host, dovecot.port
    driver = await RawClient.open(host, port, user, PASSWORD)
    watchers = {}
    for path in ("INBOX", OTHER_FOLDER):
        watcher = await RawClient.open(host, port, user, PASSWORD)
        await watcher.command(b'SELECT "%s"' % path.encode())
        await watcher.idle()
        watchers[path] = watcher
    raw: dict[str, list[float]] = {p: [] for p in watchers}
    ours: dict[str, list[float]] = {p: [] for p in watchers}
    rng = random.Random(7)
    for i in range(opts.samples):
        for path, watcher in watchers.items():
            subject = f"bench latency {path} {i} {time.time_ns()}"
            exists = asyncio.create_task(watcher.wait_line(b" EXISTS", 30.0))
            started = time.monotonic()
            await driver.append(path, [(message(subject), ())])
            raw[path].append(await exists - started)
            hits = await receiver.wait_for(_subject_is(subject), timeout=30.0)
            ours[path].append(hits[0].received_at - started)
            # Dovecot may be polling (see the inotify note): a pause drawn over a whole 1 s
            # period spreads the APPENDs over the poll's phase instead of locking onto it.
            await asyncio.sleep(rng.uniform(0.05, 1.05))
    for watcher in watchers.values():
        await watcher.close()
    await driver.close()

    table = Table(
        f"latency: APPEND → messageNew webhook, {opts.accounts:,} accounts connected, "
        f"{opts.samples} samples per folder"
    )
    results: dict[str, Any] = {}
    for path in watchers:
        label = "INBOX" if path == "INBOX" else f"{path} (not INBOX)"
        for p in (50, 95, 99):
            r, o = percentile(raw[path], p) * 1000, percentile(ours[path], p) * 1000
            table.add(f"{label} p{p}", r, o, "ms")
        deltas = [o - r for o, r in zip(ours[path], raw[path], strict=True)]
        table.rows.append(
            (
                f"{label} webhook - EXISTS, p50 of pairs",
                "",
                f"{percentile(deltas, 50) * 1000:.1f} ms",
                "",
            )
        )
        key = "inbox" if path == "INBOX" else "other"
        results[f"raw_{key}_p50"] = percentile(raw[path], 50) * 1000
        results[f"{key}_p50"] = percentile(ours[path], 50) * 1000
    table.notes.append(
        "raw: a bare client IDLEing on the same folder of the same user, timed from the same APPEND"
    )
    instances = inotify_instances()
    if instances and instances < 2 * opts.accounts:
        table.notes.append(
            f"fs.inotify.max_user_instances = {instances}: Dovecot's processes (all one uid) run "
            "out and fall back to polling every mailbox_idle_check_interval (1 s), for raw and "
            "imapapi alike"
        )
    return table, results


def inotify_instances() -> int:
    try:
        return int(INOTIFY.read_text())
    except (OSError, ValueError):
        return 0


def _subject_is(subject: str) -> Callable[[Any], bool]:
    def match(received: Any) -> bool:
        body = received.json
        return (
            isinstance(body, dict)
            and body.get("event") == "messageNew"
            and (body.get("data") or {}).get("subject") == subject
        )

    return match


# --- summary ----------------------------------------------------------------------------------


def summary(results: dict[str, Any]) -> Table:
    table = Table("summary against the targets", headers=("target", "measured", "bound", "result"))

    def check(
        label: str, value: float | None, bound: float, unit: str, fmt: str = "{:.3f}"
    ) -> None:
        if value is None:
            return
        ok = value <= bound
        table.rows.append(
            (
                label,
                fmt.format(value) + f" {unit}",
                fmt.format(bound) + f" {unit}",
                "met" if ok else "MISSED",
            )
        )

    def check_min(label: str, value: float, bound: float) -> None:
        ok = value >= bound
        table.rows.append(
            (label, f"{value:,.0f} req/s", f"{bound:,.0f} req/s", "met" if ok else "MISSED")
        )

    r = results
    table.rows += webhook_targets(r)
    if "connected" in r:
        check("all connected (DESIGN ≤ 10 s)", r["connected"], 10.0, "s")
        check("RSS per account ≤ 100 KiB", r["rss"], 100.0, "KiB", "{:.1f}")
    table.rows += scale_summary(r)
    if "inbox_p50" in r:
        check(
            "messageNew INBOX p50 ≤ raw + 20 ms",
            r["inbox_p50"],
            r["raw_inbox_p50"] + 20,
            "ms",
            "{:.1f}",
        )
        check(
            "messageNew other folder p50 ≤ raw + 20 ms",
            r["other_p50"],
            r["raw_other_p50"] + 20,
            "ms",
            "{:.1f}",
        )
    if "list_first_p50" in r:
        for name, label in (("first", "page 0"), ("middle", "middle page")):
            check(
                f"list {label} p50 ≤ 1.5x raw fetch (bytes only)",
                r[f"list_{name}_p50"],
                1.5 * r[f"list_{name}_raw_p50"],
                "ms",
                "{:.2f}",
            )
            check(
                f"list {label} p50 ≤ 1.5x raw fetch + imapclient parse",
                r[f"list_{name}_p50"],
                1.5 * r[f"list_{name}_parse_p50"],
                "ms",
                "{:.2f}",
            )
            check(f"list {label} p50 ≤ 5 ms (DESIGN)", r[f"list_{name}_p50"], 5.0, "ms", "{:.2f}")
            check_min(f"list {label} ≥ 500 req/s (DESIGN)", r[f"list_{name}_rate"], 500.0)
        check("details p50 ≤ 5 ms (DESIGN)", r["details_p50"], 5.0, "ms", "{:.2f}")
        check_min("details ≥ 1,000 req/s (DESIGN)", r["details_rate"], 1000.0)
        check("list page 0 p50 ≤ 1.5 ms (issue 17)", r["list_first_p50"], 1.5, "ms", "{:.2f}")
        check_min("list page 0 ≥ 1,000 req/s (issue 17)", r["list_first_rate"], 1000.0)
        check_min("details ≥ 1,500 req/s (issue 17)", r["details_rate"], 1500.0)
    if "index" in r:
        check("initial index step ≤ 2x raw fetch", r["index_step"], 2 * r["paired_raw_fetch"], "s")
        check("initial index ≤ 1 s (DESIGN, 20k)", r["index"], 1.0, "s")
        check("store per message ≤ 10 B", r["store_per_message"], 10.0, "B", "{:.2f}")
        check(
            "store per 10k-message folder ≤ 100 KiB",
            r["store_per_10k"] / 1024,
            100.0,
            "KiB",
            "{:.1f}",
        )
    return table


async def run(opts: Options) -> int:
    raise_file_limit()
    work = Path(tempfile.mkdtemp(prefix="imapapi-bench-"))
    mail_dir = memory_dir("dovecot")
    dovecot = Dovecot(mail_dir)
    receiver = WebhookReceiver()
    results: dict[str, Any] = {}
    tables: list[Table] = []
    # Filling the big folder is 20,000 saves: without fsync after each it takes seconds, not
    # half a minute. Only the bench's own Dovecot is changed, and its mail is thrown away.
    config = dovecot.config_path.read_text()
    dovecot.config_path.write_text(config + "mail_fsync = never\n")
    try:
        dovecot.start()
        receiver.start()
        started = time.monotonic()
        for n in range(opts.accounts):
            dovecot.add_user(user_name(n), PASSWORD)
        dovecot.add_user("bigbox", PASSWORD)
        print(
            f"# {opts.accounts:,} users created in {time.monotonic() - started:.1f} s", flush=True
        )
        if {"index", "list"} & opts.only:
            seconds = await fill(dovecot, "bigbox", opts.messages)
            print(f"# {opts.messages:,} messages appended in {seconds:.1f} s", flush=True)
        if "index" in opts.only:
            index, store, got = await bench_index(dovecot, opts, work)
            results.update(got)
            for t in (index, store):
                print(t.render() + "\n", flush=True)
                tables.append(t)
        if "list" in opts.only:
            listing, got = await bench_list(
                dovecot.host, dovecot.port, opts.messages, opts.samples * 4, work, opts.profile
            )
            results.update(got)
            print(listing.render() + "\n", flush=True)
        if {"connect", "latency"} & opts.only:
            connect, latency, store, got = await bench_connect(dovecot, opts, work, receiver)
            results.update(got)
            for t in (connect, latency, store):
                if t is not None:
                    print(t.render() + "\n", flush=True)
        if "webhooks" in opts.only:
            hooks, got = await bench_webhooks(dovecot, opts, work)
            results.update(got)
            print(hooks.render() + "\n", flush=True)
        if "scale" in opts.only:
            scale, got = await bench_scale(opts.scale, work, opts.profile)
            results.update(got)
            print(scale.render() + "\n", flush=True)
    finally:
        receiver.stop()
        dovecot.close()
        if not os.environ.get("IMAPAPI_BENCH_KEEP"):
            for path in (work, mail_dir):
                if path is not None:
                    shutil.rmtree(path, ignore_errors=True)
    print(summary(results).render(), flush=True)
    return 0
