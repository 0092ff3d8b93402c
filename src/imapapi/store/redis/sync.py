"""Sync state on Redis: mailbox indexes, folder states, and `commit_sync`, one script that
checks the writer's fencing token and writes the state with its events (`SyncStore`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from imapapi.errors import LeaseLostError
from imapapi.store.payload import dump, load
from imapapi.store.records import MAX_MAILBOX_INDEX, FolderState, NewEvent
from imapapi.store.redis.codec import _hash, _opt
from imapapi.store.redis.connection import RedisConnection
from imapapi.store.redis.outbox import (
    OUTBOX_BIND,
    OUTBOX_FUNCS,
    event_args,
    outbox_keys,
    outbox_stems,
)

# KEYS[1] the account's mailboxes hash; ARGV[1] the largest index, then (path field, value)
# pairs. Returns the index of each pair, allocating the next one for those not bound yet.
MAILBOX_INDEXES = """
local out = {}
for i = 2, #ARGV, 2 do
  local found = redis.call('HGET', KEYS[1], ARGV[i])
  if found then
    out[#out + 1] = tonumber(found)
  else
    local index = tonumber(redis.call('HGET', KEYS[1], 'n') or '0') + 1
    if index > tonumber(ARGV[1]) then return redis.error_reply('mailbox indexes exhausted') end
    redis.call('HSET', KEYS[1], 'n', index, ARGV[i], index, 'i' .. index, ARGV[i + 1])
    out[#out + 1] = index
  end
end
return out
"""

# KEYS[7] folders hash, KEYS[8] folder blobs hash, KEYS[9] the account's fencing token.
# ARGV[3] the writer's token ('' when unfenced, else '+token'); then the events, nf, nf times
# (path, metadata JSON, blob bytes), nr, nr removed paths. Events first, as in SQLite.
# Returns 0, having written nothing, when another node took the account over (token moved on).
COMMIT_SYNC = (
    OUTBOX_BIND
    + OUTBOX_FUNCS
    + """
if ARGV[3] ~= '' and redis.call('GET', KEYS[9]) ~= string.sub(ARGV[3], 2) then return 0 end
local at = insert_events(4)
local nf = tonumber(ARGV[at])
for i = 0, nf - 1 do
  local p = at + 1 + 3 * i
  redis.call('HSET', KEYS[7], ARGV[p], ARGV[p + 1])
  redis.call('HSET', KEYS[8], ARGV[p], ARGV[p + 2])
end
at = at + 1 + 3 * nf
for i = 1, tonumber(ARGV[at]) do
  redis.call('HDEL', KEYS[7], ARGV[at + i])
  redis.call('HDEL', KEYS[8], ARGV[at + i])
end
return 1
"""
)


class RedisSync(RedisConnection):
    """The `SyncStore` part of `RedisStore`."""

    async def mailbox_index(self, account: str, path: str, uid_validity: int) -> int:
        return (await self.mailbox_indexes(account, [(path, uid_validity)]))[0]

    async def mailbox_indexes(self, account: str, folders: Sequence[tuple[str, int]]) -> list[int]:
        # One script: under many coroutines asking at once, the first allocates and the rest
        # read its index (WATCH would make all but one retry).
        args: list[Any] = [MAX_MAILBOX_INDEX]
        for path, uid_validity in folders:
            bound = json.dumps([path, uid_validity])
            args += ["p" + bound, bound]
        indexes = await self._run(MAILBOX_INDEXES, [self.keys.mailboxes(account)], args)
        return [int(index) for index in indexes]

    async def resolve_mailbox_index(self, account: str, index: int) -> tuple[str, int] | None:
        raw = await self._call("HGET", self.keys.mailboxes(account), f"i{index}")
        if raw is None:
            return None
        path, uid_validity = json.loads(raw)
        return str(path), int(uid_validity)

    async def get_folders(self, account: str) -> list[FolderState]:
        metas, blobs = await self._transaction(
            ("HGETALL", self.keys.folders(account)), ("HGETALL", self.keys.folder_blobs(account))
        )
        blobs = _hash(blobs)
        folders = []
        # Sorted as SQLite's ORDER BY path: code point order is UTF-8 byte order.
        for path, meta in sorted(_hash(metas).items()):
            d = load(meta, f"folder {path!r} of {account!r}")
            folders.append(
                FolderState(
                    account=account,
                    path=path,
                    index=int(d["index"]),
                    uid_validity=int(d["uidValidity"]),
                    uid_next=int(d["uidNext"]),
                    highest_modseq=d["highestModseq"],
                    messages=int(d["messages"]),
                    special_use=d["specialUse"],
                    messages_blob=bytes(blobs.get(path, b"")),
                )
            )
        return folders

    async def commit_sync(
        self,
        account: str,
        events: list[NewEvent],
        folders: list[FolderState],
        removed_paths: Sequence[str] = (),
        *,
        fence: int | None = None,
    ) -> None:
        # One script: the events and the state that produced them are written together, events
        # first; a crash before it runs loses both (the change is found again), after keeps both.
        # The fencing token is checked before anything is written.
        args: list[Any] = [
            *outbox_stems(self.keys),
            _opt(fence),
            *event_args(events),
            len(folders),
        ]
        for f in folders:
            meta = {
                "index": f.index,
                "uidValidity": f.uid_validity,
                "uidNext": f.uid_next,
                "highestModseq": f.highest_modseq,
                "messages": f.messages,
                "specialUse": f.special_use,
            }
            args += [f.path, dump(meta), bytes(f.messages_blob)]
        args += [len(removed_paths), *removed_paths]
        keys = [
            *outbox_keys(self.keys),
            self.keys.folders(account),
            self.keys.folder_blobs(account),
            self.keys.fence(account),
        ]
        if not await self._run_grouped(COMMIT_SYNC, keys, args):
            raise LeaseLostError(f"account {account!r} is synced by another node now")
