"""A real HTTP endpoint that records webhook deliveries and answers as a test tells it to."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers.ports import LOOPBACK

SIGNATURE_HEADER = "X-Imapapi-Signature"


@dataclass(frozen=True)
class Received:
    """One POST as it arrived, and the status it was answered with."""

    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any  # None when the body is not JSON
    status: int
    received_at: float  # time.monotonic()

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def event(self) -> str | None:
        return self.json.get("event") if isinstance(self.json, dict) else None

    @property
    def account(self) -> str | None:
        return self.json.get("account") if isinstance(self.json, dict) else None


def signature(body: bytes, secret: str | bytes) -> str:
    """The expected ``X-Imapapi-Signature`` value for ``body``: ``sha256=<hex HMAC>``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(received: Received, secret: str | bytes) -> bool:
    """True when ``received`` carries a valid HMAC-SHA256 of its raw body with ``secret``."""
    header = received.header(SIGNATURE_HEADER)
    return header is not None and hmac.compare_digest(header, signature(received.body, secret))


@dataclass
class _Answer:
    status: int
    delay: float
    times: int | None  # None: the standing answer


class WebhookReceiver:
    """A webhook endpoint on loopback, in its own thread.

    Runs a stdlib ``ThreadingHTTPServer`` rather than anything on the test's event loop, so a
    test that blocks, or a service that posts from another loop, cannot stall it; each request
    gets its own thread, so a delayed answer does not hold up the others.

    Every POST is recorded (path, headers, raw body, parsed JSON, status answered). Answers are
    200 unless :meth:`respond_with` says otherwise, for the next N requests or from now on.
    """

    def __init__(self, *, host: str = LOOPBACK) -> None:
        self.host = host
        self._received: list[Received] = []
        self._queued: deque[_Answer] = deque()
        self._standing = _Answer(status=200, delay=0.0, times=None)
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            return
        # Port 0 on the listening socket itself: no window for another process to take it.
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.receiver = self  # type: ignore[attr-defined]
        self.port = server.server_address[1]
        self._stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"webhook-receiver-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # cuts delayed answers short
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Where to point the service's webhooks."""
        return f"http://{self.host}:{self.port}/webhook"

    # -- scripting -------------------------------------------------------------------------

    def respond_with(self, status: int, *, times: int | None = None, delay: float = 0.0) -> None:
        """Answer ``status`` (after ``delay`` seconds) to the next ``times`` requests.

        ``times=None`` makes it the standing answer, replacing anything queued:
        ``respond_with(500)`` until ``respond_with(200)``. Queued answers come first.
        """
        if not 100 <= status <= 599:
            raise ValueError(f"not an HTTP status: {status}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        with self._changed:
            answer = _Answer(status=status, delay=delay, times=times)
            if times is None:
                self._queued.clear()
                self._standing = answer
            else:
                self._queued.append(answer)

    def _next_answer(self) -> _Answer:
        with self._changed:
            if not self._queued:
                return self._standing
            answer = self._queued[0]
            assert answer.times is not None
            answer.times -= 1
            if answer.times == 0:
                self._queued.popleft()
            return answer

    # -- reading ---------------------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        """Everything received so far, oldest first (a copy)."""
        with self._changed:
            return list(self._received)

    def events(self, event: str | None = None, account: str | None = None) -> list[Received]:
        """Received webhooks, filtered on the JSON ``event`` and ``account`` fields."""
        return [
            r
            for r in self.received
            if (event is None or r.event == event) and (account is None or r.account == account)
        ]

    def clear(self) -> None:
        with self._changed:
            self._received.clear()

    async def wait_for(
        self,
        predicate: Callable[[Received], bool] | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Received]:
        """Wait until ``count`` received requests match ``predicate``; return all matches.

        Polls with ``asyncio.sleep`` so the test's event loop (and the service under test on
        it) keeps running. Raises ``TimeoutError`` listing what did arrive.
        """
        deadline = time.monotonic() + timeout
        while True:
            matches = [r for r in self.received if predicate is None or predicate(r)]
            if len(matches) >= count:
                return matches
            if time.monotonic() >= deadline:
                got = [(r.path, r.status, r.event, r.account) for r in self.received]
                raise TimeoutError(
                    f"expected {count} matching webhook(s) within {timeout} s, "
                    f"got {len(matches)}; all received (path, status, event, account): {got}"
                )
            await asyncio.sleep(0.01)

    def wait(
        self,
        predicate: Callable[[Received], bool] | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Received]:
        """Blocking :meth:`wait_for`, for sync tests."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matches = [r for r in self._received if predicate is None or predicate(r)]
                remaining = deadline - time.monotonic()
                if len(matches) >= count or remaining <= 0:
                    break
                self._changed.wait(remaining)
        if len(matches) < count:
            raise TimeoutError(f"expected {count} matching webhook(s), got {len(matches)}")
        return matches

    def _record(self, received: Received) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()


class _Handler(BaseHTTPRequestHandler):
    """Records POSTs into the :class:`WebhookReceiver` set on the server."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real webhook endpoint would offer
    timeout = 10  # an idle keep-alive connection ends, and its thread with it

    def do_POST(self) -> None:
        receiver: WebhookReceiver = self.server.receiver  # type: ignore[attr-defined]
        body = self._read_body()
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = None
        answer = receiver._next_answer()
        receiver._record(
            Received(
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                json=parsed,
                status=answer.status,
                received_at=time.monotonic(),
            )
        )
        if answer.delay:
            receiver._stopping.wait(answer.delay)
        payload = json.dumps({"status": answer.status}).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest output is for failures, and the records are in ``received``."""
