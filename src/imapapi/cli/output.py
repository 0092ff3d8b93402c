"""Output for people (aligned columns, relative times) and for scripts (`--json`)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

EMPTY = "-"


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell; the last column is never padded (it may be long,
    e.g. an error message)."""
    cells = [[_cell(value) for value in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        padded = [value.ljust(width) for value, width in zip(row[:-1], widths, strict=False)]
        print("  ".join([*padded, row[-1]]).rstrip())


def print_fields(fields: Sequence[tuple[str, Any]]) -> None:
    """`name   value` lines, values aligned."""
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print(f"{name.ljust(width)}  {_cell(value)}".rstrip())


def _cell(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    # One line per row: a server's multi-line error must not break the columns.
    return " ".join(str(value).split())


def timestamp(value: str | float | None) -> float | None:
    """Seconds since the epoch from an API date (ISO 8601) or a store time."""
    if value is None or isinstance(value, float | int):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def relative(value: str | float | None, now: float | None = None) -> str:
    """`in 42s`, `3m ago`, `2h ago`, `5d ago`; `-` when unknown."""
    moment = timestamp(value)
    if moment is None:
        return EMPTY
    delta = moment - (time.time() if now is None else now)
    span = abs(delta)
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
        if span >= seconds:
            amount = f"{int(span // seconds)}{unit}"
            break
    else:
        amount = f"{int(span)}s"
    return f"in {amount}" if delta > 0 else f"{amount} ago"


def when(value: str | float | None) -> str:
    """Relative, then the exact UTC time: `3m ago (2026-12-06 10:00:00Z)`."""
    moment = timestamp(value)
    if moment is None:
        return EMPTY
    exact = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment))
    return f"{relative(moment)} ({exact}Z)"
