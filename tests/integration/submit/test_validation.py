"""Bad submissions: a 4xx naming the field, and nothing queued."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api
from tests.integration.submit.helpers import register_sender
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.integration
GOOD: dict[str, Any] = {"to": {"address": "andris@example.com"}, "text": "Hello"}


@pytest.fixture
async def small_api(tmp_path: Path, store_backend: StoreBackend) -> AsyncIterator[Api]:
    """A service whose message size limit is 4 KiB."""
    async with running_api(tmp_path / "data", store_backend, max_message_size=4096) as running:
        yield running


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to": {"address": "not-an-address"}}, "to.0.address"),
        ({"cc": [{"address": "a@example.com"}, "broken <@>"]}, "cc.1"),
        ({"from": {"name": "Evil\r\nBcc: x@example.com", "address": "a@example.com"}}, "from.name"),
        ({"headers": {"X-Bad": "one\r\nBcc: victim@example.com"}}, "headers"),
        ({"headers": {"Bad Name": "value"}}, "headers"),
        ({"headers": {"Content-Type": "text/html"}}, "headers"),
        ({"text": None}, "text"),
        (
            {"attachments": [{"filename": "a.bin", "content": "%%% not base64 %%%"}]},
            "attachments.0.content",
        ),
        ({"messageId": "no-angle-brackets@example.com"}, "messageId"),
        ({"messageId": "<two@at@example.com>"}, "messageId"),
        ({"subject": "line\nbreak"}, "subject"),
        ({"idempotencyKey": "has spaces"}, "idempotencyKey"),
        (
            {"attachments": [{"content": "", "contentType": "multipart/mixed"}]},
            "attachments.0.contentType",
        ),
        ({"to": [], "cc": None}, "to"),
        ({"unknownField": 1}, "unknownField"),
    ],
    ids=[
        "bad-address",
        "bad-string-address",
        "crlf-in-name",
        "crlf-in-header-value",
        "bad-header-name",
        "reserved-header",
        "no-text-no-html",
        "not-base64",
        "message-id-without-brackets",
        "message-id-two-at",
        "newline-in-subject",
        "bad-idempotency-key",
        "multipart-attachment",
        "no-recipients",
        "unknown-field",
    ],
)
async def test_bad_input_is_400_naming_the_field_and_queues_nothing(
    api: Api,
    dovecot: Dovecot,
    imap_user: ImapUser,
    smtp: SmtpServer,
    change: dict[str, Any],
    field: str,
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    response = await api.client.post(f"/v1/account/{account}/submit", json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["code"] == "InvalidInput"
    assert any(d["field"].startswith(field) for d in answer["details"]), answer
    everything = (await api.client.get("/v1/outbox", params={"state": "all"})).json()
    assert everything["total"] == 0


async def test_unknown_account_is_404(api: Api) -> None:
    response = await api.client.post("/v1/account/nobody/submit", json=GOOD)
    assert response.status_code == 404
    assert response.json()["code"] == "AccountNotFound"


async def test_account_without_smtp_is_422(api: Api, dovecot: Dovecot, imap_user: ImapUser) -> None:
    body = {"account": "nosmtp", "imap": {**dovecot.account_settings(imap_user)}}
    body["imap"]["starttls"] = "never"
    assert (await api.client.post("/v1/account", json=body)).status_code == 200
    response = await api.client.post(
        "/v1/account/nosmtp/submit", json={**GOOD, "from": "me@example.com"}
    )
    assert response.status_code == 422  # a well-formed message, but not for this account
    assert response.json()["details"][0]["field"] == "smtp"


async def test_message_over_the_size_limit_is_413(
    small_api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(small_api, dovecot, imap_user, smtp)
    ok = await small_api.client.post(f"/v1/account/{account}/submit", json=GOOD)
    assert ok.status_code == 200, ok.text
    response = await small_api.client.post(
        f"/v1/account/{account}/submit", json={**GOOD, "text": "x" * 5000}
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "PayloadTooLarge"
    # The request itself far over the limit is refused before any work.
    huge = await small_api.client.post(
        f"/v1/account/{account}/submit", json={**GOOD, "text": "x" * (2 * 1024 * 1024)}
    )
    assert huge.status_code == 413
    listed = (await small_api.client.get("/v1/outbox", params={"state": "all"})).json()
    assert [m["queueId"] for m in listed["messages"]] == [ok.json()["queueId"]]
