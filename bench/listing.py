"""The listing benchmark (issue 5 item 8, DESIGN.md §8): message pages and details over HTTP.

Driver side (`bench_list`): a raw client runs the same `UID FETCH` a listing page sends, on an
open connection, bytes only and with imapclient's parser, and alone as well as after the NOOP
that imapapi sends first on a folder it keeps selected; then a child (`serve_phase`, in
`bench/child.py`'s service) registers the big INBOX's account and serves the API with a real
uvicorn on loopback, and this process is the HTTP client (httpx), one request at a time and
with 8 clients at once. The client runs in another process than the server so its own CPU does
not count as the server's latency (both share the machine with Dovecot: read ratios).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from imapclient import response_parser

from bench.common import PASSWORD, PySpy, Table, percentile, process_cpu
from bench.rawimap import RawClient
from bench.spawn import Child
from imapapi.syncing.classification import SUMMARY_HEADERS

USER = "bigbox"
ACCOUNT = "listing"
PAGE_SIZE = 20
CONCURRENCY = 8
# The items `operations/messages.py` fetches for a listing page (`summary_items`: SUMMARY_ITEMS
# and the header fields threading and the classification read; no Gmail items on a server
# without X-GM-EXT-1), so the raw client reads exactly the same bytes.
ITEMS = b"(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE %s)" % SUMMARY_HEADERS.encode()


def page_uids(total: int, page: int) -> tuple[int, int]:
    """The UID range of a page, newest first, in a folder filled once (UID = sequence number)."""
    high = total - page * PAGE_SIZE
    return max(1, high - PAGE_SIZE + 1), high


_LITERAL = re.compile(rb"\{(\d+)\}\Z")


def imapclient_records(data: bytes) -> list[bytes | tuple[bytes, bytes]]:
    """The untagged FETCH responses of `data` as imaplib hands them to imapclient: "seq (items"
    text, a (text ending in "{n}", literal) pair per literal (the header fields item is one)."""
    records: list[bytes | tuple[bytes, bytes]] = []
    pos, fresh = 0, True
    while True:
        eol = data.index(b"\r\n", pos)
        line = data[pos:eol]
        if fresh:
            if not line.startswith(b"* "):
                return records  # the tagged completion
            line = line[2:].replace(b" FETCH ", b" ", 1)
        literal = _LITERAL.search(line)
        if literal is None:
            records.append(line)
            pos, fresh = eol + 2, True
        else:
            start = eol + 2
            pos = start + int(literal.group(1))
            records.append((line, data[start:pos]))
            fresh = False


def imapclient_parse(data: bytes) -> None:
    """imapclient as `IMAPClient.fetch` drives it, over imaplib-style records."""
    response_parser.parse_fetch_response(imapclient_records(data), uid_is_key=True)


async def timed(samples: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        out.append(time.perf_counter() - started)
    return out


async def concurrent(
    clients: int, per_client: int, calls: list[Callable[[], Awaitable[Any]]]
) -> tuple[list[float], float]:
    """`clients` loops of `per_client` calls each at once: (latencies, requests per second)."""
    latencies: list[float] = []

    async def loop(call: Callable[[], Awaitable[Any]]) -> None:
        latencies.extend(await timed(per_client, call))

    started = time.perf_counter()
    await asyncio.gather(*(loop(calls[i % len(calls)]) for i in range(clients)))
    return latencies, len(latencies) / (time.perf_counter() - started)


async def raw_side(host: str, port: int, total: int, samples: int) -> dict[str, Any]:
    clients = []
    for _ in range(CONCURRENCY):
        client = await RawClient.open(host, port, USER, PASSWORD)
        # CONDSTORE as imapapi's command connection has it: MODSEQ on every FETCH line.
        await client.command(b"ENABLE CONDSTORE")
        await client.command(b"EXAMINE INBOX")
        clients.append(client)
    out: dict[str, Any] = {}
    for name, page in (("first", 0), ("middle", total // PAGE_SIZE // 2)):
        low, high = page_uids(total, page)
        out.update(
            await raw_page(clients, name, b"UID FETCH %d:%d %s" % (low, high, ITEMS), samples)
        )
    for client in clients:
        await client.close()
    return out


async def raw_page(
    clients: list[RawClient], name: str, command: bytes, samples: int
) -> dict[str, Any]:
    async def fetch(client: RawClient = clients[0]) -> bytes:
        return (await client.fetch_bytes(command))[1]

    async def fetch_parse(client: RawClient = clients[0]) -> None:
        imapclient_parse(await fetch(client))

    async def noop_fetch(client: RawClient = clients[0]) -> bytes:
        await client.command(b"NOOP")
        return await fetch(client)

    await timed(20, fetch)  # warm Dovecot's caches for these messages
    out: dict[str, Any] = {
        f"{name}_bytes": await timed(samples, fetch),
        f"{name}_noop_bytes": await timed(samples, noop_fetch),
    }
    out[f"{name}_conc"] = await concurrent(
        CONCURRENCY, samples, [lambda c=c: fetch(c) for c in clients]
    )
    cpu = time.process_time()  # this process is the raw client: its CPU is the client's
    out[f"{name}_parse"] = await timed(samples, fetch_parse)
    out[f"{name}_conc_parse"] = await concurrent(
        CONCURRENCY, samples, [lambda c=c: fetch_parse(c) for c in clients]
    )
    out[f"{name}_cpu"] = (time.process_time() - cpu) / (samples * (1 + CONCURRENCY))
    return out


async def http_side(
    port: int, token: str, total: int, samples: int, server_pid: int, label: str
) -> dict[str, Any]:
    # aiohttp rather than httpx as the client: it costs a fraction of the CPU per request, and
    # the client shares this machine's two cores with the server and Dovecot.
    import aiohttp

    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=aiohttp.ClientTimeout(total=60),
        connector=aiohttp.TCPConnector(limit=CONCURRENCY),
    ) as client:

        async def get(url: str) -> Any:
            async with client.get(url) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {url}: {response.status} {body[:200]!r}")
                return json.loads(body)

        base = f"/v1/account/{ACCOUNT}"
        pages = {"first": 0, "middle": total // PAGE_SIZE // 2}
        first = await get(f"{base}/messages?path=INBOX&page=0&pageSize={PAGE_SIZE}")
        if len(first["messages"]) != min(PAGE_SIZE, total):
            raise RuntimeError(f"page 0 has {len(first['messages'])} messages")
        urls = {"health": "/health"}
        urls.update(
            (name, f"{base}/messages?path=INBOX&page={page}&pageSize={PAGE_SIZE}")
            for name, page in pages.items()
        )
        urls["details"] = f"{base}/message/{first['messages'][0]['id']}"
        for name, url in urls.items():
            await timed(20, lambda url=url: get(url))  # warm: routes, caches, the connection
            cpu = process_cpu(server_pid)
            out[name] = await timed(samples, lambda url=url: get(url))
            async with PySpy(server_pid, f"{label}-{name}"):
                out[f"{name}_conc"] = await concurrent(
                    CONCURRENCY, samples, [lambda url=url: get(url)]
                )
            out[f"{name}_cpu"] = (process_cpu(server_pid) - cpu) / (samples * (1 + CONCURRENCY))
    return out


def report(total: int, raw: dict[str, Any], ours: dict[str, Any]) -> tuple[Table, dict[str, Any]]:
    from imapapi.config import Settings

    connections = Settings().command_connections  # what the child runs with: same environment
    ms = 1000.0
    table = Table(f"list: pages of {PAGE_SIZE} of a {total:,}-message INBOX, and details")
    results: dict[str, Any] = {}
    for name, label in (("first", "page 0"), ("middle", "middle page")):
        raw_p50 = percentile(raw[f"{name}_bytes"], 50) * ms
        parse_p50 = percentile(raw[f"{name}_parse"], 50) * ms
        our_p50 = percentile(ours[name], 50) * ms
        table.add(f"{label} p50, 1 client (raw: bytes only)", raw_p50, our_p50, "ms")
        table.add(
            f"{label} p50, 1 client (raw: NOOP + fetch, bytes only)",
            percentile(raw[f"{name}_noop_bytes"], 50) * ms,
            our_p50,
            "ms",
        )
        table.add(f"{label} p50, 1 client (raw + imapclient parse)", parse_p50, our_p50, "ms")
        table.add(
            f"{label} p95, 1 client",
            percentile(raw[f"{name}_bytes"], 95) * ms,
            percentile(ours[name], 95) * ms,
            "ms",
        )
        raw_lat, raw_rate = raw[f"{name}_conc_parse"]
        our_lat, our_rate = ours[f"{name}_conc"]
        table.add(
            f"{label} p50, {CONCURRENCY} clients (raw + parse)",
            percentile(raw_lat, 50) * ms,
            percentile(our_lat, 50) * ms,
            "ms",
        )
        table.add(
            f"{label} p95, {CONCURRENCY} clients (raw + parse)",
            percentile(raw_lat, 95) * ms,
            percentile(our_lat, 95) * ms,
            "ms",
        )
        table.add(
            f"{label} req/s, {CONCURRENCY} clients (raw: bytes only)",
            raw[f"{name}_conc"][1],
            our_rate,
            "req/s",
        )
        table.add(
            f"{label} req/s, {CONCURRENCY} clients (raw + parse)", raw_rate, our_rate, "req/s"
        )
        table.add(
            f"{label} CPU per page (raw client: fetch + parse; imapapi: server)",
            raw[f"{name}_cpu"] * ms,
            ours[f"{name}_cpu"] * ms,
            "ms",
        )
        cold = f"{label}, no summaries kept (IMAPAPI_SUMMARY_CACHE=0):"
        table.add(
            f"{cold} p50, 1 client (raw: NOOP + fetch, bytes only)",
            percentile(raw[f"{name}_noop_bytes"], 50) * ms,
            percentile(ours[f"{name}_cold"], 50) * ms,
            "ms",
        )
        table.add(
            f"{cold} req/s, {CONCURRENCY} clients (raw: bytes only)",
            raw[f"{name}_conc"][1],
            ours[f"{name}_conc_cold"][1],
            "req/s",
        )
        table.add(
            f"{cold} CPU per page",
            raw[f"{name}_cpu"] * ms,
            ours[f"{name}_cpu_cold"] * ms,
            "ms",
        )
        results[f"list_{name}_raw_p50"] = raw_p50
        results[f"list_{name}_parse_p50"] = parse_p50
        results[f"list_{name}_cpu"] = ours[f"{name}_cpu"] * ms
        results[f"list_{name}_p50"] = our_p50
        results[f"list_{name}_rate"] = our_rate
    details_lat, details_rate = ours["details_conc"]
    table.add("details p50, 1 client", None, percentile(ours["details"], 50) * ms, "ms")
    table.add(f"details p50, {CONCURRENCY} clients", None, percentile(details_lat, 50) * ms, "ms")
    table.add(f"details req/s, {CONCURRENCY} clients", None, details_rate, "req/s")
    table.add("details CPU per request (server)", None, ours["details_cpu"] * ms, "ms")
    cold = "details, no summaries kept:"
    table.add(f"{cold} p50, 1 client", None, percentile(ours["details_cold"], 50) * ms, "ms")
    table.add(f"{cold} req/s, {CONCURRENCY} clients", None, ours["details_conc_cold"][1], "req/s")
    table.add(f"{cold} CPU per request", None, ours["details_cpu_cold"] * ms, "ms")
    table.add(
        "HTTP floor: GET /health p50, 1 client", None, percentile(ours["health"], 50) * ms, "ms"
    )
    table.add(
        f"HTTP floor: GET /health req/s, {CONCURRENCY} clients",
        None,
        ours["health_conc"][1],
        "req/s",
    )
    table.add("HTTP floor: CPU per request (server)", None, ours["health_cpu"] * ms, "ms")
    results["details_p50"] = percentile(ours["details"], 50) * ms
    results["details_rate"] = details_rate
    table.notes.append(
        f"raw: UID FETCH of the page's UIDs {ITEMS.decode()} on open connections (CONDSTORE "
        f"enabled, INBOX examined once), {CONCURRENCY} connections for the concurrent rows; "
        "'NOOP + fetch' is the same after a NOOP, one round trip each (imapapi writes the "
        "two together for a folder it keeps selected when the page's summaries are kept)"
    )
    table.notes.append(
        "imapapi: GET over HTTP/1.1 to uvicorn on loopback (client: aiohttp in the driver "
        f"process); {connections} IMAP command connection(s) for the account "
        "(IMAPAPI_COMMAND_CONNECTIONS), each keeping INBOX selected: NOOP + UID FETCH per "
        "page (of flags only for messages whose summaries are kept, then in one write), "
        "NOOP + one UID FETCH in one write per details asked for before (flags and text; two, "
        "with ENVELOPE and BODYSTRUCTURE, otherwise); requests beyond that wait for a "
        "connection. The rows 'no summaries "
        "kept' come from a second service child with IMAPAPI_SUMMARY_CACHE=0"
    )
    return table, results


# --- child side: the served API -----------------------------------------------------------------


async def serve_phase(
    cfg: dict[str, Any],
    app: Any,
    token: str,
    register: Callable[[str, str], Awaitable[None]],
    session: Callable[[str], Any],
    emit: Callable[..., None],
) -> None:
    """Register the big INBOX's account, wait for its first sync, serve the API on loopback
    until the driver writes a line on stdin."""
    import sys

    import uvicorn

    await register(ACCOUNT, cfg["list_user"])
    async with asyncio.timeout(600):
        await session(ACCOUNT).syncer.synced.wait()
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it Nagle holds uvicorn's body write behind its header write (a 40 ms stall
    # against the client's delayed ACK). uvicorn's own host/port binding gets this right.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", server_header=False, log_config=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(30):
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.01)
    profiler = None
    if cfg.get("serve_profile"):
        from pyinstrument import Profiler  # only for `--profile`; not a dependency

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    emit(phase="listening", port=sock.getsockname()[1], token=token)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    if profiler is not None:
        profiler.stop()
        write_text(Path(cfg["serve_profile"]), profiler.output_text(unicode=True, show_all=False))
    server.should_exit = True
    await task


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- driver ---------------------------------------------------------------------------------------


async def bench_list(
    host: str, port: int, total: int, samples: int, work: Path, profile: Path | None
) -> tuple[Table, dict[str, Any]]:

    raw = await raw_side(host, port, total, samples)
    ours: dict[str, Any] = {}
    # Twice: as configured (summaries kept, warm after the first requests), then with none
    # kept (IMAPAPI_SUMMARY_CACHE=0: every page parsed and classified afresh), "…_cold".
    for suffix in ("", "_cold"):
        cfg: dict[str, Any] = {
            "host": host,
            "port": port,
            "data_dir": str(work / f"list-data{suffix}"),
            "list_user": USER,
        }
        if suffix:
            cfg["summary_cache"] = 0
        elif profile:
            cfg["serve_profile"] = str(profile.with_suffix(".list.txt"))
        child = await Child.start("service", cfg)
        try:
            listening = await child.next("listening")
            got = await http_side(
                listening["port"],
                listening["token"],
                total,
                samples,
                child.proc.pid,
                f"list{suffix}",
            )
        finally:
            await child.stop()
        ours.update((key + suffix, value) for key, value in got.items())
    return report(total, raw, ours)
