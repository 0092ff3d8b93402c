"""The protocol engine under `ImapConnection`: tags, continuations, literals, routing.

One background task reads the transport, splits responses (`reader.py`) and routes them:
tagged → the running command; `+` → the running command's continuation; untagged → a handler
found by name in `_UNTAGGED` (`_on_EXISTS`, `_on_FETCH` …), which either adds it to the running
command's result or turns it into an event of `unsolicited.py`. Commands run one at a time,
except that `_run_two` writes two in one write (RFC 3501 §5.5), e.g. a NOOP and the FETCH a
listing needs, saving a round trip: the first is the running command, the second waits behind it
(`_next`), and an untagged response goes to whichever of them collects it, else it is an event.
While a `uid_fetch_flags` command runs, the reader hands runs of its simple FETCH lines to the
command's `flagfetch.FlagFetch` instead, and everything else still comes here, in order.

Over 600 lines on purpose: the reader task, the routing handlers and the command runner share one
state (the running commands, the connection state, capabilities) that must change in step; split
into modules they would reach into each other's private fields. The protocol log, which only
reads that state, is written by `protolog.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from imapapi.errors import (
    CommandFailedError,
    ImapApiError,
    NetworkError,
    ProtocolError,
    ServerTimeoutError,
)
from imapapi.imap import parse
from imapapi.imap.encode import Literal, Part, check_parts
from imapapi.imap.flagfetch import FlagFetch
from imapapi.imap.protolog import LOG_UNTAGGED_PER_COMMAND, LogHook, ProtocolLogger
from imapapi.imap.reader import Response, ResponseReader
from imapapi.imap.transport import Transport
from imapapi.imap.types import ConnectionState, FetchResult, Namespaces, StatusResponse
from imapapi.imap.unsolicited import (
    Alert,
    Bye,
    ConnectionClosed,
    Exists,
    Expunge,
    FetchUpdate,
    FlagsUpdate,
    MailboxListUpdate,
    MailboxStatusUpdate,
    Recent,
    UnsolicitedEvent,
    Vanished,
)

log = logging.getLogger(__name__)

EventCallback = Callable[[UnsolicitedEvent], None]
# (command name, outcome "OK"/"NO"/"BAD"/"error", seconds): for metrics, which imap/ knows
# nothing about; the owner of the connection decides what to do with it.
CommandHook = Callable[[str, str, float], None]

# How long one burst of parsing may hold the event loop before yielding (DESIGN.md §6).
_SLICE_SECONDS = 0.01
# RFC 7888 §4: LITERAL- allows non-synchronizing literals up to 4096 octets.
_LITERAL_MINUS_MAX = 4096


@dataclass(slots=True)
class _Command:
    tag: str
    name: str
    collect: frozenset[str]
    done: asyncio.Future[StatusResponse]
    untagged: list[Response] = field(default_factory=list)
    fetches: list[FetchResult] = field(default_factory=list)
    # FETCH responses this accepts (by UID, and carrying what was asked for) are results; the
    # rest are unsolicited: a flag change the server pushes for a message being fetched must
    # not stand in for the answer (it has no ENVELOPE), nor the answer be taken for news.
    claim: Callable[[FetchResult], bool] | None = None
    claimed: set[int] = field(default_factory=set)
    # A UID FETCH (UID FLAGS) read in bulk: its FETCH results go here instead (see flagfetch).
    flag_fetch: FlagFetch[Any] | None = None
    continuation: asyncio.Future[Response | None] | None = None
    redact: bool = False
    pause_reader: bool = False
    logged: int = 0  # untagged responses given to the protocol log while this command ran


class ConnectionCore:
    """State, the reader task, command execution and untagged dispatch. Not used directly."""

    def __init__(
        self,
        *,
        name: str = "imap",
        on_event: EventCallback | None = None,
        on_log: LogHook | None = None,
        command_timeout: float = 60.0,
        on_command: CommandHook | None = None,
    ) -> None:
        self.name = name
        self.events: asyncio.Queue[UnsolicitedEvent] = asyncio.Queue()
        self._on_event = on_event
        self._log = ProtocolLogger(name, on_log)
        # Public so an owner can attach it after `connect()` returned (commands sent before
        # that, during login, are then not reported).
        self.on_command = on_command
        self.command_timeout = command_timeout
        self._state = ConnectionState.NOT_CONNECTED
        self._transport: Transport | None = None
        self._reader = ResponseReader()
        self._read_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._tags = itertools.count(1)
        self._command: _Command | None = None
        self._next: _Command | None = None  # written with `_command`, answered after it
        self._greeting: asyncio.Future[StatusResponse] | None = None
        self._resume = asyncio.Event()
        self._closed_error: ImapApiError | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._enabled: frozenset[str] = frozenset()
        # NAMESPACE (RFC 2342) answers the same for the whole session: asked once, kept here.
        self._namespaces: Namespaces | None = None
        self.selected: str | None = None
        self.selected_read_only = True  # whether `selected` was examined (EXAMINE)

    # --- state ------------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    def _set_state(self, state: ConnectionState) -> None:
        """The one place the state changes."""
        if state is not self._state:
            log.debug("%s: %s -> %s", self.name, self._state.value, state.value)
            self._state = state

    def __repr__(self) -> str:
        selected = f" selected={self.selected!r}" if self.selected else ""
        return f"<{type(self).__name__} {self.name} {self._state.name}{selected}>"

    @property
    def capabilities(self) -> frozenset[str]:
        """Upper-case capability names as last announced by the server."""
        return self._capabilities

    def has_capability(self, name: str) -> bool:
        return name.upper() in self._capabilities

    @property
    def enabled(self) -> frozenset[str]:
        """Extensions switched on with ENABLE (RFC 5161)."""
        return self._enabled

    @property
    def utf8(self) -> bool:
        """UTF8=ACCEPT is enabled: names and strings travel as raw UTF-8 (RFC 6855 §3)."""
        return "UTF8=ACCEPT" in self._enabled

    # --- events and the protocol log --------------------------------------------------------------

    def _emit(self, event: UnsolicitedEvent) -> None:
        if self._on_event is None:
            self.events.put_nowait(event)
            return
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not break the connection
            log.exception("%s: event callback failed for %s", self.name, type(event).__name__)

    # --- the reader task --------------------------------------------------------------------------

    def _start(self, transport: Transport) -> None:
        self._transport = transport
        self._closed_error = None
        self._set_state(ConnectionState.NOT_AUTHENTICATED)
        loop = asyncio.get_running_loop()
        self._greeting = loop.create_future()
        self._read_task = loop.create_task(self._read_loop(), name=f"imap-reader-{self.name}")

    async def _read_loop(self) -> None:
        assert self._transport is not None
        error: ImapApiError | None = None
        # `started` is when the loop last had a chance to run other tasks: a read that finds
        # data already buffered does not suspend, so it must not reset the clock.
        started = time.monotonic()
        try:
            while True:
                data = await self._transport.read()
                if not data:
                    raise NetworkError("connection closed by the server")
                responses = self._reader.feed(data)
                while True:
                    for index, response in enumerate(responses):
                        self._log.response(self._command, response)
                        paused = self._dispatch(response)
                        if paused:
                            if index + 1 < len(responses) or self._reader.pending:
                                # RFC 3501 §6.2.1 / RFC 4978 §4: nothing may follow in the clear.
                                raise ProtocolError("server sent data after STARTTLS/COMPRESS OK")
                            await self._resume.wait()
                            self._resume.clear()
                            started = time.monotonic()
                        elif time.monotonic() - started > _SLICE_SECONDS:
                            await asyncio.sleep(0)
                            started = time.monotonic()
                    if not self._reader.more:
                        break
                    # A bulk read stopped to let that response be dispatched first.
                    responses = self._reader.feed(b"")
        except asyncio.CancelledError:
            error = NetworkError("connection closed")
            raise
        except ImapApiError as exc:
            error = exc
        except Exception as exc:  # a parser bug must still fail the command, not hang it
            log.exception("%s: unexpected error in the reader", self.name)
            error = ProtocolError(f"internal error reading the response: {exc!r}")
        finally:
            self._connection_lost(error or NetworkError("connection closed"))

    def _connection_lost(self, error: ImapApiError) -> None:
        if self._closed_error is not None:
            return
        self._closed_error = error
        logout = self._state is ConnectionState.LOGOUT
        self._set_state(ConnectionState.LOGOUT)
        self.selected = None
        if not logout:
            log.info("%s: connection lost: %s", self.name, error)
        for future in (
            self._greeting,
            self._command.done if self._command else None,
            self._command.continuation if self._command else None,
            self._next.done if self._next else None,
        ):
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # retrieved here; the waiter re-raises it
        self._command = self._next = None
        self._resume.set()
        self._reader = ResponseReader()
        self._emit(ConnectionClosed(str(error), None if logout else error))

    async def _shutdown(self) -> None:
        """Stop the reader and close the socket (no LOGOUT)."""
        task, self._read_task = self._read_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()
        self._connection_lost(NetworkError("connection closed"))

    # --- routing ----------------------------------------------------------------------------------

    def _dispatch(self, response: Response) -> bool:
        """Route one response; True when the reader must pause (after STARTTLS/COMPRESS OK)."""
        if response.untagged:
            name, number = parse.untagged_kind(response)
            handler = _UNTAGGED.get(name)
            if handler is not None:
                handler(self, response, number)
            elif not self._collect(name, response):
                log.info("%s: ignoring untagged %s response", self.name, name)
            return False
        command = self._command
        if response.continuation:
            if command is None or command.continuation is None or command.continuation.done():
                raise ProtocolError("unexpected continuation request")
            command.continuation.set_result(response)
            return False
        if command is not None and response.tag == command.tag:
            # The one written after it, if any, runs now: its answer comes next.
            self._command, self._next = self._next, None
            flag_fetch = self._command is not None and self._command.flag_fetch is not None
            self._reader.bulk = self._scan_flag_lines if flag_fetch else None
        elif self._next is not None and response.tag == self._next.tag:
            command, self._next = self._next, None  # RFC 3501 §5.5: completed out of order
        else:
            raise ProtocolError(f"response for unknown tag {response.tag!r}")
        status = parse.parse_status_response(response.first_line)
        if status.code is not None and status.code.name == "CAPABILITY":
            self._capabilities = parse.parse_capabilities(status.code.args)
        if command.continuation is not None and not command.continuation.done():
            command.continuation.set_result(None)  # a tagged answer instead of `+`
        if not command.done.done():
            command.done.set_result(status)
        return command.pause_reader

    def _collect(self, name: str, response: Response) -> bool:
        for command in (self._command, self._next):
            if command is not None and name in command.collect:
                command.untagged.append(response)
                return True
        return False

    def _status_text(self, response: Response) -> StatusResponse:
        return parse.parse_status_response(response.first_line)

    def _on_EXISTS(self, response: Response, number: int | None) -> None:
        if not self._collect("EXISTS", response) and number is not None:
            self._emit(Exists(number, mailbox=self.selected))

    def _on_RECENT(self, response: Response, number: int | None) -> None:
        if not self._collect("RECENT", response) and number is not None:
            self._emit(Recent(number))

    def _on_EXPUNGE(self, response: Response, number: int | None) -> None:
        # Always an event: sequence numbers shift for everyone (RFC 3501 §7.4.1).
        if number is not None:
            self._emit(Expunge(number, mailbox=self.selected))

    def _on_VANISHED(self, response: Response, number: int | None) -> None:
        uids, earlier = parse.parse_vanished(response)
        # Only VANISHED (EARLIER) answers a command (RFC 7162 §3.2.10); the rest is news.
        if not (earlier and self._collect("VANISHED", response)):
            self._emit(Vanished(uids, earlier, mailbox=self.selected))

    def _on_FETCH(self, response: Response, number: int | None) -> None:
        result = parse.parse_fetch(response, utf8=self.utf8)
        for command in (self._command, self._next):
            if command is not None and _takes(command, result):
                return
        self._emit(FetchUpdate(result, mailbox=self.selected))

    def _on_FLAGS(self, response: Response, number: int | None) -> None:
        if not self._collect("FLAGS", response):
            self._emit(FlagsUpdate(parse.parse_flags(response), mailbox=self.selected))

    def _on_LIST(self, response: Response, number: int | None) -> None:
        if not self._collect("LIST", response):
            self._emit(MailboxListUpdate(parse.parse_list(response, utf8=self.utf8)))

    def _on_LSUB(self, response: Response, number: int | None) -> None:
        if not self._collect("LSUB", response):
            self._emit(MailboxListUpdate(parse.parse_list(response, utf8=self.utf8)))

    def _on_STATUS(self, response: Response, number: int | None) -> None:
        if not self._collect("STATUS", response):
            self._emit(MailboxStatusUpdate(parse.parse_status(response, utf8=self.utf8)))

    def _on_CAPABILITY(self, response: Response, number: int | None) -> None:
        self._capabilities = parse.parse_capabilities(response.first_line)
        self._collect("CAPABILITY", response)

    def _on_ENABLED(self, response: Response, number: int | None) -> None:
        self._enabled = self._enabled | parse.parse_enabled(response)
        self._collect("ENABLED", response)

    def _on_OK(self, response: Response, number: int | None) -> None:
        status = self._status_text(response)
        code = status.code
        if code is not None and code.name == "CAPABILITY":
            self._capabilities = parse.parse_capabilities(code.args)
        if self._greeting is not None and not self._greeting.done():
            self._greeting.set_result(status)
            return
        if self._collect("OK", response):
            return
        if code is not None and code.name == "ALERT":  # RFC 3501 §7.1: must be shown to the user
            self._emit(Alert(status.text, "OK", code.name))
        else:
            log.debug("%s: untagged OK %s", self.name, status.text)

    def _on_PREAUTH(self, response: Response, number: int | None) -> None:
        self._on_OK(response, number)

    def _on_NO(self, response: Response, number: int | None) -> None:
        status = self._status_text(response)
        log.warning("%s: server warning: %s %s", self.name, status.status, status.text)
        self._emit(Alert(status.text, status.status, status.code.name if status.code else None))

    _on_BAD = _on_NO

    def _on_BYE(self, response: Response, number: int | None) -> None:
        status = self._status_text(response)
        if self._greeting is not None and not self._greeting.done():
            self._greeting.set_result(status)
            return
        command = self._command
        if command is not None and command.name == "LOGOUT":
            return  # RFC 3501 §6.1.3: the expected answer to LOGOUT
        self._emit(Bye(status.text))

    # --- running commands -------------------------------------------------------------------------

    def _check_usable(self, command: str) -> None:
        if self._closed_error is not None or self._transport is None:
            raise NetworkError(f"{command}: the connection is closed")
        if self._state is ConnectionState.IDLING:
            raise ProtocolError(f"{command}: IDLE is running; call stop_idle() first")

    async def _write(self, data: bytes) -> None:
        assert self._transport is not None
        await self._transport.write(data)

    async def _send(self, command: _Command, parts: Sequence[Part], log_head: str) -> None:
        """Write `tag name args` with literals (RFC 3501 §4.3, §7.5; RFC 7888 LITERAL+/-)."""
        check_parts(parts, command.name)
        line = f"{command.tag} ".encode()
        first = True
        for part in parts:
            if isinstance(part, bytes):
                line += part
                continue
            size = len(part.data)
            plus = self.has_capability("LITERAL+") or (
                self.has_capability("LITERAL-") and size <= _LITERAL_MINUS_MAX
            )
            line += b"%s{%d%s}" % (b"~" if part.binary else b"", size, b"+" if plus else b"")
            self._log.sent(command, line, first, log_head)
            first = False
            if plus:
                await self._write(line + b"\r\n" + part.data)
            else:
                await self._write(line + b"\r\n")
                await self._continuation(command)
                await self._write(part.data)
            self._log.line("C", "***" if command.redact else f"{{{size} bytes}}")
            line = b""
        self._log.sent(command, line, first, log_head)
        await self._write(line + b"\r\n")

    async def _next_continuation(self, command: _Command) -> Response | None:
        """The server's next `+`, or None when the tagged response came instead."""
        command.continuation = asyncio.get_running_loop().create_future()
        return await command.continuation

    async def _continuation(self, command: _Command) -> Response:
        """Wait for the server's `+`; a tagged answer instead ends the command with its error."""
        response = await self._next_continuation(command)
        if response is None:
            self._raise_for(command, await command.done)
            raise ProtocolError(f"{command.name}: completed without a continuation request")
        return response

    def _new_command(
        self,
        name: str,
        *,
        collect: Iterable[str] = (),
        claim: Callable[[FetchResult], bool] | None = None,
        flag_fetch: FlagFetch[Any] | None = None,
        redact: bool = False,
        pause_reader: bool = False,
    ) -> _Command:
        command = _Command(
            tag=f"A{next(self._tags)}",
            name=name,
            collect=frozenset(collect),
            done=asyncio.get_running_loop().create_future(),
            claim=claim,
            flag_fetch=flag_fetch,
            redact=redact,
            pause_reader=pause_reader,
        )
        if pause_reader:
            self._resume.clear()
        self._command, self._next = command, None
        if flag_fetch is not None:
            self._reader.bulk = self._scan_flag_lines
        return command

    def _scan_flag_lines(self, buf: bytearray, start: int, end: int) -> int:
        """The reader's bulk hook while a `FlagFetch` command runs, or waits behind one that
        takes no FETCH (Dovecot answers a NOOP's FETCH partner before the NOOP's OK); FETCH
        lines would go to it through `_on_FETCH` alike."""
        command = self._command
        if command is not None and command.flag_fetch is None and "FETCH" not in command.collect:
            command = self._next
        if command is None or command.flag_fetch is None:
            return start
        taken = command.flag_fetch.scan(buf, start, end)
        if taken > start:
            self._log.bulk_lines(command, buf, start, taken)
        return taken

    def _raise_for(self, command: _Command, status: StatusResponse) -> StatusResponse:
        if status.status == "OK":
            return status
        raise CommandFailedError(
            command.name,
            status.status,
            status.text,
            response_code=status.code.name if status.code else None,
        )

    async def _run(
        self,
        name: str,
        parts: Sequence[Part] = (),
        *,
        collect: Iterable[str] = (),
        claim: Callable[[FetchResult], bool] | None = None,
        flag_fetch: FlagFetch[Any] | None = None,
        timeout: float | None = None,
        check: bool = True,
        noop_first: bool = False,
    ) -> tuple[StatusResponse, _Command]:
        """Send one command and wait for its tagged response; NO/BAD raise CommandFailedError
        unless `check` is False. `noop_first`: a NOOP goes in the same write, before it (the
        NOOP's refusal raises, but only once both answers were read)."""
        if noop_first:
            plain = [part for part in parts if isinstance(part, bytes)]
            if len(plain) == len(parts):
                noop, queued = Queued("NOOP"), Queued(name, plain, collect, claim, flag_fetch)
                (noop_status, noop_command), answer = await self._run_two(noop, queued, timeout)
                self._raise_for(noop_command, noop_status)
                return (self._raise_for(answer[1], answer[0]) if check else answer[0]), answer[1]
            await self._run("NOOP", timeout=timeout)  # a literal to wait for: one at a time
        check_parts(parts, name)  # before a tag is spent or a byte written
        self._check_usable(name)
        async with self._lock:
            self._check_usable(name)
            command = self._new_command(name, collect=collect, claim=claim, flag_fetch=flag_fetch)
            started = time.perf_counter()
            outcome = "error"  # no tagged response: timeout, connection lost
            try:
                async with self._deadline(name, timeout):
                    await self._send(command, [name.encode("ascii"), *_lead(parts)], name)
                    status = await command.done
                outcome = status.status
            finally:
                self._report_command(name, outcome, time.perf_counter() - started)
        return (self._raise_for(command, status) if check else status), command

    async def _run_two(
        self, first: Queued, second: Queued, timeout: float | None = None
    ) -> tuple[tuple[StatusResponse, _Command], tuple[StatusResponse, _Command]]:
        """Write two commands in one write (RFC 3501 §5.5) and wait for both tagged responses.

        Statuses are not checked: a NO of the first still gives the second's answer. Neither
        may change what the other means (no SELECT): the server may run them in any order. A
        lost connection or a timeout fails both.
        """
        for queued in (first, second):
            check_parts(queued.parts, queued.name)
        self._check_usable(first.name)
        async with self._lock:
            self._check_usable(first.name)
            commands = [
                self._new_command(q.name, collect=q.collect, claim=q.claim, flag_fetch=q.flag_fetch)
                for q in (first, second)
            ]
            self._command, self._next = commands
            started = time.perf_counter()
            answers: list[tuple[StatusResponse, _Command]] = []
            try:
                async with self._deadline(f"{first.name}+{second.name}", timeout):
                    lines = [
                        self._line(c, q) for c, q in zip(commands, (first, second), strict=True)
                    ]
                    await self._write(b"".join(lines))
                    for command in commands:
                        answers.append((await command.done, command))
                        status = answers[-1][0].status
                        self._report_command(command.name, status, time.perf_counter() - started)
            finally:
                for command in commands[len(answers) :]:  # no tagged response: timeout, lost
                    self._report_command(command.name, "error", time.perf_counter() - started)
        return answers[0], answers[1]

    def _line(self, command: _Command, queued: Queued) -> bytes:
        """`tag name args` CRLF of a command without literals, logged."""
        line = f"{command.tag} ".encode() + b" ".join([queued.name.encode("ascii"), *queued.parts])
        self._log.sent(command, line, True, queued.name)
        return line + b"\r\n"

    def _report_command(self, name: str, outcome: str, seconds: float) -> None:
        if self.on_command is None:
            return
        try:
            self.on_command(name, outcome, seconds)
        except Exception:  # a broken hook must not break the connection
            log.exception("%s: command hook failed", self.name)

    @contextlib.asynccontextmanager
    async def _deadline(self, name: str, timeout: float | None):  # type: ignore[no-untyped-def]
        """Per-command timeout; on expiry the connection is broken and closed (we can no
        longer tell which response belongs to what)."""
        seconds = self.command_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(seconds):
                yield
        except TimeoutError as exc:
            error = ServerTimeoutError(f"{name}: no answer within {seconds:g} s")
            log.warning("%s: %s", self.name, error)
            self._connection_lost(error)
            await self._shutdown()
            raise error from exc


@dataclass(frozen=True, slots=True)
class Queued:
    """A command for `_run_two`: arguments without literals, so nothing waits between them."""

    name: str
    parts: Sequence[bytes] = ()
    collect: Iterable[str] = ()
    claim: Callable[[FetchResult], bool] | None = None
    flag_fetch: FlagFetch[Any] | None = None


def _takes(command: _Command, result: FetchResult) -> bool:
    """Whether `result` is part of `command`'s answer (then kept in it)."""
    if command.flag_fetch is not None:
        return command.flag_fetch.take(result)
    if "FETCH" not in command.collect:
        return False
    if command.claim is None:
        command.fetches.append(result)  # e.g. SELECT (QRESYNC) reporting changes
        return True
    uid = result.uid
    if uid is not None and uid not in command.claimed and command.claim(result):
        command.claimed.add(uid)
        command.fetches.append(result)
        return True
    return False


def _lead(parts: Sequence[Part]) -> list[Part]:
    """Arguments after the command name, each preceded by one space."""
    out: list[Part] = []
    for part in parts:
        out.append(b" ")
        out.append(part)
    merged: list[Part] = []
    for part in out:
        if isinstance(part, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + part
        else:
            merged.append(part)
    return merged


_UNTAGGED: dict[str, Callable[[ConnectionCore, Response, int | None], None]] = {
    attr[len("_on_") :]: getattr(ConnectionCore, attr)
    for attr in dir(ConnectionCore)
    if attr.startswith("_on_")
}
__all__ = [
    "LOG_UNTAGGED_PER_COMMAND",
    "CommandHook",
    "ConnectionCore",
    "EventCallback",
    "Literal",
    "LogHook",
]
