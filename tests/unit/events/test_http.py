"""The webhook client's reply parser, fed scripted bytes (STYLE.md 18)."""

from __future__ import annotations

import pytest

from imapapi.events.http import DRAIN_LIMIT, HttpError, Reply, ReplyParser

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def feed_all(chunks: list[bytes]) -> list[Reply | None]:
    parser = ReplyParser()
    return [parser.feed(chunk) for chunk in chunks]


@pytest.mark.parametrize(
    ("chunks", "reply"),
    [
        ([OK], Reply(200)),
        ([OK[:5], OK[5:30], OK[30:]], Reply(200)),
        ([b"HTTP/1.1 204 No Content\r\n\r\n"], Reply(204)),
        ([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], Reply(200)),
        (
            [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\n\r\n"],
            Reply(200),
        ),
        (
            [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n",
                b"0\r\nT: 1\r\n\r\n",
            ],
            Reply(200),
        ),
        ([b"HTTP/1.1 100 Continue\r\n\r\n" + OK], Reply(200)),
        (
            [b"HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n"],
            Reply(503, "120"),
        ),
        (
            [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"],
            Reply(200, keep=False),
        ),
        ([b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"], Reply(200, keep=False)),
        (
            [b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"],
            Reply(200),
        ),
        ([b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"], Reply(302)),
    ],
    ids=[
        "content-length",
        "split-anywhere",
        "no-content",
        "empty-body",
        "chunked-with-extension",
        "chunked-split-with-trailer",
        "informational-skipped",
        "retry-after",
        "connection-close",
        "http-1.0",
        "http-1.0-keep-alive",
        "redirect-not-followed",
    ],
)
def test_complete_reply(chunks: list[bytes], reply: Reply) -> None:
    results = feed_all(chunks)
    assert results[-1] == reply
    assert all(result is None for result in results[:-1])


def test_incomplete_body_waits() -> None:
    assert feed_all([OK[:-1]]) == [None]


def test_body_until_close_ends_with_the_connection() -> None:
    parser = ReplyParser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\n\r\nsome body") is None
    assert parser.closed() == Reply(200, keep=False)


def test_closed_before_a_reply_is_no_reply() -> None:
    parser = ReplyParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Len")
    assert parser.closed() is None


def test_long_body_is_not_read_to_the_end() -> None:
    parser = ReplyParser()
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (10 * DRAIN_LIMIT)
    assert parser.feed(head + b"x" * 1000) is None
    # Past the limit the status is final and the connection is not kept for the rest.
    assert parser.feed(b"x" * DRAIN_LIMIT) == Reply(200, keep=False)


@pytest.mark.parametrize(
    "data",
    [
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 20000,
    ],
    ids=["not-http", "bad-status", "bad-chunk-size", "bad-length", "endless-head"],
)
def test_bad_replies_raise(data: bytes) -> None:
    with pytest.raises(HttpError, match="ProtocolError"):
        ReplyParser().feed(data)
