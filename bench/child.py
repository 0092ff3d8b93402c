"""The measured processes: `python -m bench.child MODE CONFIG_JSON`.

Each measurement that reads this process's RSS runs in a fresh child, so one benchmark's
leftovers (Python keeps freed memory) never count in another's figure. A child reports JSON
lines on stdout; the service child then waits for "stop" on stdin so the parent can drive the
latency benchmark against it while it runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    PASSWORD,
    cpu_seconds,
    machine_busy,
    raise_file_limit,
    rss_kib,
    system_seconds,
)
from bench.rawimap import RawClient

DEADLINE = 600.0  # no phase of a child waits longer than this
RAW_INDEX_FETCH = b"UID FETCH 1:* (UID FLAGS)"


def emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


# --- raw baseline: connect, log in, SELECT, IDLE ---------------------------------------------


async def raw_connect(cfg: dict[str, Any]) -> None:
    users: list[str] = cfg["users"]
    limit = asyncio.Semaphore(cfg["concurrency"])
    clients: list[RawClient] = []
    before = rss_kib()

    async def one(user: str) -> None:
        async with limit:
            client = await RawClient.open(cfg["host"], cfg["port"], user, PASSWORD)
            await client.command(b"SELECT INBOX")
            await client.idle()
            clients.append(client)

    started = time.monotonic()
    cpu, machine, system = cpu_seconds(), machine_busy(), system_seconds()
    async with asyncio.timeout(DEADLINE):
        await asyncio.gather(*(one(u) for u in users))
    elapsed = time.monotonic() - started
    cpu, machine = cpu_seconds() - cpu, machine_busy() - machine
    system = system_seconds() - system
    await asyncio.sleep(1.0)  # as the service side: let transient buffers go
    after = rss_kib()
    emit(
        phase="raw-connect",
        seconds=elapsed,
        cpu=cpu,
        system_cpu=system,
        machine_cpu=machine,
        rss_before=before,
        rss_after=after,
        n=len(users),
    )
    await asyncio.gather(*(c.close() for c in clients))


# --- the service, in process -------------------------------------------------------------------


async def service(cfg: dict[str, Any]) -> None:
    import httpx

    from imapapi.cli.serve import settle_heap
    from imapapi.config import Settings
    from imapapi.credentials.tokens import create_token
    from imapapi.service import Service
    from imapapi.sessions.session import AccountSession
    from imapapi.web import create_app

    settings = Settings(
        data_dir=Path(cfg["data_dir"]),
        secret="bench-secret-material-not-for-production",
        log_level="WARNING",
        # The Redis store when given (bench/scale.py): registration then goes through the
        # node scheduler's lease claims.
        redis_url=cfg.get("redis_url"),
        redis_prefix=cfg.get("redis_prefix", "imapapi"),
        **({"summary_cache": cfg["summary_cache"]} if "summary_cache" in cfg else {}),
    )
    svc = Service.create(settings)
    app = create_app(svc, manage_lifespan=False)
    await svc.start()
    settle_heap()  # as `imapapi serve` does after start-up
    pushes: list[float] = []  # the webhooks bench's (`_time_pushes`)
    try:
        _, token = await create_token(svc.store, "bench")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://imapapi.bench",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60.0,
        ) as client:
            await client.get("/v1/accounts")  # warm the routes before the memory baseline

            def session(account: str) -> AccountSession:
                found = svc.accounts.session(account)
                assert isinstance(found, AccountSession)
                return found

            async def register(account: str, user: str) -> None:
                body = {
                    "account": account,
                    "name": user,
                    "imap": {
                        "host": cfg["host"],
                        "port": cfg["port"],
                        "secure": False,
                        "starttls": "never",
                        "auth": {"user": user, "pass": PASSWORD},
                    },
                }
                response = await client.post("/v1/account", json=body)
                if response.status_code != 200:
                    raise RuntimeError(f"registering {account}: {response.text}")

            if cfg.get("users"):
                await connect_phase(cfg, svc, register, session)
            if cfg.get("index_user"):
                await index_phase(cfg, client, register, session)
            if cfg.get("list_user"):
                from bench.listing import serve_phase

                await serve_phase(cfg, app, token, register, session, emit)
            if cfg.get("webhook_url"):
                _time_pushes(pushes)
                response = await client.post(
                    "/v1/settings",
                    json={"webhooks": cfg["webhook_url"], "webhookEvents": ["messageNew"]},
                )
                if response.status_code != 200:
                    raise RuntimeError(f"settings: {response.text}")
                emit(phase="ready")
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, sys.stdin.readline)
    finally:
        await svc.stop()
    emit(phase="stopped", database=str(settings.database_path), pushes=pushes)


def _time_pushes(pushes: list[float]) -> None:
    """Note when each NOTIFY STATUS (a change the server pushed) reached an account's sync, on
    the monotonic clock the driver and the receiver share: the webhooks bench compares its
    first with the first APPEND and with a bare client's."""
    from imapapi.syncing import syncer

    handler = syncer._ON_EVENT["MailboxStatusUpdate"]

    def timed(self: Any, conn: Any, event: Any) -> None:
        pushes.append(time.monotonic())
        handler(self, conn, event)

    syncer._ON_EVENT["MailboxStatusUpdate"] = timed


async def connect_phase(cfg: dict[str, Any], svc: Any, register: Any, session: Any) -> None:
    users: list[str] = cfg["users"]
    before = rss_kib()
    cpu, machine, system = cpu_seconds(), machine_busy(), system_seconds()
    limit = asyncio.Semaphore(cfg.get("api_concurrency", 8))

    async def one(user: str) -> None:
        async with limit:
            await register(user, user)

    started = time.monotonic()
    deadline = started + DEADLINE
    await asyncio.gather(*(one(u) for u in users))
    registered = time.monotonic() - started
    # One session after the other, not a poll of every state: each poll costs O(N), and
    # polled every few ms it was the largest CPU figure of this process at 5,000 accounts.
    async with asyncio.timeout(deadline - time.monotonic()):
        for user in users:
            await session(user).wait_connected(DEADLINE)
    connected = time.monotonic() - started
    states = svc.accounts.count_by_state()
    if states.get("connected", 0) < len(users):
        raise RuntimeError(f"every account connected, but some lost it again: {states}")
    async with asyncio.timeout(deadline - time.monotonic()):
        for user in users:
            await session(user).syncer.synced.wait()
    synced = time.monotonic() - started
    cpu, machine = cpu_seconds() - cpu, machine_busy() - machine
    system = system_seconds() - system
    await asyncio.sleep(1.0)  # transient per-connect buffers settle before RSS is read
    after = rss_kib()
    emit(
        phase="connect",
        n=len(users),
        registered=registered,
        connected=connected,
        synced=synced,
        cpu=cpu,
        system_cpu=system,
        machine_cpu=machine,
        rss_before=before,
        rss_after=after,
    )


async def index_phase(cfg: dict[str, Any], client: Any, register: Any, session: Any) -> None:
    # The raw baseline is timed here, right before each registration, on a bare connection as
    # the parent's (CONDSTORE enabled): same process, same moment, so a busy machine slows
    # both sides of a pair alike.
    raw = await RawClient.open(cfg["host"], cfg["port"], cfg["index_user"], PASSWORD)
    await raw.command(b"ENABLE CONDSTORE")
    await raw.command(b"EXAMINE INBOX (CONDSTORE)")
    await raw.fetch_bytes(RAW_INDEX_FETCH)  # Dovecot's caches warm, as for every run below
    times, steps, raw_times = [], [], []
    for n in range(cfg.get("repeat", 1)):
        account = f"index-{n}"
        if n:  # one account on the mailbox at a time: the last one's NOTIFY would resync too
            await client.delete(f"/v1/account/index-{n - 1}")
        started = time.monotonic()
        await raw.fetch_bytes(RAW_INDEX_FETCH)
        raw_times.append(time.monotonic() - started)
        started = time.monotonic()
        await register(account, cfg["index_user"])
        # the session exists once the POST answered; its first sync sets `synced`
        syncer = session(account).syncer
        async with asyncio.timeout(DEADLINE):
            await syncer.synced.wait()
        times.append(time.monotonic() - started)
        # The INBOX is the one folder with mail, so the one the first sync fetched in full.
        step = syncer.stats.last_index
        if step is None or step.path != "INBOX":
            raise RuntimeError(f"the first sync did not index INBOX last: {step}")
        steps.append(step.seconds)
    await raw.close()
    emit(
        phase="index",
        seconds=times,
        index_step=steps,
        raw_fetch=raw_times,
        accounts=[f"index-{n}" for n in range(len(times))],
    )


def main() -> None:
    mode, raw = sys.argv[1], sys.argv[2]
    if raw.startswith("@"):  # too long for an argument: the parent wrote it to a file
        path = Path(raw[1:])
        raw = path.read_text()
        path.unlink()
    cfg = json.loads(raw)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    raise_file_limit()
    runner = {"raw-connect": raw_connect, "service": service}[mode]
    profile = cfg.get("profile")
    if profile:
        from pyinstrument import Profiler  # only for `--profile`; not a dependency

        profiler = Profiler(async_mode="enabled")
        with profiler:
            asyncio.run(runner(cfg))
        Path(profile).parent.mkdir(parents=True, exist_ok=True)
        Path(profile).write_text(profiler.output_text(unicode=True, show_all=False))
    else:
        asyncio.run(runner(cfg))


if __name__ == "__main__":
    main()
