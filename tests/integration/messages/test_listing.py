"""Paged listings against the real Dovecot: paging math, order, errors, stale ids; the shape,
a non-ASCII folder and stale ids on every server (`server_mailbox`)."""

from __future__ import annotations

import pytest

from imapapi.mail.ids import decode_message_id, encode_message_id
from tests.integration.conftest import Api
from tests.integration.messages.conftest import Mailbox
from tests.integration.sync.helpers import message, wait_state

pytestmark = pytest.mark.integration


async def test_paging_newest_first(mailbox: Mailbox) -> None:
    for n in range(23):
        mailbox.deliver(message(f"m{n:02d}"))

    first = await mailbox.listing(pageSize=10)
    assert (first["page"], first["pages"], first["total"]) == (0, 3, 23)
    assert [m["subject"] for m in first["messages"]] == [f"m{n:02d}" for n in range(22, 12, -1)]
    uids = [m["uid"] for m in first["messages"]]
    assert uids == sorted(uids, reverse=True)

    last = await mailbox.listing(page=2, pageSize=10)
    assert [m["subject"] for m in last["messages"]] == ["m02", "m01", "m00"]  # partial page
    assert last["pages"] == 3

    past = await mailbox.listing(page=3, pageSize=10)
    assert past["messages"] == [] and past["total"] == 23 and past["page"] == 3

    seen = set()
    for page in range(3):
        seen |= {m["id"] for m in (await mailbox.listing(page=page, pageSize=10))["messages"]}
    assert len(seen) == 23

    default = await mailbox.listing()
    assert len(default["messages"]) == 20 and default["pages"] == 2


async def test_listing_shape_follows_the_seed(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    mailbox.deliver(message("Test message", body="hello\n"), flags=("\\Seen",))
    listing = await mailbox.listing()
    assert (listing["page"], listing["pages"], listing["total"]) == (0, 1, 1)
    (item,) = listing["messages"]
    assert item["subject"] == "Test message"
    assert item["path"] == "INBOX"
    assert item["date"] == "2019-10-07T06:05:23.000Z"
    assert item["flags"] == ["\\Seen"] and item["unseen"] is False
    assert item["from"] == {"name": "Peter Põder", "address": "peter@example.test"}
    assert item["to"] == [{"name": "", "address": "user@example.test"}]
    assert item["messageId"].startswith("<") and item["size"] > 0
    assert set(item["text"]) == {"id", "encodedSize"}


async def test_empty_and_unknown_folders(mailbox: Mailbox) -> None:
    empty = await mailbox.listing("Drafts")
    assert empty == {"page": 0, "pages": 1, "total": 0, "messages": []}
    missing = await mailbox.api.client.get(
        f"{mailbox.base}/messages", params={"path": "No/Such/Folder"}
    )
    assert missing.status_code == 404, missing.text
    assert missing.json()["code"] == "NotFound"


async def test_non_ascii_folder(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    folder = mailbox.path("Archive", "Ünïcödé")
    mailbox.deliver(message("Ünïcödé folder"), folder=folder)
    (item,) = (await mailbox.listing(folder))["messages"]
    assert item["path"] == folder
    assert (await mailbox.details(item["id"]))["subject"] == "Ünïcödé folder"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"path": "INBOX", "pageSize": 251}, "pageSize"),
        ({"path": "INBOX", "pageSize": 0}, "pageSize"),
        ({"path": "INBOX", "page": -1}, "page"),
        ({"path": "INBOX", "page": "x"}, "page"),
        ({}, "path"),
        ({"path": "IN\r\nBOX"}, "path"),
    ],
    ids=[
        "page-size-too-big",
        "page-size-zero",
        "negative-page",
        "page-not-a-number",
        "no-path",
        "crlf-path",
    ],
)
async def test_bad_listing_input_is_400(
    mailbox: Mailbox, params: dict[str, object], field: str
) -> None:
    response = await mailbox.api.client.get(f"{mailbox.base}/messages", params=params)
    assert response.status_code == 400, response.text
    assert field in [d["field"] for d in response.json()["details"]]


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        # The document states the alphabet and length of ids (400); what they decode to is
        # checked by the server (422).
        ("/message/AAAAAQAAAAA", 422, "id"),  # uid 0
        ("/message/AAAAAQAAAeGTkaExkaEykA", 400, "id"),  # a text id is no message id
        ("/message/not-base64!", 400, "id"),
        ("/message/AAAA", 400, "id"),  # too short
        ("/text/AAAAAQAAAeE", 400, "textId"),
        ("/text/AAAAAQAAAeGTkaExkaEykQ", 422, "textId"),  # not canonical
        ("/attachment/AAAAAQAAAeE", 400, "attachmentId"),
        ("/message/AAAAAQAAAeE?maxBytes=0", 400, "maxBytes"),
        ("/text/AAAAAQAAAeGTkaExkaEykA?textType=pdf", 400, "textType"),
    ],
)
async def test_bad_ids_are_refused_naming_the_field(
    mailbox: Mailbox, url: str, status: int, field: str
) -> None:
    response = await mailbox.api.client.get(mailbox.base + url)
    assert response.status_code == status, response.text
    assert field in [d["field"] for d in response.json()["details"]]


async def test_unknown_ids_are_404(mailbox: Mailbox) -> None:
    mailbox.deliver(message("only"))
    (item,) = (await mailbox.listing())["messages"]
    index, uid = decode_message_id(item["id"])
    unknown_index = encode_message_id(index + 99, uid)  # never handed out
    gone_uid = encode_message_id(index, uid + 1000)  # same folder, no such message
    for message_id in (unknown_index, gone_uid):
        for suffix in ("", "/source"):
            response = await mailbox.api.client.get(f"{mailbox.base}/message/{message_id}{suffix}")
            assert response.status_code == 404, (message_id, suffix, response.text)


async def test_stale_id_after_the_folder_is_recreated(server_mailbox: Mailbox) -> None:
    mailbox, projects = server_mailbox, server_mailbox.path("Projects")
    mailbox.deliver(message("old"), folder=projects)
    (old,) = (await mailbox.listing(projects))["messages"]
    client = mailbox.api.client
    assert (await client.delete(f"{mailbox.base}/mailbox", params={"path": projects})).is_success
    assert (await client.post(f"{mailbox.base}/mailbox", json={"path": projects})).is_success
    mailbox.deliver(message("new"), folder=projects)
    (new,) = (await mailbox.listing(projects))["messages"]
    assert new["uid"] == old["uid"]  # the same UID again, in a folder with a new UIDVALIDITY
    assert new["id"] != old["id"]
    for url in (
        f"/message/{old['id']}",
        f"/message/{old['id']}/source",
        f"/text/{old['text']['id']}",
    ):
        response = await client.get(mailbox.base + url)
        assert response.status_code == 404, (url, response.text)
    assert (await mailbox.details(new["id"]))["subject"] == "new"


async def test_message_routes_on_a_down_account_are_503(api: Api) -> None:
    body = {
        "account": "down",
        "imap": {"host": "127.0.0.1", "port": 9, "auth": {"user": "u", "pass": "p"}},
    }
    assert (await api.client.post("/v1/account", json=body)).status_code == 200
    await wait_state(api, "down", "connectError")
    base = "/v1/account/down"
    listing = await api.client.get(f"{base}/messages", params={"path": "INBOX"})
    assert listing.status_code == 503, listing.text
    assert (await api.client.get(f"{base}/message/AAAAAQAAAeE")).status_code == 503
    assert (await api.client.get(f"{base}/attachment/AAAAAQAAAeEf")).status_code == 503
