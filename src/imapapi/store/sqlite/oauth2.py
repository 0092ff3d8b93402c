"""OAuth2 apps, grants and consents under way on SQLite (`OAuth2Store`)."""

from __future__ import annotations

from typing import Any

from imapapi.store import keys
from imapapi.store.payload import dump, load_object
from imapapi.store.records import OAuth2AppRecord
from imapapi.store.sqlite.connection import SqliteConnection


class SqliteOAuth2(SqliteConnection):
    """The `OAuth2Store` part of `SqliteStore`."""

    async def put_oauth2_app(self, app: str, data: dict[str, Any], now: float) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                f"UPDATE {keys.OAUTH2_APPS} SET data = ?, updated = ? WHERE id = ?",
                (dump(data), now, app),
            )
            if cur.rowcount:
                return False
            await db.execute(
                f"INSERT INTO {keys.OAUTH2_APPS} (id, data, created, updated) VALUES (?,?,?,?)",
                (app, dump(data), now, now),
            )
            return True

    async def get_oauth2_app(self, app: str) -> OAuth2AppRecord | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT id, data, created, updated FROM {keys.OAUTH2_APPS} WHERE id = ?",
                    (app,),
                )
            )
        return self._app(rows[0]) if rows else None

    async def list_oauth2_apps(self) -> list[OAuth2AppRecord]:
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT id, data, created, updated FROM {keys.OAUTH2_APPS} ORDER BY id"
            )
        return [self._app(row) for row in rows]

    @staticmethod
    def _app(row: Any) -> OAuth2AppRecord:
        data = load_object(row[1], f"OAuth2 app {row[0]!r}")
        return OAuth2AppRecord(id=row[0], data=data, created=row[2], updated=row[3])

    async def delete_oauth2_app(self, app: str) -> bool:
        async with self._tx() as db:
            cur = await db.execute(f"DELETE FROM {keys.OAUTH2_APPS} WHERE id = ?", (app,))
            return cur.rowcount > 0

    async def put_oauth2_grant(self, account: str, data: dict[str, Any], now: float) -> None:
        async with self._tx() as db:
            await db.execute(
                f"INSERT INTO {keys.OAUTH2_GRANTS} (account, data, updated) VALUES (?,?,?) "
                "ON CONFLICT (account) DO UPDATE SET data = excluded.data, "
                "updated = excluded.updated",
                (account, dump(data), now),
            )

    async def get_oauth2_grant(self, account: str) -> dict[str, Any] | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT data FROM {keys.OAUTH2_GRANTS} WHERE account = ?", (account,)
                )
            )
        return load_object(rows[0][0], f"OAuth2 grant of {account!r}") if rows else None

    async def delete_oauth2_grant(self, account: str) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                f"DELETE FROM {keys.OAUTH2_GRANTS} WHERE account = ?", (account,)
            )
            return cur.rowcount > 0

    async def put_oauth2_pending(self, key: str, data: dict[str, Any], expires: float) -> None:
        async with self._tx() as db:
            await db.execute(
                f"INSERT INTO {keys.OAUTH2_PENDING} (id, data, expires) VALUES (?,?,?)",
                (key, dump(data), expires),
            )

    async def take_oauth2_pending(self, key: str, now: float) -> dict[str, Any] | None:
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT data, expires FROM {keys.OAUTH2_PENDING} WHERE id = ?", (key,)
                )
            )
            await db.execute(f"DELETE FROM {keys.OAUTH2_PENDING} WHERE id = ?", (key,))
            # Consents abandoned at the provider are never taken: forget the expired ones here.
            await db.execute(f"DELETE FROM {keys.OAUTH2_PENDING} WHERE expires <= ?", (now,))
        if not rows or rows[0][1] <= now:
            return None
        return load_object(rows[0][0], "OAuth2 consent")

    async def lock_oauth2_refresh(self, account: str, owner: str, ttl: float) -> bool:
        return True  # one process: the caller's asyncio lock is the only one needed

    async def unlock_oauth2_refresh(self, account: str, owner: str) -> None:
        return None
