"""Token scopes and account binding on every /v1 route of the real service (README "API
tokens"): each route walked with a token of each scope; a bound token sees only its accounts.

The expected scope of each route is written out here, apart from api/access.py, so that a
wrong row there fails this test.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from imapapi.credentials.tokens import SCOPES, create_token
from imapapi.store.base import TokenRecord
from tests.integration.api.test_accounts import account_body
from tests.integration.conftest import Api
from tests.integration.sync.helpers import account_body as dovecot_account
from tests.integration.sync.helpers import wait_state
from tests.servers.dovecot import Dovecot, ImapUser

pytestmark = pytest.mark.integration

# What a client would expect from the scope list (issue 20), route by route.
EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/v1/accounts"): "read",
    ("GET", "/v1/account/{account}"): "read",
    ("GET", "/v1/account/{account}/mailboxes"): "read",
    ("GET", "/v1/account/{account}/messages"): "read",
    ("POST", "/v1/account/{account}/search"): "read",
    ("GET", "/v1/account/{account}/message/{id}"): "read",
    ("GET", "/v1/account/{account}/message/{id}/source"): "read",
    ("GET", "/v1/account/{account}/text/{textId}"): "read",
    ("GET", "/v1/account/{account}/attachment/{attachmentId}"): "read",
    ("GET", "/v1/account/{account}/thread/{threadId}"): "read",
    ("POST", "/v1/account/{account}/submit"): "send",
    ("GET", "/v1/outbox"): "send",
    ("GET", "/v1/outbox/{queueId}"): "send",
    ("DELETE", "/v1/outbox/{queueId}"): "send",
    ("POST", "/v1/account/{account}/tracking"): "send",
    ("DELETE", "/v1/account/{account}/tracking"): "send",
    ("PUT", "/v1/account/{account}/message/{id}"): "write",
    ("PUT", "/v1/account/{account}/message/{id}/move"): "write",
    ("DELETE", "/v1/account/{account}/message/{id}"): "write",
    ("POST", "/v1/account/{account}/message"): "write",
    ("POST", "/v1/account/{account}/mailbox"): "write",
    ("PUT", "/v1/account/{account}/mailbox"): "write",
    ("DELETE", "/v1/account/{account}/mailbox"): "write",
    ("PUT", "/v1/account/{account}"): "write",
    ("PUT", "/v1/account/{account}/reconnect"): "write",
    ("POST", "/v1/account"): "admin",
    ("POST", "/v1/verifyAccount"): "admin",
    ("DELETE", "/v1/account/{account}"): "admin",
    ("GET", "/v1/settings"): "admin",
    ("POST", "/v1/settings"): "admin",
    ("GET", "/v1/logs/{account}"): "admin",
    ("GET", "/v1/webhooks/dead"): "admin",
    ("POST", "/v1/webhooks/replay"): "admin",
    ("GET", "/v1/tokens"): "admin",
    ("POST", "/v1/tokens"): "admin",
    ("DELETE", "/v1/tokens/{tokenId}"): "admin",
    ("POST", "/v1/oauth2/apps"): "admin",
    ("GET", "/v1/oauth2/apps"): "admin",
    ("GET", "/v1/oauth2/apps/{app}"): "admin",
    ("PATCH", "/v1/oauth2/apps/{app}"): "admin",
    ("DELETE", "/v1/oauth2/apps/{app}"): "admin",
    ("POST", "/v1/oauth2/authorize"): "admin",
    ("POST", "/v1/oauth2/connect"): "admin",
}

# Values for the other path parameters: well formed, naming nothing that exists.
FILLERS = {
    "id": "AAAAAQAAAAE",
    "textId": "AAAAAQAAAAEx",
    "attachmentId": "AAAAAQAAAAEy",
    "threadId": "1234",
    "queueId": "0" * 32,
    "tokenId": "0123456789ab",
    "app": "no-such-app",
}


def operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Every /v1 operation of the running service's OpenAPI document."""
    return sorted(
        (method.upper(), path)
        for path, methods in schema["paths"].items()
        if path.startswith("/v1")
        for method in methods
    )


def concrete(path: str, account: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: account if m[1] == "account" else FILLERS[m[1]], path)


async def call(api: Api, token: str | None, method: str, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}" if token else ""}
    body = {} if method in ("POST", "PUT") else None
    return await api.client.request(method, path, headers=headers, json=body)


def admits(scope: str, needed: str) -> bool:
    return scope == needed or (scope == "admin" and needed != "metrics")


async def register_closed(api: Api, *accounts: str) -> None:
    for account in accounts:
        response = await api.client.post("/v1/account", json=account_body(account))
        assert response.status_code == 200, response.text


@pytest.fixture
async def schema(api: Api) -> dict[str, Any]:
    return (await api.client.get("/openapi.json")).json()


async def test_the_expectation_covers_every_route(schema: dict[str, Any]) -> None:
    assert set(operations(schema)) == set(EXPECTED)


@pytest.mark.parametrize("scope", SCOPES)
async def test_every_route_with_a_token_of_each_scope(
    api: Api, schema: dict[str, Any], dovecot: Dovecot, imap_user: ImapUser, scope: str
) -> None:
    created = await api.client.post("/v1/account", json=dovecot_account(dovecot, imap_user))
    assert created.status_code == 200, created.text
    await wait_state(api, imap_user.name, "connected")
    await register_closed(api, "doomed")  # for DELETE /v1/account/{account}
    _, token = await create_token(api.service.store, scope, (scope,))
    for method, path in operations(schema):
        target = "doomed" if (method, path) == ("DELETE", "/v1/account/{account}") else None
        response = await call(api, token, method, concrete(path, target or imap_user.name))
        needed = EXPECTED[(method, path)]
        if admits(scope, needed):
            assert response.status_code not in (401, 403), (method, path, response.text)
        else:
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"] == f"this API token lacks the {needed!r} scope"


async def test_no_token_is_401_on_every_route(api: Api, schema: dict[str, Any]) -> None:
    for method, path in operations(schema):
        response = await call(api, None, method, concrete(path, "someone"))
        assert response.status_code == 401, (method, path, response.text)


async def test_bound_token_cannot_tell_other_accounts_from_missing_ones(
    api: Api, schema: dict[str, Any]
) -> None:
    await register_closed(api, "alice", "bob")
    _, token = await create_token(api.service.store, "agent", ("read", "send", "write"), ("alice",))
    for method, path in operations(schema):
        if "{account}" not in path or EXPECTED[(method, path)] == "admin":
            continue
        other = await call(api, token, method, concrete(path, "bob"))
        missing = await call(api, token, method, concrete(path, "nobody"))
        assert other.status_code == missing.status_code == 404, (method, path, other.text)
        assert other.json() == {
            **missing.json(),
            "error": "account 'bob' is not registered",
        }, (method, path)
        assert missing.json()["code"] == "AccountNotFound"
        own = await call(api, token, method, concrete(path, "alice"))
        assert own.status_code not in (401, 403), (method, path, own.text)
    # Word for word what an unbound token hears of an account that does not exist.
    unbound = await api.client.get("/v1/account/nobody")
    bound = await call(api, token, "GET", "/v1/account/nobody")
    assert bound.json() == unbound.json()


async def test_bound_token_lists_only_its_accounts(api: Api) -> None:
    await register_closed(api, "alice", "bob", "carol")
    _, token = await create_token(api.service.store, "agent", ("read",), ("alice", "carol"))
    listing = await call(api, token, "GET", "/v1/accounts")
    assert listing.status_code == 200
    assert [a["account"] for a in listing.json()["accounts"]] == ["alice", "carol"]
    assert listing.json()["total"] == 2
    everyone = (await api.client.get("/v1/accounts")).json()
    assert [a["account"] for a in everyone["accounts"]] == ["alice", "bob", "carol"]


async def test_bound_token_sees_only_its_accounts_outbox(api: Api) -> None:
    await register_closed(api, "alice", "bob", "carol")
    queued: dict[str, str] = {}
    for account in ("alice", "bob", "carol"):
        # Queued for an SMTP server that is not there: it stays pending, retried later.
        answer = await api.client.post(
            f"/v1/account/{account}/submit",
            json={
                "from": {"address": f"{account}@example.com"},
                "to": [{"address": "x@example.com"}],
                "subject": "hi",
                "text": "hello",
            },
        )
        assert answer.status_code == 200, answer.text
        queued[account] = answer.json()["queueId"]
    _, token = await create_token(api.service.store, "agent", ("send",), ("alice", "carol"))
    listing = (await call(api, token, "GET", "/v1/outbox?state=all")).json()
    assert sorted(m["account"] for m in listing["messages"]) == ["alice", "carol"]
    assert listing["total"] == 2
    only_bob = (await call(api, token, "GET", "/v1/outbox?state=all&account=bob")).json()
    assert (only_bob["messages"], only_bob["total"]) == ([], 0)
    for method in ("GET", "DELETE"):
        hidden = await call(api, token, method, f"/v1/outbox/{queued['bob']}")
        assert hidden.status_code == 404, hidden.text
        assert hidden.json()["error"] == f"no queued message {queued['bob']!r}"
    assert (await call(api, token, "GET", f"/v1/outbox/{queued['alice']}")).status_code == 200
    # bob's message is still queued: the bound token's DELETE did not cancel it.
    assert (await api.client.get(f"/v1/outbox/{queued['bob']}")).json()["state"] in (
        "queued",
        "sending",
    )


async def test_bound_admin_token_is_refused_on_admin_routes(
    api: Api, schema: dict[str, Any]
) -> None:
    await register_closed(api, "alice")
    _, token = await create_token(api.service.store, "agent", ("admin",), ("alice",))
    for method, path in operations(schema):
        response = await call(api, token, method, concrete(path, "alice"))
        if EXPECTED[(method, path)] == "admin":
            assert response.status_code == 403, (method, path, response.text)
            assert "bound to accounts" in response.json()["error"]
        else:
            assert response.status_code not in (401, 403), (method, path, response.text)


async def test_token_stored_with_the_old_api_scope_is_unbound_admin(api: Api) -> None:
    await register_closed(api, "alice", "bob")
    _, token = await create_token(api.service.store, "from before", ("api",))
    assert (await call(api, token, "GET", "/v1/settings")).status_code == 200
    listing = (await call(api, token, "GET", "/v1/accounts")).json()
    assert [a["account"] for a in listing["accounts"]] == ["alice", "bob"]
    assert (await call(api, token, "GET", "/v1/account/bob")).status_code == 200


async def test_tokens_api_creates_lists_and_revokes(api: Api) -> None:
    await register_closed(api, "alice", "bob")
    created = await api.client.post(
        "/v1/tokens",
        json={"description": "support agent", "scopes": ["read"], "accounts": ["alice"]},
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert (body["scopes"], body["accounts"], body["state"]) == (["read"], ["alice"], "active")
    token = body["token"]
    assert (await call(api, token, "GET", "/v1/account/alice")).status_code == 200
    assert (await call(api, token, "GET", "/v1/account/bob")).status_code == 404

    listed = (await api.client.get("/v1/tokens")).json()["tokens"]
    ours = next(t for t in listed if t["id"] == body["id"])
    assert ours["accounts"] == ["alice"] and "token" not in ours

    revoked = await api.client.delete(f"/v1/tokens/{body['id']}")
    assert revoked.status_code == 200 and revoked.json() == {"id": body["id"], "revoked": True}
    after = await call(api, token, "GET", "/v1/account/alice")
    assert after.status_code == 403 and after.json()["error"] == "this API token has been revoked"
    again = await api.client.delete(f"/v1/tokens/{body['id']}")
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"scopes": ["everything"]}, "scopes.0", "unknown scope 'everything'"),
        ({"scopes": []}, "scopes", "at least 1"),
        ({"accounts": ["bad/id"]}, "accounts.0", "pattern"),
        ({"description": "a\nb"}, "description", "control"),
    ],
)
async def test_tokens_api_names_the_bad_field(
    api: Api, body: dict[str, Any], field: str, reason: str
) -> None:
    response = await api.client.post("/v1/tokens", json=body)
    assert response.status_code == 400, response.text
    details = {d["field"]: d["reason"] for d in response.json()["details"]}
    assert reason in details[field], details


async def test_revoked_record_is_kept_with_its_binding(api: Api) -> None:
    record, _ = await create_token(api.service.store, "agent", ("read",), ("alice",))
    assert await api.service.store.revoke_token(record.id, time.time())
    stored: list[TokenRecord] = await api.service.store.list_tokens()
    ours = next(t for t in stored if t.id == record.id)
    assert ours.revoked is not None and ours.accounts == ("alice",)
