"""What a folder's new messages are announced with: the message summary of each messageNew, its
classification (auto-reply, bounce, mailing list), the messageReply & co. of a tracked Message-ID,
and, on a first sync, which old messages `notifyFrom` still announces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from imapapi.accounts.model import AccountConfig
from imapapi.imap import ImapConnection
from imapapi.imap.types import FetchResult
from imapapi.mail.bodystructure import find_text_parts
from imapapi.mail.decode import decode_text
from imapapi.mail.reply_text import cap_text, reply_text
from imapapi.mail.summary import message_summary
from imapapi.store.base import NewEvent, Store
from imapapi.sync import events as ev
from imapapi.sync.flagmap import FlagSet
from imapapi.syncing.classification import (
    SUMMARY_HEADERS,
    add_classification,
    shared_headers,
)
from imapapi.syncing.model import stored_flags

GMAIL_SUMMARY_ITEMS = ("X-GM-LABELS", "X-GM-MSGID", "X-GM-THRID")
# The reply's own text is at the top of its text part; Outlook's HTML carries tens of KiB of
# style before it, so this much of the part is fetched (or 4 octets per octet of the cap).
REPLY_FETCH_BYTES = 128 * 1024
# Tracking events that carry `text.reply` (a bounce's text is a report, not a reply).
_WITH_REPLY_TEXT = ("human", "autoReply")
SUMMARY_ITEMS = (
    "UID",
    "FLAGS",
    "INTERNALDATE",
    "RFC822.SIZE",
    "ENVELOPE",
    "BODYSTRUCTURE",
    SUMMARY_HEADERS,
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Enricher:
    """Turns the new UIDs of one folder's sync into messageNew events (and tracked replies)."""

    def __init__(
        self,
        account: AccountConfig,
        store: Store,
        *,
        fetch_chunk: int,
        reply_text_max: int = 4096,
    ) -> None:
        self.account = account
        self.store = store
        self._chunk = fetch_chunk
        self._reply_max = reply_text_max

    async def new_messages(
        self,
        conn: ImapConnection,
        ref: ev.FolderRef,
        new_uids: list[int],
        current: dict[int, FlagSet],
        *,
        announce: bool,
        gmail: bool,
    ) -> list[NewEvent]:
        """The events of the new messages `new_uids` of the selected folder `ref`.

        Not `announce` (a first sync or a reset): only what `notifyFrom` asks for. `current`,
        the folder's uid → flags map to be stored, is updated with what the summaries show.
        """
        events: list[NewEvent] = []
        if not announce:
            new_uids = await self._notify_from_candidates(conn, new_uids)
        if new_uids:
            found = set()
            items = SUMMARY_ITEMS + GMAIL_SUMMARY_ITEMS if gmail else SUMMARY_ITEMS
            async for result in conn.uid_fetch(new_uids, items, chunk_size=self._chunk):
                if result.uid is None or not self._wanted_new(result, announce):
                    continue
                found.add(result.uid)
                if result.flags is not None and result.uid in current:
                    # The summary is fetched after the flags: a change in between is in the
                    # messageNew already, so it is what is stored, or the next sync would
                    # report it a second time as a messageUpdated.
                    current[result.uid] = stored_flags(result.flags, result.gmail_labels)
                headers = shared_headers(result)  # read once for the summary and the verdict
                summary = message_summary(result, index=ref.index, path=ref.path, headers=headers)
                await add_classification(conn, [(result, summary)], [headers])
                events.append(ev.message_new(ref, summary))
                tracked = await self._tracked_reply(conn, result, ref, summary)
                if tracked is not None:
                    events.append(tracked)
            if announce:
                for uid in set(new_uids) - found:  # expunged before we could fetch it
                    current.pop(uid, None)
        return events

    async def _tracked_reply(
        self,
        conn: ImapConnection,
        result: FetchResult,
        ref: ev.FolderRef,
        summary: dict[str, Any],
    ) -> NewEvent | None:
        """messageReply & co. when a message that landed in the inbox (the \\Inbox folder, or
        the \\Inbox label on Gmail) answers a Message-ID this account sent or tracks."""
        in_inbox = ref.special_use == "\\Inbox" or "\\Inbox" in (summary.get("labels") or ())
        candidates = ev.tracking_candidates(summary) if in_inbox else []
        if not candidates:
            return None
        found = {r.message_id: r for r in await self.store.find_sent(ref.account, candidates)}
        replied = next((found[c] for c in candidates if c in found), None)
        if replied is None:
            return None
        if (summary.get("classification") or {}).get("type") in _WITH_REPLY_TEXT:
            summary = await self._with_reply_text(conn, result, summary)
        return ev.tracked_reply(ref, summary, replied)

    async def _with_reply_text(
        self, conn: ImapConnection, result: FetchResult, summary: dict[str, Any]
    ) -> dict[str, Any]:
        """A copy of `summary` with `text.reply`: one more fetch, of the start of the plain
        part (else the HTML one), only for the tracking events, so messageNew costs no body."""
        if "text" not in summary or result.body_structure is None or result.uid is None:
            return summary
        plain, html = find_text_parts(result.body_structure)
        part = plain or html
        if part is None:
            return summary
        limit = max(REPLY_FETCH_BYTES, 4 * self._reply_max)
        raw = b""
        # One octet more than used: "the part goes on" is known from the answer itself.
        item = f"BODY.PEEK[{part.part}]<0.{limit + 1}>"
        async for body in conn.uid_fetch([result.uid], [item]):
            raw = next(iter(body.sections.values()), raw)
        fetched_all = len(raw) <= limit
        raw = raw[:limit]
        decoded = decode_text(raw, part.encoding, part.param("charset"), complete=fetched_all)
        reply = reply_text(decoded, None) if part is plain else reply_text(None, decoded)
        text, cut = cap_text(reply.text, self._reply_max)
        copy = {**summary, "text": {**summary["text"], "reply": text}}
        if cut or not (fetched_all or reply.bounded):
            copy["truncated"] = [*(summary.get("truncated") or ()), "text.reply"]
        return copy

    def _notify_after(self) -> datetime | None:
        if not self.account.notify_from:
            return None
        try:
            return datetime.fromisoformat(self.account.notify_from)
        except ValueError:
            return None

    async def _notify_from_candidates(self, conn: ImapConnection, uids: list[int]) -> list[int]:
        """On the first sync only mail after `notifyFrom` (if set) is announced."""
        after = self._notify_after()
        if after is None or not uids:
            return []
        # SEARCH SINCE has day granularity (RFC 3501 §6.4.4); INTERNALDATE refines below.
        day = f"{after.day}-{_MONTHS[after.month - 1]}-{after.year}".encode()
        matching = set(await conn.uid_search([b"SINCE", day]))
        return [uid for uid in uids if uid in matching]

    def _wanted_new(self, result: FetchResult, announce: bool) -> bool:
        if announce:
            return True
        after = self._notify_after()
        if after is None or not result.internal_date:
            return False
        try:
            return datetime.fromisoformat(result.internal_date) >= after
        except ValueError:
            return False
