"""A recording SMTP server (aiosmtpd) for tests that submit mail."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import re
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers.ports import LOOPBACK, free_port

STAGES = ("mail", "rcpt", "data")
REPLY = re.compile(r"^[45]\d\d [ -~]*$")
AUTH_REQUIRED = "530 5.7.0 Authentication required"
OK = "250 2.0.0 OK"
OAUTH_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")
# The error challenge Gmail sends for a refused token (Google's XOAUTH2 doc; RFC 7628 §3.2.2).
OAUTH_ERROR = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted SMTP transaction, exactly as the client sent it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    auth_user: str | None
    mail_options: tuple[str, ...] = ()

    def message(self) -> EmailMessage:
        """``data`` parsed with the modern email policy (headers decoded, ``get_content``)."""
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Script:
    reply: str
    stage: str
    times: int


class SmtpServer:
    """A real SMTP server on loopback that records what it accepts and fails on request.

    aiosmtpd's ``Controller`` runs it on its own thread and event loop, so it works the same
    under sync tests and under any test's event loop. AUTH PLAIN/LOGIN are checked against
    :meth:`add_user` credentials and, like a submission server, MAIL is refused until the
    client authenticated (``require_auth``). AUTH is allowed without TLS: the loopback tests
    do not do STARTTLS.

    :meth:`fail_next` makes the next N transactions get a given reply at MAIL, RCPT or DATA,
    so retry and bounce paths can be tested against a real protocol exchange.

    OAuth2: ``oauth`` names the mechanisms offered (XOAUTH2 by default, OAUTHBEARER on
    request); they accept the access tokens given to :meth:`add_token` and answer any other
    with the JSON error challenge, then 535, as Gmail does.
    """

    def __init__(
        self,
        *,
        host: str = LOOPBACK,
        require_auth: bool = True,
        oauth: tuple[str, ...] = ("XOAUTH2",),
        oauth_introspection_url: str | None = None,
    ) -> None:
        self.host = host
        self.port = free_port(host)
        self.require_auth = require_auth
        self.oauth = oauth
        self.oauth_introspection_url = oauth_introspection_url
        self.messages: list[ReceivedMessage] = []
        self.oauth_attempts: list[tuple[str, str]] = []  # (mechanism, user), refused ones too
        self._users: dict[str, str] = {}
        self._tokens: dict[str, str] = {}
        self._scripts: deque[_Script] = deque()
        self._changed = threading.Condition()
        self._controller: Controller | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            # No TLS on this server; requiring AUTH is done in handle_MAIL instead of with
            # auth_required=True, which would warn (and warnings are errors in this suite).
            auth_require_tls=False,
            auth_required=False,
            auth_exclude_mechanism=[m for m in OAUTH_MECHANISMS if m not in self.oauth],
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- configuration ---------------------------------------------------------------------

    def add_user(self, user: str, password: str) -> None:
        with self._changed:
            self._users[user] = password

    def add_token(self, user: str, token: str) -> None:
        """Accept ``token`` for ``user`` over XOAUTH2/OAUTHBEARER (replacing an older one)."""
        with self._changed:
            self._tokens[user] = token

    def fail_next(self, reply: str, times: int = 1, stage: str = "data") -> None:
        """Answer the next ``times`` transactions with ``reply`` at ``stage``.

        ``reply`` is a full SMTP reply line such as ``"451 4.3.0 Try again later"`` or
        ``"550 5.1.1 No such user"``. At ``"rcpt"`` every RCPT of the transaction gets it.
        Calls queue up in order.
        """
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, not {stage!r}")
        if not REPLY.match(reply):
            raise ValueError(f"not a 4xx/5xx SMTP reply line: {reply!r}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._changed:
            self._scripts.append(_Script(reply=reply, stage=stage, times=times))

    def reset(self) -> None:
        """Forget received messages, OAuth attempts and pending failures (users stay)."""
        with self._changed:
            self.messages.clear()
            self._scripts.clear()
            self.oauth_attempts.clear()

    def settings(self, user: str, password: str) -> dict[str, Any]:
        """The REST API's ``smtp`` field for this server."""
        return {
            "host": self.host,
            "port": self.port,
            "secure": False,
            "auth": {"user": user, "pass": password},
        }

    # -- waiting ---------------------------------------------------------------------------

    def wait_for_messages(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages arrived; return them all.

        Raises ``TimeoutError`` naming what did arrive. For sync tests; from async code use
        :meth:`wait_for`, which does not block the event loop.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(self._timeout_text(count, timeout))
            return list(self.messages)

    async def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Async :meth:`wait_for_messages`: polls, so the test's event loop keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                if len(self.messages) >= count:
                    return list(self.messages)
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_text(count, timeout))
            await asyncio.sleep(0.01)

    def _timeout_text(self, count: int, timeout: float) -> str:
        got = [(m.mail_from, m.rcpt_tos) for m in self.messages]
        return f"expected {count} SMTP message(s) within {timeout} s, got {len(got)}: {got}"

    # -- called on the server thread -------------------------------------------------------

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        with self._changed:
            known = self._users.get(user)
        # handled=False: aiosmtpd then sends the 235/535 reply itself.
        return AuthResult(
            success=known is not None and known == password, handled=False, auth_data=user
        )

    async def _check_token(self, mechanism: str, user: str, token: str) -> bool:
        with self._changed:
            self.oauth_attempts.append((mechanism, user))
            if self.oauth_introspection_url is None:
                return bool(token) and self._tokens.get(user) == token
        return bool(token) and await _introspect(self.oauth_introspection_url, user, token)

    def _take_script(self) -> _Script | None:
        with self._changed:
            if not self._scripts:
                return None
            script = self._scripts[0]
            script.times -= 1
            if script.times == 0:
                self._scripts.popleft()
            return script

    def _record(self, message: ReceivedMessage) -> None:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()


class _Handler:
    """aiosmtpd handler hooks (``handle_<VERB>``), delegating state to :class:`SmtpServer`."""

    def __init__(self, server: SmtpServer) -> None:
        self._server = server
        # The scripted failure each transaction drew. aiosmtpd makes a new Envelope per
        # transaction (after RSET and after DATA), so weak keys forget finished ones.
        self._failures: weakref.WeakKeyDictionary[Envelope, _Script] = weakref.WeakKeyDictionary()

    def _failure_at(self, envelope: Envelope, stage: str) -> str | None:
        script = self._failures.get(envelope)
        return script.reply if script is not None and script.stage == stage else None

    # aiosmtpd collects ``auth_<MECHANISM>`` methods of the handler as extra AUTH mechanisms.

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """Google's XOAUTH2: base64("user=" U ^A "auth=Bearer " T ^A ^A)."""
        blob = await _initial_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        fields = dict(
            part.split("=", 1)
            for part in blob.decode("utf-8", "replace").split("\x01")
            if "=" in part
        )
        user = fields.get("user", "")
        token = fields.get("auth", "").removeprefix("Bearer ")
        return await self._oauth_result(server, "XOAUTH2", user, token, answer_is_empty=True)

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        """RFC 7628 §3.1: gs2-header ("n,a=U,") ^A key=value pairs ^A ^A."""
        blob = await _initial_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        gs2, _, rest = blob.decode("utf-8", "replace").partition("\x01")
        user = ""
        for item in gs2.split(","):
            if item.startswith("a="):
                user = item[2:].replace("=2C", ",").replace("=3D", "=")
        fields = dict(part.split("=", 1) for part in rest.split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        return await self._oauth_result(server, "OAUTHBEARER", user, token, answer_is_empty=False)

    async def _oauth_result(
        self, server: SMTP, mechanism: str, user: str, token: str, *, answer_is_empty: bool
    ) -> AuthResult:
        if await self._server._check_token(mechanism, user, token):
            return AuthResult(success=True, auth_data=user)
        # The client must answer the error challenge (empty line for XOAUTH2, %x01 for
        # OAUTHBEARER, RFC 7628 §3.2.3) before the final 535.
        answer = await server.challenge_auth(json.dumps(OAUTH_ERROR))
        if not isinstance(answer, bytes):
            return AuthResult(success=False, handled=True)  # aiosmtpd already replied 501
        expected = b"" if answer_is_empty else b"\x01"
        if answer != expected:
            await server.push("501 5.5.2 Unexpected answer to the error challenge")
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self._server.require_auth and not session.authenticated:
            return AUTH_REQUIRED
        # A transaction begins here (RFC 5321 §3.3), so this is where it draws a scripted reply.
        script = self._server._take_script()
        if script is not None:
            self._failures[envelope] = script
        if reply := self._failure_at(envelope, "mail"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return OK

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if reply := self._failure_at(envelope, "rcpt"):
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if reply := self._failure_at(envelope, "data"):
            return reply
        self._server._record(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=envelope.original_content or b"",
                auth_user=session.auth_data if isinstance(session.auth_data, str) else None,
                mail_options=tuple(envelope.mail_options),
            )
        )
        return "250 2.0.0 Message accepted for delivery"


async def _initial_response(server: SMTP, args: list[str]) -> bytes | None:
    """The SASL initial response (RFC 4954 §4), from the AUTH line or asked for; None: failed."""
    if len(args) > 1:
        try:
            return base64.b64decode(args[1], validate=True)
        except ValueError:
            await server.push("501 5.5.2 Can't decode base64")
            return None
    blob = await server.challenge_auth("")
    return blob if isinstance(blob, bytes) else None


async def _introspect(url: str, user: str, token: str) -> bool:
    """Whether the RFC 7662 endpoint at ``url`` calls ``token`` active for ``user``."""
    parts = urlsplit(url)
    auth = (unquote(parts.username or ""), unquote(parts.password or ""))
    endpoint = urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port}"))
    async with httpx.AsyncClient(timeout=5.0) as http:
        response = await http.post(endpoint, data={"token": token}, auth=auth)
    if response.status_code != 200:
        return False  # a refused introspection refuses the login, as Dovecot does
    answer = response.json()
    email = str(answer.get("email", ""))
    return answer.get("active") is True and email.lower() == user.lower()
