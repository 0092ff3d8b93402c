"""`ImapConnection`: one IMAP session over asyncio (RFC 3501 + the extensions imapapi uses).

Commands are methods; arguments are encoded by `encode.py` (so CR/LF/NUL are refused before
anything is written), results are parsed by `parse.py`, and every untagged response that is not
part of a command's result arrives as an event of `unsolicited.py` on `events` (or the
`on_event` callback). The machinery lives in `core.py`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Literal as TypingLiteral

from imapapi.errors import (
    AuthenticationFailedError,
    CapabilityError,
    CommandFailedError,
    ImapApiError,
    InvalidInputError,
    NetworkError,
    ProtocolError,
)
from imapapi.imap import encode, parse
from imapapi.imap.commands import DEFAULT_CHUNK, FetchStream, MailboxCommands
from imapapi.imap.core import CommandHook, EventCallback, LogHook, _Command
from imapapi.imap.encode import Part
from imapapi.imap.transport import Transport, make_ssl_context
from imapapi.imap.types import ConnectionState, StatusResponse

log = logging.getLogger(__name__)

Security = TypingLiteral["tls", "starttls", "none"]
ChallengeHandler = Callable[[bytes], bytes]

__all__ = ["DEFAULT_CHUNK", "ChallengeHandler", "FetchStream", "ImapConnection", "Security"]

# RFC 5465 §6: the NOTIFY event groups imapapi asks for by default.
NOTIFY_SELECTED = "(SELECTED (MessageNew (UID FLAGS) MessageExpunge FlagChange))"
NOTIFY_PERSONAL = "(PERSONAL (MessageNew MessageExpunge MailboxName SubscriptionChange))"
_NOTIFY_GROUP = re.compile(r"\([A-Za-z0-9 .()\\\-\[\]]+\)")


class ImapConnection(MailboxCommands):
    """An IMAP client connection. Create with `await ImapConnection.connect(...)`."""

    def __init__(
        self,
        host: str,
        *,
        name: str | None = None,
        on_event: EventCallback | None = None,
        on_log: LogHook | None = None,
        command_timeout: float = 60.0,
        on_command: CommandHook | None = None,
    ) -> None:
        super().__init__(
            name=name or host,
            on_event=on_event,
            on_log=on_log,
            command_timeout=command_timeout,
            on_command=on_command,
        )
        self.host = host
        self._idle: _Command | None = None
        self._idle_prev = ConnectionState.AUTHENTICATED

    # --- connection lifecycle ---------------------------------------------------------------------

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int | None = None,
        *,
        security: Security = "tls",
        tls_verify: bool = True,
        ca_file: str | None = None,
        timeout: float = 30.0,
        command_timeout: float = 60.0,
        on_event: EventCallback | None = None,
        on_log: LogHook | None = None,
        name: str | None = None,
        sock: socket.socket | None = None,
        on_command: CommandHook | None = None,
    ) -> ImapConnection:
        """Connect, read the greeting and (for `security="starttls"`) upgrade to TLS.

        `security`: "tls" is implicit TLS (port 993), "starttls" requires STARTTLS (RFC 3501
        §6.2.1; refusal or absence is an error, never a silent downgrade), "none" is plain.
        Certificates are verified unless `tls_verify` is False; `ca_file` adds trusted roots.
        `sock` wraps an already connected socket (tests use a socketpair).
        """
        conn = cls(
            host,
            name=name,
            on_event=on_event,
            on_log=on_log,
            command_timeout=command_timeout,
            on_command=on_command,
        )
        context = make_ssl_context(verify=tls_verify, ca_file=ca_file)
        port = port or (993 if security == "tls" else 143)
        transport = await Transport.open(
            host,
            port,
            ssl_context=context if security == "tls" else None,
            timeout=timeout,
            sock=sock,
        )
        conn._start(transport)
        try:
            await conn._read_greeting(timeout)
            if security == "starttls":
                await conn.starttls(context)
        except BaseException:
            await conn._shutdown()
            raise
        log.info("%s: connected to %s:%s (%s)", conn.name, host, port, security)
        return conn

    async def _read_greeting(self, timeout: float) -> None:
        assert self._greeting is not None
        async with self._deadline("greeting", timeout):
            greeting = await self._greeting
        if greeting.status == "BYE":
            raise NetworkError(f"server refused the connection: {greeting.text}")
        if greeting.status == "PREAUTH":  # RFC 3501 §7.1.4
            self._set_state(ConnectionState.AUTHENTICATED)
        elif greeting.status != "OK":
            raise ProtocolError(f"unexpected greeting {greeting.status}")
        if not self._capabilities:
            await self.capability()

    async def starttls(self, context: ssl.SSLContext | None = None) -> None:
        """Upgrade the connection to TLS (RFC 3501 §6.2.1) and re-read the capabilities."""
        if not self.has_capability("STARTTLS"):
            raise CapabilityError("the server does not offer STARTTLS")
        ssl_context = context or make_ssl_context()
        await self._switch("STARTTLS", lambda t: t.start_tls(ssl_context, self.command_timeout))
        self._capabilities = frozenset()  # RFC 3501 §6.2.1: forget what was said in the clear
        await self.capability()

    async def compress(self) -> bool:
        """COMPRESS DEFLATE (RFC 4978) when offered; returns whether compression is on."""
        if not self.has_capability("COMPRESS=DEFLATE"):
            return False
        assert self._transport is not None
        if self._transport.compressed:
            return True

        async def start(transport: Transport) -> None:
            transport.start_compression()

        await self._switch("COMPRESS", start, [b"DEFLATE"])
        return True

    async def _switch(
        self,
        name: str,
        upgrade: Callable[[Transport], object],
        args: Sequence[bytes] = (),
    ) -> None:
        """Run a command after whose OK the byte stream changes: the reader waits meanwhile."""
        self._check_usable(name)
        async with self._lock:
            command = self._new_command(name, pause_reader=True)
            try:
                async with self._deadline(name, None):
                    await self._send(command, [name.encode(), *(b" " + a for a in args)], name)
                    self._raise_for(command, await command.done)
                    assert self._transport is not None
                    result = upgrade(self._transport)
                    if asyncio.iscoroutine(result):
                        await result
            except (NetworkError, ProtocolError):
                self._resume.set()
                await self._shutdown()
                raise
            finally:
                self._resume.set()

    async def logout(self) -> None:
        """LOGOUT (RFC 3501 §6.1.3) and close; errors on the way out are only logged."""
        if self._transport is None:
            return
        if self._state is ConnectionState.IDLING:
            with contextlib.suppress(ImapApiError):
                await self.stop_idle()
        self._set_state(ConnectionState.LOGOUT)
        try:
            await self._run("LOGOUT", timeout=min(self.command_timeout, 10.0))
        except ImapApiError as exc:
            log.debug("%s: LOGOUT: %s", self.name, exc)
        await self._shutdown()

    async def close(self) -> None:
        """Close without LOGOUT."""
        self._set_state(ConnectionState.LOGOUT)
        await self._shutdown()

    async def __aenter__(self) -> ImapConnection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.logout()

    # --- capabilities, ID, ENABLE, NOOP -----------------------------------------------------------

    async def capability(self) -> frozenset[str]:
        """CAPABILITY (RFC 3501 §6.1.1); the result is cached in `capabilities`."""
        await self._run("CAPABILITY", collect=("CAPABILITY",))
        return self._capabilities

    async def id(self, fields: Mapping[str, str] | None = None) -> dict[str, str | None] | None:
        """ID (RFC 2971): send ours, return the server's."""
        if not self.has_capability("ID"):
            return None
        if fields:
            items = [
                encode.quoted(k, "id") + b" " + encode.quoted(v, "id") for k, v in fields.items()
            ]
            arg = b"(" + b" ".join(items) + b")"
        else:
            arg = b"NIL"
        _, command = await self._run("ID", [arg], collect=("ID",))
        return parse.parse_id(command.untagged[-1]) if command.untagged else None

    async def enable(self, *extensions: str) -> frozenset[str]:
        """ENABLE (RFC 5161) those of `extensions` the server offers; returns all enabled."""
        wanted = [e for e in extensions if self.has_capability(e)]
        if wanted and self.has_capability("ENABLE"):
            await self._run(
                "ENABLE", [encode.atom(e, "extension") for e in wanted], collect=("ENABLED",)
            )
        return self._enabled

    async def noop(self) -> None:
        """NOOP (RFC 3501 §6.1.2): lets pending unsolicited responses arrive."""
        await self._run("NOOP")

    # --- authentication ---------------------------------------------------------------------------

    async def login(self, user: str, password: str) -> None:
        """LOGIN (RFC 3501 §6.2.3); arguments are never logged."""
        if self.has_capability("LOGINDISABLED"):
            raise CapabilityError("the server disables LOGIN on this connection (use TLS)")
        args = [
            encode.astring(user, "user", utf8=self.utf8),
            encode.astring(password, "password", utf8=self.utf8),
        ]
        await self._authenticate_run("LOGIN", args, None, None)

    async def authenticate_plain(self, user: str, password: str, authzid: str = "") -> None:
        """AUTHENTICATE PLAIN (RFC 4616)."""
        for field, value in (("user", user), ("password", password), ("authzid", authzid)):
            encode.check_safe(field, value)
        await self.authenticate("PLAIN", f"{authzid}\0{user}\0{password}".encode())

    async def authenticate_xoauth2(self, user: str, access_token: str) -> None:
        """AUTHENTICATE XOAUTH2 (Google/Microsoft): a rejected token's JSON error challenge is
        answered with an empty response, then the tagged NO raises AuthenticationFailedError."""
        encode.check_safe("user", user)
        encode.check_safe("access_token", access_token)
        payload = f"user={user}\x01auth=Bearer {access_token}\x01\x01".encode()
        await self.authenticate("XOAUTH2", payload, on_challenge=lambda _: b"")

    async def authenticate_oauthbearer(
        self, user: str, access_token: str, host: str | None = None, port: int | None = None
    ) -> None:
        """AUTHENTICATE OAUTHBEARER (RFC 7628); an error challenge is answered with %x01
        (RFC 7628 §3.2.3)."""
        encode.check_safe("user", user)
        encode.check_safe("access_token", access_token)
        gs2 = f"n,a={user.replace('=', '=3D').replace(',', '=2C')},"
        extra = f"\x01host={host or self.host}" + (f"\x01port={port}" if port else "")
        payload = f"{gs2}{extra}\x01auth=Bearer {access_token}\x01\x01".encode()
        await self.authenticate("OAUTHBEARER", payload, on_challenge=lambda _: b"\x01")

    async def authenticate(
        self,
        mechanism: str,
        initial_response: bytes | None = None,
        *,
        on_challenge: ChallengeHandler | None = None,
    ) -> None:
        """AUTHENTICATE (RFC 3501 §6.2.2) with any SASL mechanism.

        `initial_response` goes in the command with SASL-IR (RFC 4959), else after the first
        empty challenge. Later challenges are base64-decoded and passed to `on_challenge`, whose
        answer is sent back (default: an empty response). Payloads are never logged.
        """
        if not self.has_capability(f"AUTH={mechanism}"):
            raise CapabilityError(f"the server does not offer AUTH={mechanism.upper()}")
        args: list[Part] = [encode.atom(mechanism.upper(), "mechanism")]
        pending = initial_response
        if initial_response is not None and self.has_capability("SASL-IR"):
            args.append(base64.b64encode(initial_response) or b"=")
            pending = None
        await self._authenticate_run("AUTHENTICATE", args, pending, on_challenge)

    async def _authenticate_run(
        self,
        name: str,
        args: list[Part],
        initial: bytes | None,
        on_challenge: ChallengeHandler | None,
    ) -> None:
        self._check_usable(name)
        known = self._capabilities
        async with self._lock:
            command = self._new_command(name, redact=True)
            async with self._deadline(name, None):
                await self._send(
                    command, [name.encode(), *(p for a in args for p in (b" ", a))], name
                )
                while (challenge := await self._next_continuation(command)) is not None:
                    if initial is not None:
                        answer, initial = initial, None
                    else:
                        text = challenge.first_line.strip()
                        try:
                            decoded = base64.b64decode(text, validate=True)
                        except ValueError:
                            decoded = text
                        answer = on_challenge(decoded) if on_challenge else b""
                    self._log.line("C", "***")
                    await self._write(base64.b64encode(answer) + b"\r\n")
                status = await command.done
        self._after_auth(name, status)
        if self._capabilities is known:  # no CAPABILITY code came with the OK
            await self.capability()  # RFC 3501 §6.2: capabilities may change after login

    def _after_auth(self, name: str, status: StatusResponse) -> None:
        if status.status == "OK":
            self._set_state(ConnectionState.AUTHENTICATED)
            log.info("%s: authenticated", self.name)
            return
        code = status.code.name if status.code else None
        if status.status == "NO" and code not in ("UNAVAILABLE", "SERVERBUG"):  # RFC 5530
            raise AuthenticationFailedError(
                f"{name} refused: {status.text}", details={"responseCode": code}
            )
        raise CommandFailedError(name, status.status, status.text, response_code=code)

    # --- NOTIFY and IDLE --------------------------------------------------------------------------

    async def notify_set(self, *groups: str, status: bool = True) -> None:
        """NOTIFY SET (RFC 5465 §3): e.g. `notify_set(NOTIFY_SELECTED, NOTIFY_PERSONAL)`.

        With `status`, the server first sends STATUS for every watched mailbox (§5.1). Changes in
        other mailboxes arrive as `MailboxStatusUpdate` / `MailboxListUpdate` events.
        """
        if not self.has_capability("NOTIFY"):
            raise CapabilityError("the server does not offer NOTIFY")
        args: list[Part] = [b"SET"]
        if status:
            args.append(b"STATUS")
        for group in groups or (NOTIFY_SELECTED, NOTIFY_PERSONAL):
            encode.check_safe("notify", group)
            if not _NOTIFY_GROUP.fullmatch(group):
                raise InvalidInputError("notify", f"not a NOTIFY event group: {group!r}")
            args.append(group.encode("ascii"))
        await self._run("NOTIFY", args)

    async def notify_none(self) -> None:
        """NOTIFY NONE (RFC 5465 §3.2)."""
        await self._run("NOTIFY", [b"NONE"])

    async def start_idle(self) -> None:
        """IDLE (RFC 2177): returns once the server accepted; events keep flowing to the
        channel until `stop_idle()`. Other commands are refused meanwhile."""
        if not self.has_capability("IDLE"):
            raise CapabilityError("the server does not offer IDLE")
        self._check_usable("IDLE")
        await self._lock.acquire()
        try:
            command = self._new_command("IDLE")
            async with self._deadline("IDLE", None):
                await self._send(command, [b"IDLE"], "IDLE")
                await self._continuation(command)
        except BaseException:
            self._lock.release()
            raise
        self._idle = command
        self._idle_prev = self._state
        self._set_state(ConnectionState.IDLING)

    async def stop_idle(self) -> None:
        """DONE (RFC 2177 §3) and wait for IDLE's tagged OK."""
        command, self._idle = self._idle, None
        if command is None:
            return
        try:
            if self._state is ConnectionState.IDLING:
                self._set_state(self._idle_prev)
            async with self._deadline("IDLE", None):
                if not command.done.done():
                    self._log.line("C", "DONE")
                    await self._write(b"DONE\r\n")
                self._raise_for(command, await command.done)
        finally:
            self._lock.release()

    @contextlib.asynccontextmanager
    async def idle(self) -> AsyncIterator[ImapConnection]:
        """`async with conn.idle(): ...` runs IDLE for the duration of the block."""
        await self.start_idle()
        try:
            yield self
        except BaseException:
            # The block failed or was cancelled: end IDLE if we still can, but never let an
            # error of DONE (the server just closed the connection) replace the original
            # exception, least of all a CancelledError that a stop() is waiting for.
            if self._closed_error is None:
                with contextlib.suppress(ImapApiError):
                    await self.stop_idle()
            self._release_idle()
            raise
        else:
            if self._closed_error is None:
                await self.stop_idle()
            self._release_idle()

    def _release_idle(self) -> None:
        """Give the command lock back if IDLE ended without a DONE (connection gone)."""
        if self._idle is not None:
            self._idle = None
            self._lock.release()
