"""The account page's recent events tell messages apart: subject, Message-ID and folder of real
messages appended to Dovecot by another IMAP client, after their webhooks were delivered."""

from __future__ import annotations

import asyncio
import imaplib
import re
import time
from html import unescape

import httpx
import pytest

from imapapi.metrics.activity import MAX_TEXT
from tests.integration.conftest import Api
from tests.integration.sync.helpers import checked, mailbox_arg, message, other_client, register
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


def recent_rows(html: str) -> list[list[str]]:
    """The cells of each row of the recent-events table, tags stripped."""
    table = html.split('id="recent-events"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in body.split("</tr>")
        if "<td" in r
    ]


async def test_recent_events_show_subject_message_id_and_folder(
    api: Api,
    ui: httpx.AsyncClient,
    dovecot: Dovecot,
    imap_user: ImapUser,
    webhook_receiver: WebhookReceiver,
) -> None:
    account = await register(api, dovecot, imap_user, webhook_receiver)
    long_subject = "Quarterly report " + "é" * 300
    sent = {
        "<first-1@example.test>": ("Re: offer", "Archive"),
        "<second-2@example.test>": ("Re: offer", "INBOX"),
        "<third-3@example.test>": (long_subject, "Archive"),
    }

    def append(client: imaplib.IMAP4) -> None:
        for message_id, (subject, folder) in sent.items():
            raw = message(subject, message_id=message_id)
            checked(client.append(mailbox_arg(folder), None, None, raw))

    await other_client(dovecot, imap_user, append)
    await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=3, timeout=20)

    # The page learns an outcome once it is recorded, just after the receiver answered.
    deadline = time.monotonic() + 10
    while True:
        page = await ui.get(f"/accounts/{account}")
        rows = [r for r in recent_rows(page.text) if r[1] == "messageNew"]
        if len(rows) == 3 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    by_id = {r[4]: r for r in rows}
    assert set(by_id) == set(sent), rows
    for message_id, (subject, folder) in sent.items():
        shown = by_id[message_id]
        assert shown[2] == folder and shown[5] == "delivered"
        if subject is long_subject:
            assert shown[3].startswith("Quarterly report é") and shown[3].endswith("…")
            assert len(shown[3]) == MAX_TEXT  # capped: no payload is kept in memory
        else:
            assert shown[3] == subject
