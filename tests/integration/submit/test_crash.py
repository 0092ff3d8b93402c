"""Durability: `imapapi serve` killed with SIGKILL right after accepting a submission sends it
after the restart (the queue is on disk before the API answers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.integration.backends import StoreBackend
from tests.integration.submit.helpers import SMTP_PASSWORD
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.service import ServiceProcess
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.integration
# The submission is due this long after it was accepted: the process is killed well before,
# so the message cannot have left before the crash, whatever the machine's speed.
SEND_DELAY = 2.0


@pytest.fixture
def service(tmp_path: Path, store_backend: StoreBackend) -> Iterator[ServiceProcess]:
    data_dir = tmp_path / "data"
    process = ServiceProcess(
        data_dir,
        tmp_path / "logs",
        env={
            "IMAPAPI_INSECURE": "true",
            "IMAPAPI_SECRET": "crash-test-secret-material",
            **store_backend.env(data_dir),
        },
    )
    try:
        yield process
    finally:
        process.close()


def wait_connected(client: httpx.Client, account: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    body: dict[str, object] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/v1/account/{account}").json()
        if body.get("state") == "connected":
            return
        time.sleep(0.05)
    raise AssertionError(f"{account} never connected: {body}")


def test_submission_accepted_before_sigkill_is_sent_after_restart(
    service: ServiceProcess, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    smtp.add_user(imap_user.name, SMTP_PASSWORD)
    imap = {**dovecot.account_settings(imap_user), "starttls": "never"}
    service.start()
    with service.client() as client:
        account = {
            "account": imap_user.name,
            "email": f"{imap_user.name}@example.com",
            "imap": imap,
            "smtp": smtp.settings(imap_user.name, SMTP_PASSWORD),
        }
        assert client.post("/v1/account", json=account).status_code == 200
        wait_connected(client, imap_user.name)
        send_at = datetime.fromtimestamp(time.time() + SEND_DELAY, UTC).isoformat()
        response = client.post(
            f"/v1/account/{imap_user.name}/submit",
            json={
                "to": {"address": "andris@example.com"},
                "subject": "Survives a crash",
                "text": "queued before SIGKILL",
                "sendAt": send_at,
            },
        )
        assert response.status_code == 200, response.text
        queued = response.json()
    service.kill()
    assert smtp.messages == []

    service.start()
    [received] = smtp.wait_for_messages(1, timeout=30.0)
    assert received.message()["Message-ID"] == queued["messageId"]
    with service.client() as client:
        entry = client.get(f"/v1/outbox/{queued['queueId']}").json()
        assert entry["state"] == "sent"
    assert len(smtp.messages) == 1
