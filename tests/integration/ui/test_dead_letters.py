"""The dead-letter page: events that really died at a real webhook receiver, listed and replayed
(one, then all) through the page's forms, and delivered to the receiver again."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from html import escape

import httpx
import pytest

from imapapi.events.model import make_event
from imapapi.ui.dead_letters import PAGE_SIZE
from tests.integration.conftest import Api
from tests.integration.ui.conftest import browser, csrf_of
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def dead_count(api: Api) -> int:
    return int((await api.service.store.outbox_stats(time.time())).get("dead", 0))


async def kill(api: Api, receiver: WebhookReceiver, count: int, account: str = "acct") -> list[str]:
    """`count` messageNew events that the dispatcher gives up on for real: the receiver answers
    500 and the events are older than the retry window, so the first failure is the last.
    Returns their event ids, oldest first; the receiver answers 200 again afterwards."""
    await api.client.post("/v1/settings", json={"webhooks": receiver.url})
    receiver.respond_with(500)
    before = await dead_count(api)
    long_ago = time.time() - api.service.settings.webhook_max_age - 60
    events = [
        make_event(
            account=account,
            event="messageNew",
            path="Archive",
            data={"uid": n + 1, "subject": f"dead {n}", "messageId": f"<dead-{n}@example.test>"},
            now=long_ago + n,
        )
        for n in range(count)
    ]
    await api.service.store.add_events(events)
    assert api.service.dispatcher is not None
    api.service.dispatcher.wake()
    deadline = time.monotonic() + 30
    while await dead_count(api) < before + count:
        assert time.monotonic() < deadline, "the events never became dead letters"
        await asyncio.sleep(0.05)
    receiver.respond_with(200)
    receiver.clear()
    return [e.event_id for e in events]


def row_of(html: str, event_id: str) -> str:
    table = html.split('id="dead-letters"', 1)[1].split("</table>", 1)[0]
    rows = [r for r in table.split("<tr>") if f"<code>{event_id}</code>" in r]
    assert len(rows) == 1, f"no row of {event_id} in:\n{table}"
    return rows[0]


async def test_dead_letters_are_listed_then_replayed_one_and_then_all(
    api: Api, ui: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    first, second, third = await kill(api, webhook_receiver, 3)
    page = await ui.get("/dead-letters")
    assert page.status_code == 200
    assert re.search(r'id="dead-total">3<', page.text)
    row = row_of(page.text, first)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[1] == "messageNew" and ">acct</a>" in cells[2] and cells[3] == "Archive"
    assert "dead 0" in cells[4] and escape("<dead-0@example.test>") in cells[4]
    assert cells[6] == "1" and cells[7] == "HTTP 500"  # attempts, last error
    shown = datetime.fromisoformat(cells[0].replace("Z", "+00:00")).timestamp()
    assert shown < time.time() - api.service.settings.webhook_max_age  # when it happened

    one = await ui.post(
        "/dead-letters/replay", data={"csrf": csrf_of(page.text), "eventId": second}
    )
    assert one.status_code == 303 and one.headers["location"] == "/dead-letters?replayed=1"
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
    assert hook.json["eventId"] == second and hook.json["data"]["subject"] == "dead 1"
    after_one = (await ui.get(one.headers["location"])).text
    assert "1 event queued for delivery again." in after_one
    assert re.search(r'id="dead-total">2<', after_one)
    assert f"<code>{second}</code>" not in after_one and f"<code>{first}</code>" in after_one

    every = await ui.post("/dead-letters/replay-all", data={"csrf": csrf_of(after_one)})
    assert every.status_code == 303 and every.headers["location"] == "/dead-letters?replayed=2"
    hooks = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", count=3)
    assert [h.json["eventId"] for h in hooks] == [second, first, third]  # in order per account
    emptied = (await ui.get(every.headers["location"])).text
    assert "2 events queued for delivery again." in emptied and "No dead letters" in emptied
    assert await dead_count(api) == 0

    again = await ui.post("/dead-letters/replay", data={"csrf": csrf_of(emptied), "eventId": first})
    assert again.headers["location"] == "/dead-letters?replayed=0"
    assert "Nothing was replayed" in (await ui.get(again.headers["location"])).text


async def test_dead_letters_are_paged(
    api: Api, ui: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    ids = await kill(api, webhook_receiver, PAGE_SIZE + 2)
    first = (await ui.get("/dead-letters")).text
    assert "page 1 of 2" in first and ids[0] in first and ids[-1] not in first
    assert '<a href="/dead-letters?p=1" id="next-page">' in first
    second = (await ui.get("/dead-letters", params={"p": 1})).text
    assert "page 2 of 2" in second and ids[-1] in second and ids[0] not in second
    beyond = (await ui.get("/dead-letters", params={"p": 9})).text  # past the end: the last
    assert "page 2 of 2" in beyond and ids[-1] in beyond


async def test_replay_forms_need_the_csrf_token_and_a_valid_event_id(
    api: Api, ui: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    [event_id] = await kill(api, webhook_receiver, 1)
    for action, fields in (
        ("/dead-letters/replay", {"eventId": event_id}),
        ("/dead-letters/replay", {"eventId": event_id, "csrf": "forged"}),
        ("/dead-letters/replay-all", {}),
        ("/dead-letters/replay-all", {"csrf": "forged"}),
    ):
        refused = await ui.post(action, data=fields)
        assert refused.status_code == 403, (action, fields)
        assert "Form refused" in refused.text
    csrf = csrf_of((await ui.get("/dead-letters")).text)
    for bad in ("", "has space", "x" * 129):
        answer = await ui.post("/dead-letters/replay", data={"csrf": csrf, "eventId": bad})
        assert answer.status_code == 400 and "eventIds" in answer.text, bad
    assert await dead_count(api) == 1
    assert webhook_receiver.received == []


async def test_a_signed_out_browser_is_sent_to_sign_in_and_replays_nothing(
    api: Api, webhook_receiver: WebhookReceiver
) -> None:
    [event_id] = await kill(api, webhook_receiver, 1)
    async with browser(api) as client:
        answer = await client.get("/dead-letters")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/dead-letters"
        # A visitor holds a CSRF token for the sign-in form; it does not open the replay.
        csrf = csrf_of((await client.get("/login")).text)
        for action in ("/dead-letters/replay", "/dead-letters/replay-all"):
            posted = await client.post(action, data={"csrf": csrf, "eventId": event_id})
            assert posted.status_code == 303
            assert posted.headers["location"].startswith("/login?next=")
    assert await dead_count(api) == 1
    assert webhook_receiver.received == []


async def test_navigation_and_overview_lead_to_the_dead_letters(
    api: Api, ui: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await kill(api, webhook_receiver, 2)
    overview = (await ui.get("/")).text
    assert re.search(r'<nav>.*href="/dead-letters".*</nav>', overview, re.S)
    assert re.search(r'id="dead-letters-link">2<', overview)
