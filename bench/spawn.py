"""Starting a benchmark child process (`python -m bench.child MODE CONFIG`, or another module of
the same protocol) and reading its JSON-line reports."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARG_MAX = 100_000  # Linux refuses one argument over 128 KiB (MAX_ARG_STRLEN)


class Child:
    """`python -m bench.child MODE CONFIG`, read as JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, mode: str, cfg: dict[str, Any], module: str = "bench.child") -> Child:
        argument = json.dumps(cfg)
        if len(argument) > ARG_MAX:  # 10,000 user names: in a file ("@path")
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
                file.write(argument)
            argument = "@" + file.name
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            mode,
            argument,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        return cls(proc)

    async def next(self, phase: str, timeout: float = 900.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    code = await self.proc.wait()
                    raise RuntimeError(f"benchmark child exited ({code}) before {phase!r}")
                report: dict[str, Any] = json.loads(line)
                if report.get("phase") == phase:
                    return report

    async def stop(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"stop\n")
        await self.proc.stdin.drain()
        report = await self.next("stopped", timeout=120)
        await self.proc.wait()
        return report

    async def finish(self, timeout: float = 120.0) -> None:
        async with asyncio.timeout(timeout):
            await self.proc.wait()
