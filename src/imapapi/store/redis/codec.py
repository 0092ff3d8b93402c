"""How values are written to and read back from Redis, for every module of this package.

Floats are stored as their Python repr (exact round trip; a Lua script never formats one, it only
compares); optional script arguments are '' or '+value'; replies come back as bytes
(decode_responses=False) and hashes either as dicts or, from Lua, as flat lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _f(value: float) -> str:
    """A float as stored: repr round-trips exactly (Lua never formats one, it only compares)."""
    return repr(float(value))


def _s(raw: bytes) -> str:
    return raw.decode()


def _opt(value: str | int | None) -> str:
    """Optional script argument: '' for None, else '+value' (so '' itself stays a value)."""
    return "" if value is None else f"+{value}"


def _fields(flat: Sequence[bytes]) -> dict[str, bytes]:
    """A Lua HGETALL reply (flat list) as a dict."""
    return {_s(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}


def _hash(raw: Any) -> dict[str, bytes]:
    if isinstance(raw, dict):
        return {_s(k): v for k, v in raw.items()}
    return _fields(raw)
