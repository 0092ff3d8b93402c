"""Account sessions against the real Dovecot: states, reconnects, folders, logs, 503s; special-use
folders and folder routes on every server (`mail_server`)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.integration.conftest import Api
from tests.integration.sync.helpers import account_body, message, register, wait_state
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.mailserver import MailServer
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver

pytestmark = pytest.mark.integration


async def test_connects_and_reports_special_use_folders(
    api: Api, mail_server: MailServer, server_user: ImapUser
) -> None:
    """By RFC 6154 attributes where the server has them, by name where not (Courier)."""
    account = await register(api, mail_server, server_user)
    body = (await api.client.get(f"/v1/account/{account}/mailboxes?counters=true")).json()
    uses = {m["path"]: m["specialUse"] for m in body["mailboxes"]}
    assert uses["INBOX"] == "\\Inbox"
    assert uses[mail_server.path("Sent")] == "\\Sent"
    assert uses[mail_server.path("Trash")] == "\\Trash"
    assert uses[mail_server.path("Junk")] == "\\Junk"
    assert uses[mail_server.path("Drafts")] == "\\Drafts"
    inbox = next(m for m in body["mailboxes"] if m["path"] == "INBOX")
    assert inbox["messages"] == 0
    assert inbox["uidValidity"] > 0
    listing = (await api.client.get("/v1/accounts?state=connected")).json()
    assert [a["account"] for a in listing["accounts"]] == [account]


async def test_folder_create_rename_delete_with_non_ascii_names(
    api: Api, mail_server: MailServer, server_user: ImapUser
) -> None:
    account = await register(api, mail_server, server_user)
    url = f"/v1/account/{account}/mailbox"
    overview = mail_server.path("Projekte", "Übersicht 日本")
    archive = mail_server.path("Projekte", "Ärchiv")
    created = await api.client.post(url, json={"path": overview})
    assert created.status_code == 200, created.text
    assert created.json()["path"] == overview
    again = await api.client.post(url, json={"path": overview})
    assert again.status_code == 409

    folders = (await api.client.get(f"/v1/account/{account}/mailboxes")).json()["mailboxes"]
    entry = next(m for m in folders if m["path"] == overview)
    assert entry["name"] == "Übersicht 日本"
    assert entry["parentPath"] == mail_server.path("Projekte")
    assert entry["delimiter"] == mail_server.separator

    renamed = await api.client.put(url, json={"path": overview, "newPath": archive})
    assert renamed.status_code == 200, renamed.text
    paths = {
        m["path"]
        for m in (await api.client.get(f"/v1/account/{account}/mailboxes")).json()["mailboxes"]
    }
    assert archive in paths and overview not in paths

    deleted = await api.client.delete(url, params={"path": archive})
    assert deleted.status_code == 200
    missing = await api.client.delete(url, params={"path": archive})
    assert missing.status_code == 404


@pytest.mark.parametrize("name", ["Evil\r\nA1 DELETE INBOX", "Evil\nx", "Evil\x00x"])
async def test_crlf_in_a_folder_name_is_refused_before_the_wire(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, name: str
) -> None:
    account = await register(api, dovecot, imap_user)
    response = await api.client.post(f"/v1/account/{account}/mailbox", json={"path": name})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "path"
    log = (await api.client.get(f"/v1/logs/{account}")).text
    assert "Evil" not in log
    assert "DELETE" not in log


async def test_wrong_password_is_authentication_error_without_hammering(
    api: Api, own_dovecot: Dovecot, webhook_receiver: WebhookReceiver
) -> None:
    dovecot, imap_user = own_dovecot, own_dovecot.add_user()
    await api.client.post("/v1/settings", json={"webhooks": webhook_receiver.url})
    body = account_body(dovecot, imap_user)
    body["imap"]["auth"]["pass"] = "wrong-password"
    assert (await api.client.post("/v1/account", json=body)).status_code == 200
    details = await wait_state(api, imap_user.name, "authenticationError")
    assert details["lastError"]
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "authenticationError")
    assert hook.json["account"] == imap_user.name
    await asyncio.sleep(1.5)  # a retrying client would have tried again by now
    log = (await api.client.get(f"/v1/logs/{imap_user.name}")).text
    assert log.count(" LOGIN ") == 1, log
    assert "wrong-password" not in log


async def test_api_call_on_a_down_account_is_a_quick_503(api: Api) -> None:
    body = {
        "account": "down",
        "imap": {"host": "127.0.0.1", "port": 9, "auth": {"user": "u", "pass": "p"}},
    }
    await api.client.post("/v1/account", json=body)
    await wait_state(api, "down", "connectError")
    started = time.monotonic()
    response = await api.client.get("/v1/account/down/mailboxes")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json()["code"] == "NotConnected"


async def test_reconnects_after_the_server_restarts(
    api: Api, own_dovecot: Dovecot, webhook_receiver: WebhookReceiver
) -> None:
    user = own_dovecot.add_user()
    account = await register(api, own_dovecot, user, webhook_receiver)
    own_dovecot.stop()
    await wait_state(api, account, "connectError")
    own_dovecot.start()
    await wait_state(api, account, "connected", timeout=20)
    # The state is set before its webhook is delivered: wait for the third account event.
    hooks = await webhook_receiver.wait_for(lambda r: r.account == account, count=3)
    names = [r.event for r in hooks]
    assert names[:3] == ["accountConnected", "connectError", "accountConnected"], names


async def test_reconnect_route_and_update_reconnect(
    api: Api, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    account = await register(api, dovecot, imap_user)
    response = await api.client.put(f"/v1/account/{account}/reconnect")
    assert response.status_code == 200
    await wait_state(api, account, "connected")
    changed = await api.client.put(f"/v1/account/{account}", json={"imap": {"port": 9}})
    assert changed.status_code == 200
    await wait_state(api, account, "connectError")


async def test_protocol_log_redacts_the_password(
    api: Api, dovecot: Dovecot, imap_user: ImapUser
) -> None:
    account = await register(api, dovecot, imap_user)
    response = await api.client.get(f"/v1/logs/{account}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert " LOGIN " in response.text
    assert imap_user.password not in response.text


async def test_verify_account_reports_each_protocol(
    api: Api, own_dovecot: Dovecot, smtp: SmtpServer
) -> None:
    dovecot, imap_user = own_dovecot, own_dovecot.add_user()
    smtp.add_user("sender", "smtp-pass")
    imap = account_body(dovecot, imap_user)["imap"]
    good_smtp = smtp.settings("sender", "smtp-pass") | {"starttls": "never"}
    ok = await api.client.post("/v1/verifyAccount", json={"imap": imap, "smtp": good_smtp})
    assert ok.status_code == 200, ok.text
    assert ok.json()["imap"]["success"] is True
    assert ok.json()["smtp"]["success"] is True

    bad_imap = imap | {"auth": {"user": imap_user.name, "pass": "nope"}}
    bad_smtp = good_smtp | {"auth": {"user": "sender", "pass": "nope"}}
    bad = (
        await api.client.post("/v1/verifyAccount", json={"imap": bad_imap, "smtp": bad_smtp})
    ).json()
    assert bad["imap"]["success"] is False
    assert bad["imap"]["code"] == "AuthenticationFailed"
    assert bad["smtp"]["success"] is False
    assert bad["smtp"]["code"] == "AuthenticationFailed"
    assert (await api.client.get("/v1/accounts")).json()["total"] == 0  # nothing stored


async def test_delete_closes_the_session(api: Api, dovecot: Dovecot, imap_user: ImapUser) -> None:
    account = await register(api, dovecot, imap_user)
    assert (await api.client.delete(f"/v1/account/{account}")).status_code == 200
    assert api.service.accounts.session(account) is None
    assert await api.service.store.get_folders(account) == []


async def test_a_folder_that_refuses_select_leaves_the_account_up(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    """A SELECT refused with NO (here a folder Dovecot lists but cannot open, its maildir's
    cur/ unreadable; in the wild a folder deleted between LIST and SELECT: "Mailbox was
    deleted under us") skips that folder: the connection, the other folders' sync and the
    API's calls go on, and the folder is synced once the server opens it again."""
    dovecot.deliver(imap_user, message("locked away"), folder="Locked")
    cur = dovecot.root / "mail" / imap_user.name / "Maildir" / "Locked" / "cur"
    cur.chmod(0)
    try:
        account = await register(api, dovecot, imap_user, webhook_receiver)
        refused = [line for line in await sent(api, account) if 'SELECT "Locked"' in line]
        assert refused, "the sync never tried the folder"
        dovecot.deliver(imap_user, message("still synced"))
        [new] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew")
        assert (new.json["path"], new.json["data"]["subject"]) == ("INBOX", "still synced")
        response = await api.client.get(f"/v1/account/{account}/messages?path=INBOX")
        assert response.status_code == 200, response.text
        assert [m["subject"] for m in response.json()["messages"]] == ["still synced"]
    finally:
        cur.chmod(0o700)
    dovecot.deliver(imap_user, message("opened again"), folder="Locked")
    found = await webhook_receiver.wait_for(
        lambda r: r.event == "messageNew" and r.json["path"] == "Locked", count=2
    )
    assert {r.json["data"]["subject"] for r in found} == {"locked away", "opened again"}
    assert webhook_receiver.events("connectError") == []
    assert (await api.client.get(f"/v1/account/{account}")).json()["state"] == "connected"


async def sent(api: Api, account: str) -> list[str]:
    """What imapapi wrote to the server ("C" lines of `GET /v1/logs/{account}`)."""
    response = await api.client.get(f"/v1/logs/{account}")
    assert response.status_code == 200
    return [line for line in response.text.splitlines() if line.split(" ", 3)[2:3] == ["C"]]


async def test_a_status_echo_with_nothing_new_does_not_end_the_idle(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, webhook_receiver: WebhookReceiver
) -> None:
    """Dovecot answers the first IDLE after NOTIFY with a STATUS of every folder, changed or
    not. They match what the first sync stored, so the IDLE goes on (no DONE, no second IDLE:
    a round trip and the server's work per account saved); news still ends it."""
    account = await register(api, dovecot, imap_user, webhook_receiver)

    async def log() -> list[tuple[str, str]]:
        response = await api.client.get(f"/v1/logs/{account}")
        assert response.status_code == 200
        lines = [line.split(" ", 3) for line in response.text.splitlines()]
        return [(f[2], f[3]) for f in lines if len(f) == 4 and f[1] == "primary"]

    deadline = time.monotonic() + 10
    while True:
        lines = await log()
        idled = [n for n, (side, text) in enumerate(lines) if side == "C" and "IDLE" in text]
        echoed = [
            text for side, text in lines[idled[0] :] if side == "S" and text.startswith("* STATUS")
        ] if idled else []  # fmt: skip
        if len(echoed) >= 6:  # INBOX and the five special-use folders
            break
        assert time.monotonic() < deadline, lines
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # time enough for a DONE had the echo ended the IDLE
    sent = [text for side, text in (await log())[idled[0] :] if side == "C"]
    assert len(sent) == 1 and sent[0].endswith(" IDLE"), sent

    dovecot.deliver(imap_user, message("after the echo"))
    [hook] = await webhook_receiver.wait_for(lambda r: r.event == "messageNew", timeout=10)
    assert hook.json["data"]["subject"] == "after the echo"
    sent = [text for side, text in (await log())[idled[0] :] if side == "C"]
    assert sent[1] == "DONE", sent
