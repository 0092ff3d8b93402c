"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imapapi.store.sqlite import SqliteStore


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A real SQLite store in the test's temp dir."""
    s = SqliteStore(tmp_path / "db.sqlite")
    await s.open()
    try:
        yield s
    finally:
        await s.close()
