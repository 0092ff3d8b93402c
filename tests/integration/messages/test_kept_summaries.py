"""Summaries kept between listings (`sessions/summaries.py`), against the real Dovecot: a page
listed before costs a FETCH of flags only, and stays exact when another client changes the
folder between two listings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.backends import StoreBackend
from tests.integration.messages.conftest import Mailbox
from tests.integration.messages.test_kept_folder import served, subjects
from tests.integration.sync.helpers import message
from tests.servers.dovecot import Dovecot, ImapUser

pytestmark = pytest.mark.integration


@pytest.fixture
async def mailbox(
    tmp_path: Path, store_backend: StoreBackend, dovecot: Dovecot, imap_user: ImapUser
) -> AsyncIterator[Mailbox]:
    async with served(tmp_path / "data", store_backend, dovecot, imap_user) as mailbox:
        yield mailbox


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
    assert [full(items) for items in (await fetches(mailbox))[before:]] == [False, True]
    assert listing == await mailbox.listing()  # kept and new summaries alike


async def test_a_flag_set_by_another_client_shows_in_the_next_listing(mailbox: Mailbox) -> None:
    mailbox.deliver(message("flag me"))
    (item,) = (await mailbox.listing())["messages"]
    assert (item["flags"], item["unseen"]) == ([], True)
    async with mailbox.other_client() as other:
        await other.select("INBOX")
        await other.uid_store([item["uid"]], "+", ["\\Seen", "$Work"], silent=True)
    before = len(await fetches(mailbox))
    (again,) = (await mailbox.listing())["messages"]
    assert (sorted(again["flags"]), again["unseen"]) == (["$Work", "\\Seen"], False)
    assert not any(full(items) for items in (await fetches(mailbox))[before:])
    assert {k: v for k, v in again.items() if k not in ("flags", "unseen")} == {
        k: v for k, v in item.items() if k not in ("flags", "unseen")
    }


async def test_a_message_expunged_by_another_client_vanishes(mailbox: Mailbox) -> None:
    for n in range(3):
        mailbox.deliver(message(f"m{n}"))
    listing = await mailbox.listing()
    doomed = next(m for m in listing["messages"] if m["subject"] == "m1")
    async with mailbox.other_client() as other:
        await other.select("INBOX")
        await other.uid_store([doomed["uid"]], "+", ["\\Deleted"], silent=True)
        await other.expunge([doomed["uid"]])
    after = await mailbox.listing()
    assert (subjects(after), after["total"]) == (["m2", "m0"], 2)


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
