"""The soak's changes: a seeded random plan, run by plain IMAP clients (never imapapi).

A plan is a list of abstract operations per account ("flag 2 messages of the 3rd folder"); the
executor resolves them against the account as it finds it when it runs them. Each account's
operations run in order on one connection, and nothing else changes the account (imapapi only
reads: BODY.PEEK), so with the same seed and a fresh server the same uids get the same changes:
a failing seed replays. Accounts run concurrently, a thread and a connection each.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tests.servers.mailserver import ImapUser, MailServer
from tests.soak.client import PlainClient

SYSTEM_FLAGS = ("\\Seen", "\\Flagged")
KEYWORD = "$SoakMark"
# Relative weights of the operation kinds.
WEIGHTS = {"append": 34, "flags": 30, "expunge": 12, "move": 16, "create": 3}
BURSTS = (1, 1, 1, 2, 3, 5, 8)  # messages per APPEND burst
PAUSES = (0.0, 0.0, 0.0, 0.0, 0.01, 0.05, 0.2)  # after an operation: lets syncs interleave


@dataclass(frozen=True)
class Op:
    """One planned change. ``folder`` / ``target`` name folders by position (0 = INBOX, others
    taken modulo the folders the account has when the operation runs); ``pick`` seeds which
    messages of the folder are taken."""

    kind: str  # a key of WEIGHTS
    folder: int
    target: int = 0
    count: int = 1
    pick: int = 0
    sign: str = "+"
    flags: tuple[str, ...] = ()
    unicode: bool = False  # create: a non-ASCII name (modified UTF-7 on the wire)
    pause: float = 0.0


def _flags(rng: random.Random, *, allow_empty: bool) -> tuple[str, ...]:
    chosen = tuple(f for f in (*SYSTEM_FLAGS, KEYWORD) if rng.random() < 0.4)
    if chosen or allow_empty:
        return chosen
    return (rng.choice((*SYSTEM_FLAGS, KEYWORD)),)


def plan(seed: int, accounts: int, operations: int) -> list[list[Op]]:
    """``operations`` operations spread over ``accounts`` (every account gets one first)."""
    rng = random.Random(seed)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    plans: list[list[Op]] = [[] for _ in range(accounts)]
    unicode_left = 1  # one non-ASCII folder name per soak is enough to cover the encoding
    for n in range(operations):
        account = n if n < accounts else rng.randrange(accounts)
        kind = rng.choices(kinds, weights)[0]
        # Half of everything happens in INBOX, where IDLE watches without NOTIFY.
        folder = 0 if rng.random() < 0.5 else rng.randrange(1, 1 << 16)
        unicode = kind == "create" and unicode_left > 0
        unicode_left -= unicode
        plans[account].append(
            Op(
                kind=kind,
                folder=folder,
                target=rng.randrange(1 << 16),
                count=rng.choice(BURSTS) if kind in ("append", "create") else rng.choice((1, 2, 3)),
                pick=rng.randrange(1 << 30),
                sign=rng.choice("+-") if kind == "flags" else "+",
                flags=_flags(rng, allow_empty=kind == "append"),
                unicode=unicode,
                pause=rng.choice(PAUSES),
            )
        )
    return plans


def message(tag: str) -> bytes:
    return (
        f"From: Soak <soak@example.test>\r\n"
        f"To: user@example.test\r\n"
        f"Subject: soak {tag}\r\n"
        f"Date: Mon, 07 Oct 2019 06:05:23 +0000\r\n"
        f"Message-ID: <soak-{tag}@example.test>\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"\r\n"
        f"A change made by the consistency soak ({tag}).\r\n"
    ).encode()


@dataclass
class AccountRun:
    """What the executor did for one account: operations run, and a journal line for each
    command (``path uid…``), the evidence next to the webhooks when a difference shows."""

    user: ImapUser
    executed: int = 0
    journal: list[str] = field(default_factory=list)


class _Account:
    def __init__(self, server: MailServer, run: AccountRun, tag: str) -> None:
        self.server = server
        self.run = run
        self.tag = tag
        self.client = PlainClient(server.host, server.port, run.user.name, run.user.password)
        names = self.client.list_selectable()
        # INBOX first, the rest in a stable order: positions in the plan mean the same folders.
        self.folders = ["INBOX", *sorted(n for n in names if n.upper() != "INBOX")]
        # Messages per folder, counted from our own commands (the account starts empty, and
        # nobody else changes it), so operations that need messages go where there are some.
        self.counts = dict.fromkeys(self.folders, 0)
        self.client.select("INBOX")
        permanent = self.client.permanent_flags
        self.keyword_ok = b"\\*" in permanent or KEYWORD.encode() in permanent
        self.created = 0
        self.appended = 0

    def log(self, text: str) -> None:
        self.run.journal.append(text)

    def folder(self, index: int) -> str:
        if index == 0 or len(self.folders) == 1:
            return self.folders[0]
        return self.folders[1 + (index - 1) % (len(self.folders) - 1)]

    def non_empty(self, index: int) -> str | None:
        start = self.folders.index(self.folder(index))
        for step in range(len(self.folders)):
            path = self.folders[(start + step) % len(self.folders)]
            if self.counts[path]:
                return path
        return None

    def flags(self, op: Op) -> tuple[str, ...]:
        return tuple(f for f in op.flags if f != KEYWORD or self.keyword_ok)

    def append(self, path: str, count: int, flags: tuple[str, ...]) -> None:
        for _ in range(count):
            self.appended += 1
            uid = self.client.append(path, flags, message(f"{self.tag}-{self.appended}"))
            self.counts[path] += 1
            self.log(f"APPEND {path!r} uid {uid if uid is not None else '?'} ({' '.join(flags)})")

    def sample(self, path: str, op: Op) -> list[int]:
        self.client.select(path)
        # Courier's session learns of messages APPENDed since SELECT only at a NOOP; before
        # that, COPY of such a uid fails with "Error in IMAP command received by server".
        self.client.imap.noop()
        uids = self.client.uids()
        return sorted(random.Random(op.pick).sample(uids, min(op.count, len(uids))))

    def apply(self, op: Op) -> None:
        kind = op.kind
        if kind == "create":
            self.created += 1
            name = f"Soak Ärzte {self.created}" if op.unicode else f"Soak{self.created}"
            # A third of them nested (under Archive), the rest at the top of the namespace.
            parents = ("Archive",) if op.target % 3 == 0 else ()
            path = self.server.path(*parents, name)
            self.client.create(path)
            self.log(f"CREATE {path!r}")
            self.folders.append(path)
            self.counts[path] = 0
            self.append(path, op.count, self.flags(op))
            return
        if kind == "append":
            self.append(self.folder(op.folder), op.count, self.flags(op))
            return
        source = self.non_empty(op.folder)
        if source is None:  # nothing to change yet: the account's first messages instead
            self.append(self.folder(op.folder), op.count, self.flags(op))
            return
        uids = self.sample(source, op)
        if not uids:  # the folder was emptied meanwhile (its count is only our estimate)
            self.counts[source] = 0
            self.append(self.folder(op.folder), op.count, self.flags(op))
            return
        if kind == "flags":
            flags = self.flags(op) or ("\\Seen",)
            self.client.store(uids, op.sign, flags)
            self.log(f"STORE {source!r} uids {uids} {op.sign}FLAGS ({' '.join(flags)})")
        elif kind == "expunge":
            how = self.client.expunge(uids)
            self.counts[source] -= len(uids)
            self.log(f"{how} {source!r} uids {uids}")
        elif kind == "move":
            target = self.folder(op.target)
            if target == source:
                target = self.folder(op.target + 1)
            if target == source:  # a single folder: nowhere to move to
                return
            how, landed = self.client.move(uids, target)
            self.counts[source] -= len(uids)
            self.counts[target] += len(uids)
            self.log(f"{how} {source!r} uids {uids} -> {target!r} uids {landed or '?'}")
        else:
            raise ValueError(f"unknown operation {kind!r}")


def run_account(server: MailServer, run: AccountRun, ops: Sequence[Op], tag: str) -> AccountRun:
    """Run ``ops`` on one account, in order, on one connection; returns ``run`` filled in."""
    account = _Account(server, run, tag)
    try:
        for op in ops:
            account.apply(op)
            run.executed += 1
            if op.pause:
                time.sleep(op.pause)
    finally:
        account.client.close()
    return run


def execute(
    server: MailServer,
    users: Sequence[ImapUser],
    plans: Sequence[Sequence[Op]],
    *,
    seed: int,
    concurrency: int = 32,
    stop: threading.Event | None = None,
) -> list[AccountRun]:
    """Run every account's plan, ``concurrency`` accounts at a time (blocking; call it in a
    thread from async code). The first failure is raised once every account has finished."""
    runs = [AccountRun(user) for user in users]

    def one(index: int) -> AccountRun:
        if stop is not None and stop.is_set():
            return runs[index]
        return run_account(server, runs[index], plans[index], f"{seed}-{index}")

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(users)))) as pool:
        futures = [pool.submit(one, i) for i in range(len(users))]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return runs
