"""A message with megabyte headers on a real Dovecot: its listing and its messageNew webhook
stay small and say what was cut; the details and the source keep every octet."""

from __future__ import annotations

import pytest

from imapapi.mail.summary import MAX_HEADER_VALUE
from tests.integration.conftest import Api
from tests.integration.sync.helpers import register
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration

WORDS = 100_000  # "word00001 " ... : 1 MB of subject


def folded(name: str, items: list[str], sep: str) -> bytes:
    """A header field folded one item a line (RFC 5322 §2.2.3), as a mail client writes it."""
    return f"{name}: {(sep + chr(13) + chr(10) + ' ').join(items)}\r\n".encode()


def huge_message() -> tuple[bytes, str]:
    words = [f"word{n:05d}" for n in range(WORDS)]
    subject = " ".join(words)
    to = [f"Person {n} <p{n}@example.test>" for n in range(20_000)]
    raw = (
        b"From: Sender <sender@example.test>\r\n"
        + folded("To", to, ",")
        + folded("Subject", words, "")
        + b"Message-ID: <huge@example.test>\r\nDate: Mon, 07 Oct 2019 06:05:23 +0000\r\n\r\nhi\r\n"
    )
    return raw, subject


async def test_megabyte_headers_are_cut_in_listings_and_webhooks(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    account = await register(api, dovecot, imap_user, webhook_receiver)
    raw, subject = huge_message()
    assert len(subject) >= 999_999
    dovecot.deliver(imap_user, raw)

    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", timeout=20)
    assert len(hook.body) < 100_000, len(hook.body)
    data = hook.json["data"]
    assert data["truncated"] == ["subject", "to"]
    assert data["subject"] == subject.encode()[:MAX_HEADER_VALUE].decode()
    assert data["to"][0] == {"name": "Person 0", "address": "p0@example.test"}

    base = f"/v1/account/{account}"
    page = await api.client.get(f"{base}/messages", params={"path": "INBOX"})
    assert page.status_code == 200
    assert len(page.content) < 100_000, len(page.content)
    [listed] = page.json()["messages"]
    assert listed["truncated"] == ["subject", "to"]
    assert listed["subject"] == data["subject"]

    details = await api.client.get(f"{base}/message/{listed['id']}")
    assert details.status_code == 200
    whole = details.json()
    assert "truncated" not in whole
    assert whole["subject"] == subject
    assert whole["headers"]["subject"] == [subject]
    assert len(whole["to"]) == 20_000
    source = await api.client.get(f"{base}/message/{listed['id']}/source")
    assert source.content.replace(b"\r\n ", b" ").count(subject.encode()) == 1
