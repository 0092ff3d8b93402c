"""A listing of a folder kept selected sends its NOOP and the page's UID FETCH in one write
(`_pipelined_page` in operations/messages.py). These tests check what a user sees stays what
the one-command-at-a-time listing answered: changes by other clients between and during
listings, and a folder deleted under the kept selection.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.messages.conftest import Mailbox
from tests.integration.sync.helpers import message

pytestmark = pytest.mark.integration


def subjects(listing: dict[str, object]) -> list[str]:
    messages = listing["messages"]
    assert isinstance(messages, list)
    return [m["subject"] for m in messages]


async def command_log(mailbox: Mailbox) -> list[tuple[str, str]]:
    """(direction, text) of the command connections' protocol log, oldest first."""
    response = await mailbox.api.client.get(f"/v1/logs/{mailbox.account}")
    assert response.status_code == 200
    lines = []
    for line in response.text.splitlines():
        fields = line.split(" ", 3)  # time, connection, direction, text
        if len(fields) == 4 and fields[1].startswith("command"):
            lines.append((fields[2], fields[3]))
    return lines


async def test_a_kept_page_is_one_write_and_the_same_answer(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    for n in range(5):
        mailbox.deliver(message(f"m{n}"))
    first = await mailbox.listing(pageSize=3)  # selects the folder, one command at a time
    later = await mailbox.listing(page=1, pageSize=3)
    assert subjects(first) == ["m4", "m3", "m2"] and subjects(later) == ["m1", "m0"]
    assert await mailbox.listing(pageSize=3) == first
    assert await mailbox.listing(page=1, pageSize=3) == later
    log = await command_log(mailbox)
    noop = max(i for i, (direction, text) in enumerate(log) if text.endswith(" NOOP"))
    # The FETCH was written right after the NOOP, before anything of the server's answer.
    assert log[noop + 1][0] == "C" and " UID FETCH " in log[noop + 1][1], log[noop:]


async def test_changes_between_listings_are_shown(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    for n in range(4):
        mailbox.deliver(message(f"m{n}"))
    before = await mailbox.listing(pageSize=2)
    assert await mailbox.listing(pageSize=2) == before  # the pair of one write, unchanged
    mailbox.deliver(message("new"))
    arrived = await mailbox.listing(pageSize=2)
    assert (arrived["total"], subjects(arrived)) == (5, ["new", "m3"])
    gone = next(m for m in arrived["messages"] if m["subject"] == "m3")
    async with mailbox.other_client() as other:
        await other.select("INBOX")
        await other.uid_store([gone["uid"]], "+", ["\\Deleted"], silent=True)
        await other.expunge()
    after = await mailbox.listing(pageSize=2)
    assert (after["total"], after["pages"], subjects(after)) == (4, 2, ["new", "m2"])
    assert subjects(await mailbox.listing(page=1, pageSize=2)) == ["m1", "m0"]


async def test_appends_during_listings_never_break_a_page(mailbox: Mailbox) -> None:
    """Messages appended (in order, by another client) while listings run: each page is
    either before or after an arrival, never in between: exactly the `total` newest."""
    for n in range(6):
        mailbox.deliver(message(f"m{n}"))
    await mailbox.listing(pageSize=4)
    appended = 6
    done = asyncio.Event()

    async def append() -> None:
        nonlocal appended
        async with mailbox.other_client() as other:
            for _ in range(30):
                await other.append("INBOX", message(f"m{appended}"))
                appended += 1
        done.set()

    writer = asyncio.create_task(append())
    pages = []
    while not done.is_set() or not pages:
        pages.append(await mailbox.listing(pageSize=4))
    await writer
    pages.append(await mailbox.listing(pageSize=4))
    for page in pages:
        total = page["total"]
        assert subjects(page) == [f"m{n}" for n in range(total - 1, total - 5, -1)], page
    assert pages[-1]["total"] == 36
    assert len({page["total"] for page in pages}) > 1  # some listings ran during the appends


async def test_a_folder_deleted_under_a_kept_selection(mailbox: Mailbox) -> None:
    mailbox.deliver(message("doomed"), folder="Projects")
    await mailbox.listing("Projects")
    await mailbox.listing("Projects")  # now kept: the next one is NOOP + FETCH in one write
    async with mailbox.other_client() as other:
        await other.delete("Projects")
    response = await mailbox.api.client.get(f"{mailbox.base}/messages", params={"path": "Projects"})
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "NotFound"
    assert subjects(await mailbox.listing()) == []  # the account still answers


async def test_details_asked_again_are_one_write(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    mailbox.deliver(message("read me"))
    (item,) = (await mailbox.listing())["messages"]
    first = await mailbox.details(item["id"])
    assert await mailbox.details(item["id"]) == first
    log = await command_log(mailbox)
    noop = max(i for i, (direction, text) in enumerate(log) if text.endswith(" NOOP"))
    assert log[noop + 1][0] == "C" and " UID FETCH " in log[noop + 1][1], log[noop:]


async def test_details_in_a_folder_deleted_under_a_kept_selection(mailbox: Mailbox) -> None:
    mailbox.deliver(message("doomed"), folder="Projects")
    (item,) = (await mailbox.listing("Projects"))["messages"]
    assert (await mailbox.details(item["id"]))["subject"] == "doomed"
    async with mailbox.other_client() as other:
        await other.delete("Projects")
    response = await mailbox.api.client.get(f"{mailbox.base}/message/{item['id']}")
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "NotFound"
