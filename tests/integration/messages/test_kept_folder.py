"""A folder kept selected on a command connection between API calls, against the real Dovecot.

The second listing of a folder sends no EXAMINE; these tests change the folder from another
client between two calls on the same kept connection and check the answers stay right. The
summaries of messages listed before are kept too (`sessions/summaries.py`): the next listing
fetches their flags only.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from imapapi.mail.ids import decode_message_id
from tests.integration.backends import StoreBackend
from tests.integration.conftest import running_api
from tests.integration.messages.conftest import Mailbox
from tests.integration.sync.helpers import message, register, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.webhooks import Received, WebhookReceiver

pytestmark = pytest.mark.integration
# Enough protocol log that every command a test sends is still in it at the end.
LOG_BYTES = 1 << 20


@asynccontextmanager
async def served(
    data_dir: Path, backend: StoreBackend, dovecot: Dovecot, user: ImapUser, **settings: Any
) -> AsyncIterator[Mailbox]:
    async with running_api(data_dir, backend, protocol_log_bytes=LOG_BYTES, **settings) as api:
        account = await register(api, dovecot, user)
        yield Mailbox(api, dovecot, user, account)


@pytest.fixture
async def mailbox(
    tmp_path: Path, store_backend: StoreBackend, dovecot: Dovecot, imap_user: ImapUser
) -> AsyncIterator[Mailbox]:
    async with served(tmp_path / "data", store_backend, dovecot, imap_user) as mailbox:
        yield mailbox


def subjects(listing: dict[str, object]) -> list[str]:
    messages = listing["messages"]
    assert isinstance(messages, list)
    return [m["subject"] for m in messages]


async def selections(mailbox: Mailbox) -> list[str]:
    """The SELECT/EXAMINE commands the command connections sent so far, without tags:
    ["SELECT INBOX", …]."""
    found = []
    for line in await mailbox.sent_commands("command"):
        _, name, *args = [*line.split(" ", 2), ""]
        if name in ("SELECT", "EXAMINE"):
            found.append(f"{name} {args[0].strip(chr(34))}")
    return found


async def examines(mailbox: Mailbox, path: str = "INBOX") -> int:
    """How often the command connections selected `path` (read-write, see `open_folder`)."""
    return (await selections(mailbox)).count(f"SELECT {path}")


async def test_second_listing_sends_no_examine(mailbox: Mailbox) -> None:
    for n in range(3):
        mailbox.deliver(message(f"m{n}"))
    first = await mailbox.listing(pageSize=2)
    second = await mailbox.listing(pageSize=2)
    assert first == second and subjects(first) == ["m2", "m1"]
    assert await examines(mailbox) == 1
    (view,) = mailbox.session.commands.views()
    assert (view.path, view.exists) == ("INBOX", 3)


async def test_new_mail_between_listings(mailbox: Mailbox) -> None:
    for n in range(3):
        mailbox.deliver(message(f"m{n}"))
    assert subjects(await mailbox.listing(pageSize=2)) == ["m2", "m1"]
    mailbox.deliver(message("m3"))
    mailbox.deliver(message("m4"))
    listing = await mailbox.listing(pageSize=2)
    assert (listing["total"], listing["pages"]) == (5, 3)
    assert subjects(listing) == ["m4", "m3"]
    assert subjects(await mailbox.listing(page=2, pageSize=2)) == ["m0"]
    assert await examines(mailbox) == 1  # the same selection, told of the arrivals


async def test_expunge_by_another_client_between_listings(mailbox: Mailbox) -> None:
    for n in range(5):
        mailbox.deliver(message(f"m{n}"))
    before = await mailbox.listing()
    by_subject = {m["subject"]: m for m in before["messages"]}
    async with mailbox.other_client() as other:
        await other.select("INBOX")
        gone = [by_subject["m4"]["uid"], by_subject["m2"]["uid"]]
        await other.uid_store(gone, "+", ["\\Deleted"], silent=True)
        await other.expunge(gone)
    before_fetches = len(await fetches(mailbox))
    after = await mailbox.listing(pageSize=2)
    assert (after["total"], after["pages"]) == (3, 2)
    assert not any(map(full, (await fetches(mailbox))[before_fetches:]))  # kept summaries
    assert subjects(after) == ["m3", "m1"]
    assert subjects(await mailbox.listing(page=1, pageSize=2)) == ["m0"]
    for subject in ("m4", "m2"):
        response = await mailbox.api.client.get(
            f"{mailbox.base}/message/{by_subject[subject]['id']}"
        )
        assert response.status_code == 404, response.text
    assert (await mailbox.details(by_subject["m3"]["id"]))["subject"] == "m3"
    assert await examines(mailbox) == 1


async def test_details_of_a_message_expunged_since_the_last_call(mailbox: Mailbox) -> None:
    mailbox.deliver(message("short-lived"))
    mailbox.deliver(message("stays"))
    listing = await mailbox.listing()
    doomed = next(m for m in listing["messages"] if m["subject"] == "short-lived")
    async with mailbox.other_client() as other:
        await other.select("INBOX")
        await other.uid_store([doomed["uid"]], "+", ["\\Deleted"], silent=True)
        await other.expunge([doomed["uid"]])
    # The kept connection's session still shows the message until a UID command reports the
    # expunge; the answer must not be the copy the server serves from that view.
    for url in (f"/message/{doomed['id']}", f"/message/{doomed['id']}/source"):
        response = await mailbox.api.client.get(mailbox.base + url)
        assert response.status_code == 404, (url, response.text)
    assert subjects(await mailbox.listing()) == ["stays"]


async def test_flag_change_by_another_client_between_listings(mailbox: Mailbox) -> None:
    mailbox.deliver(message("flag me"))
    (item,) = (await mailbox.listing())["messages"]
    assert item["flags"] == []
    async with mailbox.other_client() as other:
        await other.select("INBOX")
        await other.uid_store([item["uid"]], "+", ["\\Flagged", "$Work"], silent=True)
    before = len(await fetches(mailbox))
    (again,) = (await mailbox.listing())["messages"]
    assert sorted(again["flags"]) == ["$Work", "\\Flagged"]
    # From the kept summary (sessions/summaries.py) and flags fetched afresh.
    assert (await fetches(mailbox))[before:] == ["(UID FLAGS)"]
    assert {k: v for k, v in again.items() if k != "flags"} == {
        k: v for k, v in item.items() if k != "flags"
    }
    assert sorted((await mailbox.details(item["id"]))["flags"]) == ["$Work", "\\Flagged"]


async def test_folder_recreated_under_a_kept_selection(
    mailbox: Mailbox, webhook_receiver: WebhookReceiver
) -> None:
    settings = {"webhooks": webhook_receiver.url}
    assert (await mailbox.api.client.post("/v1/settings", json=settings)).status_code == 200
    mailbox.deliver(message("old"), folder="Projects")
    (old,) = (await mailbox.listing("Projects"))["messages"]
    assert (await mailbox.details(old["id"]))["subject"] == "old"
    async with mailbox.other_client() as other:  # not through the API: its connection stays
        await other.delete("Projects")
        await other.create("Projects")
    mailbox.deliver(message("new"), folder="Projects")
    async with mailbox.other_client() as other:
        uid_validity = (await other.status("Projects")).uid_validity

    # What a user who was told of the new folder would check: once imapapi reported it (reset,
    # or deleted and new again, with the new message), no read shows the old folder.
    def reported(hook: Received) -> bool:
        data = hook.json["data"]
        if hook.json["path"] != "Projects":
            return False
        if hook.event == "mailboxReset":
            return bool(data["uidValidity"] == uid_validity)
        return hook.event == "messageNew" and data["subject"] == "new"

    await webhook_receiver.wait_for(reported)
    store = mailbox.session.store
    old_binding = await store.resolve_mailbox_index(
        mailbox.account, decode_message_id(old["id"])[0]
    )
    # The kept selection of the old folder was dropped when the sync learned of the new one:
    # the server session may still serve the old folder to it for a command or more.
    kept = [(v.path, v.uid_validity) for v in mailbox.session.commands.views()]
    assert old_binding is not None and old_binding not in kept
    listing = await mailbox.listing("Projects")
    (new,) = listing["messages"]
    assert new["subject"] == "new" and new["uid"] == old["uid"]
    index = decode_message_id(new["id"])[0]
    assert index != decode_message_id(old["id"])[0]
    assert await store.resolve_mailbox_index(mailbox.account, index) == ("Projects", uid_validity)
    for url in (
        f"/message/{old['id']}",
        f"/message/{old['id']}/source",
        f"/text/{old['text']['id']}",
    ):
        response = await mailbox.api.client.get(mailbox.base + url)
        assert response.status_code == 404, (url, response.text)
    assert (await mailbox.details(new["id"]))["subject"] == "new"


async def test_announcements_during_other_commands_are_followed(mailbox: Mailbox) -> None:
    mailbox.deliver(message("first"))
    await mailbox.listing()  # INBOX stays examined on the command connection
    mailbox.deliver(message("second"))
    raw = base64.b64encode(message("draft")).decode()
    response = await mailbox.api.client.post(
        f"{mailbox.base}/message", json={"path": "Drafts", "raw": raw}
    )
    assert response.status_code == 200
    # Dovecot announced the second INBOX message during the APPEND, on the same connection.
    (view,) = mailbox.session.commands.views()
    assert (view.path, view.exists) == ("INBOX", 2)
    assert subjects(await mailbox.listing()) == ["second", "first"]
    assert await examines(mailbox) == 1


async def test_a_change_uses_the_selection_of_the_read_before_it(mailbox: Mailbox) -> None:
    mailbox.deliver(message("seen later"))
    (item,) = (await mailbox.listing())["messages"]
    url = f"{mailbox.base}/message/{item['id']}"
    assert (await mailbox.api.client.put(url, json={"flags": {"add": ["\\Seen"]}})).is_success
    (after,) = (await mailbox.listing())["messages"]
    assert after["unseen"] is False
    assert await selections(mailbox) == ["SELECT INBOX"]


# --- several command connections ----------------------------------------------------------------


async def test_concurrent_calls_share_a_bounded_pool(
    tmp_path: Path, store_backend: StoreBackend, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    for n in range(30):
        dovecot.deliver(imap_user, message(f"m{n:02d}"))
    async with served(
        tmp_path / "data", store_backend, dovecot, imap_user, command_connections=2
    ) as mailbox:
        first = await mailbox.listing(pageSize=10)
        newest = first["messages"][0]
        calls = [mailbox.listing(page=n % 3, pageSize=10) for n in range(8)]
        calls += [mailbox.details(newest["id"]) for _ in range(4)]
        results = await asyncio.gather(*calls)
        for n, listing in enumerate(results[:8]):
            page = n % 3
            expected = [f"m{i:02d}" for i in range(29 - 10 * page, 19 - 10 * page, -1)]
            assert subjects(listing) == expected
        assert all(r["subject"] == "m29" for r in results[8:])
        # More than one connection served them, never more than the setting allows.
        assert mailbox.session.commands.open_count == 2
        assert len(mailbox.session.commands.views()) == 2


async def test_a_busy_pool_answers_504_then_serves_again(
    tmp_path: Path, store_backend: StoreBackend, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    dovecot.deliver(imap_user, message("only"))
    async with served(
        tmp_path / "data",
        store_backend,
        dovecot,
        imap_user,
        command_connections=1,
        api_gateway_timeout=0.2,
    ) as mailbox:
        async with mailbox.session.command():  # the only connection, held
            busy = await mailbox.api.client.get(
                f"{mailbox.base}/messages", params={"path": "INBOX"}
            )
        assert busy.status_code == 504, busy.text
        assert subjects(await mailbox.listing()) == ["only"]


# --- summaries kept between listings (sessions/summaries.py) ------------------------------------
# A page listed before costs a FETCH of flags only, and stays exact when another client changes
# the folder between two listings.


async def fetches(mailbox: Mailbox) -> list[str]:
    """The items of every UID FETCH of a page the command connections sent, e.g. "(UID
    FLAGS)" (not those of the UID map's arrivals, "(UID)")."""
    found = []
    for line in await mailbox.sent_commands("command"):
        _, command = line.split(" ", 1)
        if command.startswith("UID FETCH ") and "FLAGS" in command:
            found.append(command.split(" ", 3)[3])
    return found


def full(items: str) -> bool:
    return "ENVELOPE" in items


async def test_a_page_listed_again_fetches_only_flags(mailbox: Mailbox) -> None:
    for n in range(3):
        mailbox.deliver(message(f"m{n}"))
    first = await mailbox.listing()
    before = await fetches(mailbox)
    second = await mailbox.listing()
    assert second == first
    assert (await fetches(mailbox))[len(before) :] == ["(UID FLAGS)"]
    assert len(mailbox.session.ctx.summaries) == 3


async def test_new_mail_is_fetched_in_full_and_the_rest_by_flags(mailbox: Mailbox) -> None:
    mailbox.deliver(message("old"))
    await mailbox.listing()
    before = len(await fetches(mailbox))
    mailbox.deliver(message("new"))
    listing = await mailbox.listing()
    assert subjects(listing) == ["new", "old"]
    # The flags of the page as it was (sent with the NOOP, which reported the arrival), then
    # those of the page as it is, and the new message in full.
    assert [full(items) for items in (await fetches(mailbox))[before:]] == [False, False, True]
    assert listing == await mailbox.listing()  # kept and new summaries alike


async def test_a_new_uidvalidity_empties_the_folders_summaries(mailbox: Mailbox) -> None:
    mailbox.deliver(message("kept elsewhere"))
    await mailbox.listing()
    mailbox.deliver(message("old"), folder="Projects")
    (old,) = (await mailbox.listing("Projects"))["messages"]
    cache = mailbox.session.ctx.summaries
    assert len(cache) == 2
    async with mailbox.other_client() as other:  # not through the API: its connection stays
        await other.delete("Projects")
        await other.create("Projects")
    mailbox.deliver(message("new"), folder="Projects")
    (new,) = (await mailbox.listing("Projects"))["messages"]
    # The same UID in the new folder is another message: never the old one's summary.
    assert (new["uid"], new["subject"]) == (old["uid"], "new")
    assert new["id"] != old["id"]
    assert len(cache) == 2  # INBOX's one, and the new Projects message: the old one went


async def test_without_the_cache_every_listing_fetches_in_full(
    tmp_path: Path, store_backend: StoreBackend, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    dovecot.deliver(imap_user, message("only"))
    async with served(
        tmp_path / "data", store_backend, dovecot, imap_user, summary_cache=0
    ) as mailbox:
        first = await mailbox.listing()
        assert await mailbox.listing() == first
        assert [full(items) for items in await fetches(mailbox)] == [True, True]
        assert len(mailbox.session.ctx.summaries) == 0


async def test_details_asked_again_cost_one_fetch_and_stay_exact(mailbox: Mailbox) -> None:
    mailbox.deliver(message("details", body="0123456789" * 10))
    (item,) = (await mailbox.listing())["messages"]
    first = await mailbox.details(item["id"])
    before = len(await mailbox.sent_commands("command"))
    assert await mailbox.details(item["id"]) == first
    sent = [line.split(" ", 1)[1] for line in (await mailbox.sent_commands("command"))[before:]]
    assert sent == ["NOOP", f"UID FETCH {item['uid']} (UID FLAGS BODY.PEEK[1]<0.5242881>)"]
    async with mailbox.other_client() as other:
        await other.select("INBOX")
        await other.uid_store([item["uid"]], "+", ["\\Seen"], silent=True)
    cut = await mailbox.details(item["id"], maxBytes=10)
    assert (cut["flags"], cut["unseen"]) == (["\\Seen"], False)
    assert (cut["text"]["plain"], cut["text"]["hasMore"]) == ("0123456789", True)
    assert cut["headers"] == first["headers"]
    assert cut["classification"] == first["classification"]


async def test_details_asked_before_of_a_message_expunged_since(mailbox: Mailbox) -> None:
    mailbox.deliver(message("doomed"))
    (item,) = (await mailbox.listing())["messages"]
    await mailbox.details(item["id"])
    async with mailbox.other_client() as other:
        await other.select("INBOX")
        await other.uid_store([item["uid"]], "+", ["\\Deleted"], silent=True)
        await other.expunge([item["uid"]])
    response = await mailbox.api.client.get(f"{mailbox.base}/message/{item['id']}")
    assert response.status_code == 404, response.text


async def test_reads_go_on_while_the_lost_primary_connection_waits_to_reconnect(
    tmp_path: Path, store_backend: StoreBackend, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    later = {"reconnect_delay": 60.0}  # the next attempt at a lost primary: a minute away
    async with served(tmp_path / "data", store_backend, dovecot, imap_user, **later) as mailbox:
        mailbox.deliver(message("still here"))
        assert subjects(await mailbox.listing()) == ["still here"]
        # The server ends every session of the user: the primary's and the kept command
        # connection's.
        dovecot.doveadm("kick", imap_user.name)
        await wait_state(mailbox.api, mailbox.account, "connectError")
        assert subjects(await mailbox.listing()) == ["still here"]
