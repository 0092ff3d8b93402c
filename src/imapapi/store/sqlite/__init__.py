"""The embedded store: SQLite in WAL mode through aiosqlite, one connection, one writer.

One connection serializes every statement on aiosqlite's worker thread; an asyncio lock keeps
multi-statement transactions from interleaving between coroutines. The schema is versioned and
migrated forward on open (`MIGRATIONS`), never backward.

One module per concern, each a mixin on `SqliteConnection` (connection.py: lifecycle and
transactions); `SqliteStore` combines them. The schema is in schema.py.
"""

from __future__ import annotations

from imapapi.store.payload import PAYLOAD_VERSION
from imapapi.store.sqlite.accounts import SqliteAccounts
from imapapi.store.sqlite.oauth2 import SqliteOAuth2
from imapapi.store.sqlite.outbox import SqliteOutbox
from imapapi.store.sqlite.schema import MIGRATIONS
from imapapi.store.sqlite.sent import SqliteSentIndex
from imapapi.store.sqlite.settings import SqliteSettings
from imapapi.store.sqlite.submissions import SqliteSubmissions
from imapapi.store.sqlite.sync import SqliteSync
from imapapi.store.sqlite.tokens import SqliteTokens

__all__ = ["MIGRATIONS", "PAYLOAD_VERSION", "SqliteStore"]


class SqliteStore(
    SqliteAccounts,
    SqliteSettings,
    SqliteTokens,
    SqliteSync,
    SqliteOutbox,
    SqliteSubmissions,
    SqliteSentIndex,
    SqliteOAuth2,
):
    """`Store` on one SQLite file (see `store/base.py` for the contract of each method)."""
