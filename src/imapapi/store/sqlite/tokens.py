"""API tokens on SQLite, looked up by the SHA-256 of the token (`TokenStore`)."""

from __future__ import annotations

import json
from typing import Any

from imapapi.store import keys
from imapapi.store.records import TokenRecord
from imapapi.store.revocations import RevocationListeners
from imapapi.store.sqlite.connection import SqliteConnection

_COLUMNS = "id, token_hash, description, scopes, created, revoked, accounts"


class SqliteTokens(SqliteConnection, RevocationListeners):
    """The `TokenStore` part of `SqliteStore`. Revokes are announced to this process only:
    another process writing the same file (`imapapi token revoke`) is not heard."""

    async def add_token(self, token: TokenRecord) -> None:
        async with self._tx() as db:
            await db.execute(
                f"INSERT INTO {keys.TOKENS} "
                "(id, token_hash, description, scopes, created, revoked, accounts)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    token.id,
                    token.token_hash,
                    token.description,
                    json.dumps(list(token.scopes)),
                    token.created,
                    token.revoked,
                    json.dumps(list(token.accounts)),
                ),
            )

    async def get_token_by_hash(self, token_hash: str) -> TokenRecord | None:
        async with self._read() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT {_COLUMNS} FROM {keys.TOKENS} WHERE token_hash = ?",
                    (token_hash,),
                )
            )
        return self._token(rows[0]) if rows else None

    async def list_tokens(self) -> list[TokenRecord]:
        async with self._read() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_COLUMNS} FROM {keys.TOKENS} ORDER BY created"
            )
        return [self._token(row) for row in rows]

    @staticmethod
    def _token(row: Any) -> TokenRecord:
        return TokenRecord(
            id=row[0],
            token_hash=row[1],
            description=row[2],
            scopes=tuple(json.loads(row[3])),
            created=row[4],
            revoked=row[5],
            accounts=tuple(json.loads(row[6])),
        )

    async def revoke_token(self, token_id: str, now: float) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                f"UPDATE {keys.TOKENS} SET revoked = ? WHERE id = ? AND revoked IS NULL",
                (now, token_id),
            )
            revoked = cur.rowcount > 0
        if revoked:
            self._revoked(token_id)
        return revoked
