"""`./scripts/bench --only soak`: the consistency soak (tests/soak/) at size, per server.

For each server: a fresh harness server (tests/servers/*), a real webhook receiver, imapapi in
process on SQLite, then `run_soak`: M fresh accounts, N seeded random changes by plain IMAP
clients, settle, replay the webhooks and compare with what the server holds.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.backends import StoreBackend
from tests.integration.conftest import running_api
from tests.servers.mailserver import MailServer
from tests.servers.webhooks import WebhookReceiver
from tests.soak.runner import SoakResult, render, run_soak

from bench.common import raise_file_limit

SERVERS = ("dovecot", "cyrus", "courier")
# Servers without NOTIFY are polled with STATUS this often (the default is 30 s, which would
# make the settle window minutes long on Courier: see runner.quiet_window).
POLL_INTERVAL = 2.0


@dataclass
class SoakOptions:
    accounts: int
    operations: int
    seed: int | None
    servers: tuple[str, ...]


def make_server(kind: str) -> MailServer:
    """A new, not yet started harness server of ``kind``."""
    if kind == "dovecot":
        from tests.servers.dovecot import Dovecot

        return Dovecot()
    if kind == "cyrus":
        from tests.servers.cyrus import Cyrus  # type: ignore[import-not-found,unused-ignore]

        server: MailServer = Cyrus()
        return server
    if kind == "courier":
        from tests.servers.courier import Courier  # type: ignore[import-not-found,unused-ignore]

        server = Courier()
        return server
    raise ValueError(f"unknown server {kind!r}")


async def soak_one(kind: str, opts: SoakOptions, seed: int, work: Path) -> SoakResult | str:
    """One server's soak, or why it could not run."""
    try:
        server = make_server(kind)
    except ImportError as exc:
        return f"{kind}: no harness yet ({exc})"
    try:
        server.start()
    except Exception as exc:  # each harness's error carries its log tail
        server.close()
        return f"{kind}: could not start: {exc}"
    try:
        with WebhookReceiver() as receiver:
            async with running_api(
                work / f"{kind}-data",
                StoreBackend.sqlite(),
                status_poll_interval=POLL_INTERVAL,
                protocol_log_bytes=4 << 20,
                # Hundreds of first syncs at once queue behind the login limits: the test
                # settings' 5 s per command would call a slow server dead.
                imap_timeout=60.0,
                connect_timeout=30.0,
            ) as api:
                return await run_soak(
                    api,
                    server,
                    receiver,
                    accounts=opts.accounts,
                    operations=opts.operations,
                    seed=seed,
                    poll_interval=POLL_INTERVAL,
                    log_dir=work / "logs",
                )
    finally:
        server.close()


def _clean(work: Path, *, keep_logs: bool) -> None:
    """Remove the soak's files; the protocol logs the evidence points at stay if asked."""
    for entry in work.iterdir():
        if entry.name != "logs" or not keep_logs:
            shutil.rmtree(entry, ignore_errors=True)
    if not any(work.iterdir()):
        work.rmdir()


async def run_soaks(opts: SoakOptions) -> int:
    """Run the soak on each server; print the table, the seed and the first differences.
    Returns 1 when any server showed a difference (or could not settle), else 0."""
    raise_file_limit()
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(1 << 32)
    print(
        f"# soak: {opts.accounts:,} accounts, {opts.operations:,} operations per server, "
        f"seed {seed} (replay: --seed {seed})",
        flush=True,
    )
    keep = bool(os.environ.get("IMAPAPI_BENCH_KEEP"))
    work = Path(tempfile.mkdtemp(prefix="imapapi-soak-"))
    results: list[SoakResult] = []
    skipped: list[str] = []
    started = time.monotonic()
    try:
        for kind in opts.servers:
            outcome = await soak_one(kind, opts, seed, work)
            if isinstance(outcome, str):
                skipped.append(outcome)
                print(f"# {outcome}", flush=True)
                continue
            results.append(outcome)
            print(f"# {kind}: {outcome.summary()}", flush=True)
            if not outcome.verdict.ok:
                print(outcome.evidence(), flush=True)
    finally:
        if not keep:
            _clean(work, keep_logs=not all(r.verdict.ok for r in results))
    print(f"\n== soak: every change, exactly (seed {seed}) ==", flush=True)
    print(render(results) if results else "(no server ran)")
    for line in skipped:
        print(f"  note: {line}")
    print(
        "  note: seconds = first change until settled (no webhook for the quiet window, outbox "
        f"empty, all synced); whole run {time.monotonic() - started:.0f} s"
    )
    if (work / "logs").exists():
        print(f"  note: protocol logs of differing accounts kept in {work / 'logs'}")
    failed = any(not r.verdict.ok or not r.settled for r in results)
    return 1 if failed or not results else 0
