"""The message objects of a listing page: kept summaries with fresh flags, the rest fetched.

What a page shows of a message, except its flags and labels, is kept between calls
(`sessions/summaries.py`): a message listed before costs a FETCH of its flags only (read in bulk,
`imap/flagfetch.py`); the others are fetched in full, built (`mail/summary.py`), classified and
kept. Used by listings, searches and threads (`messages.py`, `threads.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from imapapi.imap import FetchResult, ImapConnection
from imapapi.imap.encode import sequence_set
from imapapi.mail.summary import MUTABLE_FIELDS, add_flags, message_summary
from imapapi.sessions.command_pool import CommandConnection
from imapapi.syncing.classification import add_classification, shared_headers


@dataclass(frozen=True, slots=True)
class OpenFolder:
    """A folder selected on a command connection, with the mailbox index of its ids.
    `noop_pending`: kept selected, and the NOOP that checks it is the caller's to send."""

    path: str
    uid_validity: int
    index: int
    noop_pending: bool = False


async def fetch_summaries(
    command: CommandConnection,
    folder: OpenFolder,
    uids: list[int],
    items: Sequence[str],
    *,
    kept: dict[int, bytes] | None = None,
    noop_first: bool = False,
) -> list[dict[str, Any]]:
    """The message objects of `uids` in the selected `folder`, in that order, classified.

    Messages listed before on this account (`command.summaries`, kept without their flags)
    cost a FETCH of their flags (and labels) only; the others are fetched with `items`, built
    and classified, and kept for the next time. `kept`: what `command.summaries` has of
    `uids`, when already looked up. `noop_first`: a NOOP goes in the same write as the FETCH
    of flags (or first, alone, when there is none).
    """
    if not uids:
        return []
    view, conn, kept_summaries = command.view, command.conn, command.summaries
    if kept is None:
        kept = kept_summaries.get(folder.path, folder.uid_validity, uids)
    if noop_first and not kept:
        await conn.noop()
    view.updates.clear()
    flags: dict[int, _Flags] = {}
    if kept:
        # Read in bulk (imap/flagfetch.py): no response object per message.
        answer = await conn.uid_fetch_flags(
            _flags,
            uids=sequence_set(kept).decode(),
            labels="X-GM-LABELS" in items,
            noop_first=noop_first,
        )
        flags = answer.values
    missing = [uid for uid in uids if uid not in kept]
    fetched: dict[int, FetchResult] = {}
    if missing:
        for uid in missing:  # reported before the FETCH was sent: older than its answer
            view.updates.pop(uid, None)
        async for result in conn.uid_fetch(missing, items):
            if result.uid is not None:
                fetched[result.uid] = result
    # Messages expunged meanwhile are simply missing from the page.
    expunged = view.expunged
    results = {
        uid: _fresher(fetched[uid], view.updates)
        for uid in missing
        if uid in fetched and uid not in expunged
    }
    built = await _build(conn, folder, list(results.values()))
    kept_summaries.put(folder.path, folder.uid_validity, encoded(built))
    summaries = []
    for uid in uids:
        if uid in built:
            summary, result = built[uid], results[uid]
            add_flags(summary, result.flags, result.gmail_labels)
        elif uid in kept and uid in flags and uid not in expunged:
            summary = orjson.loads(kept[uid])
            now, labels = flags[uid]
            # Another client changed them meanwhile; or, when the FETCH went with a NOOP, the
            # NOOP's report of a change was taken for the answer (`FlagFetch.take`), which
            # then came as the update.
            later = view.updates.get(uid)
            if later is not None:
                now = later.flags if later.flags is not None else now
                labels = later.gmail_labels if later.gmail_labels is not None else labels
            add_flags(summary, now, labels)
        else:
            continue
        summaries.append(summary)
    return summaries


_Flags = tuple[tuple[str, ...] | None, tuple[str, ...] | None]


def _flags(flags: tuple[str, ...] | None, labels: tuple[str, ...] | None) -> _Flags:
    return flags, labels


async def _build(
    conn: ImapConnection, folder: OpenFolder, results: list[FetchResult]
) -> dict[int, dict[str, Any]]:
    """The classified summaries of `results` by UID, without the fields another client can
    change (`add_flags` puts them back), so kept and new summaries have their keys in one
    order."""
    # The header fields are parsed once, for the summary (References) and the verdict.
    headers = [shared_headers(result) for result in results]
    pairs = [
        (result, summarize(result, folder, read))
        for result, read in zip(results, headers, strict=True)
    ]
    await add_classification(conn, pairs, headers)
    return {
        summary["uid"]: {k: v for k, v in summary.items() if k not in MUTABLE_FIELDS}
        for _, summary in pairs
    }


def encoded(summaries: dict[int, dict[str, Any]]) -> dict[int, bytes]:
    encoded = {}
    for uid, summary in summaries.items():
        try:
            data = orjson.dumps(summary)
        except orjson.JSONEncodeError:  # e.g. a lone surrogate: built afresh each time instead
            continue
        # A copy of its own size: orjson's result keeps the 4 KiB buffer it was written in.
        encoded[uid] = bytes(memoryview(data))
    return encoded


def _fresher(result: FetchResult, updates: Mapping[int, FetchResult]) -> FetchResult:
    """`result` with the flags of an unsolicited FETCH the server sent after it (another
    client changed them, RFC 3501 §7.4.2); if the update came first and was taken for the
    result, the fuller response is the base."""
    later = updates.get(result.uid) if result.uid is not None else None
    if later is None:
        return result
    base = result if result.envelope is not None or later.envelope is None else later
    flags = later.flags if later.flags is not None else result.flags
    return dataclasses.replace(base, flags=flags)


def summarize(
    fetch: FetchResult, folder: OpenFolder, headers: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    """The listing object; `headers`: its header fields when already parsed."""
    return message_summary(fetch, index=folder.index, path=folder.path, headers=headers)
