"""/mcp over HTTP with the official SDK's client, against the service on Dovecot + aiosmtpd:
the tools on real mail, replies threaded in what the SMTP server received, scopes, account
binding, the token door, and bad arguments that leave the session working."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client

from imapapi.credentials.tokens import hash_token
from tests.integration.agent.helpers import (
    add_token,
    call,
    mcp_client,
    refused,
    served,
    text_of,
)
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api
from tests.integration.submit.helpers import address_of, register_sender
from tests.servers.dovecot import Dovecot, ImapUser
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.integration

TOOLS = {
    "list_accounts",
    "list_mailboxes",
    "list_messages",
    "search_messages",
    "get_message",
    "get_thread",
    "send_message",
    "reply_to_message",
    "move_message",
    "flag_message",
    "delete_message",
}
# A call of every tool that names an account, with arguments valid for the schema.
ACCOUNT_CALLS = {
    "list_mailboxes": {},
    "list_messages": {},
    "search_messages": {"subject": "x"},
    "get_message": {"message_id": "AAAAAQAAAAE"},
    "get_thread": {"thread_id": "TcHJvcG9zYWw"},
    "send_message": {"to": ["a@example.com"], "subject": "s", "text": "t"},
    "reply_to_message": {"message_id": "AAAAAQAAAAE", "text": "t"},
    "move_message": {"message_id": "AAAAAQAAAAE", "destination": "Archive"},
    "flag_message": {"message_id": "AAAAAQAAAAE", "add": ["\\Seen"]},
    "delete_message": {"message_id": "AAAAAQAAAAE"},
}
ORIGINAL_ID = "<proposal-4711@partner.example.com>"


def proposal(user: ImapUser) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Peter Põder <peter@partner.example.com>"
    msg["To"] = f"Me <{address_of(user)}>"
    msg["Subject"] = "Proposal for the spring campaign"
    msg["Date"] = "Mon, 07 Oct 2019 06:05:23 +0000"
    msg["Message-ID"] = ORIGINAL_ID
    msg.set_content(
        "Option B works for us.\n\nBest,\nPeter\n\nOn Sun, Oct 6, 2019 Me wrote:\n> Which one?\n"
    )
    msg.add_alternative(
        "<p>Option <b>B</b> works for us, see <a href='https://partner.example.com/b'>the "
        "plan</a>.</p><p>Best,<br>Peter</p>",
        subtype="html",
    )
    msg.add_attachment(b"%PDF-1.4 numbers", maintype="application", subtype="pdf", filename="b.pdf")
    return msg.as_bytes().replace(b"\n", b"\r\n")


def newsletter(user: ImapUser) -> bytes:
    msg = EmailMessage()
    msg["From"] = "News <news@shop.example.com>"
    msg["To"] = address_of(user)
    msg["Subject"] = "Weekly deals"
    msg["List-Unsubscribe"] = "<mailto:leave@shop.example.com>"
    msg["Message-ID"] = "<deals-1@shop.example.com>"
    msg.set_content("Deals " * 3000)  # long: cut by max_chars
    return msg.as_bytes().replace(b"\n", b"\r\n")


async def test_every_tool_on_real_mail_and_a_threaded_reply(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    dovecot.deliver(imap_user, proposal(imap_user))
    dovecot.deliver(imap_user, newsletter(imap_user))
    token = await add_token(api.service, ("read", "send", "write"))
    async with served(api.app) as url, mcp_client(url, token) as mcp:
        listed = await mcp.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS
        for tool in listed.tools:
            assert tool.description and len(tool.description) > 40, tool.name
            for name, schema in tool.input_schema.get("properties", {}).items():
                assert schema.get("description"), f"{tool.name}.{name} has no description"

        accounts = await call(mcp, "list_accounts")
        assert [a["account"] for a in accounts["accounts"]] == [account]
        folders = await call(mcp, "list_mailboxes", account=account)
        assert "INBOX" in [f["path"] for f in folders["mailboxes"]]

        listing = await call(mcp, "list_messages", account=account, page_size=1)
        assert (listing["total"], listing["pages"]) == (2, 2)
        [newest] = listing["messages"]
        assert (newest["subject"], newest["type"]) == ("Weekly deals", "list")
        assert "page=1" in listing["note"]
        older = (await call(mcp, "list_messages", account=account, page=1, page_size=1))[
            "messages"
        ][0]
        assert older["from"] == "Peter Põder <peter@partner.example.com>"
        assert older["attachments"] == 1

        found = await call(mcp, "search_messages", account=account, sender="peter")
        assert [m["id"] for m in found["messages"]] == [older["id"]]

        message = await call(mcp, "get_message", account=account, message_id=older["id"])
        assert message["messageId"] == ORIGINAL_ID
        assert message["classification"]["type"] == "human"
        assert message["text"]["reply"].startswith("Option B works for us.")
        assert "Which one?" not in message["text"]["reply"]
        assert "Peter\n\nOn Sun, Oct 6, 2019 Me wrote:\n> Which one?" in message["text"]["full"]
        assert [a["filename"] for a in message["attachments"]] == ["b.pdf"]
        assert "headers" not in message and "note" not in message["text"]
        markdown = await call(
            mcp, "get_message", account=account, message_id=older["id"], text_format="markdown"
        )
        assert "**B**" in markdown["text"]["full"]
        assert "[the plan](https://partner.example.com/b)" in markdown["text"]["full"]
        long = await call(
            mcp, "get_message", account=account, message_id=newest["id"], max_chars=100
        )
        assert len(long["text"]["full"]) == 100
        assert "max_chars" in long["text"]["note"]

        thread = await call(mcp, "get_thread", account=account, thread_id=message["threadId"])
        assert [m["id"] for m in thread["messages"]] == [older["id"]]

        sent = await call(
            mcp, "reply_to_message", account=account, message_id=older["id"], text="Great!"
        )
        [reply] = await smtp.wait_for(1)
        assert reply.message()["In-Reply-To"] == ORIGINAL_ID
        assert ORIGINAL_ID in reply.message()["References"]
        assert reply.message()["Subject"] == "Re: Proposal for the spring campaign"
        assert reply.message()["Message-ID"] == sent["messageId"]
        assert reply.rcpt_tos == ("peter@partner.example.com",)
        await call(
            mcp, "reply_to_message", account=account, rfc822_message_id=ORIGINAL_ID, text="Also"
        )
        by_header = (await smtp.wait_for(2))[-1]
        assert by_header.message()["In-Reply-To"] == ORIGINAL_ID
        await call(
            mcp, "send_message", account=account, to=["anna@example.org"], subject="Hi", text="x"
        )
        fresh = (await smtp.wait_for(3))[-1]
        assert (fresh.rcpt_tos, fresh.message()["Subject"]) == (("anna@example.org",), "Hi")

        flagged = await call(
            mcp, "flag_message", account=account, message_id=older["id"], add=["\\Flagged"]
        )
        assert {"\\Flagged", "\\Answered"} <= set(flagged["flags"])
        dovecot.deliver(imap_user, newsletter(imap_user), folder="Archive")  # creates it
        moved = await call(
            mcp, "move_message", account=account, message_id=newest["id"], destination="Archive"
        )
        assert moved["path"] == "Archive"
        in_archive = await call(mcp, "list_messages", account=account, mailbox="Archive")
        assert moved["id"] in [m["id"] for m in in_archive["messages"]]
        deleted = await call(
            mcp, "delete_message", account=account, message_id=moved["id"], permanently=True
        )
        assert deleted == {"deleted": True}
        gone = await refused(mcp, "get_message", account=account, message_id=moved["id"])
        rest = await api.client.get(f"/v1/account/{account}/message/{moved['id']}")
        assert (gone["code"], gone["error"]) == (rest.json()["code"], rest.json()["error"])


async def test_a_read_token_cannot_send_or_change(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    token = await add_token(api.service, ("read",))
    async with served(api.app) as url, mcp_client(url, token) as mcp:
        assert (await call(mcp, "list_messages", account=account))["total"] == 0
        for tool in ("send_message", "reply_to_message", "move_message", "flag_message"):
            error = await refused(mcp, tool, account=account, **ACCOUNT_CALLS[tool])
            assert error["code"] == "Forbidden", tool
            scope = "'send'" if "message" in tool and tool[:4] in ("send", "repl") else "'write'"
            assert scope in error["error"], (tool, error)
    assert smtp.messages == []


async def test_a_bound_token_sees_other_accounts_as_unknown(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    mine = await register_sender(api, dovecot, imap_user, smtp)
    other = await register_sender(api, dovecot, dovecot.add_user(), smtp)
    token = await add_token(api.service, ("read", "send", "write"), accounts=(mine,))
    async with served(api.app) as url, mcp_client(url, token) as mcp:
        listed = await call(mcp, "list_accounts")
        assert [a["account"] for a in listed["accounts"]] == [mine]
        for tool, arguments in ACCOUNT_CALLS.items():
            error = await refused(mcp, tool, account=other, **arguments)
            unknown = await refused(mcp, tool, account="nobody-here", **arguments)
            assert error["code"] == unknown["code"] == "AccountNotFound", tool
            assert error["error"] == unknown["error"].replace("nobody-here", other), tool
        assert (await call(mcp, "list_messages", account=mine))["total"] == 0
    assert smtp.messages == []


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


async def test_the_door_refuses_missing_unknown_revoked_and_metrics_tokens(api: Api) -> None:
    revoked = await add_token(api.service, ("read",))
    record = await api.service.store.get_token_by_hash(hash_token(revoked))
    assert record is not None
    await api.service.store.revoke_token(record.id, 1.0)
    api.service.tokens.forget(record.id)
    metrics_only = await add_token(api.service, ("metrics",))
    cases = [
        ({}, 401, "Unauthorized"),
        ({"Authorization": "Bearer not-a-token"}, 401, "Unauthorized"),
        ({"Authorization": "Basic " + base64.b64encode(b"a:b").decode()}, 401, "Unauthorized"),
        ({"Authorization": f"Bearer {revoked}"}, 403, "Forbidden"),
        ({"Authorization": f"Bearer {metrics_only}"}, 403, "Forbidden"),
    ]
    async with served(api.app) as url, httpx.AsyncClient(trust_env=False) as http:
        for headers, status, code in cases:
            response = await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})
            assert response.status_code == status, (headers, response.text)
            assert response.json()["code"] == code
            if status == 401:
                assert response.headers["WWW-Authenticate"] == "Bearer"
        good = await add_token(api.service, ("send",))
        response = await http.post(
            url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {good}"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["result"]["serverInfo"]["name"] == "imapapi"


async def test_bad_arguments_are_tool_errors_and_the_session_goes_on(
    api: Api, dovecot: Dovecot, imap_user: ImapUser, smtp: SmtpServer
) -> None:
    account = await register_sender(api, dovecot, imap_user, smtp)
    token = await add_token(api.service, ("read", "send", "write"))
    bad = [
        ("list_messages", {"account": account, "mailbox": "IN\r\nBOX"}, "mailbox"),
        ("list_messages", {"account": account, "page": -1}, "page"),
        ("list_messages", {"account": account, "page_size": 100_000}, "page_size"),
        (
            "get_message",
            {"account": account, "message_id": "AAAAAQAAAAE", "max_chars": 10**9},
            "max_chars",
        ),
        ("get_message", {"account": account, "message_id": "../../etc"}, "message_id"),
        ("get_message", {"account": account}, "message_id"),
        ("search_messages", {"account": account, "since": "1969-12-31"}, "since"),
        (
            "flag_message",
            {"account": account, "message_id": "AAAAAQAAAAE", "add": ["a b"]},
            "add",
        ),
        (
            "send_message",
            {"account": account, "to": ["not an address"], "subject": "s", "text": "t"},
            "to",
        ),
        ("reply_to_message", {"account": account, "text": "t"}, "message_id"),
    ]
    async with served(api.app) as url, mcp_client(url, token) as mcp:
        for tool, arguments, field in bad:
            error = await refused(mcp, tool, **arguments)
            assert error["code"] in ("InvalidInput", "Unprocessable"), (tool, error)
            fields = [d["field"] for d in error["details"]]
            assert any(f.startswith(field) for f in fields), (tool, field, error)
        unknown = await refused(mcp, "list_mailboxes", account="no-such-account")
        assert unknown == {
            "error": "account 'no-such-account' is not registered",
            "code": "AccountNotFound",
            "details": None,
        }
        missing = await mcp.call_tool("no_such_tool", {})
        assert missing.is_error
        assert (await call(mcp, "list_accounts"))["accounts"][0]["account"] == account
    assert smtp.messages == []


async def test_insecure_mode_needs_no_token_but_a_loopback_host(
    tmp_path: Path, store_backend: StoreBackend
) -> None:
    async with (
        running_api(tmp_path / "data", store_backend, insecure=True) as api,
        served(api.app) as url,
        httpx.AsyncClient(trust_env=False) as http,
    ):
        local = await http.post(url, json=INITIALIZE, headers=MCP_HEADERS)
        assert local.status_code == 200, local.text
        rebound = await http.post(
            url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "attacker.example"}
        )
        assert rebound.status_code in (403, 421), rebound.text
        async with mcp_client(url, None) as mcp:
            assert await call(mcp, "list_accounts") == {"accounts": []}


async def test_a_client_of_the_per_request_protocol_is_checked_the_same(api: Api) -> None:
    """The SDK's `Client` in its default mode negotiates the newer per-request protocol when
    the server offers it, a different path through the SDK: the token reaches the tools there
    too."""
    token = await add_token(api.service, ("read",), accounts=("mine",))
    async with (
        served(api.app) as url,
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, trust_env=False) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        assert client.protocol_version > "2026", client.protocol_version  # the newer protocol
        assert (await client.list_tools()).tools
        listed = await client.call_tool("list_accounts", {})
        assert json.loads(text_of(listed)) == {"accounts": []}
        sending = await client.call_tool(
            "send_message", ACCOUNT_CALLS["send_message"] | {"account": "mine"}
        )
        assert sending.is_error
        assert json.loads(text_of(sending))["code"] == "Forbidden"
