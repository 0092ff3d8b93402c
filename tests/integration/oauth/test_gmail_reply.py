"""Replies by Message-ID on the Gmail-like hoodiecrow: the message is found in All Mail
(issue 16, item 3; Dovecot cases in tests/integration/submit/test_message_id.py)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import pytest

from tests.integration.conftest import Api
from tests.integration.oauth.test_gmail_mode import register_gmail_sender
from tests.integration.submit.helpers import submitted
from tests.integration.submit.test_message_id import ROOT_ID
from tests.integration.submit.test_references import ORIGINAL_ID
from tests.servers.hoodiecrow import Hoodiecrow
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.integration


def gmail_original() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Peter <peter@partner.example.com>"
    msg["To"] = "testuser@example.com"
    msg["Subject"] = "Numbers"
    msg["Message-ID"] = ORIGINAL_ID
    msg["References"] = ROOT_ID
    msg.set_content("The numbers are in.\n")
    return msg.as_bytes().replace(b"\n", b"\r\n")


async def test_reply_by_message_id_on_gmail_finds_it_in_all_mail(
    api: Api, hoodiecrow: Hoodiecrow, smtp: SmtpServer
) -> None:
    other = hoodiecrow.append(gmail_original().replace(b"original-1", b"unrelated-1"))
    added = hoodiecrow.append(gmail_original())
    account = await register_gmail_sender(api, hoodiecrow, smtp)
    body = {"reference": {"messageId": ORIGINAL_ID}, "text": "Thanks"}
    received = await submitted(api, account, smtp, body)
    sent = received.message()
    assert sent["In-Reply-To"] == ORIGINAL_ID
    assert str(sent["References"]).split() == [ROOT_ID, ORIGINAL_ID]
    assert received.rcpt_tos == ("peter@partner.example.com",)

    def flags(uid: int) -> list[str]:
        return next(m["flags"] for m in hoodiecrow.messages() if m["uid"] == uid)

    for _ in range(100):  # the flag is stored right after the SMTP transaction
        if "\\Answered" in flags(added["uid"]):
            break
        await asyncio.sleep(0.1)
    assert "\\Answered" in flags(added["uid"])
    assert "\\Answered" not in flags(other["uid"])
    unknown = await api.client.post(
        f"/v1/account/{account}/submit",
        json={"reference": {"messageId": "<nowhere@example.com>"}, "text": "no"},
    )
    assert unknown.status_code == 404, unknown.text
