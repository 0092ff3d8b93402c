"""Accounts on SQLite: one JSON document per account (`AccountStore`)."""

from __future__ import annotations

from typing import Any

from imapapi.errors import CorruptRecordError
from imapapi.store import keys
from imapapi.store.payload import dump, load
from imapapi.store.records import AccountRecord
from imapapi.store.sqlite.connection import SqliteConnection


class SqliteAccounts(SqliteConnection):
    """The `AccountStore` part of `SqliteStore`."""

    async def put_account(self, account: str, data: dict[str, Any], now: float) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                f"UPDATE {keys.ACCOUNTS} SET data = ?, updated = ? WHERE account = ?",
                (dump(data), now, account),
            )
            if cur.rowcount:
                return False
            await db.execute(
                f"INSERT INTO {keys.ACCOUNTS} (account, data, created, updated) VALUES (?,?,?,?)",
                (account, dump(data), now, now),
            )
            return True

    async def get_account(self, account: str) -> AccountRecord | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT account, data, created, updated FROM {keys.ACCOUNTS} "
                    "WHERE account = ?",
                    (account,),
                )
            )
        return self._account(rows[0]) if rows else None

    async def list_accounts(self) -> list[AccountRecord]:
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT account, data, created, updated FROM {keys.ACCOUNTS} ORDER BY account"
            )
        return [self._account(row) for row in rows]

    @staticmethod
    def _account(row: Any) -> AccountRecord:
        data = load(row[1], f"account {row[0]!r}")
        if not isinstance(data, dict):
            raise CorruptRecordError(f"stored account {row[0]!r} is not an object")
        return AccountRecord(account=row[0], data=data, created=row[2], updated=row[3])

    async def delete_account(self, account: str) -> bool:
        async with self._tx() as db:
            cur = await db.execute(f"DELETE FROM {keys.ACCOUNTS} WHERE account = ?", (account,))
            existed = cur.rowcount > 0
            for table in (keys.FOLDERS, keys.MAILBOX_INDEX, keys.OAUTH2_GRANTS):
                await db.execute(f"DELETE FROM {table} WHERE account = ?", (account,))
            # Undelivered events of a deleted account still go out (e.g. its last changes);
            # only the sync state is forgotten.
            return existed
