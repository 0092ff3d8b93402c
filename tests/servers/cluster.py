"""Several `imapapi serve` processes sharing one Redis: the scale-out tests and the cluster demo.

Every node gets the same Redis URL, key prefix and secret (as a real deployment must: the secret
decrypts what any node stored), a fixed node id (`node-1`, …) and a short lease time, and its
own data dir and port. The first start of the first node prints the API token; the token lives
in Redis, so it works on every node.
"""

from __future__ import annotations

import itertools
import random
import secrets
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import redis

from tests.e2e.helpers import first_start_token
from tests.servers.dovecot import Dovecot, DovecotError, ImapUser
from tests.servers.redis import RedisServer
from tests.servers.service import ServiceProcess


class Cluster:
    """`size` nodes (made, not started) on `redis_server` under a fresh key prefix."""

    def __init__(
        self,
        root: Path,
        redis_server: RedisServer,
        *,
        size: int = 3,
        lease_ttl: float = 4.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.prefix = f"cluster{secrets.token_hex(4)}"
        self.redis_url = redis_server.url
        self.lease_ttl = lease_ttl
        self.token = ""
        common = {
            "IMAPAPI_REDIS_URL": redis_server.url,
            "IMAPAPI_REDIS_PREFIX": self.prefix,
            "IMAPAPI_SECRET": "cluster-test-secret-" + secrets.token_hex(8),
            "IMAPAPI_LEASE_TTL": str(lease_ttl),
            "IMAPAPI_LOG_LEVEL": "info",
            **(env or {}),
        }
        self.nodes = [
            ServiceProcess(
                root / f"node-{n}",
                root / f"logs-{n}",
                env={**common, "IMAPAPI_NODE_ID": f"node-{n}"},
            )
            for n in range(1, size + 1)
        ]
        self.redis = redis.Redis.from_url(redis_server.url, decode_responses=True)

    @staticmethod
    def name(index: int) -> str:
        return f"node-{index + 1}"

    def start(self, index: int) -> None:
        node = self.nodes[index]
        node.start()
        if not self.token:
            self.token = first_start_token(node.stderr)

    def client(self, index: int) -> httpx.Client:
        return self.nodes[index].client(self.token, timeout=30.0)

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        self.redis.close()

    # --- what Redis says ----------------------------------------------------------------------
    def owners(self) -> dict[str, str]:
        """account -> node holding its lease now."""
        stem = f"{self.prefix}:lease:"
        keys = list(self.redis.scan_iter(match=f"{stem}*", count=1000))
        values = self.redis.mget(keys) if keys else []
        return {k[len(stem) :]: v for k, v in zip(keys, values, strict=True) if v is not None}

    def spread(self) -> Counter[str]:
        return Counter(self.owners().values())

    def live_nodes(self) -> list[str]:
        now_ms = int(time.time() * 1000)  # the test machine is the Redis host: same clock
        return sorted(self.redis.zrangebyscore(f"{self.prefix}:nodes", now_ms, "+inf"))

    def lease_log(self) -> list[dict[str, Any]]:
        """Every acquisition and release, oldest first, with Redis's time in ms as `at`."""
        entries = self.redis.xrange(f"{self.prefix}:lease-log")
        return [{**fields, "at": int(entry_id.split("-")[0])} for entry_id, fields in entries]

    def wait_owned(
        self, accounts: list[str], *, exclude: str | None = None, timeout: float
    ) -> float:
        """Wait until every account is leased by a node other than `exclude`; seconds taken."""
        start = time.monotonic()
        deadline = start + timeout
        owners: dict[str, str] = {}
        while time.monotonic() < deadline:
            owners = self.owners()
            if all(owners.get(a) not in (None, exclude) for a in accounts):
                return time.monotonic() - start
            time.sleep(0.05)
        missing = [a for a in accounts if owners.get(a) in (None, exclude)]
        raise AssertionError(f"not taken over within {timeout} s: {missing[:10]} …")

    def synced(self, account: str) -> bool:
        """The account's first sync was committed (it is written all at once, at its end)."""
        return bool(self.redis.exists(f"{self.prefix}:folders:{account}"))

    def wait_synced(self, accounts: list[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.synced(a) for a in accounts):
                return
            time.sleep(0.05)
        raise AssertionError(f"not synced: {[a for a in accounts if not self.synced(a)][:10]}")


class ConnectionWatch(threading.Thread):
    """Samples Dovecot's own list of logged-in sessions (`doveadm who`) and remembers every
    user seen with more than one IMAP connection in two samples in a row: a second primary
    connection would last at least a scheduling round, not a few milliseconds of handover."""

    def __init__(self, dovecot: Dovecot, users: set[str]) -> None:
        super().__init__(daemon=True)
        self.dovecot = dovecot
        self.users = users
        self.doubled: set[str] = set()
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        previous: set[str] = set()
        while not self._stop_event.is_set():
            try:
                sessions = self.dovecot.imap_sessions()
            except DovecotError:  # anvil busy under load: this sample is lost, not the watch
                self._stop_event.wait(0.15)
                continue
            now = {user for user in self.users if sessions[user] > 1}
            self.doubled |= now & previous
            previous = now
            self.samples += 1
            self._stop_event.wait(0.15)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)


class MailStream(threading.Thread):
    """Delivers a message with a unique subject to a random account every few tens of ms."""

    def __init__(self, dovecot: Dovecot, users: dict[str, ImapUser]) -> None:
        super().__init__(daemon=True)
        self.dovecot = dovecot
        self.users = users
        self.sent: dict[str, str] = {}  # subject -> account
        self._stop_event = threading.Event()
        self._rng = random.Random(8)

    def run(self) -> None:
        for n in itertools.count():
            if self._stop_event.is_set():
                return
            account = self._rng.choice(sorted(self.users))
            subject = f"failover {n} for {account}"
            self.dovecot.deliver(
                self.users[account],
                (
                    f"From: Stream <stream@example.test>\r\nTo: {account}@example.test\r\n"
                    f"Subject: {subject}\r\nMessage-ID: <failover-{n}@example.test>\r\n"
                    f"Date: Mon, 07 Oct 2019 06:05:23 +0000\r\n\r\n{subject}\r\n"
                ).encode(),
            )
            self.sent[subject] = account
            self._stop_event.wait(0.03)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(30)
