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
OAUTH2_APPS = "oauth2_apps"
OAUTH2_GRANTS = "oauth2_grants"
OAUTH2_PENDING = "oauth2_pending"

# --- Redis (store/redis/) -----------------------------------------------------------------------
# Every key is `<prefix>:<name>` so several deployments share one Redis. A variable part (an
# account id, a queue id, an event seq) is always the *last* component and follows a stem that
# no fixed name starts with, so two different (stem, value) pairs never make the same key.
# The Lua scripts in store/redis/ receive the stems below and only append the variable part; no
# key name is spelled anywhere else.

REDIS_DEFAULT_PREFIX = "imapapi"
REDIS_SCHEMA_VERSION = 1


class RedisKeys:
    """The key names of one deployment (one prefix)."""

    def __init__(self, prefix: str = REDIS_DEFAULT_PREFIX) -> None:
        # ":" would let prefix "a" see keys of prefix "a:account" (and braces are hash tags),
        # so a prefix is one plain component.
        if not prefix or any(c in prefix for c in ":{}\r\n\t "):
            raise ValueError(f"Redis key prefix must be one word without ':{{}}': {prefix!r}")
        self.prefix = prefix
        p = prefix + ":"
        self.schema = p + "schema"  # the payload/layout version, checked on open
        # accounts: a hash per account (data, created, updated) and a lex-ordered index
        self.accounts = p + "accounts"
        self.account_stem = p + "account:"
        self.settings = p + "settings"  # hash: key -> {"v":1,"d":value}
        # tokens: a hash per token, the set of ids, and token_hash -> id (the unique lookup)
        self.tokens = p + "tokens"
        self.token_stem = p + "token:"
        self.token_hashes = p + "token-hashes"
        self.token_revocations = p + "token-revoked"  # pub/sub channel: the revoked token's id
        # mailbox indexes: one hash per account: "n" (last index), "p<json [path, uidv]>" -> idx
        # and "i<idx>" -> json [path, uidv]
        self.mailboxes_stem = p + "mailboxes:"
        # folder state: per account, metadata JSON by path and the opaque blob by path (bytes)
        self.folders_stem = p + "folders:"
        self.folder_blobs_stem = p + "folder-blobs:"
        # event outbox (see store/redis/outbox.py for the invariants between these)
        self.outbox_seq = p + "outbox-seq"  # INCR counter: the global seq
        self.outbox_ids = p + "outbox-ids"  # hash event_id -> seq (idempotent insert)
        self.outbox_heads = p + "outbox-heads"  # hash account -> seq of its oldest pending event
        self.outbox_due = p + "outbox-due"  # zset head seq, score next_attempt
        self.outbox_pending = p + "outbox-pending"  # zset every pending seq, score created
        self.outbox_dead = p + "outbox-dead"  # zset dead seq, score seq
        self.event_stem = p + "event:"  # hash per event
        self.account_events_stem = p + "account-events:"  # zset pending seqs of one account
        # submission queue
        self.submission_stem = p + "submission:"  # hash per submission
        self.submissions_due = p + "submissions-due"  # zset pending qid, score next_attempt
        self.submissions_final = p + "submissions-final"  # zset final qid, score updated
        self.submissions_state_stem = p + "submissions-state:"  # zset per state, score created
        self.submissions_account_stem = p + "submissions-account:"  # zset per account
        self.idempotency_stem = p + "idempotency:"  # hash per account: key -> qid
        # sent index: a hash per account (message_id -> {"v":1,"d":{queueId, sentAt}}) and one
        # zset of "<len(account)>:<account><message_id>" by sent_at for the retention purge
        self.sent_stem = p + "sent:"
        self.sent_by_time = p + "sent-by-time"
        # account ownership (store/redis/ownership.py): `lease:<account>` holds the owning node
        # with an expiry, `fence:<account>` an INCR fencing token moved on by every new owner
        # (checked by COMMIT_SYNC), `nodes` the live nodes scored by their expiry (server time,
        # ms), `account-status` the owner's view of each account, `account-signals` a counter
        # per account bumped to make its owner restart the session, `lease-log` a capped
        # stream of acquisitions and releases (what the failover tests audit).
        self.lease_stem = p + "lease:"
        self.fence_stem = p + "fence:"
        self.nodes = p + "nodes"
        self.account_status = p + "account-status"
        self.account_signals = p + "account-signals"
        self.lease_log = p + "lease-log"
        # OAuth2 (store/redis/oauth2.py): a hash per app and the sorted set of app ids; one
        # string per account's grant; a consent under way (`oauth2-pending:<id>`, expiring);
        # the short lock of one account's token refresh (`oauth2-refresh:<account>`).
        self.oauth2_apps = p + "oauth2-apps"
        self.oauth2_app_stem = p + "oauth2-app:"
        self.oauth2_grant_stem = p + "oauth2-grant:"
        self.oauth2_pending_stem = p + "oauth2-pending:"
        self.oauth2_refresh_stem = p + "oauth2-refresh:"

    def account(self, account: str) -> str:
        return self.account_stem + account

    def token(self, token_id: str) -> str:
        return self.token_stem + token_id

    def mailboxes(self, account: str) -> str:
        return self.mailboxes_stem + account

    def folders(self, account: str) -> str:
        return self.folders_stem + account

    def folder_blobs(self, account: str) -> str:
        return self.folder_blobs_stem + account

    def submission(self, queue_id: str) -> str:
        return self.submission_stem + queue_id

    def submissions_account(self, account: str) -> str:
        return self.submissions_account_stem + account

    def idempotency(self, account: str) -> str:
        return self.idempotency_stem + account

    def sent(self, account: str) -> str:
        return self.sent_stem + account

    def lease(self, account: str) -> str:
        return self.lease_stem + account

    def fence(self, account: str) -> str:
        return self.fence_stem + account

    def oauth2_app(self, app: str) -> str:
        return self.oauth2_app_stem + app

    def oauth2_grant(self, account: str) -> str:
        return self.oauth2_grant_stem + account

    def oauth2_pending(self, key: str) -> str:
        return self.oauth2_pending_stem + key

    def oauth2_refresh(self, account: str) -> str:
        return self.oauth2_refresh_stem + account
