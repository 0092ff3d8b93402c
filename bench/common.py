"""Shared pieces of the benchmarks: memory readings, percentiles, tables, test messages."""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "bench-pass"
# Large enough for 10,000 service connections (bench/scale.py) + sqlite, webhooks, Redis, and
# for the bench's Dovecot, which inherits the driver's limit (its imap-hibernate and anvil
# processes hold a descriptor per connection).
WANT_FILES = 65536


def raise_file_limit(want: int = WANT_FILES) -> int:
    """Raise RLIMIT_NOFILE's soft limit towards `want`; the hard limit too where allowed (as
    root), else up to the hard limit. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            want = hard  # not privileged: the hard limit is as far as it goes
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    return soft


def rss_kib() -> int:
    """This process's resident set (VmRSS) in KiB, after a full collection."""
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def memory_dir(name: str) -> Path | None:
    """A fresh directory on /dev/shm (tmpfs) when there is one, for the bench's mail server;
    None: the server makes its own temp dir. The server stands for a remote one, whose disk is
    not what we measure: on this shared machine the disk's write-back made Dovecot's APPENDs
    vary from 1,200 to 16,000 a second between runs. imapapi's own store stays on disk."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        return None
    return Path(tempfile.mkdtemp(prefix=f"imapapi-bench-{name}-", dir=shm))


def cpu_seconds() -> float:
    """CPU time (user + system) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def system_seconds() -> float:
    """The kernel's share of `cpu_seconds` (socket calls, and on loopback the receiving side's
    TCP work and wake-ups, charged to the sender)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores; /proc/stat), so a phase's share
    of Dovecot's work shows next to ours."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far, all its threads (/proc/PID/stat)."""
    _, utime, stime, _ = _stat(pid)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and every descendant so far, the exited ones they reaped
    included (/proc: Dovecot's master and its login, auth and imap processes)."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, utime, stime, reaped = _stat(int(entry))
            except OSError:  # exited meanwhile
                continue
            children.setdefault(ppid, []).append(int(entry))
            ticks[int(entry)] = utime + stime + reaped
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int, int, int]:
    """ppid, utime, stime, and the reaped children's cutime + cstime (clock ticks)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]), int(fields[12]), int(fields[13]) + int(fields[14])


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def message(
    subject: str,
    *,
    size: int = 0,
    message_id: str | None = None,
    sender: str = "Bench Sender <sender@bench.test>",
) -> bytes:
    """A small RFC 5322 message; `size` pads the body to about that many bytes."""
    mid = message_id or f"<{time.time_ns()}.{subject.replace(' ', '-')}@bench.test>"
    body = "Hello from the benchmark.\r\n"
    if size > len(body):
        body += ("x" * 76 + "\r\n") * ((size - len(body)) // 78)
    return (
        f"From: {sender}\r\n"
        "To: user@bench.test\r\n"
        f"Subject: {subject}\r\n"
        "Date: Mon, 07 Oct 2019 06:05:23 +0000\r\n"
        f"Message-ID: {mid}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{body}"
    ).encode()


@dataclass
class Table:
    """One printed table: rows of (label, raw baseline, ours, ratio/note)."""

    title: str
    headers: tuple[str, ...] = ("measure", "raw baseline", "imapapi", "ratio")
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, label: str, raw: float | None, ours: float | None, unit: str) -> None:
        ratio = "" if raw is None or ours is None or raw == 0 else f"{ours / raw:.2f}x"
        self.rows.append((label, fmt(raw, unit), fmt(ours, unit), ratio))

    def render(self) -> str:
        columns = range(len(self.headers))
        widths = [max(len(r[i]) for r in [self.headers, *self.rows]) for i in columns]
        line = "  ".join("-" * w for w in widths)
        out = [f"== {self.title} ==", _row(self.headers, widths), line]
        out += [_row(r, widths) for r in self.rows]
        out += [f"  note: {n}" for n in self.notes]
        return "\n".join(out)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if value != value:  # NaN: nothing measured
        return "n/a"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "us":
        return f"{value:.1f} µs"
    if unit == "KiB":
        return f"{value:,.1f} KiB"
    if unit == "B":
        return f"{value:,.1f} B"
    return f"{value:,.0f} {unit}".strip()


class PySpy:
    """`py-spy record` of a child while the block runs, into PREFIX.LABEL.txt, when
    IMAPAPI_BENCH_PYSPY=PREFIX (webhooks: the timed window; list: each concurrent phase)."""

    def __init__(self, pid: int, label: str) -> None:
        self.pid, self.label = pid, label
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> PySpy:
        prefix = os.environ.get("IMAPAPI_BENCH_PYSPY")
        if prefix:
            out = f"{prefix}.{self.label}.txt"
            self.proc = await asyncio.create_subprocess_exec(
                shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy",
                "record", "--format", "raw", "--rate", _pyspy_rate(), "-p", str(self.pid),
                "-o", out, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await asyncio.sleep(0.5)  # attached before the window starts
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            await self.proc.wait()


def _pyspy_rate() -> str:
    """Samples a second (IMAPAPI_BENCH_PYSPY_RATE, default 200): more show more, and slow the
    child more."""
    return os.environ.get("IMAPAPI_BENCH_PYSPY_RATE", "200")
