"""What a server really holds: every selectable folder's uid → flags, read by a plain client."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from tests.servers.mailserver import ImapUser, MailServer
from tests.soak.client import PlainClient
from tests.soak.model import Folders, norm_flags


def read_truth(server: MailServer, user: ImapUser) -> Folders:
    """LIST every selectable folder; EXAMINE each (read-only: reading must change nothing,
    RFC 3501 §6.3.2) and UID FETCH 1:* (FLAGS). ``\\Recent`` is dropped, the rest (``\\Deleted``
    included) kept as the server says."""
    client = PlainClient(server.host, server.port, user.name, user.password)
    try:
        out: Folders = {}
        for path in client.list_selectable():
            # An empty folder is not fetched: "1:*" on it is an error on some servers.
            if not client.select(path, readonly=True):
                out[path] = {}
                continue
            out[path] = {
                uid: norm_flags(flags, drop_recent=True) for uid, flags in client.flags().items()
            }
        return out
    finally:
        client.close()


async def read_all(
    server: MailServer, users: Sequence[ImapUser], concurrency: int = 16
) -> dict[str, Folders]:
    """:func:`read_truth` of every user, ``concurrency`` connections at a time."""

    def run() -> dict[str, Folders]:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(users)))) as pool:
            snapshots = list(pool.map(lambda u: read_truth(server, u), users))
        return {u.name: s for u, s in zip(users, snapshots, strict=True)}

    return await asyncio.to_thread(run)
