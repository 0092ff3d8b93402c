"""Every table name (and, for the Redis backend, key prefix) in one place (STYLE.md 6)."""

from __future__ import annotations

ACCOUNTS = "accounts"
SETTINGS = "settings"
TOKENS = "api_tokens"
MAILBOX_INDEX = "mailbox_index"
FOLDERS = "folders"
OUTBOX = "outbox"
SUBMISSIONS = "submissions"
SENT_INDEX = "sent_index"
