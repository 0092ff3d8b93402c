"""Mailbox and message commands of `ImapConnection` (RFC 3501 §6.3, §6.4 and extensions).

A mixin over `ConnectionCore`, split from `connection.py` to keep modules small. Arguments are
encoded with `encode.py` before anything is written; results are parsed with `parse.py`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Literal as TypingLiteral
from typing import TypeVar

from imapclient import imap_utf7

from imapapi.errors import CapabilityError, ConflictError, InvalidInputError, ProtocolError
from imapapi.imap import encode, parse
from imapapi.imap.core import ConnectionCore
from imapapi.imap.encode import Literal, Part
from imapapi.imap.flagfetch import Convert, FlagFetch
from imapapi.imap.types import (
    AppendUid,
    ConnectionState,
    CopyUid,
    ESearchResult,
    FetchResult,
    MailboxInfo,
    MailboxStatus,
    Namespace,
    Namespaces,
    QresyncParams,
    SelectedMailbox,
)

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 500
T = TypeVar("T")


class FetchStream:
    """Async iterator over UID FETCH results, one command per chunk of UIDs.

    `vanished` collects UIDs reported by `VANISHED (EARLIER)` (RFC 7162 §3.2.6) once iterated.
    """

    def __init__(
        self,
        conn: MailboxCommands,
        chunks: list[tuple[bytes, Callable[[FetchResult], bool]]],
        tail: list[Part],
        timeout: float | None,
        noop_first: bool = False,
    ) -> None:
        self._conn = conn
        self._chunks = chunks
        self._tail = tail
        self._timeout = timeout
        self._noop_first = noop_first
        self.vanished: list[int] = []

    def __aiter__(self) -> AsyncIterator[FetchResult]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[FetchResult]:
        for number, (uid_set, claim) in enumerate(self._chunks):
            _, command = await self._conn._run(
                "UID FETCH",
                [uid_set, *self._tail],
                collect=("FETCH", "VANISHED"),
                claim=claim,
                timeout=self._timeout,
                noop_first=self._noop_first and number == 0,
            )
            for response in command.untagged:
                self.vanished.extend(parse.parse_vanished(response)[0])
            for result in command.fetches:
                yield result

    async def collect(self) -> list[FetchResult]:
        """All results as one list."""
        return [result async for result in self]


class MailboxCommands(ConnectionCore):
    """SELECT, LIST, STATUS, CREATE …, APPEND, UID FETCH/SEARCH/STORE/COPY/MOVE, EXPUNGE."""

    # --- mailboxes --------------------------------------------------------------------------------

    def _mailbox(self, path: str, field: str = "path") -> Part:
        return encode.mailbox(path, utf8=self.utf8, field=field)

    async def select(
        self,
        path: str,
        *,
        readonly: bool = False,
        condstore: bool = False,
        qresync: QresyncParams | None = None,
    ) -> SelectedMailbox:
        """SELECT / EXAMINE (RFC 3501 §6.3.1) with `(CONDSTORE)` or `(QRESYNC (...))` (RFC 7162).

        QRESYNC needs `enable("QRESYNC")` first; its VANISHED (EARLIER) and changed FETCH
        responses are returned in the result.
        """
        name = "EXAMINE" if readonly else "SELECT"
        args: list[Part] = [self._mailbox(path)]
        if qresync is not None:
            if "QRESYNC" not in self._enabled:
                raise CapabilityError("QRESYNC is not enabled (call enable('QRESYNC') first)")
            inner = [
                encode.number(qresync.uid_validity, "uid_validity"),
                encode.number(qresync.modseq, "modseq"),
            ]
            if qresync.known_uids:
                inner.append(encode.sequence_set(qresync.known_uids, "known_uids"))
            args.append(b"(QRESYNC (" + b" ".join(inner) + b"))")
        elif condstore:
            if not self.has_capability("CONDSTORE"):
                raise CapabilityError("the server does not offer CONDSTORE")
            args.append(b"(CONDSTORE)")
        self.selected = None
        if self._state is ConnectionState.SELECTED:
            self._set_state(ConnectionState.AUTHENTICATED)  # RFC 3501 §6.3.1: even on failure
        status, command = await self._run(
            name, args, collect=("EXISTS", "RECENT", "FLAGS", "OK", "VANISHED", "FETCH")
        )
        result = parse.parse_select(path, command.untagged, status, utf8=self.utf8)
        result = _with_changed(result, command.fetches)
        self.selected, self.selected_read_only = path, readonly or result.read_only
        self._set_state(ConnectionState.SELECTED)
        return result

    async def examine(self, path: str, **kwargs: object) -> SelectedMailbox:
        """EXAMINE: SELECT read-only."""
        return await self.select(path, readonly=True, **kwargs)  # type: ignore[arg-type]

    async def unselect(self) -> None:
        """UNSELECT (RFC 3691), or CLOSE: leave the mailbox without expunging.

        CLOSE expunges a mailbox selected read-write (RFC 3501 §6.4.2) but not one examined,
        so without UNSELECT a read-write mailbox is examined first.
        """
        if not self.has_capability("UNSELECT"):
            if self.selected is not None and not self.selected_read_only:
                await self.examine(self.selected)
            await self._run("CLOSE")
        else:
            await self._run("UNSELECT")
        self.selected = None
        self._set_state(ConnectionState.AUTHENTICATED)

    async def list_mailboxes(
        self, reference: str = "", pattern: str = "*", *, subscribed_flag: bool = True
    ) -> list[MailboxInfo]:
        """LIST (RFC 3501 §6.3.8) with `RETURN (SPECIAL-USE SUBSCRIBED)` where supported
        (RFC 5258, RFC 6154): the flags then carry `\\Sent` … and `\\Subscribed`."""
        ref = encode.quoted(
            reference.encode() if self.utf8 else imap_utf7.encode(reference), "reference"
        )
        args: list[Part] = [ref, self._mailbox(pattern, "pattern")]
        if self.has_capability("LIST-EXTENDED"):
            returns = [b"SUBSCRIBED"] if subscribed_flag else []
            if self.has_capability("SPECIAL-USE"):
                returns.append(b"SPECIAL-USE")
            if returns:
                args.append(b"RETURN (" + b" ".join(returns) + b")")
        _, command = await self._run("LIST", args, collect=("LIST",))
        return [parse.parse_list(r, utf8=self.utf8) for r in command.untagged]

    async def list_with_status(
        self, items: Sequence[str] = ("MESSAGES", "UIDNEXT", "UIDVALIDITY")
    ) -> tuple[list[MailboxInfo], dict[str, MailboxStatus]]:
        """All mailboxes and their STATUS in one round trip: `LIST ... RETURN (SPECIAL-USE
        SUBSCRIBED STATUS (...))` (RFC 5819). Without LIST-STATUS, the statuses are empty."""
        if not (self.has_capability("LIST-STATUS") and self.has_capability("LIST-EXTENDED")):
            return await self.list_mailboxes(), {}
        wanted = list(items)
        if self.has_capability("CONDSTORE") and "HIGHESTMODSEQ" not in wanted:
            wanted.append("HIGHESTMODSEQ")
        returns = [b"SUBSCRIBED"]
        if self.has_capability("SPECIAL-USE"):
            returns.append(b"SPECIAL-USE")
        status_items = b" ".join(encode.atom(i, "items") for i in wanted)
        returns.append(b"STATUS (" + status_items + b")")
        args: list[Part] = [b'""', b"*", b"RETURN (" + b" ".join(returns) + b")"]
        _, command = await self._run("LIST", args, collect=("LIST", "STATUS"))
        listed: list[MailboxInfo] = []
        statuses: dict[str, MailboxStatus] = {}
        for response in command.untagged:
            kind, _ = parse.untagged_kind(response)
            if kind == "STATUS":
                status = parse.parse_status(response, utf8=self.utf8)
                statuses[status.path] = status
            else:
                listed.append(parse.parse_list(response, utf8=self.utf8))
        return listed, statuses

    async def list_subscribed(self, pattern: str = "*") -> list[MailboxInfo]:
        """Subscribed mailboxes: LIST (SUBSCRIBED) (RFC 5258), or LSUB where that is missing."""
        if self.has_capability("LIST-EXTENDED"):
            args: list[Part] = [b"(SUBSCRIBED)", b'""', self._mailbox(pattern, "pattern")]
            _, command = await self._run("LIST", args, collect=("LIST",))
        else:
            _, command = await self._run(
                "LSUB", [b'""', self._mailbox(pattern, "pattern")], collect=("LSUB",)
            )
        return [parse.parse_list(r, utf8=self.utf8) for r in command.untagged]

    async def subscribed_paths(self) -> set[str]:
        """The paths of the subscribed mailboxes, for servers whose LIST cannot say it.

        LSUB lists a parent of a subscribed mailbox with `\\Noselect` when the parent itself
        is not subscribed (RFC 3501 §6.3.9; Courier does so even for `*`, INBOX included), so
        such entries are not subscriptions. `LIST (SUBSCRIBED)` (RFC 5258) has no such entries.
        """
        return {
            info.path
            for info in await self.list_subscribed()
            if not any(flag.lower() == "\\noselect" for flag in info.flags)
        }

    async def namespace(self) -> Namespaces:
        """NAMESPACE (RFC 2342), asked once per connection: the answer is fixed for a session.

        Without the capability the server has one personal namespace with the empty prefix
        (RFC 2342 §4 allows no other reading), whose delimiter LIST would tell.
        """
        if self._namespaces is not None:
            return self._namespaces
        if self.has_capability("NAMESPACE"):
            _, command = await self._run("NAMESPACE", collect=("NAMESPACE",))
            if not command.untagged:
                raise ProtocolError("NAMESPACE completed without a NAMESPACE response")
            namespaces = parse.parse_namespace(command.untagged[-1], utf8=self.utf8)
        else:
            namespaces = Namespaces(personal=(Namespace("", None),))
        self._namespaces = namespaces
        return namespaces

    async def status(self, path: str, items: Sequence[str] | None = None) -> MailboxStatus:
        """STATUS (RFC 3501 §6.3.10); HIGHESTMODSEQ is asked for when CONDSTORE is offered."""
        if items is None:
            items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"]
            if self.has_capability("CONDSTORE"):
                items.append("HIGHESTMODSEQ")
        arg = b"(" + b" ".join(encode.atom(i, "items") for i in items) + b")"
        _, command = await self._run("STATUS", [self._mailbox(path), arg], collect=("STATUS",))
        if not command.untagged:
            raise ProtocolError("STATUS completed without a STATUS response")
        result = parse.parse_status(command.untagged[-1], utf8=self.utf8)
        return dataclasses.replace(result, path=path)  # the name as we asked, not re-decoded

    async def create(self, path: str, *, special_use: str | None = None) -> None:
        """CREATE (RFC 3501 §6.3.3), optionally with `(USE (\\Sent))` (RFC 6154 §3)."""
        args: list[Part] = [self._mailbox(path)]
        if special_use:
            if not self.has_capability("CREATE-SPECIAL-USE"):
                raise CapabilityError("the server does not offer CREATE-SPECIAL-USE")
            args.append(b"(USE (" + encode.flag(special_use, "special_use") + b"))")
        await self._run("CREATE", args)

    async def rename(self, path: str, new_path: str) -> None:
        """RENAME (RFC 3501 §6.3.5)."""
        await self._run("RENAME", [self._mailbox(path), self._mailbox(new_path, "new_path")])

    async def delete(self, path: str) -> None:
        """DELETE (RFC 3501 §6.3.4); leaves the mailbox first if it is the selected one."""
        if self.selected == path and self._state is ConnectionState.SELECTED:
            # Dovecot drops a session whose selected mailbox is deleted ("Selected mailbox was
            # deleted, have to disconnect"), even when this session deleted it.
            await self.unselect()
        await self._run("DELETE", [self._mailbox(path)])

    async def subscribe(self, path: str) -> None:
        """SUBSCRIBE (RFC 3501 §6.3.6)."""
        await self._run("SUBSCRIBE", [self._mailbox(path)])

    async def unsubscribe(self, path: str) -> None:
        """UNSUBSCRIBE (RFC 3501 §6.3.7)."""
        await self._run("UNSUBSCRIBE", [self._mailbox(path)])

    async def append(
        self,
        path: str,
        message: bytes,
        *,
        flags: Iterable[str] = (),
        internal_date: _dt.datetime | None = None,
    ) -> AppendUid | None:
        """APPEND (RFC 3501 §6.3.11); returns APPENDUID (RFC 4315) when the server gives it."""
        args: list[Part] = [self._mailbox(path)]
        flag_list = list(flags)
        if flag_list:
            args.append(encode.flag_list(flag_list))
        if internal_date is not None:
            args.append(encode.date_time(internal_date))
        args.append(encode.literal(message))
        status, _ = await self._run("APPEND", args)
        return parse.parse_appenduid(status.code)

    # --- messages in the selected mailbox ---------------------------------------------------------

    def uid_fetch(
        self,
        uids: Sequence[int] | str,
        items: Sequence[str],
        *,
        changed_since: int | None = None,
        vanished: bool = False,
        chunk_size: int = DEFAULT_CHUNK,
        timeout: float | None = None,
        noop_first: bool = False,
    ) -> FetchStream:
        """UID FETCH (RFC 3501 §6.4.8) as an async iterator of `FetchResult`.

        A list of UIDs is sent in chunks of `chunk_size` (one command each, so no single
        response parse holds the loop long); a string is a raw sequence set like "1:*" sent as
        one command. `changed_since` adds CHANGEDSINCE (RFC 7162 §3.1.4); `vanished` adds
        VANISHED (§3.2.6; QRESYNC must be enabled) and fills `FetchStream.vanished`.
        `noop_first`: a NOOP is written together with the first chunk (one round trip for
        both; what the NOOP makes the server report arrives as events before the answer).
        """
        if chunk_size < 1:
            raise InvalidInputError("chunk_size", "must be positive")
        chunks: list[tuple[bytes, Callable[[FetchResult], bool]]] = []
        answers = _answers(items)
        if isinstance(uids, str):
            chunks.append((encode.raw_sequence_set(uids), answers))
        else:
            for chunk in encode.chunks(uids, chunk_size):
                chunks.append((encode.sequence_set(chunk), _claim(frozenset(chunk), answers)))
        tail = [encode.fetch_items(items), *self._fetch_modifiers(changed_since, vanished)]
        return FetchStream(self, chunks, tail, timeout, noop_first)

    async def uid_fetch_flags(
        self,
        convert: Convert[T],
        *,
        uids: str = "1:*",
        labels: bool = False,
        changed_since: int | None = None,
        vanished: bool = False,
        timeout: float | None = None,
        noop_first: bool = False,
    ) -> FlagFetch[T]:
        """`UID FETCH uids (UID FLAGS [X-GM-LABELS])` as one uid → `convert(flags, labels)` map,
        with MODSEQ by uid and the VANISHED (EARLIER) uids: the indexing command of a sync.

        The answer is read in bulk (`flagfetch.py`: no response object per message); it is one
        command for a raw sequence set such as "1:*". `convert` runs once per distinct flag
        list, so it must depend on its arguments alone. Modifiers and `noop_first` as in
        `uid_fetch`.
        """
        items = ["UID", "FLAGS", *(["X-GM-LABELS"] if labels else [])]
        tail = [encode.fetch_items(items), *self._fetch_modifiers(changed_since, vanished)]
        answer = FlagFetch(convert)
        _, command = await self._run(
            "UID FETCH",
            [encode.raw_sequence_set(uids), *tail],
            collect=("FETCH", "VANISHED"),
            flag_fetch=answer,
            timeout=timeout,
            noop_first=noop_first,
        )
        for response in command.untagged:
            answer.vanished.extend(parse.parse_vanished(response)[0])
        return answer

    def _fetch_modifiers(self, changed_since: int | None, vanished: bool) -> list[Part]:
        """`(CHANGEDSINCE n VANISHED)` (RFC 7162 §3.1.4, §3.2.6), or nothing."""
        modifiers: list[bytes] = []
        if changed_since is not None:
            modifiers.append(b"CHANGEDSINCE " + encode.number(changed_since, "changed_since"))
        if vanished:
            if "QRESYNC" not in self._enabled or changed_since is None:
                raise CapabilityError("VANISHED needs QRESYNC enabled and changed_since")
            modifiers.append(b"VANISHED")
        return [b"(" + b" ".join(modifiers) + b")"] if modifiers else []

    async def uid_search(
        self, criteria: Sequence[Part], *, charset: str | None = None
    ) -> list[int]:
        """UID SEARCH (RFC 3501 §6.4.4); `criteria` are parts pre-encoded with `encode.py`."""
        _, command = await self._run(
            "UID SEARCH", self._search_args(criteria, charset, None), collect=("SEARCH",)
        )
        return [uid for response in command.untagged for uid in parse.parse_search(response)[0]]

    async def uid_esearch(
        self,
        criteria: Sequence[Part],
        *,
        returns: Sequence[str] = ("ALL",),
        charset: str | None = None,
    ) -> ESearchResult:
        """UID SEARCH RETURN (...) (RFC 4731): MIN, MAX, COUNT, ALL without a huge list."""
        if not self.has_capability("ESEARCH"):
            raise CapabilityError("the server does not offer ESEARCH")
        args = self._search_args(criteria, charset, returns)
        _, command = await self._run("UID SEARCH", args, collect=("ESEARCH",))
        for response in command.untagged:
            result = parse.parse_esearch(response)
            if result.tag in (None, command.tag):
                return result
        return ESearchResult(uid=True)  # RFC 4731 §3.1: no ESEARCH means nothing matched

    def _search_args(
        self, criteria: Sequence[Part], charset: str | None, returns: Sequence[str] | None
    ) -> list[Part]:
        if not criteria:
            raise InvalidInputError("criteria", "must not be empty")
        args: list[Part] = []
        if returns is not None:
            args.append(b"RETURN (" + b" ".join(encode.atom(r, "returns") for r in returns) + b")")
        if charset:
            args += [b"CHARSET", encode.atom(charset, "charset")]
        return [*args, *criteria]

    async def uid_store(
        self,
        uids: Sequence[int],
        action: TypingLiteral["+", "-", ""],
        flags: Iterable[str],
        *,
        silent: bool = False,
        unchanged_since: int | None = None,
        item: TypingLiteral["FLAGS", "X-GM-LABELS"] = "FLAGS",
    ) -> list[FetchResult]:
        """UID STORE (RFC 3501 §6.4.6): `action` "+" adds, "-" removes, "" replaces.

        Returns the FETCH responses for the stored UIDs (none when `silent`). With
        `unchanged_since` (RFC 7162 §3.1.3) messages modified meanwhile are left alone and
        `ConflictError` is raised with their UIDs in `details["modified"]` (the rest was stored).
        """
        if action not in ("+", "-", ""):
            raise InvalidInputError("action", "must be '+', '-' or ''")
        args: list[Part] = [encode.sequence_set(uids)]
        if unchanged_since is not None:
            args.append(
                b"(UNCHANGEDSINCE " + encode.number(unchanged_since, "unchanged_since") + b")"
            )
        args.append(f"{action}{item}{'.SILENT' if silent else ''}".encode())
        if item == "X-GM-LABELS":
            args.append(
                b"(" + b" ".join(_as_bytes(self._mailbox(f, "labels")) for f in flags) + b")"
            )
        else:
            args.append(encode.flag_list(flags))
        wanted = frozenset(uids)
        status, command = await self._run(
            "UID STORE", args, collect=("FETCH",), claim=lambda result: result.uid in wanted
        )
        if status.code is not None and status.code.name == "MODIFIED":
            modified = parse.parse_sequence_set(status.code.args.strip())
            raise ConflictError(
                "messages changed since the given modseq", details={"modified": list(modified)}
            )
        return command.fetches

    async def uid_copy(self, uids: Sequence[int], path: str) -> CopyUid | None:
        """UID COPY (RFC 3501 §6.4.7); COPYUID (RFC 4315) when given."""
        status, _ = await self._run("UID COPY", [encode.sequence_set(uids), self._mailbox(path)])
        return parse.parse_copyuid(status.code)

    async def uid_move(self, uids: Sequence[int], path: str) -> CopyUid | None:
        """UID MOVE (RFC 6851), or COPY + STORE \\Deleted + UID EXPUNGE without MOVE."""
        if not self.has_capability("MOVE"):
            if not self.has_capability("UIDPLUS"):
                raise CapabilityError("neither MOVE nor UIDPLUS: cannot move safely")
            copied = await self.uid_copy(uids, path)
            await self.uid_store(uids, "+", ["\\Deleted"], silent=True)
            await self.expunge(uids)
            return copied
        status, command = await self._run(
            "UID MOVE", [encode.sequence_set(uids), self._mailbox(path)], collect=("OK",)
        )
        # RFC 6851 §4.3: COPYUID comes in an untagged OK before the expunges.
        for response in command.untagged:
            copied = parse.parse_copyuid(parse.parse_status_response(response.first_line).code)
            if copied is not None:
                return copied
        return parse.parse_copyuid(status.code)

    async def expunge(self, uids: Sequence[int] | None = None) -> None:
        """EXPUNGE, or UID EXPUNGE of just `uids` (RFC 4315 §2.1). Removals arrive as events."""
        if uids is None:
            await self._run("EXPUNGE")
            return
        if not self.has_capability("UIDPLUS"):
            raise CapabilityError("the server does not offer UIDPLUS (UID EXPUNGE)")
        await self._run("UID EXPUNGE", [encode.sequence_set(uids)])


def _claim(
    wanted: frozenset[int], answers: Callable[[FetchResult], bool]
) -> Callable[[FetchResult], bool]:
    return lambda result: result.uid in wanted and answers(result)


def _answers(items: Sequence[str]) -> Callable[[FetchResult], bool]:
    """Whether a FETCH response carries the items of a request (those a server never pushes
    on its own); UID, FLAGS and MODSEQ alone make any response with a UID an answer."""
    names = [item.upper() for item in items]
    checks: list[Callable[[FetchResult], bool]] = []
    if "ENVELOPE" in names:
        checks.append(lambda r: r.envelope is not None)
    if "BODYSTRUCTURE" in names:
        checks.append(lambda r: r.body_structure is not None)
    if "INTERNALDATE" in names:
        checks.append(lambda r: r.internal_date is not None)
    if "RFC822.SIZE" in names:
        checks.append(lambda r: r.size is not None)
    if any(n.startswith(("BODY[", "BODY.PEEK[", "BINARY")) or n in _SECTIONS for n in names):
        checks.append(lambda r: bool(r.sections))

    def answers(result: FetchResult) -> bool:
        return all(check(result) for check in checks)

    return answers


_SECTIONS = ("RFC822", "RFC822.HEADER", "RFC822.TEXT")


def _as_bytes(part: Part) -> bytes:
    if isinstance(part, Literal):
        raise InvalidInputError("labels", "8-bit label names need UTF8=ACCEPT")
    return part


def _with_changed(result: SelectedMailbox, fetches: list[FetchResult]) -> SelectedMailbox:
    if not fetches:
        return result
    return dataclasses.replace(result, changed=result.changed + tuple(fetches))
