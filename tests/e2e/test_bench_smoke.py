"""The benchmarks still run: `python -m bench --quick` with tiny numbers (no timing checks;
benchmarks print figures, they never fail on them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
@pytest.mark.timeout(90)
def test_quick_bench_prints_every_table() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--accounts",
            "3",
            "--messages",
            "200",
            "--samples",
            "2",
            "--events",
            "60",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    titles = ("== index:", "== store:", "== list:", "== connect:", "== latency:", "== scale:")
    for title in (*titles, "== summary"):
        assert title in result.stdout, result.stdout
    assert "== webhooks:" in result.stdout and "delivery alone" in result.stdout
    assert "store per message" in result.stdout
    assert "page 0 CPU per page" in result.stdout  # the server-CPU figure of the listing
