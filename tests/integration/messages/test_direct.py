"""The hot read routes answered straight from the guard (api/direct.py) answer exactly as
FastAPI does: every request below is sent twice, once as served and once with the direct path
switched off, and the two answers must be the same, byte for byte. The test also checks which
requests the direct path took, so a change that sent everything to FastAPI would fail it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from imapapi.api.direct import DirectRoute, DirectRoutes
from tests.integration.messages import corpus
from tests.integration.messages.conftest import Mailbox

pytestmark = pytest.mark.integration


def _answer(response: httpx.Response) -> tuple[int, str | None, bytes]:
    return response.status_code, response.headers.get("content-type"), response.content


async def test_direct_answers_are_fastapis(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox.deliver(corpus.mixed_with_attachments())
    listed = await mailbox.by_subject("Nested attachments")
    message, text, thread = listed["id"], listed["text"]["id"], listed["threadId"]
    base = mailbox.base
    # (url, whether the direct path answers it; False: it is left to FastAPI)
    requests: list[tuple[str, bool]] = [
        (f"{base}/messages?path=INBOX", True),
        (f"{base}/messages?path=INBOX&page=0&pageSize=5&unknown=1", True),
        (f"{base}/messages?path=Nowhere", True),  # 404 from the operation
        ("/v1/account/nobody-here/messages?path=INBOX", True),  # 404 from the session
        (f"{base}/messages?path=INBOX&pageSize=0", False),  # 422: below the bound
        (f"{base}/messages?path=INBOX&pageSize=abc", False),
        (f"{base}/messages?path=INBOX&page=", False),  # empty
        (f"{base}/messages?path=INBOX&pageSize=5&pageSize=6", False),  # repeated
        (f"{base}/messages", False),  # the folder is required
        (f"{base}/messages?path=IN%0D%0ABOX", False),  # CR LF refused by MailboxPath
        (f"{base}/message/{message}", True),
        (f"{base}/message/{message}?maxBytes=10", True),
        (f"{base}/message/{message}?maxBytes=0", False),
        (f"{base}/message/AAAAAQAAAeE", True),  # well formed, names nothing: 404
        (f"{base}/message/not-an-id!", False),
        (f"/v1/account/{'x' * 129}/message/{message}", False),  # account id too long
        (f"{base}/text/{text}?textType=plain&maxBytes=4", True),
        (f"{base}/text/{text}?textType=rtf", False),
        (f"{base}/thread/{thread}", True),
    ]
    taken: list[bool] = []
    serve = DirectRoute.serve

    async def watched(self: DirectRoute, *args: Any) -> Any:
        response = await serve(self, *args)
        taken.append(response is not None)
        return response

    monkeypatch.setattr(DirectRoute, "serve", watched)
    direct = []
    for url, _ in requests:
        taken.clear()
        direct.append((_answer(await mailbox.api.client.get(url)), any(taken)))
    monkeypatch.setattr(DirectRoutes, "get", lambda self, scope, route: None)
    for (url, expected), (answer, took) in zip(requests, direct, strict=True):
        assert took is expected, url
        assert answer == _answer(await mailbox.api.client.get(url)), url
    assert direct[0][0][0] == 200 and direct[10][0][0] == 200  # not a pair of equal errors


async def test_direct_requests_are_counted_under_their_route(mailbox: Mailbox) -> None:
    response = await mailbox.api.client.get(f"{mailbox.base}/messages?path=INBOX")
    assert response.status_code == 200
    scraped = (await mailbox.api.client.get("/metrics")).text
    counted = {
        sample.labels["route"]: sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "imapapi_http_requests_total" and sample.labels["method"] == "GET"
    }
    assert counted.get("/v1/account/{account}/messages", 0) >= 1
    assert not [route for route in counted if mailbox.account in route]
