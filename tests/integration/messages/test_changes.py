"""Flags, move, delete and upload against the real Dovecot; the round trips of each on every
server (`server_mailbox`: Courier has no MOVE, no SPECIAL-USE and a namespace `INBOX.`)."""

from __future__ import annotations

import base64

import pytest

from imapapi.api.schemas.messages import DeletedOut, FlagsOut, MovedOut, UploadOut
from tests.integration.messages.conftest import Mailbox
from tests.integration.sync.helpers import message

pytestmark = pytest.mark.integration


async def _only(mailbox: Mailbox, path: str = "INBOX") -> dict[str, object]:
    (item,) = (await mailbox.listing(path))["messages"]
    return item


async def test_flags_round_trip(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    mailbox.deliver(message("flags"))
    item = await _only(mailbox)
    url = f"{mailbox.base}/message/{item['id']}"
    assert item["flags"] == [] and item["unseen"] is True

    added = await mailbox.api.client.put(url, json={"flags": {"add": ["\\Seen", "$Label1"]}})
    assert added.status_code == 200, added.text
    FlagsOut.model_validate(added.json())
    assert sorted(added.json()["flags"]) == ["$Label1", "\\Seen"]
    listed = await _only(mailbox)
    assert sorted(listed["flags"]) == ["$Label1", "\\Seen"] and listed["unseen"] is False

    removed = await mailbox.api.client.put(url, json={"flags": {"delete": ["\\Seen"]}})
    assert removed.json()["flags"] == ["$Label1"]
    replaced = await mailbox.api.client.put(url, json={"flags": {"set": ["\\Flagged"]}})
    assert replaced.json()["flags"] == ["\\Flagged"]
    assert (await _only(mailbox))["flags"] == ["\\Flagged"]


async def test_reading_does_not_mark_seen(mailbox: Mailbox) -> None:
    mailbox.deliver(message("peek"))
    item = await _only(mailbox)
    await mailbox.details(str(item["id"]))
    await mailbox.api.client.get(f"{mailbox.base}/message/{item['id']}/source")
    assert (await _only(mailbox))["unseen"] is True


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"flags": {"add": ["bad flag"]}}, 400, "flags.add.0"),
        ({"flags": {"add": ["\\Seen\r\nA1 LOGOUT"]}}, 400, "flags.add.0"),
        ({"flags": {"delete": ["(x)"]}}, 400, "flags.delete.0"),
        ({"flags": {"add": "\\Seen"}}, 400, "flags.add"),
        ({"flags": {"unknown": []}}, 400, "flags.unknown"),
        # Well formed, but Dovecot is no Gmail: 422, a rule of the account, not the schema.
        ({"labels": {"add": ["Work"]}}, 422, "labels"),
    ],
)
async def test_bad_flag_changes_are_refused(
    mailbox: Mailbox, body: dict[str, object], status: int, field: str
) -> None:
    mailbox.deliver(message("bad flags"))
    item = await _only(mailbox)
    response = await mailbox.api.client.put(f"{mailbox.base}/message/{item['id']}", json=body)
    assert response.status_code == status, response.text
    assert field in [d["field"] for d in response.json()["details"]]
    assert not [c for c in await mailbox.sent_commands() if "LOGOUT" in c or "UID STORE" in c]


async def test_move_returns_a_working_id(server_mailbox: Mailbox) -> None:
    mailbox, folder = server_mailbox, server_mailbox.path("Archive", "Ünïcödé")
    mailbox.deliver(message("moving"))
    item = await _only(mailbox)
    response = await mailbox.api.client.put(
        f"{mailbox.base}/message/{item['id']}/move", json={"path": folder}
    )
    assert response.status_code == 404, response.text  # no such folder yet
    created = await mailbox.api.client.post(f"{mailbox.base}/mailbox", json={"path": folder})
    assert created.status_code == 200, created.text
    response = await mailbox.api.client.put(
        f"{mailbox.base}/message/{item['id']}/move", json={"path": folder}
    )
    assert response.status_code == 200, response.text
    moved = MovedOut.model_validate(response.json())
    assert moved.path == folder and moved.id and moved.id != item["id"]
    assert (await mailbox.details(moved.id))["subject"] == "moving"
    assert (await mailbox.listing())["total"] == 0
    old = await mailbox.api.client.get(f"{mailbox.base}/message/{item['id']}")
    assert old.status_code == 404
    again = await mailbox.api.client.put(
        f"{mailbox.base}/message/{item['id']}/move", json={"path": "INBOX"}
    )
    assert again.status_code == 404


async def test_delete_moves_to_trash_then_expunges(server_mailbox: Mailbox) -> None:
    mailbox, trash = server_mailbox, server_mailbox.path("Trash")
    mailbox.deliver(message("to delete"))
    item = await _only(mailbox)
    response = await mailbox.api.client.delete(f"{mailbox.base}/message/{item['id']}")
    assert response.status_code == 200, response.text
    body = DeletedOut.model_validate(response.json())
    assert body.deleted is False and body.moved is not None
    assert body.moved.destination == trash and body.moved.message
    assert (await mailbox.listing())["total"] == 0
    in_trash = await _only(mailbox, trash)
    assert in_trash["id"] == body.moved.message

    # Deleting in Trash expunges.
    response = await mailbox.api.client.delete(f"{mailbox.base}/message/{in_trash['id']}")
    assert response.json() == {"deleted": True}
    assert (await mailbox.listing(trash))["total"] == 0
    gone = await mailbox.api.client.delete(f"{mailbox.base}/message/{in_trash['id']}")
    assert gone.status_code == 404


async def test_force_delete_expunges_only_that_message(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    mailbox.deliver(message("keep"), flags=("\\Deleted",))  # marked, but not ours to expunge
    mailbox.deliver(message("remove"))
    target = await mailbox.by_subject("remove")
    response = await mailbox.api.client.delete(
        f"{mailbox.base}/message/{target['id']}", params={"force": "true"}
    )
    assert response.json() == {"deleted": True}
    assert [m["subject"] for m in (await mailbox.listing())["messages"]] == ["keep"]
    assert (await mailbox.listing(mailbox.path("Trash")))["total"] == 0


async def test_upload_appends_and_returns_the_id(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    raw = message("uploaded", body="Grüße\n")
    response = await mailbox.api.client.post(
        f"{mailbox.base}/message",
        json={
            "path": mailbox.path("Drafts"),
            "raw": base64.b64encode(raw).decode(),
            "flags": ["\\Draft", "\\Seen"],
            "internalDate": "2021-05-04T03:02:01Z",
        },
    )
    assert response.status_code == 200, response.text
    uploaded = UploadOut.model_validate(response.json())
    assert uploaded.id is not None
    details = await mailbox.details(uploaded.id)
    assert details["subject"] == "uploaded" and details["text"]["plain"] == "Grüße\r\n"
    assert sorted(details["flags"]) == ["\\Draft", "\\Seen"]
    source = await mailbox.api.client.get(f"{mailbox.base}/message/{uploaded.id}/source")
    assert source.content == raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"path": "INBOX", "raw": "***"}, 400, "raw"),
        ({"path": "INBOX", "raw": ""}, 400, "raw"),
        ({"path": "INBOX", "raw": base64.b64encode(b"a\x00b").decode()}, 422, "raw"),
        ({"path": "IN\nBOX", "raw": "QQ=="}, 400, "path"),
        ({"path": "INBOX", "raw": "QQ==", "flags": ["no good"]}, 400, "flags.0"),
        ({"path": "No such folder", "raw": "QQ=="}, 404, None),
    ],
    ids=["not-base64", "empty", "nul", "crlf-path", "bad-flag", "missing-folder"],
)
async def test_bad_uploads(
    mailbox: Mailbox, body: dict[str, object], status: int, field: str | None
) -> None:
    response = await mailbox.api.client.post(f"{mailbox.base}/message", json=body)
    assert response.status_code == status, response.text
    if field is not None:
        assert field in [d["field"] for d in response.json()["details"]]
