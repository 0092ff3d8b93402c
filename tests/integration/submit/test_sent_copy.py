"""The Sent copy when IMAP is down right after sending: filed once IMAP is back, never twice."""

from __future__ import annotations

import pytest

from imapapi.sending.submission_worker import SubmissionWorker
from tests.integration.conftest import Api
from tests.integration.submit.helpers import folder_messages, register_sender, wait_imap
from tests.integration.sync.helpers import wait_state
from tests.servers.dovecot import Dovecot
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def test_a_sent_copy_missed_while_imap_is_down_is_filed_once_it_is_back(
    api: Api, own_dovecot: Dovecot, smtp: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    user = own_dovecot.add_user()
    account = await register_sender(api, own_dovecot, user, smtp, webhook_receiver)
    worker = api.service.submissions
    assert isinstance(worker, SubmissionWorker)
    worker.sent_copy_retries = (0.5,) * 120  # the schedule, made short for the test
    own_dovecot.stop()
    await wait_state(api, account, "connectError")

    response = await api.client.post(
        f"/v1/account/{account}/submit",
        json={"to": ["andris@example.com"], "subject": "Sent while IMAP was down", "text": "hi"},
    )
    assert response.status_code == 200, response.text
    queue_id = response.json()["queueId"]
    [received] = await smtp.wait_for(1)  # SMTP works: the message goes out at once
    await webhook_receiver.wait_for(lambda r: r.event == "messageSent", timeout=30)

    own_dovecot.start()
    sent = await wait_imap(
        own_dovecot, user, lambda c: folder_messages("Sent")(c) or None, timeout=60
    )
    assert [raw for raw, _ in sent] == [received.data]
    assert "\\Seen" in sent[0][1]

    # A later attempt that finds the copy already filed (its APPEND answered, unseen by us,
    # before the connection dropped) does not file a second one.
    submission = await api.service.store.get_submission(queue_id)
    assert submission is not None
    assert await worker.file_sent_copy(submission, received.data, retrying=True)
    assert len(await wait_imap(own_dovecot, user, folder_messages("Sent"))) == 1
