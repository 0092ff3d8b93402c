"""The webhook benchmark's helper processes: `python -m bench.hookchild MODE CONFIG_JSON`.

- `receiver`: an aiohttp endpoint on loopback that answers 200 to every POST. On the line
  `expect N LABEL` (stdin) it starts counting the `messageNew` events of run LABEL (subject
  `wh LABEL <account> <seq>`) and reports once it has N distinct ones: when the first and the
  last were answered, redeliveries, and events that overtook an earlier one of their account.
  `report` prints what arrived so far (for a run that timed out).
- `bare`: the ceiling — a bare aiohttp client POSTing comparable bodies to the receiver with
  keep-alive and the dispatcher's concurrency, each account's events in order.
- `drain`: delivery alone — the same events written to a fresh outbox (SQLite, or Redis), then
  `WebhookDispatcher.run(until_empty=True)` posts them: what the sync costs is left out.

Each runs in its own process so neither shares an event loop (or the GIL) with the process it
measures. Times are `time.monotonic()`, one clock for every process of the machine.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

DEADLINE = 600.0


def emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def subject(label: str, account: int, seq: int) -> str:
    return f"wh {label} {account} {seq}"


@dataclass
class Run:
    """What the receiver counts for one `expect`."""

    label: str
    expected: int
    seen: set[tuple[int, int]] = field(default_factory=set)
    last_seq: dict[int, int] = field(default_factory=dict)
    first_at: float | None = None
    last_at: float | None = None
    redelivered: int = 0
    overtaking: int = 0  # a new event arrived after a later one of its account: order broken
    sample: str | None = None  # one body as posted, the template of the bare client's bodies
    reported: bool = False

    def record(self, body: dict[str, Any], raw: bytes, at: float) -> None:
        parts = str((body.get("data") or {}).get("subject", "")).split(" ")
        if body.get("event") != "messageNew" or len(parts) != 4 or parts[:2] != ["wh", self.label]:
            return
        key = (int(parts[2]), int(parts[3]))
        if key in self.seen:
            self.redelivered += 1
            return
        self.seen.add(key)
        if key[1] < self.last_seq.get(key[0], -1):
            self.overtaking += 1
        self.last_seq[key[0]] = max(key[1], self.last_seq.get(key[0], -1))
        self.first_at = at if self.first_at is None else self.first_at
        self.last_at = at
        if self.sample is None:
            self.sample = raw.decode()

    def report(self) -> None:
        emit(
            phase="received",
            label=self.label,
            expected=self.expected,
            distinct=len(self.seen),
            first_at=self.first_at,
            last_at=self.last_at,
            redelivered=self.redelivered,
            overtaking=self.overtaking,
            accounts=len(self.last_seq),
            sample=self.sample,
        )


async def receiver(cfg: dict[str, Any]) -> None:
    state: dict[str, Run | None] = {"run": None}

    async def hook(request: web.Request) -> web.Response:
        raw = await request.read()
        run = state["run"]
        if run is not None:
            # Answered right after this: the time the 2xx goes out, give or take a write.
            run.record(json.loads(raw), raw, time.monotonic())
            if not run.reported and len(run.seen) >= run.expected:
                run.reported = True
                run.report()
        return web.Response(text='{"ok":true}', content_type="application/json")

    app = web.Application()
    app.router.add_post("/webhook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, cfg.get("host", "127.0.0.1"), 0, backlog=1024)
    await site.start()
    emit(phase="listening", port=runner.addresses[0][1])
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        words = line.split()
        if words[:1] == ["expect"]:
            state["run"] = Run(label=words[2], expected=int(words[1]))
            emit(phase="expecting")
        elif words[:1] == ["report"] and state["run"] is not None:
            state["run"].report()
        elif words[:1] == ["stop"]:
            break
    await runner.cleanup()


def bare_bodies(cfg: dict[str, Any]) -> list[list[bytes]]:
    """Per account, its bodies in order: the sample payload with account and subject set."""
    template = json.loads(cfg["sample"])
    out: list[list[bytes]] = []
    for account in range(cfg["accounts"]):
        bodies = []
        for seq in range(account, cfg["events"], cfg["accounts"]):
            body = copy.deepcopy(template)
            body["account"] = f"bare{account:05d}"
            body["eventId"] = f"bare-{account}-{seq}"
            body["data"]["subject"] = subject(cfg["label"], account, seq)
            bodies.append(json.dumps(body, separators=(",", ":")).encode())
        out.append(bodies)
    return out


async def bare(cfg: dict[str, Any]) -> None:
    per_account = bare_bodies(cfg)
    concurrency: int = cfg["concurrency"]
    # Worker i serves accounts i, i + concurrency, …, taking turns between them: every
    # account's events go out in order, and `concurrency` requests are in flight at a time.
    lanes: list[list[bytes]] = []
    for worker in range(concurrency):
        mine = per_account[worker::concurrency]
        lane = [b for turn in range(max(map(len, mine), default=0)) for b in _nth(mine, turn)]
        lanes.append(lane)
    headers = {"Content-Type": "application/json", "User-Agent": "bench-bare"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def lane_worker(bodies: list[bytes]) -> None:
            for body in bodies:
                async with session.post(cfg["url"], data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"receiver answered {response.status}")

        emit(phase="started", at=time.monotonic())
        async with asyncio.timeout(DEADLINE):
            await asyncio.gather(*(lane_worker(lane) for lane in lanes))
    emit(phase="done", at=time.monotonic())


async def drain(cfg: dict[str, Any]) -> None:
    from pathlib import Path

    from imapapi.events import WebhookDispatcher
    from imapapi.store.base import NewEvent, Store
    from imapapi.store.redis import RedisStore
    from imapapi.store.sqlite import SqliteStore

    store: Store
    if cfg.get("redis_url"):
        store = RedisStore(cfg["redis_url"], prefix="drain")
    else:
        store = SqliteStore(Path(cfg["data_dir"]) / "drain.db")
    await store.open()
    now = time.time()
    events = []
    for account, bodies in enumerate(bare_bodies(cfg)):
        for body in bodies:
            payload = json.loads(body)
            payload["account"] = f"drain{account:05d}"
            events.append(
                NewEvent(payload["eventId"], payload["account"], payload=payload, created=now)
            )
    events.sort(key=lambda e: int(e.event_id.rsplit("-", 1)[1]))  # as they were appended
    for first in range(0, len(events), 500):
        await store.add_events(events[first : first + 500])
    await store.update_settings({"webhooks": cfg["url"]})
    dispatcher = WebhookDispatcher(store, concurrency=cfg["concurrency"])
    emit(phase="started", at=time.monotonic())
    async with asyncio.timeout(DEADLINE):
        await dispatcher.run(until_empty=True)
    emit(phase="done", at=time.monotonic())
    await dispatcher.aclose()
    await store.close()


def _nth(lists: list[list[bytes]], n: int) -> list[bytes]:
    return [items[n] for items in lists if n < len(items)]


def main() -> None:
    mode, raw = sys.argv[1], sys.argv[2]
    runner = {"receiver": receiver, "bare": bare, "drain": drain}[mode]
    asyncio.run(runner(json.loads(raw)))


if __name__ == "__main__":
    main()
