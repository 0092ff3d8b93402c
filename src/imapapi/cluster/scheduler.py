"""Which node syncs which account, when several processes share one Redis (issue 8, DESIGN §7).

Every round (a third of the lease time) a node:
1. renews its heartbeat and reads the live nodes;
2. reads every account's version (changes on update, delete, or a reconnect signal);
3. works out the accounts it should sync by rendezvous hashing over the live nodes: each
   account goes to the node with the highest hash of (node, account), so the spread is even,
   a node that joins takes about 1/n of every other node's accounts and nothing else moves;
4. claims those leases (renewing the ones it holds), stops and releases the ones now meant for
   another node, and drops the ones it lost without releasing them;
5. restarts the sessions of changed accounts and refreshes the states other nodes published.

Safety does not rest on the nodes agreeing: a lease is taken only when free, and a node that
cannot renew its leases stops its sessions before they can expire (self-fencing); the fencing
token in every sync commit stops any write from a node that slept through all of that.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence

from imapapi.accounts.model import AccountConfig, AccountState
from imapapi.accounts.status import AccountStatus
from imapapi.cluster.manager import AccountManager
from imapapi.errors import ImapApiError, StoreError
from imapapi.store.base import ClusterStore

log = logging.getLogger(__name__)

# Stop syncing when the leases were last renewed this long ago (a fraction of the lease time),
# so the sessions end before another node may take the accounts over.
SELF_FENCE = 0.8


def default_node_id() -> str:
    host = socket.gethostname().split(".")[0] or "node"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


def preferred_node(account: str, nodes: Sequence[str]) -> str:
    """The node that should sync `account`: rendezvous (highest random weight) hashing."""
    return max(
        nodes,
        key=lambda node: hashlib.blake2b(f"{node}\0{account}".encode(), digest_size=8).digest(),
    )


class Scheduler:
    """Keeps this node's share of the accounts running; see the module docstring."""

    def __init__(
        self,
        store: ClusterStore,
        manager: AccountManager,
        *,
        node: str,
        lease_ttl: float,
        on_gain: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.manager = manager
        self.node = node
        self.lease_ttl = lease_ttl
        self.interval = lease_ttl / 3
        self._on_gain = on_gain  # the dispatcher delivers the gained accounts' pending events
        self._clock = clock
        self._owned: dict[str, int] = {}  # account -> fencing token
        self._versions: dict[str, str] = {}  # account -> version its session was made from
        self.live: list[str] = [node]
        self._renewed = 0.0  # clock() of the last successful claim
        self._round = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unpublished: dict[str, tuple[str, str | None, float]] = {}
        self._publish_wake = asyncio.Event()
        self._publishing: asyncio.Task[None] | None = None
        manager.scheduler = self

    def __repr__(self) -> str:
        return f"<Scheduler {self.node} owns={len(self._owned)} live={len(self.live)}>"

    # --- what the rest of the node asks -----------------------------------------------------------
    def owns(self, account: str) -> bool:
        return account in self._owned

    @property
    def owned(self) -> dict[str, int]:
        return dict(self._owned)

    @property
    def leader(self) -> bool:
        """The oldest-named live node delivers the events of deleted accounts."""
        return bool(self.live) and self.live[0] == self.node

    def delivery_scope(self) -> tuple[str | None, bool]:
        """(this node, whether it also takes orphaned events) for the webhook dispatcher."""
        return self.node, self.leader

    async def signal(self, account: str) -> None:
        await self.store.signal_account(account)

    def publish(self, account: str, state: AccountState, error: str | None) -> None:
        """A state change of a session this node runs, made visible to the other nodes.

        One writer task sends them in order (two concurrent writes could land in the wrong
        order and leave "connecting" after "connected"); only the latest state of an account
        waiting to be sent is kept."""
        if account not in self._owned:
            return
        self._unpublished[account] = (state.value, error, time.time())
        self._publish_wake.set()

    async def _publisher(self) -> None:
        while True:
            await self._publish_wake.wait()
            self._publish_wake.clear()
            # Taken whole, not popped from the front one at a time: each `iter()` of a dict
            # skips the slots deleted before it, so that was quadratic in the states waiting
            # (20,000 when 10,000 accounts connect). A state that changes meanwhile lands in
            # the new dict and goes out after this batch, so the latest is always sent last.
            batch, self._unpublished = self._unpublished, {}
            for sent, (account, (state, error, at)) in enumerate(batch.items()):
                try:
                    await self.store.set_account_status(account, self.node, state, error, at)
                except ImapApiError as exc:
                    log.warning("node %s: cannot publish a state: %s", self.node, exc.message)
                    # Kept, retried after the next round; a newer state of an account wins.
                    rest = dict(itertools.islice(batch.items(), sent, None))
                    rest.update(self._unpublished)
                    self._unpublished = rest
                    break

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        self._publishing = asyncio.create_task(self._publisher(), name="publisher")
        await self.run_once()
        self._task = asyncio.create_task(self._loop(), name=f"scheduler {self.node}")
        log.info("node %s started: %d live nodes, owns %d accounts", self.node,
                 len(self.live), len(self._owned))  # fmt: skip

    async def stop(self) -> None:
        """Stop the sessions this node runs, give their leases up and leave the cluster, so
        the other nodes take the accounts over at their next round rather than at expiry."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self._round:
            owned = list(self._owned)
            for account in owned:
                await self.manager.forget(account)
            self._owned.clear()
            with contextlib.suppress(ImapApiError):
                await self.store.release_leases(self.node, owned)
                await self.store.leave(self.node)
        if self._publishing is not None:
            self._publishing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publishing
            self._publishing = None

    def poke(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        failing = False
        while True:
            wait = self.interval
            if failing and self._owned:
                # Wake up in time to stop the sessions before the leases can expire.
                wait = min(wait, max(0.0, self._fence_deadline() - self._clock()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            if failing and self._clock() >= self._fence_deadline():
                await self._fence_self()
            try:
                await self.run_once()
                failing = False
            except ImapApiError as exc:
                failing = True
                log.warning("node %s: scheduling round failed: %s", self.node, exc.message)
            except Exception:
                failing = True
                log.exception("node %s: scheduling round failed", self.node)

    def _fence_deadline(self) -> float:
        return self._renewed + SELF_FENCE * self.lease_ttl

    async def _fence_self(self) -> None:
        """Leases not renewed for most of their life: stop syncing before they can expire."""
        if not self._owned:
            return
        log.warning("node %s: cannot renew leases; stopping %d sessions", self.node,
                    len(self._owned))  # fmt: skip
        async with self._round:
            for account in list(self._owned):
                await self._disown(account)

    async def refresh(self, account: str) -> None:
        """Apply a change made on this node (an account created, updated or deleted) now,
        without a whole round: registering 10,000 accounts must not read all of them 10,000
        times. If another node should sync it, that node's next round takes it (or restarts
        it, its version having changed)."""
        async with self._round:
            version = (await self.store.account_versions([account])).get(account)
            config = await self.manager.registry.find(account) if version else None
            if version is None or config is None:
                await self._forget(account)
                return
            fence = None
            if preferred_node(account, self.live) == self.node:
                held = await self.store.claim_leases(self.node, [account], self.lease_ttl)
                fence = held.get(account)
            released = fence is None and account in self._owned
            if fence is not None:
                self._owned[account] = fence
            else:
                self._owned.pop(account, None)
            await self.manager.replace(config, fence)
            if released:  # only once its session has stopped
                await self.store.release_leases(self.node, [account])
            self._versions[account] = version
            if fence is not None:
                self._on_gain()

    async def _forget(self, account: str) -> None:
        """A deleted account: stop and drop its session, then give up its lease if held."""
        await self.manager.forget(account)
        self._versions.pop(account, None)
        if self._owned.pop(account, None) is not None:
            await self.store.release_leases(self.node, [account])

    # --- one round --------------------------------------------------------------------------------
    async def run_once(self) -> None:
        async with self._round:
            started = self._clock()
            # Time-boxed: a store that hangs must fail the round, or nothing would notice the
            # leases running out.
            try:
                async with asyncio.timeout(self.interval):
                    self.live = await self.store.heartbeat(self.node, self.lease_ttl)
                    versions = await self.store.account_versions()
                    wanted = [a for a in versions if preferred_node(a, self.live) == self.node]
                    held = await self.store.claim_leases(self.node, wanted, self.lease_ttl)
            except TimeoutError:
                raise StoreError("the store did not answer a scheduling round in time") from None
            self._renewed = started

            for account in [a for a in {*self._owned, *self._versions} if a not in versions]:
                await self._forget(account)

            unwanted = [a for a in self._owned if a not in held]
            for account in unwanted:  # meant for another node now, or lost
                await self._disown(account)
            await self.store.release_leases(self.node, unwanted)

            gained = False
            todo = []
            for account, version in versions.items():
                fence = held.get(account)
                if self._versions.get(account) != version or fence != self._owned.get(account):
                    todo.append((account, version, fence))
            configs = await self._configs([account for account, _, _ in todo])
            for account, version, fence in todo:
                config = configs.get(account)
                if config is None:
                    continue  # deleted since the versions were read
                if fence is not None:
                    # Owned before the session starts, so its first state change is published.
                    gained = gained or account not in self._owned
                    self._owned[account] = fence
                    log.info("node %s syncs %s (fence %d)", self.node, account, fence,
                             extra={"account": account})  # fmt: skip
                await self.manager.replace(config, fence)
                self._versions[account] = version
            if gained:
                self._on_gain()
            if self._unpublished:
                self._publish_wake.set()  # what failed to go out last time
            await self._refresh_remote()

    async def _configs(self, accounts: list[str]) -> dict[str, AccountConfig]:
        """The stored configurations of `accounts`: one listing when there are many (the first
        round of a node), single reads otherwise."""
        if len(accounts) > 20:
            wanted = set(accounts)
            return {c.account: c for c in await self.manager.registry.list() if c.account in wanted}
        configs = {}
        for account in accounts:
            config = await self.manager.registry.find(account)
            if config is not None:
                configs[account] = config
        return configs

    async def _disown(self, account: str) -> None:
        """Stop syncing `account` (its session stays for API calls)."""
        fence = self._owned.pop(account, None)
        await self.manager.demote(account)
        if fence is not None:
            log.info("node %s stopped syncing %s", self.node, account, extra={"account": account})

    async def _refresh_remote(self) -> None:
        statuses = await self.store.account_statuses()
        for account in self.manager.accounts():
            if account in self._owned:
                continue
            session = self.manager.session(account)
            status = statuses.get(account)
            if session is None:
                continue
            if status is None or status.node not in self.live:
                # Nobody syncs it right now (its node died, or it is being handed over).
                session.remote = AccountStatus(AccountState.CONNECTING, None)
                continue
            try:
                state = AccountState(status.state)
            except ValueError:
                state = AccountState.CONNECTING
            session.remote = AccountStatus(state, status.error)
