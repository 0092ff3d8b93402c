"""The webhook client against real servers on loopback: keep-alive, stale connections, errors."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imapapi.events.http import HttpError, WebhookClient
from tests.servers.ports import LOOPBACK, free_port
from tests.servers.tls import make_tls_files
from tests.servers.webhooks import WebhookReceiver

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class Scripted:
    """An HTTP server whose answer to the Nth request (counted over all connections) is
    scripted: bytes to send, or None to close the connection without answering."""

    answers: dict[int, bytes | None] = field(default_factory=dict)
    close_after: set[int] = field(default_factory=set)  # requests whose answer ends the connection
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append(head + await reader.readexactly(length))
                answer = self.answers.get(len(self.requests), OK)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if len(self.requests) in self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/hook"


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    server = Scripted()
    listener = await asyncio.start_server(server.handle, LOOPBACK, 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()


@pytest.fixture
async def client() -> AsyncIterator[WebhookClient]:
    made = WebhookClient()
    try:
        yield made
    finally:
        await made.close()


async def test_posts_share_one_keep_alive_connection(
    scripted: Scripted, client: WebhookClient
) -> None:
    for n in range(3):
        reply = await client.post(scripted.url, b'{"n":%d}' % n, [], timeout=10)
        assert reply.status == 200
    assert scripted.connections == 1
    assert [request.endswith(b'{"n":%d}' % n) for n, request in enumerate(scripted.requests)] == [
        True
    ] * 3


async def test_connection_close_is_honoured(scripted: Scripted, client: WebhookClient) -> None:
    scripted.answers[1] = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    assert (await client.post(scripted.url, b"{}", [], timeout=10)).status == 200
    assert (await client.post(scripted.url, b"{}", [], timeout=10)).status == 200
    assert scripted.connections == 2


async def test_a_reused_connection_closed_unanswered_is_retried_once(
    scripted: Scripted, client: WebhookClient
) -> None:
    # The second request meets a server that closes instead of answering, as one whose
    # keep-alive timeout ran out just then: posted again on a new connection.
    scripted.answers[2] = None
    assert (await client.post(scripted.url, b"{}", [], timeout=10)).status == 200
    assert (await client.post(scripted.url, b"{}", [], timeout=10)).status == 200
    assert scripted.connections == 2
    assert len(scripted.requests) == 3


async def test_a_new_connection_closed_unanswered_fails(
    scripted: Scripted, client: WebhookClient
) -> None:
    scripted.answers[1] = None
    with pytest.raises(HttpError, match="ConnectionResetError"):
        await client.post(scripted.url, b"{}", [], timeout=10)
    assert len(scripted.requests) == 1


async def test_a_reply_cut_short_fails_without_a_second_post(
    scripted: Scripted, client: WebhookClient
) -> None:
    assert (await client.post(scripted.url, b"{}", [], timeout=10)).status == 200
    scripted.answers[2] = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok"
    scripted.close_after.add(2)
    with pytest.raises(HttpError):
        await client.post(scripted.url, b"{}", [], timeout=10)
    assert len(scripted.requests) == 2  # something was answered: not posted again


async def test_timeout_closes_the_connection(scripted: Scripted, client: WebhookClient) -> None:
    scripted.answers[1] = b""  # says nothing, keeps the connection open
    with pytest.raises(TimeoutError):
        await client.post(scripted.url, b"{}", [], timeout=0.2)
    assert (await client.post(scripted.url, b"{}", [], timeout=10)).status == 200
    assert scripted.connections == 2  # the silent one was not reused


async def test_refused_connection_names_the_cause(client: WebhookClient) -> None:
    url = f"http://{LOOPBACK}:{free_port()}/hook?token=SECRET"
    with pytest.raises(HttpError, match=r"^ConnectionRefusedError") as raised:
        await client.post(url, b"{}", [], timeout=10)
    assert "SECRET" not in str(raised.value)


async def test_request_line_host_and_credentials(
    webhook_receiver: WebhookReceiver, client: WebhookClient
) -> None:
    url = f"http://us%40er:p%3Ass@{LOOPBACK}:{webhook_receiver.port}/in/hook?a=1&b=x%20y"
    reply = await client.post(url, b'{"x":1}', [("X-Test", "yes")], timeout=10)
    assert reply.status == 200
    [got] = webhook_receiver.received
    assert got.path == "/in/hook?a=1&b=x%20y"
    assert got.header("Host") == f"{LOOPBACK}:{webhook_receiver.port}"
    assert got.header("Authorization") == "Basic " + base64.b64encode(b"us@er:p:ss").decode()
    assert got.header("X-Test") == "yes"
    assert got.body == b'{"x":1}'


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("ftp://example.com/hook", []),
        ("http:///hook", []),
        ("http://example.com/hook", [("X-Bad", "a\r\nInjected: 1")]),
    ],
    ids=["not-http", "no-host", "line-break-in-header"],
)
async def test_refuses_what_it_cannot_send(
    client: WebhookClient, url: str, headers: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValueError):
        await client.post(url, b"{}", headers, timeout=10)


async def test_https_checks_the_certificate(scripted: Scripted, tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(files.cert_file, files.key_file)
    listener = await asyncio.start_server(scripted.handle, LOOPBACK, 0, ssl=server_context)
    url = f"https://localhost:{listener.sockets[0].getsockname()[1]}/hook"
    trusting = WebhookClient(ssl_context=ssl.create_default_context(cafile=files.ca_file))
    default = WebhookClient()  # the system's authorities: the test CA is not one of them
    try:
        assert (await trusting.post(url, b"{}", [], timeout=10)).status == 200
        assert (await trusting.post(url, b"{}", [], timeout=10)).status == 200
        with pytest.raises(HttpError, match="SSLCertVerificationError"):
            await default.post(url, b"{}", [], timeout=10)
    finally:
        await trusting.close()
        await default.close()
        listener.close()
    # The trusting client's two POSTs shared one connection; the refused handshake never
    # reached the HTTP server.
    assert scripted.connections == 1
    assert len(scripted.requests) == 2
