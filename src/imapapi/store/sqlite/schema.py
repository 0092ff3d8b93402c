"""The SQLite schema: every table, as the list of forward migrations applied on open.

`PRAGMA user_version` holds how many have been applied; a database newer than this imapapi is
refused (`SqliteConnection._migrate`), never migrated backward.
"""

from __future__ import annotations

from imapapi.store import keys

# Each entry migrates the schema from version i to i + 1. Append only.
MIGRATIONS: list[str] = [
    f"""
    CREATE TABLE {keys.ACCOUNTS} (
        account TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE {keys.SETTINGS} (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE {keys.TOKENS} (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created REAL NOT NULL,
        revoked REAL
    );
    CREATE TABLE {keys.MAILBOX_INDEX} (
        account TEXT NOT NULL,
        idx INTEGER NOT NULL,
        path TEXT NOT NULL,
        uid_validity INTEGER NOT NULL,
        PRIMARY KEY (account, idx),
        UNIQUE (account, path, uid_validity)
    ) WITHOUT ROWID;
    CREATE TABLE {keys.FOLDERS} (
        account TEXT NOT NULL,
        path TEXT NOT NULL,
        idx INTEGER NOT NULL,
        uid_validity INTEGER NOT NULL,
        uid_next INTEGER NOT NULL,
        highest_modseq INTEGER,
        messages INTEGER NOT NULL,
        special_use TEXT,
        blob BLOB NOT NULL,
        PRIMARY KEY (account, path)
    ) WITHOUT ROWID;
    CREATE TABLE {keys.OUTBOX} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        payload TEXT NOT NULL,
        created REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        dead INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_pending ON {keys.OUTBOX} (dead, account, seq);
    """,
    # 2: the submission queue and the index of sent Message-IDs (issue 6).
    f"""
    CREATE TABLE {keys.SUBMISSIONS} (
        queue_id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        idempotency_key TEXT,
        message_id TEXT NOT NULL,
        raw TEXT,
        envelope TEXT NOT NULL,
        reference TEXT,
        state TEXT NOT NULL,
        created REAL NOT NULL,
        send_at REAL NOT NULL,
        next_attempt REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_response TEXT,
        smtp_code INTEGER,
        updated REAL NOT NULL
    );
    CREATE UNIQUE INDEX submissions_idempotency
        ON {keys.SUBMISSIONS} (account, idempotency_key);
    CREATE INDEX submissions_due ON {keys.SUBMISSIONS} (state, next_attempt);
    CREATE INDEX submissions_account ON {keys.SUBMISSIONS} (account, created);
    CREATE TABLE {keys.SENT_INDEX} (
        account TEXT NOT NULL,
        message_id TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        sent_at REAL NOT NULL,
        PRIMARY KEY (account, message_id)
    ) WITHOUT ROWID;
    """,
    # 3: tokens bound to accounts (issue 20); the tokens made before are unbound.
    f"""
    ALTER TABLE {keys.TOKENS} ADD COLUMN accounts TEXT NOT NULL DEFAULT '[]';
    """,
    # 4: OAuth2 apps, each account's grant (its refresh token encrypted) and the consents under
    # way (issue 19).
    f"""
    CREATE TABLE {keys.OAUTH2_APPS} (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE {keys.OAUTH2_GRANTS} (
        account TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE {keys.OAUTH2_PENDING} (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        expires REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    # 5: the pending events in seq order with their accounts, so that `due_events` reads the
    # oldest few without walking every pending row (issue 17).
    f"""
    CREATE INDEX outbox_order ON {keys.OUTBOX} (dead, seq, account);
    """,
]
