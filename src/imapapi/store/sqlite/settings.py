"""Runtime settings on SQLite: one row per key (`SettingsStore`)."""

from __future__ import annotations

from typing import Any

from imapapi.store import keys
from imapapi.store.payload import dump, load
from imapapi.store.sqlite.connection import SqliteConnection


class SqliteSettings(SqliteConnection):
    """The `SettingsStore` part of `SqliteStore`."""

    async def get_settings(self) -> dict[str, Any]:
        async with self._read() as db:
            rows = await db.execute_fetchall(f"SELECT key, value FROM {keys.SETTINGS}")
        return {row[0]: load(row[1], f"setting {row[0]!r}") for row in rows}

    async def update_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        async with self._tx() as db:
            for key, value in values.items():
                if value is None:
                    await db.execute(f"DELETE FROM {keys.SETTINGS} WHERE key = ?", (key,))
                else:
                    await db.execute(
                        f"INSERT INTO {keys.SETTINGS} (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (key, dump(value)),
                    )
        return await self.get_settings()
