"""The consistency soak end to end: register, change, settle, read the truth, compare.

Used by tests/integration/sync/test_soak.py (a few accounts) and `./scripts/bench --only soak`
(hundreds). Both hand it a running in-process service (`running_api`), a real webhook receiver
and a `MailServer`, so the soak runs unchanged on Dovecot, Cyrus and Courier.

Baseline: the accounts are fresh users (empty INBOX and default folders). Their first sync is
quiet by contract, so the model starts from a truth snapshot read right after every account's
first sync and before any change; every change after it must come as a webhook. With empty
mailboxes that snapshot is just the folder list, but taking it (rather than assuming it) keeps
the soak correct for any starting state.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imapapi.sessions.session import AccountSession
from imapapi.syncing.syncer import FULL_RESCAN_POLLS
from tests.integration.conftest import Api
from tests.servers.mailserver import ImapUser, MailServer
from tests.servers.webhooks import WebhookReceiver
from tests.soak.client import PlainClient
from tests.soak.model import KINDS, Difference, Folders, Verdict, check, describe, related
from tests.soak.operations import AccountRun, execute, plan
from tests.soak.truth import read_all

QUIET_NOTIFY = 3.0  # seconds without a webhook that count as "settled" on a NOTIFY server
COLUMNS = ("server", "accounts", "operations", "events", *KINDS, "seconds")


@dataclass
class SoakResult:
    server: str
    seed: int
    accounts: int
    planned: int
    executed: int
    verdict: Verdict
    seconds: float  # first change → settled
    setup_seconds: float  # users, registration, first syncs, initial snapshot
    settled: bool  # False: the deadline passed before the service went quiet
    quiet: float
    capabilities: set[str]
    runs: list[AccountRun]
    events: dict[str, list[dict[str, Any]]]
    logs: dict[str, Path] = field(default_factory=dict)  # protocol logs of differing accounts

    @property
    def counts(self) -> dict[str, int]:
        return self.verdict.counts

    def row(self) -> tuple[str, ...]:
        counts = self.counts
        return (
            self.server,
            f"{self.accounts:,}",
            f"{self.executed:,}",
            f"{self.verdict.events:,}",
            *(f"{counts[k]:,}" for k in KINDS),
            f"{self.seconds:.1f}",
        )

    def evidence(self, limit: int = 5) -> str:
        """The first ``limit`` differences, each with its account's related events and the
        plain client's commands that touched that folder/uid."""
        lines: list[str] = []
        journals = {r.user.name: r.journal for r in self.runs}
        for diff in self.verdict.differences[:limit]:
            lines.append(str(diff))
            events = related(self.events.get(diff.account, ()), diff.path, diff.uid)
            lines += [f"    event  {describe(e)}" for e in events[-8:]] or ["    (no events)"]
            commands = _journal_lines(journals.get(diff.account, []), diff)
            lines += [f"    client {c}" for c in commands[-8:]]
            if diff.account in self.logs:
                lines.append(f"    protocol log: {self.logs[diff.account]}")
        more = len(self.verdict.differences) - limit
        if more > 0:
            lines.append(f"… and {more} more")
        return "\n".join(lines)

    def summary(self) -> str:
        caps = " ".join(
            c
            for c in ("NOTIFY", "CONDSTORE", "QRESYNC", "MOVE", "UIDPLUS")
            if c in self.capabilities
        )
        note = "" if self.settled else " NOT SETTLED before the deadline;"
        return (
            f"seed {self.seed}; {self.executed}/{self.planned} operations run;{note} "
            f"quiet window {self.quiet:.1f} s; setup {self.setup_seconds:.1f} s; "
            f"{self.verdict.redelivered} redeliveries (same eventId); server has {caps or '-'}"
        )


def render(results: Sequence[SoakResult]) -> str:
    rows = [COLUMNS, *(r.row() for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    out = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _journal_lines(journal: Sequence[str], diff: Difference) -> list[str]:
    """The client's commands on ``diff``'s folder (and uid): each journal line names a folder
    and its uids, and a move also the target and the uids there ("-> 'Junk' uids [7]")."""
    out = []
    for line in journal:
        for part in line.split(" -> "):
            if repr(diff.path) not in part:
                continue
            found = re.search(r"uids? \[?([\d, ?]*)\]?", part)
            numbers = re.findall(r"\d+|\?", found.group(1)) if found else ["?"]
            if diff.uid is None or str(diff.uid) in numbers or "?" in numbers or not numbers:
                out.append(line)
                break
    return out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def quiet_window(capabilities: set[str], poll_interval: float) -> float:
    """How long no webhook must arrive before the service counts as settled.

    With NOTIFY every change is pushed at once. Without it other folders are seen by STATUS
    polls, and without CONDSTORE their flag changes only by the full rescan every
    FULL_RESCAN_POLLS polls (RFC 7162 §3.1.2: STATUS has no HIGHESTMODSEQ then): wait for
    more than one such cycle, or a late change would be called "missing".
    """
    if "NOTIFY" in capabilities:
        return QUIET_NOTIFY
    if "CONDSTORE" in capabilities:
        return 2 * poll_interval + QUIET_NOTIFY
    return (FULL_RESCAN_POLLS + 1) * poll_interval + QUIET_NOTIFY


def _capabilities(server: MailServer, user: ImapUser) -> set[str]:
    client = PlainClient(server.host, server.port, user.name, user.password)
    try:
        return set(client.capabilities)
    finally:
        client.close()


def account_body(server: MailServer, user: ImapUser) -> dict[str, Any]:
    imap = server.account_settings(user)
    imap["starttls"] = "never"
    return {"account": user.name, "name": user.name, "imap": imap}


async def register_all(
    api: Api,
    server: MailServer,
    users: Sequence[ImapUser],
    receiver: WebhookReceiver,
    *,
    concurrency: int = 8,
    timeout: float = 60.0,
) -> None:
    """Point webhooks at ``receiver``, register ``users``, wait for every first sync."""
    response = await api.client.post("/v1/settings", json={"webhooks": receiver.url})
    assert response.status_code == 200, response.text
    limit = asyncio.Semaphore(concurrency)

    async def one(user: ImapUser) -> None:
        async with limit:
            answer = await api.client.post("/v1/account", json=account_body(server, user))
            assert answer.status_code == 200, answer.text

    await asyncio.gather(*(one(u) for u in users))
    deadline = time.monotonic() + timeout
    while not all(_synced(api, u.name) for u in users):
        if time.monotonic() > deadline:
            late = [u.name for u in users if not _synced(api, u.name)]
            raise AssertionError(f"{len(late)} accounts not synced within {timeout} s: {late[:5]}")
        await asyncio.sleep(0.05)


def _synced(api: Api, account: str) -> bool:
    session = api.service.accounts.session(account)
    return (
        isinstance(session, AccountSession)
        and api.service.accounts.status(account).state == "connected"
        and session.syncer.synced.is_set()
    )


async def settle(
    api: Api,
    receiver: WebhookReceiver,
    accounts: Sequence[str],
    *,
    since: float,
    quiet: float,
    timeout: float,
) -> bool:
    """Wait until no webhook has arrived for ``quiet`` seconds (counted from ``since`` at the
    earliest), the outbox is empty and every account is connected and synced; False when
    ``timeout`` passes first. A state, not a sleep: the soak then reads what is there."""
    deadline = time.monotonic() + timeout
    while True:
        received = receiver.received
        last = max([since, *(r.received_at for r in received[-1:])])
        now = time.monotonic()
        if now - last >= quiet:
            pending = (await api.service.store.outbox_stats(time.time()))["pending"]
            if not pending and all(_synced(api, a) for a in accounts):
                return True
        if now > deadline:
            return False
        await asyncio.sleep(0.1)


def events_by_account(
    received: Sequence[Any], accounts: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    wanted = set(accounts)
    out: dict[str, list[dict[str, Any]]] = {a: [] for a in accounts}
    for r in received:
        body = r.json
        if isinstance(body, dict) and body.get("account") in wanted:
            out[body["account"]].append(body)
    return out


async def run_soak(
    api: Api,
    server: MailServer,
    receiver: WebhookReceiver,
    *,
    accounts: int,
    operations: int,
    seed: int,
    poll_interval: float,
    log_dir: Path | None = None,
    register_timeout: float | None = None,
    settle_timeout: float | None = None,
    concurrency: int = 32,
) -> SoakResult:
    """One soak on ``server``: ``accounts`` fresh users, ``operations`` changes from ``seed``.

    ``poll_interval`` is the service's ``status_poll_interval`` (it decides the quiet window
    on servers without NOTIFY). ``log_dir``: where the protocol logs of accounts with
    differences are written."""
    setup_started = time.monotonic()
    users = await asyncio.to_thread(lambda: [server.add_user() for _ in range(accounts)])
    names = [u.name for u in users]
    capabilities = await asyncio.to_thread(_capabilities, server, users[0])
    quiet = quiet_window(capabilities, poll_interval)
    await register_all(
        api, server, users, receiver, timeout=register_timeout or 60.0 + 0.5 * accounts
    )
    mark = len(receiver.received)  # events of the changes below come after this one
    initial: Mapping[str, Folders] = await read_all(server, users)
    setup_seconds = time.monotonic() - setup_started

    started = time.monotonic()
    plans = plan(seed, accounts, operations)
    runs = await asyncio.to_thread(
        execute, server, users, plans, seed=seed, concurrency=concurrency
    )
    settled = await settle(
        api,
        receiver,
        names,
        since=time.monotonic(),
        quiet=quiet,
        timeout=settle_timeout or max(60.0, 4 * quiet + 0.05 * operations),
    )
    seconds = time.monotonic() - started
    truth = await read_all(server, users)
    events = events_by_account(receiver.received[mark:], names)
    verdict = check(initial, events, truth)
    result = SoakResult(
        server=server.kind,
        seed=seed,
        accounts=accounts,
        planned=operations,
        executed=sum(r.executed for r in runs),
        verdict=verdict,
        seconds=seconds,
        setup_seconds=setup_seconds,
        settled=settled,
        quiet=quiet,
        capabilities=capabilities,
        runs=runs,
        events=events,
    )
    if log_dir is not None:
        for account in dict.fromkeys(d.account for d in verdict.differences[:20]):
            text = (await api.client.get(f"/v1/logs/{account}")).text
            path = log_dir / f"{server.kind}-{account}.log"
            await asyncio.to_thread(_write, path, text)
            result.logs[account] = path
    return result
